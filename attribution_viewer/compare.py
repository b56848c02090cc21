"""Compare the features of two graphs: which are shared, which only in one (pure, no Dash).

A feature is identified by its ``(layer, feature_idx)``: the same transcoder / CLT latent,
whatever token position it is active at (two prompts rarely put a feature at the same
position; "which features does the French prompt share with the English one?" is about
latents). So one row can stand for several nodes of a graph (one per position); its
influence in a graph is the SUM of its nodes' influence on the logits
(:func:`attribution_viewer.influence.influence`), 0 where it is absent.

Graphs made by the legacy CLT tools may carry their own ``feature_list_intersection``
(loaded as :attr:`~attribution_viewer.model.GraphStore.highlighted`): each row says whether
that stored list flags the feature, and :meth:`GraphComparison.stored_agreement` sets the
stored intersection against the computed one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from attribution_viewer.influence import influence
from attribution_viewer.model import GraphStore, NodeKind

Side = Literal["left", "right"]
Status = Literal["shared", "left", "right"]
FeatureId = tuple[int, int]  # (layer, feature_idx)


class FeatureRow(NamedTuple):
    """One feature (layer, index) of either graph, with its presence and influence in each."""

    layer: int
    feature_idx: int
    status: Status
    left_nodes: int  # how many nodes (positions) of the left graph it has; 0 = absent
    right_nodes: int
    left_influence: float  # summed influence of those nodes; 0.0 when absent
    right_influence: float
    left_stored: bool  # flagged by the left file's feature_list_intersection
    right_stored: bool


class ComparisonCounts(NamedTuple):
    shared: int
    only_left: int
    only_right: int


class StoredAgreement(NamedTuple):
    """One graph's stored intersection against the computed one (counts of features)."""

    stored: int  # features the file flags
    both: int  # flagged and found shared here
    stored_only: int  # flagged, but not in the other graph
    computed_only: int  # shared here, but not flagged


@dataclass(frozen=True, eq=False)
class _SideFeatures:
    """Per distinct feature of one graph: node indices, summed influence, stored flag."""

    nodes: dict[FeatureId, np.ndarray]
    influence: dict[FeatureId, float]
    stored: frozenset[FeatureId] | None  # None: the file has no stored intersection


def _side_features(store: GraphStore) -> _SideFeatures:
    span = store.kind_slices[NodeKind.FEATURE]
    index = np.arange(span.start, span.stop)
    pairs = np.stack([store.nodes.layer[span].astype(np.int64), store.nodes.feature_idx[span]], axis=1)
    node_values = np.nan_to_num(influence(store)[span].astype(np.float64))
    if not index.size:
        return _SideFeatures({}, {}, None if store.highlighted is None else frozenset())
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    groups = np.split(index[order], np.cumsum(np.bincount(inverse))[:-1])
    sums = np.bincount(inverse, weights=node_values, minlength=len(unique))
    ids: list[FeatureId] = [(int(a), int(b)) for a, b in unique.tolist()]
    stored = None
    if store.highlighted is not None:
        flagged = store.highlighted[span]
        stored = frozenset((int(a), int(b)) for a, b in pairs[flagged].tolist())
    return _SideFeatures(
        nodes=dict(zip(ids, groups, strict=True)),
        influence={fid: float(s) for fid, s in zip(ids, sums.tolist(), strict=True)},
        stored=stored,
    )


@dataclass(frozen=True, eq=False)
class GraphComparison:
    """The feature-level comparison of a left and a right graph (see the module docstring).

    ``rows`` are sorted by layer then feature index; :func:`sort_rows` sorts them otherwise.
    """

    rows: tuple[FeatureRow, ...]
    _left: _SideFeatures
    _right: _SideFeatures

    @property
    def counts(self) -> ComparisonCounts:
        statuses = [row.status for row in self.rows]
        return ComparisonCounts(statuses.count("shared"), statuses.count("left"), statuses.count("right"))

    def shared_nodes(self, side: Side) -> np.ndarray:
        """Node indices, in the ``side`` graph, of every shared feature (sorted)."""
        features = self._left if side == "left" else self._right
        groups = [features.nodes[(r.layer, r.feature_idx)] for r in self.rows if r.status == "shared"]
        return np.sort(np.concatenate(groups)) if groups else np.zeros(0, dtype=np.int64)

    def twins(self, side: Side, store: GraphStore, index: int) -> np.ndarray:
        """Nodes of the OTHER graph with the same feature as node ``index`` of the ``side`` graph.

        ``store`` is the ``side`` graph; empty when the node is not a feature or has no twin.
        """
        if store.kind_of(index) is not NodeKind.FEATURE:
            return np.zeros(0, dtype=np.int64)
        fid = (int(store.nodes.layer[index]), int(store.nodes.feature_idx[index]))
        other = self._right if side == "left" else self._left
        return other.nodes.get(fid, np.zeros(0, dtype=np.int64))

    def feature_nodes(self, side: Side, feature: FeatureId) -> np.ndarray:
        """Node indices of feature ``(layer, feature_idx)`` in the ``side`` graph (empty: absent)."""
        features = self._left if side == "left" else self._right
        return features.nodes.get(feature, np.zeros(0, dtype=np.int64))

    def strongest_node(
        self, side: Side, store: GraphStore, feature: FeatureId, shown: np.ndarray | None = None
    ) -> int | None:
        """The node of ``feature`` with the largest influence in the ``side`` graph (``store``),
        among the nodes where the boolean mask ``shown`` is True (all when None); the first on
        ties, None when there is no such node."""
        nodes = self.feature_nodes(side, feature)
        if shown is not None:
            nodes = nodes[shown[nodes]]
        if not nodes.size:
            return None
        return int(nodes[int(np.argmax(np.nan_to_num(influence(store)[nodes])))])

    def has_stored(self, side: Side) -> bool:
        """Whether the ``side`` file carries a stored intersection (``feature_list_intersection``)."""
        return (self._left if side == "left" else self._right).stored is not None

    def stored_agreement(self, side: Side) -> StoredAgreement | None:
        """The ``side`` file's stored intersection against the computed one; None without one."""
        stored = (self._left if side == "left" else self._right).stored
        if stored is None:
            return None
        computed = {(r.layer, r.feature_idx) for r in self.rows if r.status == "shared"}
        both = len(stored & computed)
        return StoredAgreement(len(stored), both, len(stored) - both, len(computed) - both)


def compare_graphs(left: GraphStore, right: GraphStore) -> GraphComparison:
    """Shared, only-left and only-right features of ``left`` and ``right``."""
    lf, rf = _side_features(left), _side_features(right)
    lstored, rstored = lf.stored or frozenset(), rf.stored or frozenset()
    rows = []
    for fid in sorted(lf.nodes.keys() | rf.nodes.keys()):
        in_left, in_right = fid in lf.nodes, fid in rf.nodes
        status: Status = "shared" if in_left and in_right else "left" if in_left else "right"
        rows.append(
            FeatureRow(
                layer=fid[0],
                feature_idx=fid[1],
                status=status,
                left_nodes=len(lf.nodes[fid]) if in_left else 0,
                right_nodes=len(rf.nodes[fid]) if in_right else 0,
                left_influence=lf.influence.get(fid, 0.0),
                right_influence=rf.influence.get(fid, 0.0),
                left_stored=fid in lstored,
                right_stored=fid in rstored,
            )
        )
    return GraphComparison(tuple(rows), lf, rf)


_STATUS_ORDER: Mapping[str, int] = {"shared": 0, "left": 1, "right": 2}
SORT_KEYS: Mapping[str, Callable[[FeatureRow], float]] = {
    "layer": lambda r: r.layer,
    "feature": lambda r: r.feature_idx,
    "status": lambda r: _STATUS_ORDER[r.status],
    "left_influence": lambda r: r.left_influence,
    "right_influence": lambda r: r.right_influence,
    "influence": lambda r: max(r.left_influence, r.right_influence),
    "difference": lambda r: r.left_influence - r.right_influence,
}


def sort_rows(
    rows: tuple[FeatureRow, ...] | list[FeatureRow],
    by: str,
    *,
    descending: bool = False,
    status: Status | None = None,
) -> list[FeatureRow]:
    """``rows`` sorted by one of :data:`SORT_KEYS`, ties always by (layer, index) ascending;
    ``status``: keep only the rows of that status."""
    if by not in SORT_KEYS:
        raise ValueError(f"sort key: expected one of {', '.join(SORT_KEYS)}, got {by!r}")
    kept = sorted(
        (r for r in rows if status is None or r.status == status), key=lambda r: (r.layer, r.feature_idx)
    )
    kept.sort(key=SORT_KEYS[by], reverse=descending)  # stable: ties keep the (layer, index) order
    return kept
