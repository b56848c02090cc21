"""Similarity between the feature nodes of a graph, used to cluster them.

It starts where researchers start when they draw supernodes: the token, then the layer
band and the role, then the meaning. For features ``i`` and ``j``::

    s(i, j) = K(i, j) * (token * T(i, j) + role * T(i, j) * max(0, r(i, j)) + text * x(i, j))
              + latent * [same latent]

token ``T``
    1 on the same position, ``same_token`` on another position holding the same token
    string (every comma of a list), else 0.
layer band ``K``
    ``exp(-dl^2 / 2 sl^2)`` for a layer distance ``dl``; ``sl = max(1, layer_scale *
    n_layers)``.
role ``r``
    Cosine of signed connectivity profiles ``[inputs | outputs]``. Edge weights are first
    normalised per target as circuit-tracer does (each target's incoming ``|w|`` sums to
    1). Each half also holds the feature itself (weight = the half's largest ``|w|``, or 1)
    so that a direct edge ``i -> j`` counts as overlap, not only shared neighbours. Each
    half is scaled to unit length and the concatenation to unit length. The role splits a
    token's features by what they read and feed; it only counts where ``T > 0`` (with
    ``role_in_place``; the "connectivity" method drops that gate).
meaning ``x``
    Cosine of text embeddings of the features' descriptions or labels (Neuronpedia
    ``clerp`` labels count; TF-IDF by default, any :class:`TextEmbedder` otherwise), 0
    when either has none. It joins features of any position in nearby layers.
latent
    The same latent (layer and feature index) at two positions: a CLT feature means the
    same thing wherever it fires. A *generic* latent, present at more than
    ``generic_share`` of the positions that hold features (of the whole graph), gets no
    such link: firing on (nearly) every token says nothing shared by those tokens, and
    researchers draw its copies with the token each sits on.

The value is not bounded by 1: two features on one token in one layer score ``token``
(1 by default) before role, meaning and latent are added. Only feature nodes take part;
rows of every matrix here are feature indices ``0 .. n_features - 1`` (features come
first in the node order).
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
    """Weights of the parts (see module docstring) and the layer band's scale.

    Defaults were chosen on the hand-made clusters of three real graphs (see
    ``benchmarks/clustering.py`` and ``benchmarks/labels/``). ``layer_scale`` is a
    fraction of the model's layer count (at least 1 layer); ``same_token`` is the token
    part for two positions holding the same token string; ``generic_share`` is the share
    of the feature-holding positions above which a latent counts as generic (chosen on
    four graphs, see the README's clustering section).
    """

    token: float = 1.0
    role: float = 0.25
    latent: float = 0.5
    text: float = 1.0
    same_token: float = 0.5
    layer_scale: float = 0.2
    role_in_place: bool = True
    generic_share: float = 0.75  # 1.0: every latent links its copies

    def __post_init__(self) -> None:
        values = (self.token, self.role, self.latent, self.text)
        if min(values) < 0 or sum(values) <= 0:
            raise ValueError(f"similarity weights must be >= 0 and not all 0, got {values}")
        if self.layer_scale <= 0:
            raise ValueError(f"layer_scale must be > 0, got {self.layer_scale}")
        if not 0 <= self.same_token <= 1:
            raise ValueError(f"same_token must be in [0, 1], got {self.same_token}")
        if not 0 < self.generic_share <= 1:
            raise ValueError(f"generic_share must be in (0, 1], got {self.generic_share}")


METHODS: dict[str, SimilarityParams] = {
    "auto": SimilarityParams(),
    "connectivity": SimilarityParams(token=0.0, role=1.0, latent=0.0, text=0.0, role_in_place=False),
    "layer-position": SimilarityParams(token=1.0, role=0.0, latent=0.0, text=0.0),
    "text": SimilarityParams(token=0.0, role=0.0, latent=0.5, text=1.0),
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
class TextCosines:
    """Cosines between the text vectors of the features, computed once per distinct vector.

    Features often share a text (the copies of a latent at several positions, features
    described alike), so the matrix of the distinct vectors is much smaller than the
    features' one.
    """

    gram: np.ndarray  # distinct x distinct cosines (float32)
    row: np.ndarray  # each feature's row in ``gram``

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Dense ``len(rows) x len(cols)`` cosines of features ``rows`` and ``cols``."""
        return np.take(self.gram[self.row[rows]], self.row[cols], axis=1)


def text_cosines(texts: Sequence[str], embedder: TextEmbedder) -> TextCosines | None:
    """Cosines of the embedded ``texts`` (0 where either is empty), None when all are empty."""
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"text embedder returned shape {vectors.shape}, expected ({len(texts)}, d)")
    norms = np.linalg.norm(vectors, axis=1)
    if vectors.shape[1] == 0 or not np.any(norms > 0):
        return None
    norms[norms == 0] = 1.0
    first: dict[bytes, int] = {}  # each distinct vector's row in the gram matrix
    row = np.asarray([first.setdefault(v.tobytes(), len(first)) for v in vectors], dtype=np.int64)
    distinct = np.unique(row, return_index=True)[1]  # a feature holding each distinct vector
    unit = vectors[distinct] / norms[distinct, None]
    return TextCosines(gram=unit @ unit.T, row=row)


@dataclass(frozen=True, eq=False)
class FeatureSpace:
    """Everything needed to compute feature-feature similarities of one graph.

    Build with :func:`feature_space`; ask for blocks of the similarity matrix with
    :meth:`similarity`.
    """

    params: SimilarityParams
    profiles: sp.csr_matrix | None
    cell: np.ndarray  # index of each feature's (layer, pos) cell
    place: np.ndarray  # cells x cells: token part T times layer band K
    band: np.ndarray  # cells x cells: layer band K alone
    latent: np.ndarray  # equal for the same (layer, feature_idx); unique for generic latents
    text: TextCosines | None

    def similarity(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Dense ``len(rows) x len(cols)`` block of the combined similarity."""
        p = self.params
        row_cells, col_cells = self.cell[rows], self.cell[cols]
        place = np.take(self.place[row_cells], col_cells, axis=1)
        out = np.float32(p.token) * place
        if self.profiles is not None:
            role = np.asarray((self.profiles[rows] @ self.profiles[cols].T).toarray(), dtype=np.float32)
            np.maximum(role, 0.0, out=role)
            out += np.float32(p.role) * (role * place if p.role_in_place else role)
        if self.text is not None:
            band = np.take(self.band[row_cells], col_cells, axis=1)
            out += np.float32(p.text) * band * self.text.block(rows, cols)
        if p.latent > 0:
            out += np.float32(p.latent) * (self.latent[rows, None] == self.latent[None, cols])
        return out


def latent_ids(layer: np.ndarray, feature_idx: np.ndarray, pos: np.ndarray, *, share: float) -> np.ndarray:
    """One id per feature, shared by the copies of a latent at several positions.

    A latent present at more than ``share`` of the positions that hold features is
    generic: each of its copies gets an id of its own (a negative one), so the latent part
    does not link them.
    """
    ids = layer * (int(feature_idx.max(initial=0)) + 1) + feature_idx
    if ids.size == 0:
        return ids
    latents, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.ravel()
    spots = np.unique(np.stack([inverse, pos], axis=1), axis=0)  # (latent, position) pairs
    spread = np.bincount(spots[:, 0], minlength=latents.shape[0]) / np.unique(pos).shape[0]
    generic = spread[inverse] > share
    return np.where(generic, -1 - np.arange(ids.shape[0]), ids)


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
        text = text_cosines([str(t or "") for t in texts[:n_feat]], embedder or TfidfEmbedder())
    profiles = connectivity_profiles(store) if weights.role > 0 else None
    layer = store.nodes.layer[:n_feat].astype(np.int64)
    pos = store.nodes.pos[:n_feat].astype(np.int64)
    cells, cell = np.unique(np.stack([layer, pos], axis=1), axis=0, return_inverse=True)
    dl = (cells[:, None, 0] - cells[None, :, 0]) / max(1.0, weights.layer_scale * store.n_layers)
    band = np.exp(-0.5 * dl * dl).astype(np.float32)
    tokens = np.asarray([store.token_at(int(p)) for p in cells[:, 1]], dtype=object)
    same_pos = cells[:, None, 1] == cells[None, :, 1]
    token = np.where(same_pos, 1.0, weights.same_token * (tokens[:, None] == tokens[None, :]))
    return FeatureSpace(
        params=weights,
        profiles=profiles,
        cell=cell.ravel(),
        place=(token * band).astype(np.float32),
        band=band,
        latent=latent_ids(
            layer, store.nodes.feature_idx[:n_feat].astype(np.int64), pos, share=weights.generic_share
        ),
        text=text,
    )


SAMPLE_STRIDE = 16
"""Every ``SAMPLE_STRIDE``-th column gives a lower bound of a row's k-th largest value."""
MAX_CANDIDATES = 1024
"""Rows with more entries above that bound are left to ``np.argpartition`` whole."""


def top_positive(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of each row's ``k`` largest entries that are positive.

    The entries chosen are exactly those of ``np.argpartition(-sims, k - 1, axis=1)[:, :k]``
    with a positive value, ties included (which of equal values argpartition keeps changes
    the clusters): a row whose k-th largest positive value is tied is handed to
    argpartition whole. The other rows only sort out their entries at or above a lower
    bound of their k-th largest value, the k-th largest of a sample of columns.
    """
    n_rows = sims.shape[0]
    floor = np.full(n_rows, np.nextafter(np.float32(0), np.float32(1)), dtype=sims.dtype)
    sample = sims[:, ::SAMPLE_STRIDE]
    if sample.shape[1] >= k:
        bound = np.partition(sample, sample.shape[1] - k, axis=1)[:, sample.shape[1] - k]
        np.maximum(floor, bound, out=floor)
    r, c = np.nonzero(sims >= floor[:, None])
    counts = np.bincount(r, minlength=n_rows)
    whole = counts > MAX_CANDIDATES
    if whole.any():
        part = ~whole[r]
        r, c = r[part], c[part]
        counts[whole] = 0
    v = sims[r, c]
    kth = np.full(n_rows, -np.inf, dtype=sims.dtype)  # rows with fewer than k keep them all
    width = int(counts.max(initial=0))
    if width >= k:
        starts = np.cumsum(counts) - counts
        # padded with distinct negative values: numpy's partition is slow on many equal ones
        padded = np.tile(-1.0 - np.arange(width, dtype=sims.dtype), (n_rows, 1))
        padded[r, np.arange(r.shape[0]) - starts[r]] = v
        many = counts >= k
        kth[many] = np.partition(padded[many], width - k, axis=1)[:, width - k]
    chosen = v >= kth[r]
    tied = np.bincount(r[chosen], minlength=n_rows) > k
    whole |= tied
    chosen &= ~tied[r]
    rows, cols = [r[chosen]], [c[chosen]]
    if whole.any():
        redo = np.flatnonzero(whole)
        top = np.argpartition(-sims[redo], k - 1, axis=1)[:, :k]
        keep = np.take_along_axis(sims[redo], top, axis=1) > 0
        rows.append(np.repeat(redo, k)[keep.ravel()])
        cols.append(top[keep])
    return np.concatenate(rows), np.concatenate(cols)


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
        rows, cols = top_positive(sims, k)
        rows_out.append(local[rows])
        cols_out.append(cols)
        vals_out.append(sims[rows, cols])
    r = np.concatenate(rows_out)
    c = np.concatenate(cols_out)
    v = np.round(np.concatenate(vals_out).astype(np.float64), 6)
    graph = sp.csr_matrix((v, (r, c)), shape=(n, n))
    # union of both directions; the similarity is symmetric so the maximum is the value
    return sp.csr_matrix(graph.maximum(graph.T))
