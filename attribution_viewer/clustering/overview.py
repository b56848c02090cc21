"""Where clusters sit and how much attribution flows between them (the cluster-level graph).

Pure: numpy / scipy only. One implementation for the interactive cluster panel and the
exported cluster figure. A cluster is placed like the main graph places nodes: x = the
mean token position of its members, y = their mean layer row (row 0 the embeddings,
layer ``L`` at row ``L + 1``, the logits at row ``n_layers + 1``). The flow from cluster
``a`` to cluster ``b`` is the sum of the edge weights from members of ``a`` to members of
``b`` (signed; a mask-only graph counts edges).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.model import EMBEDDING_LAYER, GraphStore


class Flow(NamedTuple):
    source: int  # cluster position in the input sequence
    target: int
    weight: float


class ClusterOverview(NamedTuple):
    x: np.ndarray  # mean token position of the members (NaN for a cluster without members)
    row: np.ndarray  # mean layer row of the members (NaN likewise)
    sizes: np.ndarray  # number of members
    weights: np.ndarray  # W[a, b]: summed attribution from a's members to b's; diagonal 0


def cluster_overview(store: GraphStore, members: Sequence[Sequence[int]]) -> ClusterOverview:
    """Positions, sizes and the flow matrix of clusters given as node-index lists."""
    k = len(members)
    rows = np.asarray([j for j, m in enumerate(members) for _ in m], dtype=np.int64)
    cols = np.asarray([i for m in members for i in m], dtype=np.int64)
    membership = sp.csr_matrix((np.ones(cols.shape[0]), (rows, cols)), shape=(k, store.n_nodes))
    sizes = np.asarray(membership.sum(axis=1)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (membership @ store.nodes.pos.astype(np.float64)) / sizes
        row = (membership @ (store.nodes.layer.astype(np.float64) - EMBEDDING_LAYER)) / sizes
    adjacency = sp.csr_matrix(store.adjacency, dtype=np.float64)
    weights = np.asarray((membership @ adjacency @ membership.T).toarray()).reshape(k, k)
    np.fill_diagonal(weights, 0.0)
    return ClusterOverview(x, row, sizes, weights)


def strongest_flows(weights: np.ndarray, *, max_flows: int, min_fraction: float) -> tuple[Flow, ...]:
    """The ``max_flows`` largest ``|W[a, b]|`` of at least ``min_fraction`` of the largest.

    Ties keep source-major order (stable), so the result is deterministic.
    """
    magnitude = np.abs(weights)
    strongest = float(magnitude.max()) if magnitude.size else 0.0
    if strongest <= 0:
        return ()
    flat = np.argsort(-magnitude, axis=None, kind="stable")[:max_flows]
    out = []
    for a, b in zip(*np.unravel_index(flat, magnitude.shape), strict=True):
        if magnitude[a, b] >= min_fraction * strongest and magnitude[a, b] > 0:
            out.append(Flow(int(a), int(b), float(weights[a, b])))
    return tuple(out)
