"""Replacement and completeness scores of a graph or of a subgraph (no torch, no Dash).

Our own sparse implementation of circuit-tracer's ``compute_graph_scores`` (``graph.py``),
restated for our orientation (``adjacency[source, target]``). With ``N`` the normalised
matrix and ``influence`` the node influence of :mod:`attribution_viewer.pruning`:

*Replacement score*: the share of the inputs' influence on the logits that comes from the
token embeddings rather than from error nodes:
``sum(influence[embeddings]) / (sum(influence[embeddings]) + sum(influence[errors]))``.
Error nodes have no inputs, so this is how much of the end-to-end computation the
features explain from the prompt alone.

*Completeness score*: per node, the share of its (normalised) input that does not come
from error nodes, averaged with weights ``influence + logit probability``:
``sum((1 - sum_errors N[e, t]) * out[t]) / sum(out)``.

*Subgraph scores* (a set ``S`` of feature nodes: the pinned nodes or a cluster): every
feature outside ``S`` is merged into the error nodes, that is, it loses its inputs and its
outputs count as unexplained; the two scores are then computed as above. For ``S`` = all
features this is exactly the whole graph's score; for ``S`` = no feature, only the
tokens' direct edges count as explained.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.pruning import node_influence, normalize_matrix


class GraphScores(NamedTuple):
    """Replacement and completeness scores (both in 0..1) and the nodes they cover."""

    replacement: float
    completeness: float
    n_features: int


def _unexplained_mask(store: GraphStore, features: Iterable[int] | None) -> np.ndarray:
    """Error nodes, plus every feature outside ``features`` (when a subgraph is given)."""
    kinds = store.nodes.kind
    mask = kinds == NodeKind.ERROR
    if features is None:
        return mask
    chosen = np.zeros(store.n_nodes, dtype=bool)
    indices = np.fromiter(features, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= store.n_nodes):
        raise ValueError(f"subgraph node indices must lie in 0..{store.n_nodes - 1}")
    chosen[indices] = True
    if (chosen & (kinds != NodeKind.FEATURE)).any():
        raise ValueError("a subgraph is a set of feature nodes (embeddings, errors and logits always count)")
    return mask | ((kinds == NodeKind.FEATURE) & ~chosen)


def graph_scores(store: GraphStore, features: Iterable[int] | None = None) -> GraphScores:
    """Scores of the whole graph, or of the subgraph of feature nodes ``features``.

    Raises ValueError when ``features`` holds an index that is not a feature node. A graph
    whose inputs carry no influence at all scores 0.
    """
    unexplained = _unexplained_mask(store, features)
    adjacency = sp.csr_matrix(store.adjacency, dtype=np.float64)
    if features is not None:
        # Merged into the errors: a node outside the subgraph keeps no input edge.
        adjacency = adjacency @ sp.diags((~unexplained).astype(np.float64))
    probs = np.array([lg.probability for lg in store.logits], dtype=np.float64)
    influence = node_influence(adjacency, store.logit_indices, probs)
    tokens = float(influence[store.kind_slices[NodeKind.EMBEDDING]].sum())
    errors = float(influence[unexplained].sum())
    replacement = tokens / (tokens + errors) if tokens + errors > 0 else 0.0

    normalized = normalize_matrix(adjacency)
    error_share = np.asarray(normalized[unexplained].sum(axis=0)).ravel()
    weights = influence.copy()
    weights[store.logit_indices] += probs
    total = float(weights.sum())
    completeness = float(((1.0 - error_share) * weights).sum() / total) if total > 0 else 0.0
    n_features = store.count(NodeKind.FEATURE) - int(
        (unexplained & (store.nodes.kind == NodeKind.FEATURE)).sum()
    )
    return GraphScores(replacement, completeness, n_features)
