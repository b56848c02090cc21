"""The fast paths of clustering (codes CL2x): text cosines computed once per distinct text
vector, each row's top k found without a full partition of the row, the merge heap
rebuilt without its stale entries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from test_clustering_core import build_store

from attribution_viewer.clustering import SimilarityParams
from attribution_viewer.clustering.agglomerative import capped_linkage
from attribution_viewer.clustering.similarity import MAX_CANDIDATES, feature_space, top_positive


@dataclass(frozen=True)
class TableEmbedder:
    """A text embedder with chosen vectors, so that cosines are known exactly."""

    vectors: dict[str, tuple[float, ...]]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([self.vectors[t] for t in texts], dtype=np.float32)


def test_cl20_similarity_with_descriptions_exact_values() -> None:
    # n_layers 4, layer_scale 0.25 -> band of 1 layer: one layer apart gives exp(-1/2).
    # f0 and f2 share a text vector; f3 has no text; f0 and f3 sit on one token and layer.
    feats = [(0, 0, 1), (0, 1, 2), (1, 2, 3), (0, 0, 4)]
    texts = ["x", "xy", "x again", ""]
    embedder = TableEmbedder({"x": (1, 0), "xy": (1, 1), "x again": (1, 0), "": (0, 0)})
    store = build_store(feats, [], tokens=("a", "b", "c", "d"))
    space = feature_space(store, texts=texts, weights=SimilarityParams(layer_scale=0.25), embedder=embedder)
    assert space.text is not None and space.text.gram.shape == (3, 3)  # 3 distinct vectors
    sim = space.similarity(np.arange(4), np.arange(4))
    band = math.exp(-0.5)
    expected = [
        # self: token 1 + role 0.25 + text 1 (0 without text) + latent 0.5
        [2.75, 1 / math.sqrt(2), band, 1.0],
        [1 / math.sqrt(2), 2.75, band / math.sqrt(2), 0.0],
        [band, band / math.sqrt(2), 2.75, 0.0],
        [1.0, 0.0, 0.0, 1.75],
    ]
    np.testing.assert_allclose(sim, expected, rtol=0, atol=1e-6)
    # a block of rows and columns in any order gives the same values
    rows, cols = np.array([3, 0]), np.array([2, 0, 1])
    np.testing.assert_array_equal(space.similarity(rows, cols), sim[np.ix_(rows, cols)])


def test_cl21_tfidf_duplicates_share_one_vector() -> None:
    # the same description on two tokens one layer apart: cosine 1, times the band
    feats = [(0, 0, 1), (1, 1, 2), (0, 2, 3)]
    texts = ["capital city of France", "capital city of France", "basketball players"]
    store = build_store(feats, [], tokens=("a", "b", "c"))
    space = feature_space(store, texts=texts, weights=SimilarityParams(layer_scale=0.25))
    assert space.text is not None and space.text.gram.shape == (2, 2)
    sim = space.similarity(np.arange(3), np.arange(3))
    assert sim[0, 1] == pytest.approx(math.exp(-0.5), abs=1e-6)
    assert sim[0, 2] == 0 and sim[1, 2] == 0  # no word in common


def argpartition_reference(sims: np.ndarray, k: int) -> set[tuple[int, int]]:
    """What knn_graph kept before the fast path: argpartition's k largest, if positive."""
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return {(r, int(c)) for r in range(sims.shape[0]) for c in top[r] if sims[r, c] > 0}


def tricky_rows(rng: np.random.Generator, n_cols: int) -> np.ndarray:
    """Rows with heavy ties, negative values, few positives, and one too full to sample."""
    sims = (rng.integers(-2, 5, size=(40, n_cols)) / 4).astype(np.float32)  # few values: ties
    sims[10:20] = rng.random((10, n_cols), dtype=np.float32)  # distinct values
    sims[20:25] = -1.0
    sims[20:25, :3] = 0.5  # fewer positives than k
    sims[25] = 1.0  # every entry tied, more than MAX_CANDIDATES of them
    sims[26, : n_cols // 2] = 0.75  # half the row tied at the top
    np.fill_diagonal(sims, -np.inf)
    return sims


@pytest.mark.parametrize("k", [1, 5, 24])
def test_cl22_top_positive_keeps_what_argpartition_keeps(k: int) -> None:
    rng = np.random.default_rng(0)
    for n_cols in (30, 400, MAX_CANDIDATES + 500):
        sims = tricky_rows(rng, n_cols)
        rows, cols = top_positive(sims, k)
        chosen = set(zip(rows.tolist(), cols.tolist(), strict=True))
        assert len(chosen) == rows.shape[0]  # no entry twice
        assert chosen == argpartition_reference(sims, k)


def greedy_reference(graph: np.ndarray, max_size: int, min_similarity: float) -> set[frozenset[int]]:
    """Capped linkage by its definition: merge the best pair of groups until none may merge."""
    groups = [frozenset([i]) for i in range(graph.shape[0])]
    while True:
        best, pair = min_similarity, None
        for x, a in enumerate(groups):
            for y in range(x + 1, len(groups)):
                b = groups[y]
                total = graph[np.ix_(sorted(a), sorted(b))].sum()
                if len(a) + len(b) <= max_size and total > 0:
                    linkage = total / math.sqrt(len(a) * len(b))
                    if linkage >= best and (pair is None or linkage > best):
                        best, pair = linkage, (x, y)
        if pair is None:
            return set(groups)
        x, y = pair
        groups = [g for i, g in enumerate(groups) if i not in pair] + [groups[x] | groups[y]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cl23_capped_linkage_follows_its_definition(seed: int) -> None:
    # random weights (no ties) on 60 nodes: the heap, its lazy deletion and its rebuilds
    # must merge exactly the pairs the definition merges
    rng = np.random.default_rng(seed)
    dense = np.triu(rng.random((60, 60)) * (rng.random((60, 60)) < 0.15), k=1)
    dense = dense + dense.T
    found = capped_linkage(sp.csr_matrix(dense), max_size=5, min_similarity=0.3)
    assert {frozenset(g) for g in found.groups} == greedy_reference(dense, 5, 0.3)
    assert max(len(g) for g in found.groups) == 5  # the cap binds
