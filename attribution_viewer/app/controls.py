"""The controls and stores that define a user's view, read the same way by every callback.

:data:`VIEW_CONTROLS` maps each :class:`ViewControls` field to its component property;
:func:`view_dependencies` turns it into a dict of ``Input`` / ``State`` objects for Dash's
grouped callback signatures (``inputs=dict(view=view_dependencies())``), so a callback
receives ``view`` as a dict of named values and rebuilds the view with
``ViewControls(**view).view(base)``. Adding a control touches this module only.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from dash import Input, State

from attribution_viewer.app import ids
from attribution_viewer.view import ViewState

VIEW_CONTROLS: dict[str, tuple[str, str]] = {
    "prune": (ids.PRUNE_VALUE, "data"),
    "freq": (ids.FREQUENCY_VALUE, "data"),
    "toggles": (ids.TOGGLES, "value"),
    "size": (ids.NODE_SIZE, "value"),
    "selected": (ids.SELECTED, "data"),
    "pinned": (ids.PINNED, "data"),
    "labels": (ids.LABELS, "data"),
    "edges": (ids.EDGES_PER_TARGET, "value"),
    "show_labels": (ids.SHOW_LABELS, "value"),
    "faded": (ids.EDGES_FADED, "value"),
}
# The controls that change the scene (visible nodes, hover texts): a full figure. The
# others (node size, selection) change overlays or the canvas only.
SCENE_CONTROLS = frozenset(
    {
        ids.PRUNE_VALUE,
        ids.FREQUENCY_VALUE,
        ids.TOGGLES,
        ids.PINNED,
        ids.LABELS,
        ids.EDGES_PER_TARGET,
        ids.EDGES_FADED,
    }
)


FADED = "faded"  # the value of the EDGES_FADED checklist's one option


class ViewControls(NamedTuple):
    """The values of :data:`VIEW_CONTROLS`, by name."""

    prune: float | None = None
    freq: float | None = None
    toggles: list[str] | None = None
    size: float | None = None
    selected: str | None = None
    pinned: list[str] | None = None
    labels: dict[str, str] | None = None
    edges: int | None = None
    show_labels: list[str] | None = None
    faded: list[str] | None = None

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
            edges_per_target=base.edges_per_target if self.edges is None else int(self.edges),
            show_labels=base.show_labels if self.show_labels is None else "labels" in self.show_labels,
            faded_edges=base.faded_edges if self.faded is None else FADED in self.faded,
        )


def changes_scene(triggered: Collection[str]) -> bool:
    """Whether the components in ``triggered`` (ids) need a new scene, hence a full figure;
    nothing triggered (a page's first call) does too."""
    return not triggered or bool(SCENE_CONTROLS.intersection(triggered))


# Controls the browser draws on its own (the labels toggle: assets/labels.js): the figure
# does not change with them, so its callback reads them as a ``State``.
BROWSER_CONTROLS = frozenset({"show_labels"})


def view_dependencies(
    kind: type[Input] | type[State] = Input,
    selected_kind: type[Input] | type[State] | None = None,
    browser_kind: type[Input] | type[State] | None = None,
) -> dict[str, Input | State]:
    """``Input`` (or ``State``) objects for :data:`VIEW_CONTROLS`, by field name;
    ``selected_kind`` overrides ``kind`` for the selection (callbacks that must not run on a
    click read it as a ``State``), ``browser_kind`` for :data:`BROWSER_CONTROLS`."""

    def kind_of(name: str) -> type[Input] | type[State]:
        if name == "selected":
            return selected_kind or kind
        return (browser_kind or kind) if name in BROWSER_CONTROLS else kind

    return {name: kind_of(name)(component, prop) for name, (component, prop) in VIEW_CONTROLS.items()}
