"""The controls and stores that define a user's view, read the same way by every callback.

:data:`VIEW_CONTROLS` lists the component properties in :class:`ViewControls` field order;
:func:`view_dependencies` turns them into ``Input`` / ``State`` objects, so the figure, the
URL sync and the export all depend on exactly the same values and rebuild the view with
:meth:`ViewControls.view`.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from dash import Input, State

from attribution_viewer.view import ViewState

VIEW_CONTROLS: tuple[tuple[str, str], ...] = (
    ("prune-slider", "value"),
    ("frequency-slider", "value"),
    ("error-toggle", "value"),
    ("node-size", "value"),
    ("selected-node", "data"),
    ("pinned-nodes", "data"),
    ("node-labels", "data"),
)


class ViewControls(NamedTuple):
    """The values of :data:`VIEW_CONTROLS`, in order."""

    prune: float | None
    freq: float | None
    toggles: list[str] | None
    size: float | None
    selected: str | None
    pinned: list[str] | None
    labels: dict[str, str] | None

    def view(self, base: ViewState) -> ViewState:
        """The ViewState these values describe (None -> ``base``)."""
        toggles = self.toggles or []
        return ViewState(
            prune_threshold=base.prune_threshold if self.prune is None else float(self.prune),
            frequency_threshold=base.frequency_threshold if self.freq is None else float(self.freq),
            show_errors="errors" in toggles,
            node_size=base.node_size if self.size is None else float(self.size),
            selected=self.selected,
            pinned=tuple(self.pinned or ()),
            labels=self.labels or {},
            show_highlighted="shared" in toggles,
        )

    def scene_signature(self) -> str:
        """What the full figure depends on (the rest only changes overlays, sent as a Patch)."""
        # Numbers as floats: the browser sends 1.0 back as 1.
        prune = None if self.prune is None else float(self.prune)
        freq = None if self.freq is None else float(self.freq)
        return json.dumps(
            [prune, freq, sorted(self.toggles or []), self.pinned or [], self.labels or {}], sort_keys=True
        )


def view_dependencies(
    kind: type[Input] | type[State] = Input,
    selected_from: str = "selected-node",
    selected_kind: type[Input] | type[State] | None = None,
) -> list[Input | State]:
    """``Input`` (or ``State``) objects for :data:`VIEW_CONTROLS`, in field order.

    ``selected_from`` names the store the selection is read from (the edge canvas reads
    ``panel-node``, the selection once the panel shows it); ``selected_kind`` overrides
    ``kind`` for it (callbacks that must not run on a click read it as a ``State``).
    """
    return [
        (selected_kind or kind)(selected_from, prop)
        if component == "selected-node"
        else kind(component, prop)
        for component, prop in VIEW_CONTROLS
    ]
