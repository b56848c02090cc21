"""Where clusters sit and how much attribution flows between them (the cluster-level graph).

Pure: numpy / scipy only. A cluster is placed at the mean token position (x) and mean
layer (y) of its members; the flow from cluster ``a`` to cluster ``b`` is the sum of the
edge weights from members of ``a`` to members of ``b`` (signed; a mask graph counts
edges).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.clustering.state import ClusterState
from attribution_viewer.model import GraphStore


class Flow(NamedTuple):
    source: int  # position in ClusterOverview.ids
    target: int
    weight: float


class ClusterOverview(NamedTuple):
    ids: tuple[str, ...]
    x: np.ndarray  # mean position of the members
    y: np.ndarray  # mean layer of the members
    sizes: np.ndarray  # members present in the graph
    flows: tuple[Flow, ...]  # strongest first


def cluster_overview(store: GraphStore, state: ClusterState, *, max_flows: int = 40) -> ClusterOverview:
    """Positions, sizes and the ``max_flows`` strongest flows between the clusters of ``state``."""
    index_of = store.index_of
    member_lists = [[index_of[k] for k in c.nodes if k in index_of] for c in state.clusters]
    kept = [(c.id, m) for c, m in zip(state.clusters, member_lists, strict=True) if m]
    ids = tuple(cid for cid, _ in kept)
    if not kept:
        empty = np.zeros(0)
        return ClusterOverview((), empty, empty, empty, ())
    rows = np.concatenate([np.full(len(m), j) for j, (_, m) in enumerate(kept)])
    cols = np.concatenate([np.asarray(m) for _, m in kept])
    membership = sp.csr_matrix((np.ones(cols.shape[0]), (rows, cols)), shape=(len(kept), store.n_nodes))
    counts = np.asarray(membership.sum(axis=1)).ravel()
    x = (membership @ store.nodes.pos.astype(np.float64)) / counts
    y = (membership @ store.nodes.layer.astype(np.float64)) / counts
    between = (membership @ store.adjacency @ membership.T).toarray()
    np.fill_diagonal(between, 0.0)
    src, tgt = np.nonzero(between)
    order = np.lexsort((tgt, src, -np.abs(between[src, tgt])))[:max_flows]
    flows = tuple(Flow(int(src[o]), int(tgt[o]), float(between[src[o], tgt[o]])) for o in order)
    return ClusterOverview(ids, x, y, counts, flows)
