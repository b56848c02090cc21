"""A graph's node influence on the logits, computed once per store (pure, layer 2).

:func:`influence` is circuit-tracer's ``w (A + A^2 + ...)`` over the store's adjacency
(:func:`attribution_viewer.pruning.node_influence`, weighted by the logits' probabilities);
:func:`cumulative_influence` the share of total influence covered by the nodes at least as
influential, the value the pruning threshold compares against. Both are computed on first
use and kept on the store (:meth:`GraphStore.derived`), so the model imports no algorithm.
"""

from __future__ import annotations

import numpy as np

from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.pruning import cumulative_scores, node_influence


def _influence(store: GraphStore) -> np.ndarray:
    probs = np.array([lg.probability for lg in store.logits], dtype=np.float64)
    return node_influence(store.adjacency, store.logit_indices, probs)


def _cumulative_influence(store: GraphStore) -> np.ndarray:
    carried = store.nodes.influence.astype(np.float64)
    inner = store.nodes.kind <= NodeKind.ERROR
    if inner.any() and not np.isnan(carried[inner]).any():
        return np.where(inner, carried, 0.0)
    scores = np.where(inner, influence(store), 0.0)
    if scores.sum() <= 0:
        return np.zeros(len(scores))
    return np.where(inner, cumulative_scores(scores), 0.0)


def influence(store: GraphStore) -> np.ndarray:
    """Influence of every node on the logits (w (A + A^2 + ...), circuit-tracer's definition).

    Always computed from the adjacency (on first use, once per store).
    """
    return store.derived("influence", _influence)


def cumulative_influence(store: GraphStore) -> np.ndarray:
    """Per node, the share of total influence covered by the nodes at least as influential.

    A node is kept by a pruning threshold ``t`` when this value is ``<= t``. Files that
    carry it (Neuronpedia JSON ``influence``) are used as they are; otherwise it is derived
    from :func:`influence`. Embeddings and logits get 0 (always kept).
    """
    return store.derived("cumulative_influence", _cumulative_influence)
