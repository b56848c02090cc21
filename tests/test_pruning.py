"""Tests of attribution_viewer.pruning: influence and pruning on hand-worked graphs.

Every expected number below is worked out by hand in the comments. Matrices are
``A[source, target]``; weights are chosen so every value is a dyadic fraction (exact in
floating point), hence the tight tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from attribution_viewer.model import NodeKind
from attribution_viewer.pruning import (
    cumulative_mask,
    cumulative_scores,
    node_influence,
    normalize_matrix,
    prune,
    threshold_score,
)

F, X, E, L = NodeKind.FEATURE, NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.LOGIT
TIGHT = 1e-12


def adjacency(n: int, edges: dict[tuple[int, int], float]) -> sp.csr_matrix:
    rows = [s for s, _ in edges]
    cols = [t for _, t in edges]
    return sp.csr_matrix((list(edges.values()), (rows, cols)), shape=(n, n))


# -- normalize_matrix -----------------------------------------------------------------


def test_pr01_normalize_columns_sum_to_one_and_drop_sign() -> None:
    # Target 2 receives 3 from node 0 and -1 from node 1: |.| sums to 4 -> 0.75, 0.25.
    # Target 1 receives -2 from node 0 only -> 1.0. Node 0 receives nothing: empty column.
    a = adjacency(3, {(0, 2): 3.0, (1, 2): -1.0, (0, 1): -2.0})
    n = normalize_matrix(a)
    assert n.toarray() == pytest.approx(np.array([[0, 1.0, 0.75], [0, 0, 0.25], [0, 0, 0]]), abs=TIGHT)
    assert n.dtype == np.float64
    assert a[0, 1] == -2.0  # input untouched


def test_pr02_normalize_clamps_tiny_column_sums() -> None:
    # |1e-12| / max(1e-12, 1e-10) = 0.01, as circuit-tracer clamps the row sum at 1e-10.
    n = normalize_matrix(adjacency(2, {(0, 1): 1e-12}))
    assert n[0, 1] == pytest.approx(0.01, rel=1e-9)


def test_pr03_normalize_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        normalize_matrix(sp.csr_matrix((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        normalize_matrix(adjacency(2, {(0, 1): np.nan}))
    with pytest.raises(TypeError):
        normalize_matrix(np.eye(2))  # type: ignore[arg-type]


# -- node_influence -------------------------------------------------------------------


def test_pr04_chain_passes_the_logit_probability_down() -> None:
    # Nodes 0:F0 1:F1 2:E0 3:L0, chain E0 -(2)-> F0 -(-3)-> F1 -(0.5)-> L0, p(L0) = 0.625.
    # Every target has one input, so N has 1 on each edge: F1 = F0 = E0 = 0.625; L0 = 0
    # (the logit's own weight is not counted).
    a = adjacency(4, {(2, 0): 2.0, (0, 1): -3.0, (1, 3): 0.5})
    infl = node_influence(a, np.array([3]), np.array([0.625]))
    assert infl == pytest.approx([0.625, 0.625, 0.625, 0.0], abs=TIGHT)
    assert infl.dtype == np.float64


def test_pr05_diamond_splits_by_normalised_weight() -> None:
    # 0:Fa 1:Fb 2:E 3:L, p = 0.5. E->Fa 1, E->Fb 1, Fa->L 3, Fb->L -1, E->L 4.
    # L's inputs |3|+|-1|+|4| = 8: N[Fa,L] = 3/8, N[Fb,L] = 1/8, N[E,L] = 4/8.
    # Fa = 3/8 * 0.5 = 0.1875; Fb = 1/8 * 0.5 = 0.0625;
    # E = direct 0.25 + via Fa 1 * 0.1875 + via Fb 1 * 0.0625 = 0.5.
    a = adjacency(4, {(2, 0): 1.0, (2, 1): 1.0, (0, 3): 3.0, (1, 3): -1.0, (2, 3): 4.0})
    infl = node_influence(a, np.array([3]), np.array([0.5]))
    assert infl == pytest.approx([0.1875, 0.0625, 0.5, 0.0], abs=TIGHT)


def test_pr06_two_logits_weighted_by_probability() -> None:
    # 0:F0 1:F1 2:E0 3:L0 (p 0.5) 4:L1 (p 0.25).
    # F0->L0 2, F0->L1 1, F1->L1 3, E0->F0 1, E0->F1 1.
    # L0 has one input: N[F0,L0] = 1. L1: |1| + |3| = 4: N[F0,L1] = 1/4, N[F1,L1] = 3/4.
    # F0 = 0.5 * 1 + 0.25 * 1/4 = 0.5625; F1 = 0.25 * 3/4 = 0.1875; E0 = 0.5625 + 0.1875 = 0.75.
    a = adjacency(5, {(0, 3): 2.0, (0, 4): 1.0, (1, 4): 3.0, (2, 0): 1.0, (2, 1): 1.0})
    infl = node_influence(a, np.array([3, 4]), np.array([0.5, 0.25]))
    assert infl == pytest.approx([0.5625, 0.1875, 0.75, 0.0, 0.0], abs=TIGHT)


def test_pr07_node_off_every_path_has_zero_influence() -> None:
    # 0:F0 1:F1 2:F2 3:E0 4:L0, p = 1. E0->F0 1 -> L0 1 is the only path to the logit.
    # F1 (fed by E0) feeds only F2, and F2 feeds nothing: no path to L0, influence 0.
    # F0 = 1, E0 = 1 * F0 = 1 (E0's edge to F1 adds F1's influence, 0).
    a = adjacency(5, {(3, 0): 1.0, (0, 4): 1.0, (3, 1): 5.0, (1, 2): 2.0})
    infl = node_influence(a, np.array([4]), np.array([1.0]))
    assert infl == pytest.approx([1.0, 0.0, 0.0, 1.0, 0.0], abs=TIGHT)


def test_pr08_cycle_raises_clear_error() -> None:
    a = adjacency(3, {(0, 1): 1.0, (1, 0): 1.0, (1, 2): 1.0})
    with pytest.raises(RuntimeError, match="cycle"):
        node_influence(a, np.array([2]), np.array([1.0]), max_iter=50)


def test_pr09_influence_rejects_bad_logits() -> None:
    a = adjacency(3, {(0, 1): 1.0})
    with pytest.raises(ValueError, match="shape"):
        node_influence(a, np.array([2]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        node_influence(a, np.array([3]), np.array([0.5]))
    with pytest.raises(ValueError, match="repeat"):
        node_influence(a, np.array([2, 2]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="non-negative"):
        node_influence(a, np.array([2]), np.array([-0.5]))


def test_pr10_influence_on_a_million_edges_runs() -> None:
    # Layered random DAG: 20k nodes in 10 layers of 2k, 1M edges from lower to higher layers.
    rng = np.random.default_rng(0)
    n, per_layer = 20_000, 2_000
    src_layer = rng.integers(0, 9, 1_000_000)
    dst_layer = src_layer + 1 + (rng.random(1_000_000) * (9 - src_layer)).astype(np.int64)
    src = src_layer * per_layer + rng.integers(0, per_layer, 1_000_000)
    dst = dst_layer * per_layer + rng.integers(0, per_layer, 1_000_000)
    a = sp.csr_matrix((rng.normal(size=1_000_000), (src, dst)), shape=(n, n))
    logits = np.arange(n - 5, n)
    infl = node_influence(a, logits, np.full(5, 0.15))
    assert infl.shape == (n,)
    assert np.isfinite(infl).all()
    assert (infl >= 0).all()
    assert infl[:per_layer].sum() > 0  # the first layer reaches the logits


# -- cumulative rule ------------------------------------------------------------------

SCORES = np.array([0.125, 0.5, 0.25, 0.125])
# Sorted: 0.5, 0.25, 0.125, 0.125; cumulative shares 0.5, 0.75, 0.875, 1.0.


@pytest.mark.parametrize(
    ("threshold", "cut", "kept"),
    [
        (0.75, 0.25, [False, True, True, False]),  # share reaches 0.75 exactly at rank 1
        (0.76, 0.125, [True, True, True, True]),  # rank 2; the tie at 0.125 keeps both
        (0.0, 0.5, [False, True, False, False]),  # threshold 0 keeps the top score only
        (0.5, 0.5, [False, True, False, False]),
        (1.0, 0.125, [True, True, True, True]),
    ],
)
def test_pr11_cumulative_rule(threshold: float, cut: float, kept: list[bool]) -> None:
    assert threshold_score(SCORES, threshold) == cut
    assert cumulative_mask(SCORES, threshold).tolist() == kept


def test_pr12_cumulative_ties_at_the_top_and_zero_total() -> None:
    # Sorted 0.5, 0.25, 0.25: shares 0.5, 0.75, 1.0; 0.6 -> rank 1 -> cut 0.25, tie kept.
    assert cumulative_mask(np.array([0.25, 0.25, 0.5]), 0.6).tolist() == [True, True, True]
    # All zero: every node ties at the cut.
    assert cumulative_mask(np.zeros(3), 0.8).tolist() == [True, True, True]
    assert cumulative_mask(np.zeros(0), 0.8).tolist() == []


def test_pr13_cumulative_always_keep_mask_or_indices() -> None:
    expected = [True, True, False, True]
    assert cumulative_mask(SCORES, 0.0, always_keep=np.array([0, 3])).tolist() == expected
    as_mask = np.array([True, False, False, True])
    assert cumulative_mask(SCORES, 0.0, always_keep=as_mask).tolist() == expected


def test_pr14_cumulative_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        cumulative_mask(SCORES, 1.5)
    with pytest.raises(ValueError, match="non-negative"):
        cumulative_mask(np.array([0.5, -0.1]), 0.5)
    with pytest.raises(ValueError, match="always_keep"):
        cumulative_mask(SCORES, 0.5, always_keep=np.array([True, False]))


def test_pr15_cumulative_scores() -> None:
    # Ranked 1 (0.5), 2 (0.25), 0 (0.125, first of the tie), 3: shares 0.5, 0.75, 0.875, 1.
    assert cumulative_scores(SCORES) == pytest.approx([0.875, 0.5, 0.75, 1.0], abs=TIGHT)


# -- prune ----------------------------------------------------------------------------

# 0:F0 1:F1 2:F2 (layer 1) 3:X0 (error) 4:E0 5:L0 (p 1.0)
PRUNE_KINDS = np.array([F, F, F, X, E, L], dtype=np.int8)
PRUNE_EDGES = {
    (4, 0): 1.0,  # E0 -> F0
    (4, 1): 1.0,  # E0 -> F1
    (0, 2): 6.0,  # F0 -> F2
    (1, 2): 1.0,  # F1 -> F2
    (3, 2): -1.0,  # X0 -> F2
    (2, 5): 4.0,  # F2 -> L0
    (0, 5): 3.0,  # F0 -> L0
    (4, 5): 1.0,  # E0 -> L0
}


def test_pr16_prune_drops_low_influence_nodes_then_weak_edges() -> None:
    # Full graph: L0's inputs 4 + 3 + 1 = 8 -> N = 0.5 (F2), 0.375 (F0), 0.125 (E0);
    # F2's inputs 6 + 1 + 1 = 8 -> 0.75 (F0), 0.125 (F1), 0.125 (X0); F0, F1: 1 from E0.
    # Influence: F2 0.5; F0 0.375 + 0.75*0.5 = 0.75; F1 = X0 = 0.125*0.5 = 0.0625;
    # E0 0.125 + 0.75 + 0.0625 = 0.9375; L0 0. Total 2.3125.
    # Shares (sorted E0, F0, F2, F1, X0, L0): .405, .730, .946, ... -> 0.8 cuts at F2 (0.5):
    # F1 and the error X0 go (errors are not exempt); E0 and L0 are always kept.
    # Pruned + renormalised: L0 column unchanged, N[F0,F2] = 1, N[E0,F0] = 1.
    # Influence: F2 0.5, F0 0.375 + 0.5 = 0.875, E0 0.125 + 0.875 = 1.0; w(L0) = 1.
    # Edge scores N * (influence + w) of the target:
    #   E0->F0 .875, F0->F2 .5, F2->L0 .5, F0->L0 .375, E0->L0 .125 (total 2.375)
    # Shares .368, .579, .789, .947, 1 -> 0.9 cuts at .375: only E0->L0 goes.
    a = adjacency(6, PRUNE_EDGES)
    result = prune(a, np.array([5]), np.array([1.0]), PRUNE_KINDS, node_threshold=0.8, edge_threshold=0.9)
    assert result.node_influence == pytest.approx([0.75, 0.0625, 0.5, 0.0625, 0.9375, 0.0], abs=TIGHT)
    assert result.node_mask.tolist() == [True, False, True, False, True, True]
    expected_scores = {(4, 0): 0.875, (0, 2): 0.5, (2, 5): 0.5, (0, 5): 0.375, (4, 5): 0.125}
    scores = result.edge_scores.tocoo()
    assert dict(
        zip(zip(scores.row.tolist(), scores.col.tolist(), strict=True), scores.data.tolist(), strict=True)
    ) == (pytest.approx(expected_scores, abs=TIGHT))
    kept = result.edge_mask.tocoo()
    assert sorted(zip(kept.row.tolist(), kept.col.tolist(), strict=True)) == [(0, 2), (0, 5), (2, 5), (4, 0)]
    # Cumulative scores: shares of 2.3125 in the order E0, F0, F2, F1, X0, L0.
    total = 2.3125
    assert result.cumulative_scores == pytest.approx(
        [1.6875 / total, 2.25 / total, 2.1875 / total, 2.3125 / total, 0.9375 / total, 1.0], abs=TIGHT
    )


def test_pr17_prune_removes_dead_ends_iteratively() -> None:
    # 0:F0 1:F1 2:E0 3:L0 4:L1, p = 0.5 each, all weights 1.
    # E0->F0, F0->F1, F1->L0, F1->L1, E0->L0, E0->L1. Each logit: N = 1/2 from F1 and E0.
    # Influence F1 = 2 * 0.5 * 0.5 = 0.5, F0 = 0.5, E0 = 0.25 + 0.25 + 0.5 = 1.0.
    # node_threshold 1.0 keeps all. Edge scores: E0->F0 0.5, F0->F1 0.5, the four edges into
    # logits 0.5 * 0.5 = 0.25 each; total 2, shares .25, .5, ... -> 0.5 cuts at 0.5.
    # Kept: E0->F0, F0->F1. F1 has no kept output -> dropped; then F0 loses its only
    # output -> dropped; then E0->F0 goes too. Left: E0, L0, L1 and no edges.
    a = adjacency(5, {(2, 0): 1.0, (0, 1): 1.0, (1, 3): 1.0, (1, 4): 1.0, (2, 3): 1.0, (2, 4): 1.0})
    kinds = np.array([F, F, E, L, L], dtype=np.int8)
    result = prune(a, np.array([3, 4]), np.array([0.5, 0.5]), kinds, node_threshold=1.0, edge_threshold=0.5)
    assert result.node_influence == pytest.approx([0.5, 0.5, 1.0, 0.0, 0.0], abs=TIGHT)
    assert result.node_mask.tolist() == [False, False, True, True, True]
    assert result.edge_mask.nnz == 0
    assert result.edge_mask.dtype == bool


def test_pr18_prune_keeps_everything_at_threshold_one() -> None:
    a = adjacency(6, PRUNE_EDGES)
    result = prune(a, np.array([5]), np.array([1.0]), PRUNE_KINDS, node_threshold=1.0, edge_threshold=1.0)
    assert result.node_mask.all()
    assert result.edge_mask.nnz == len(PRUNE_EDGES)


def test_pr19_prune_rejects_bad_input() -> None:
    a = adjacency(6, PRUNE_EDGES)
    with pytest.raises(ValueError, match="node_threshold"):
        prune(a, np.array([5]), np.array([1.0]), PRUNE_KINDS, node_threshold=1.2)
    with pytest.raises(ValueError, match="kinds"):
        prune(a, np.array([5]), np.array([1.0]), PRUNE_KINDS[:3])
    with pytest.raises(ValueError, match="NodeKind"):
        prune(a, np.array([5]), np.array([1.0]), np.full(6, 7, dtype=np.int8))
