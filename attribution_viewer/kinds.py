"""Node kinds: the four kinds of node in an attribution graph, their names and storage order.

A module of its own so that the model (:mod:`attribution_viewer.model`) and the algorithms
over it (:mod:`attribution_viewer.pruning`) both import it without importing each other.
"""

from __future__ import annotations

from enum import IntEnum

EMBEDDING_LAYER = -1


class NodeKind(IntEnum):
    """Kind of a node; the integer value is also the storage order."""

    FEATURE = 0
    ERROR = 1
    EMBEDDING = 2
    LOGIT = 3


KIND_NAMES: dict[NodeKind, str] = {
    NodeKind.FEATURE: "feature",
    NodeKind.ERROR: "error",
    NodeKind.EMBEDDING: "embedding",
    NodeKind.LOGIT: "logit",
}
