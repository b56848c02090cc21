"""Influence and pruning of attribution graphs, following circuit-tracer's definitions.

This is our own sparse implementation of the rules in circuit-tracer's ``graph.py``
(``normalize_matrix``, ``compute_influence``, ``find_threshold``, ``prune_graph``),
restated for our orientation: ``adjacency[source, target]`` (rows are sources), the
transpose of circuit-tracer's ``[target, source]``.

Definitions
    *Normalised matrix* ``N``: ``|A|`` with every TARGET's incoming weights scaled to sum
    to 1 (a column of our matrix; a row of circuit-tracer's). A target whose incoming
    sum is below ``1e-10`` is divided by ``1e-10`` instead, as circuit-tracer clamps.

    *Node influence* of node ``s``: ``sum_k (N^k w)[s]`` for ``k >= 1``, where ``w``
    holds the logit probabilities on the logit nodes and 0 elsewhere. It is the share of
    the logits' (probability-weighted) input that flows through ``s`` over all paths. The
    logit weights themselves are not added (``k`` starts at 1).

    *Cumulative rule* (``find_threshold``): sort scores descending, take the cumulative
    share of the total, find the first rank whose share reaches ``threshold`` and keep
    every score ``>=`` the score at that rank (so ties at the cut are all kept).

    *Pruning* (``prune_graph``): keep nodes by the cumulative rule on node influence
    (embeddings and logits always kept, errors are NOT exempt), zero every edge touching a
    dropped node, renormalise, score each edge ``N[s, t] * (influence[t] + w[t])`` and
    keep edges by the cumulative rule on edge scores; then repeatedly drop feature and
    error nodes with no kept outgoing edge and feature nodes with no kept incoming edge
    until nothing changes.

Two deliberate differences from the dense reference, both only in degenerate cases:
edge scores are ranked over the edges that exist (circuit-tracer ranks all ``N x N``
cells, zeros included, which only matters when the cut lands on a zero score: it then
marks non-edges as kept); and the returned edge mask never keeps an edge touching a
dropped node.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.kinds import NodeKind

# circuit-tracer clamps a target's incoming |weight| sum to at least this before dividing.
NORMALIZE_CLAMP_MIN = 1e-10
# Largest number of matrix-vector products before influence gives up (a DAG of depth d
# needs d products; circuit-tracer uses the same cap).
DEFAULT_MAX_ITER = 1000


class PruneResult(NamedTuple):
    """Outcome of :func:`prune`.

    ``node_mask``: bool per node, True = kept. ``edge_mask``: bool CSR over
    ``[source, target]`` storing only the kept edges. ``node_influence``: influence of
    each node on the logits in the full graph (float64). ``edge_scores``: CSR
    ``[source, target]`` of edge scores in the node-pruned graph (float64).
    ``cumulative_scores``: per node, the share of total influence held by the nodes
    ranked at or above it (circuit-tracer's ``cumulative_scores``, the value Neuronpedia
    files carry as ``influence``); NaN when the total influence is 0.
    """

    node_mask: np.ndarray
    edge_mask: sp.csr_matrix
    node_influence: np.ndarray
    edge_scores: sp.csr_matrix
    cumulative_scores: np.ndarray


def _check_square_csr(adjacency: sp.spmatrix | sp.sparray) -> tuple[sp.csr_matrix, int]:
    """(float64 CSR copy with zeros dropped, node count) of a square, finite sparse matrix."""
    if not sp.issparse(adjacency):
        raise TypeError(f"adjacency must be a scipy.sparse matrix, got {type(adjacency).__name__}")
    shape = tuple(int(d) for d in adjacency.shape)  # pyright: ignore[reportAttributeAccessIssue]
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"adjacency must be square, got shape {shape}")
    matrix = sp.csr_matrix(adjacency, dtype=np.float64, copy=True)
    if not np.isfinite(matrix.data).all():
        raise ValueError("adjacency holds NaN or infinite weights")
    matrix.eliminate_zeros()
    return matrix, shape[0]


def _normalized(adjacency: sp.spmatrix | sp.sparray) -> tuple[sp.csr_matrix, int]:
    """(normalised matrix, node count); see :func:`normalize_matrix`."""
    matrix, n = _check_square_csr(adjacency)
    np.abs(matrix.data, out=matrix.data)
    column_sums = np.bincount(matrix.indices, weights=matrix.data, minlength=n)
    matrix.data /= np.maximum(column_sums, NORMALIZE_CLAMP_MIN)[matrix.indices]
    return matrix, n


def normalize_matrix(adjacency: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """``|adjacency|`` with each target's (column's) incoming weights summing to 1.

    Returns a new float64 CSR matrix with the same sparsity; columns with no incoming
    weight stay empty. Raises ``ValueError`` on a non-square matrix or non-finite values.
    """
    return _normalized(adjacency)[0]


def _logit_weights(n_nodes: int, logit_indices: np.ndarray, logit_probs: np.ndarray) -> np.ndarray:
    """The vector ``w``: logit probabilities on the logit nodes, 0 elsewhere (validated)."""
    indices = np.asarray(logit_indices)
    probs = np.asarray(logit_probs, dtype=np.float64)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"logit_indices must be a 1-D integer array, got {indices.dtype} {indices.shape}")
    if probs.shape != indices.shape:
        raise ValueError(f"logit_probs has shape {probs.shape}, expected {indices.shape} like logit_indices")
    if indices.size and (indices.min() < 0 or indices.max() >= n_nodes):
        raise ValueError(f"logit_indices must lie in 0..{n_nodes - 1}")
    if np.unique(indices).size != indices.size:
        raise ValueError("logit_indices must not repeat a node")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("logit_probs must be finite and non-negative")
    weights = np.zeros(n_nodes, dtype=np.float64)
    weights[indices] = probs
    return weights


def _influence(normalized: sp.csr_matrix, weights: np.ndarray, max_iter: int) -> np.ndarray:
    """``sum_{k>=1} N^k w``: products until the contribution is exactly zero."""
    current = normalized @ weights
    total = current.copy()
    for _ in range(max_iter):
        if not current.any():
            return total
        current = normalized @ current
        total += current
    raise RuntimeError(
        f"influence did not converge after {max_iter} products: the graph has a cycle "
        "(or a path longer than max_iter edges)"
    )


def node_influence(
    adjacency: sp.csr_matrix,
    logit_indices: np.ndarray,
    logit_probs: np.ndarray,
    *,
    max_iter: int = DEFAULT_MAX_ITER,
) -> np.ndarray:
    """Influence of every node on the logits through all paths (float64, one per node).

    ``w (N + N^2 + ...)`` in circuit-tracer's words, with ``N`` =
    :func:`normalize_matrix` of ``adjacency[source, target]`` and ``w`` the logit
    probabilities placed on ``logit_indices``. Raises ``RuntimeError`` when the sum has
    not ended after ``max_iter`` products (a cycle), ``ValueError`` on bad inputs.
    """
    normalized, n = _normalized(adjacency)
    weights = _logit_weights(n, logit_indices, logit_probs)
    return _influence(normalized, weights, max_iter)


def _scores_1d(scores: np.ndarray) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {values.shape}")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("scores must be finite and non-negative")
    return values


def _ranked_shares(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, shares): indices sorted by descending score (stable) and cumulative shares."""
    order = np.argsort(-values, kind="stable")
    cumulative = np.cumsum(values[order])
    total = cumulative[-1] if cumulative.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = cumulative / total
    return order, shares


def threshold_score(scores: np.ndarray, threshold: float) -> float:
    """The score at which the cumulative rule cuts (``find_threshold`` in circuit-tracer).

    The score of the first rank (descending) whose cumulative share of the total reaches
    ``threshold``; the lowest score if no rank reaches it (rounding at ``threshold = 1``).
    When all scores are 0 every node ties at the cut, so the result is 0.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    values = _scores_1d(scores)
    if values.size == 0:
        raise ValueError("scores is empty")
    order, shares = _ranked_shares(values)
    if not np.isfinite(shares).all():  # total 0: every score is 0
        return 0.0
    rank = min(int(np.searchsorted(shares, threshold, side="left")), values.size - 1)
    return float(values[order[rank]])


def _keep_mask(always_keep: np.ndarray | None, n: int) -> np.ndarray:
    """Boolean mask from ``always_keep`` given as a bool mask or as node indices."""
    mask = np.zeros(n, dtype=bool)
    if always_keep is None:
        return mask
    keep = np.asarray(always_keep)
    if keep.dtype == bool:
        if keep.shape != (n,):
            raise ValueError(f"always_keep mask has shape {keep.shape}, expected ({n},)")
        return keep.copy()
    if keep.ndim != 1 or (keep.size and not np.issubdtype(keep.dtype, np.integer)):
        raise ValueError("always_keep must be a bool mask or a 1-D array of node indices")
    if keep.size and (keep.min() < 0 or keep.max() >= n):
        raise ValueError(f"always_keep indices must lie in 0..{n - 1}")
    mask[keep.astype(np.int64)] = True
    return mask


def cumulative_mask(
    scores: np.ndarray, threshold: float, always_keep: np.ndarray | None = None
) -> np.ndarray:
    """Keep the highest scores until their cumulative share reaches ``threshold``.

    Exactly circuit-tracer's rule: ``scores >= threshold_score(scores, threshold)`` (ties
    at the cut are all kept; ``threshold = 0`` keeps the top score and its ties), OR-ed
    with ``always_keep`` (a bool mask or node indices). Empty ``scores`` give an empty mask.
    """
    values = _scores_1d(scores)
    keep = _keep_mask(always_keep, values.size)
    if values.size == 0:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        return keep
    return (values >= threshold_score(values, threshold)) | keep


def cumulative_scores(scores: np.ndarray) -> np.ndarray:
    """Per node, the share of the total held by the nodes ranked at or above it.

    Ranking is by descending score, ties in index order. NaN everywhere when the total is 0.
    """
    values = _scores_1d(scores)
    order, shares = _ranked_shares(values)
    out = np.empty_like(values)
    out[order] = shares
    return out


def _restrict(matrix: sp.csr_matrix, node_mask: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with every entry touching a dropped node removed."""
    keep = sp.diags(node_mask.astype(np.float64))
    restricted = sp.csr_matrix(keep @ matrix @ keep)
    restricted.eliminate_zeros()
    return restricted


def prune(
    adjacency: sp.csr_matrix,
    logit_indices: np.ndarray,
    logit_probs: np.ndarray,
    kinds: np.ndarray,
    node_threshold: float = 0.8,
    edge_threshold: float = 0.98,
    *,
    max_iter: int = DEFAULT_MAX_ITER,
) -> PruneResult:
    """Prune a graph like circuit-tracer's ``prune_graph`` (see the module docstring).

    ``kinds`` holds the :class:`~attribution_viewer.model.NodeKind` of every node; node
    order does not matter. Raises ``ValueError`` on bad inputs or thresholds outside 0..1.
    """
    for name, value in (("node_threshold", node_threshold), ("edge_threshold", edge_threshold)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    matrix, n = _check_square_csr(adjacency)
    kind = np.asarray(kinds)
    if kind.shape != (n,):
        raise ValueError(f"kinds has shape {kind.shape}, expected ({n},)")
    if n and (kind.min() < min(NodeKind) or kind.max() > max(NodeKind)):
        raise ValueError(f"kinds must hold NodeKind values {[int(k) for k in NodeKind]}")
    weights = _logit_weights(n, logit_indices, logit_probs)
    is_feature = kind == NodeKind.FEATURE
    is_inner = is_feature | (kind == NodeKind.ERROR)

    influence = _influence(normalize_matrix(matrix), weights, max_iter)
    node_mask = cumulative_mask(influence, node_threshold, always_keep=~is_inner)

    pruned = normalize_matrix(_restrict(matrix, node_mask))
    target_weight = _influence(pruned, weights, max_iter) + weights
    # Same sparsity as ``pruned`` (an edge whose target has no influence scores 0 but stays).
    scores = sp.csr_matrix(
        (pruned.data * target_weight[pruned.indices], pruned.indices, pruned.indptr), shape=(n, n)
    )

    coo = scores.tocoo()
    sources, targets = coo.row, coo.col
    edge_keep = cumulative_mask(coo.data, edge_threshold)
    while True:
        edge_keep &= node_mask[sources] & node_mask[targets]
        has_out = np.bincount(sources[edge_keep], minlength=n) > 0
        has_in = np.bincount(targets[edge_keep], minlength=n) > 0
        new_mask = node_mask & ~(is_inner & ~has_out) & ~(is_feature & ~has_in)
        if np.array_equal(new_mask, node_mask):
            break
        node_mask = new_mask

    edge_mask = sp.csr_matrix(
        (np.ones(int(edge_keep.sum()), dtype=bool), (sources[edge_keep], targets[edge_keep])), shape=(n, n)
    )
    return PruneResult(node_mask, edge_mask, influence, scores, cumulative_scores(influence))
