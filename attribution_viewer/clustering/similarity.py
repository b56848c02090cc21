"""Similarity between the feature nodes of a graph, used to cluster them.

Three parts, each a cosine-like value per pair of features, combined as a weighted sum:

connectivity
    Each feature gets a signed profile ``[inputs | outputs]``. Edge weights are first
    normalised per target as circuit-tracer does (each target's incoming ``|w|`` sums to
    1). The input half of feature ``i`` is its normalised incoming edges, the output half
    its normalised outgoing edges; each half also holds ``i`` itself (weight = the half's
    largest ``|w|``, or 1 when the half is empty) so that a direct edge ``i -> j`` counts
    as overlap, not only shared neighbours. Each half is scaled to unit length and the
    concatenation to unit length: the similarity is the dot product, in ``[-1, 1]``
    (negative when two features push the same targets in opposite directions).
layer-position
    ``exp(-dl^2 / 2 sl^2) * exp(-dp^2 / 2 sp^2)`` for layer and position distances;
    by default ``sl = max(1, n_layers / 4)`` layers and ``sp = 1`` position.
meaning ("text")
    1 for the same latent at two positions (same layer and feature index: a CLT feature
    means the same thing wherever it fires), else the cosine of text embeddings of the
    features' descriptions or labels (TF-IDF by default, any :class:`TextEmbedder`
    otherwise).

The weights are rescaled to sum to 1, so the combined similarity is at most 1. A pair
whose meaning is unknown (different latents, and at least one without text) is judged
on connectivity and position alone: the weighted average leaves the meaning part out
rather than counting it as 0. Only
feature nodes take part; rows of every matrix here are feature indices
``0 .. n_features - 1`` (features come first in the node order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from attribution_viewer.model import GraphStore, NodeKind


@runtime_checkable
class TextEmbedder(Protocol):
    """Turns texts into vectors; similar texts must get vectors of high cosine."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text (any width). Rows of empty texts may be zero."""
        ...


@dataclass(frozen=True)
class TfidfEmbedder:
    """Default :class:`TextEmbedder`: TF-IDF of word unigrams and bigrams (scikit-learn)."""

    max_features: int = 2048

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not any(t.strip() for t in texts):
            return np.zeros((len(texts), 0), dtype=np.float32)
        # scikit-learn is imported on first use: it costs ~0.7 s, and the server must start fast.
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            lowercase=True,
            ngram_range=(1, 2),
            max_features=self.max_features,
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
        )
        try:
            matrix = vectorizer.fit_transform(list(texts))
        except ValueError:  # every text was empty after tokenisation
            return np.zeros((len(texts), 0), dtype=np.float32)
        return np.asarray(matrix.toarray(), dtype=np.float32)


@dataclass(frozen=True)
class SimilarityParams:
    """Weights of the three parts (rescaled to sum to 1) and the proximity scales.

    Defaults were chosen on the hand-made clusters of one real graph (see
    ``benchmarks/clustering.py``); connectivity leads, position is close behind because
    most CLT features are token-level.

    ``layer_scale`` is a fraction of the model's layer count (at least 1 layer);
    ``pos_scale`` is in token positions.
    """

    connectivity: float = 0.5
    position: float = 0.4
    text: float = 0.3
    layer_scale: float = 0.25
    pos_scale: float = 1.0

    def __post_init__(self) -> None:
        values = (self.connectivity, self.position, self.text)
        if min(values) < 0 or sum(values) <= 0:
            raise ValueError(f"similarity weights must be >= 0 and not all 0, got {values}")
        if self.layer_scale <= 0 or self.pos_scale <= 0:
            raise ValueError(f"similarity scales must be > 0, got {self.layer_scale}, {self.pos_scale}")


METHODS: dict[str, SimilarityParams] = {
    "auto": SimilarityParams(),
    "connectivity": SimilarityParams(connectivity=1.0, position=0.0, text=0.0),
    "layer-position": SimilarityParams(connectivity=0.0, position=1.0, text=0.0),
    "text": SimilarityParams(connectivity=0.0, position=0.0, text=1.0),
}
"""Clustering methods by name: which similarity parts they use."""


def weights_for(method: str) -> SimilarityParams:
    """The weights of a method name; ``ValueError`` listing the known names otherwise."""
    try:
        return METHODS[method]
    except KeyError:
        raise ValueError(f"unknown clustering method {method!r} (known: {', '.join(METHODS)})") from None


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)


def _with_self(half: sp.csr_matrix, n_rows: int) -> sp.csr_matrix:
    """Add each row's own node (column ``i`` of row ``i``) with the row's largest |w|."""
    abs_max = np.asarray(abs(half).max(axis=1).todense()).ravel() if half.nnz else np.zeros(n_rows)
    abs_max[abs_max == 0] = 1.0
    diag = sp.csr_matrix((abs_max, (np.arange(n_rows), np.arange(n_rows))), shape=half.shape)
    return _unit_rows(sp.csr_matrix(half + diag))


def normalised_adjacency(store: GraphStore) -> sp.csr_matrix:
    """``adjacency[source, target]`` divided by the target's total incoming ``|w|``."""
    adjacency = store.adjacency.astype(np.float64)
    incoming = np.asarray(abs(adjacency).sum(axis=0)).ravel()
    incoming[incoming == 0] = 1.0
    return sp.csr_matrix(adjacency @ sp.diags(1.0 / incoming))


def connectivity_profiles(store: GraphStore) -> sp.csr_matrix:
    """Unit-length signed ``[inputs | outputs]`` profile of every feature (see module doc)."""
    n_feat = store.count(NodeKind.FEATURE)
    normalised_out = normalised_adjacency(store)
    normalised_in = sp.csr_matrix(normalised_out.T)  # row t: its sources, shares of its input
    halves = [_with_self(sp.csr_matrix(half[:n_feat]), n_feat) for half in (normalised_in, normalised_out)]
    return sp.csr_matrix(_unit_rows(sp.csr_matrix(sp.hstack(halves, format="csr"))), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class FeatureSpace:
    """Everything needed to compute feature-feature similarities of one graph.

    Build with :func:`feature_space`; ask for blocks of the similarity matrix with
    :meth:`similarity`.
    """

    weights: tuple[float, float, float]  # connectivity, position, text (rescaled to sum 1)
    profiles: sp.csr_matrix | None
    cell: np.ndarray  # index of each feature's (layer, pos) cell
    cell_similarity: np.ndarray  # layer-position similarity between cells
    latent: np.ndarray  # equal for the same (layer, feature_idx)
    text: np.ndarray | None  # unit rows (zero rows for features without text)
    has_text: np.ndarray  # bool per feature

    def similarity(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Dense ``len(rows) x len(cols)`` block of the combined similarity."""
        w_conn, w_pos, w_text = self.weights
        out = np.zeros((rows.shape[0], cols.shape[0]), dtype=np.float32)
        if self.profiles is not None:
            block = self.profiles[rows] @ self.profiles[cols].T
            out += np.float32(w_conn) * np.asarray(block.toarray(), dtype=np.float32)
        if w_pos > 0:
            out += np.float32(w_pos) * self.cell_similarity[np.ix_(self.cell[rows], self.cell[cols])]
        if w_text > 0:
            meaning = (self.latent[rows, None] == self.latent[None, cols]).astype(np.float32)
            known = meaning.copy()
            if self.text is not None:
                np.maximum(meaning, self.text[rows] @ self.text[cols].T, out=meaning)
                np.maximum(known, self.has_text[rows, None] & self.has_text[None, cols], out=known)
            out += np.float32(w_text) * meaning * known
            # pairs whose meaning is unknown (no text) are judged on the other parts alone
            total = np.float32(1.0) - np.float32(w_text) * (np.float32(1.0) - known)
            np.divide(out, total, out=out, where=total > 0)
        return out


def _text_matrix(texts: Sequence[str], embedder: TextEmbedder) -> np.ndarray | None:
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"text embedder returned shape {vectors.shape}, expected ({len(texts)}, d)")
    norms = np.linalg.norm(vectors, axis=1)
    if vectors.shape[1] == 0 or not np.any(norms > 0):
        return None
    norms[norms == 0] = 1.0
    return vectors / norms[:, None]


def feature_space(
    store: GraphStore,
    *,
    texts: Sequence[str] | None,
    weights: SimilarityParams,
    embedder: TextEmbedder | None = None,
) -> FeatureSpace:
    """Precompute the parts of the similarity for the feature nodes of ``store``.

    ``texts`` holds one string per node index (only the feature entries are used) or is
    None.
    """
    n_feat = store.count(NodeKind.FEATURE)
    if texts is not None and len(texts) < n_feat:
        raise ValueError(f"texts has {len(texts)} entries, expected one per node ({store.n_nodes})")
    text = None
    if weights.text > 0 and texts is not None and n_feat:
        text = _text_matrix([str(t or "") for t in texts[:n_feat]], embedder or TfidfEmbedder())
    profiles = connectivity_profiles(store) if weights.connectivity > 0 else None
    total = weights.connectivity + weights.position + weights.text
    rescaled = (weights.connectivity / total, weights.position / total, weights.text / total)
    layer = store.nodes.layer[:n_feat].astype(np.int64)
    pos = store.nodes.pos[:n_feat].astype(np.int64)
    cells, cell = np.unique(np.stack([layer, pos], axis=1), axis=0, return_inverse=True)
    dl = (cells[:, None, 0] - cells[None, :, 0]) / max(1.0, weights.layer_scale * store.n_layers)
    dp = (cells[:, None, 1] - cells[None, :, 1]) / weights.pos_scale
    return FeatureSpace(
        weights=rescaled,
        profiles=profiles,
        cell=cell.ravel(),
        cell_similarity=np.exp(-0.5 * (dl * dl + dp * dp)).astype(np.float32),
        latent=layer * (int(store.nodes.feature_idx[:n_feat].max(initial=0)) + 1)
        + store.nodes.feature_idx[:n_feat],
        text=text,
        has_text=np.zeros(n_feat, bool) if text is None else np.linalg.norm(text, axis=1) > 0,
    )


def knn_graph(space: FeatureSpace, indices: np.ndarray, k: int, *, block_size: int = 1024) -> sp.csr_matrix:
    """Symmetric sparse graph over ``indices``: each one's ``k`` most similar others.

    Rows and columns are positions in ``indices``. Only positive similarities are kept,
    rounded to 6 decimals so that ties break the same way on every machine;
    ``graph[a, b] == graph[b, a] == similarity(indices[a], indices[b])``.
    """
    n = int(indices.shape[0])
    k = min(k, n - 1)
    if k <= 0:
        return sp.csr_matrix((n, n), dtype=np.float64)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    for start in range(0, n, block_size):
        local = np.arange(start, min(n, start + block_size))
        sims = space.similarity(indices[local], indices)
        sims[np.arange(local.shape[0]), local] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(sims, top, axis=1)
        keep = vals > 0
        rows_out.append(np.repeat(local, k)[keep.ravel()])
        cols_out.append(top[keep])
        vals_out.append(vals[keep])
    r = np.concatenate(rows_out)
    c = np.concatenate(cols_out)
    v = np.round(np.concatenate(vals_out).astype(np.float64), 6)
    graph = sp.csr_matrix((v, (r, c)), shape=(n, n))
    # union of both directions; the similarity is symmetric so the maximum is the value
    return sp.csr_matrix(graph.maximum(graph.T))
