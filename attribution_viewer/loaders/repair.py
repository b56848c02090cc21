"""Repairs every loaded graph goes through: edges no forward pass can make are dropped.

In a transformer's forward pass information flows to later layers and never from a later
position to an earlier one (attention is causal). So an edge ``source -> target`` can only
exist when ``layer[source] < layer[target]`` (embeddings are layer -1, logits ``n_layers``;
a feature or error node's output is written after the inputs of its own layer are read, so
two nodes of one layer never feed each other) and ``pos[source] <= pos[target]``.

Every real graph we have (4 legacy CLT ``.pt`` files, 4 Neuronpedia JSON files) satisfies
this for every edge; files that do not are typically dense 0/1 masks with every pair set,
whose backward edges form cycles (influence then never converges). Those edges are
dropped here, counted, and reported in :attr:`GraphStore.warnings
<attribution_viewer.model.GraphStore.warnings>`; what remains is acyclic by construction
(layers strictly increase along every edge).
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.model import GraphStore


class ImpossibleEdges(NamedTuple):
    """Counts of the edges :func:`impossible_edges` found (an edge may be in both)."""

    mask: np.ndarray  # bool per stored edge (CSR order): True = impossible
    not_later_layer: int  # target in the same or an earlier layer than the source
    earlier_position: int  # target at an earlier position than the source


def impossible_edges(store: GraphStore) -> ImpossibleEdges:
    """Which stored edges of ``store.adjacency`` no forward pass can make (see module docstring)."""
    adj = store.adjacency
    sources = np.repeat(np.arange(store.n_nodes), np.diff(adj.indptr))
    targets = adj.indices
    layer, pos = store.nodes.layer, store.nodes.pos
    backward_layer = layer[targets] <= layer[sources]
    backward_pos = pos[targets] < pos[sources]
    return ImpossibleEdges(backward_layer | backward_pos, int(backward_layer.sum()), int(backward_pos.sum()))


def drop_impossible_edges(store: GraphStore) -> GraphStore:
    """``store`` without the edges no forward pass can make, with a warning saying how many.

    Returns ``store`` itself when every edge is possible.
    """
    found = impossible_edges(store)
    dropped = int(found.mask.sum())
    if dropped == 0:
        return store
    adj = store.adjacency
    kept = adj.copy()
    kept.data = np.where(found.mask, 0, adj.data).astype(adj.data.dtype, copy=False)
    kept.eliminate_zeros()
    warning = (
        f"{dropped:,} of {store.n_edges:,} edges cannot occur in a forward pass and were dropped "
        f"({found.not_later_layer:,} into the same or an earlier layer, "
        f"{found.earlier_position:,} from a later position to an earlier one)"
    )
    return replace(store, adjacency=sp.csr_matrix(kept), warnings=(*store.warnings, warning))
