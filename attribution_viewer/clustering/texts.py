"""The text of each node used by clustering: its description, else its label.

Pure and Dash-free so that the CLI can use it without importing the app. A description
is ``description`` and ``explanation`` of the feature's record joined by a space.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.model import GraphStore, NodeKind

log = logging.getLogger(__name__)


class Described(Protocol):
    @property
    def description(self) -> str: ...

    @property
    def explanation(self) -> str: ...


class DescriptionLookup(Protocol):
    """What :class:`~attribution_viewer.autointerp.DescriptionSource` offers."""

    def get(self, layer: int, feature_idx: int) -> Described | None: ...


def node_texts(store: GraphStore, source: DescriptionLookup | None, indices: Iterable[int]) -> list[str]:
    """Description (or, failing that, label) of each node; unreadable files are skipped."""
    nodes = store.nodes
    out = []
    for i in indices:
        text = ""
        if source is not None and store.kind_of(i) is NodeKind.FEATURE:
            try:
                details = source.get(int(nodes.layer[i]), int(nodes.feature_idx[i]))
            except GraphFormatError as exc:
                log.warning("description skipped: %s", exc)
                details = None
            if details is not None:
                text = " ".join(t for t in (details.description, details.explanation) if t)
        out.append(text or nodes.label[i])
    return out
