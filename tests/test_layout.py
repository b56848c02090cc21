"""Layout of the graph view: exact positions on a tiny hand-built graph (LY-*)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from builders import build_tiny_store

from attribution_viewer.layout import compute_layout, layer_tick_labels, widen_columns
from attribution_viewer.model import GraphStore, LogitInfo, NodeKind, NodeTable

F, X, E, L = NodeKind.FEATURE, NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.LOGIT

# index:         0    1    2    3    4    5    6    7    8    9   10
TINY_KIND = [F, F, F, F, X, X, E, E, E, L, L]
TINY_LAYER = [0, 0, 1, 0, 0, 1, -1, -1, -1, 2, 2]
TINY_POS = [0, 0, 2, 0, 0, 2, 0, 1, 2, 2, 2]
TINY_FEAT = [5, 7, 3, 1, -1, -1, -1, -1, -1, -1, -1]
TINY_TOKEN = [-1] * 9 + [10, 11]
TINY_INFL = [0.5, 0.9, 0.2, -0.9, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]
# (source, target, weight), adjacency[source, target]
TINY_EDGES = [(3, 2, 3.0), (1, 2, -1.0), (2, 9, 2.0), (5, 9, -2.0), (6, 3, 0.5)]


def tiny_nodes(feature_idx: list[int]) -> NodeTable:
    """The tiny graph's nodes, with the given feature indices."""
    return NodeTable.build(
        kind=TINY_KIND,
        layer=TINY_LAYER,
        pos=TINY_POS,
        feature_idx=feature_idx,
        token_id=TINY_TOKEN,
        influence=TINY_INFL,
    )


def tiny_store(*, weighted: bool = True) -> GraphStore:
    """2 layers, prompt 'a b c', 4 features, 2 errors, 3 embeddings, 2 logits, 5 edges."""
    nodes = tiny_nodes(TINY_FEAT)
    src, tgt, w = zip(*TINY_EDGES, strict=True)
    data = np.asarray(w, np.float32) if weighted else np.ones(len(w), np.float32)
    adjacency = sp.csr_matrix((data, (src, tgt)), shape=(11, 11))
    logits = (LogitInfo(" d", 10, 0.6, True), LogitInfo(" e", 11, 0.3, False))
    return GraphStore(
        nodes=nodes,
        adjacency=adjacency,
        weighted=weighted,
        n_layers=2,
        prompt_tokens=("a", " b", " c"),
        logits=logits,
    )


def test_ly1_all_visible_exact_positions() -> None:
    layout = compute_layout(tiny_store())
    # pos 0 busiest cell (layer 0): F:0:0:1 (|0.9|, idx 1), F:0:0:7 (0.9, idx 7), F:0:0:5, error last.
    expected_x = [2.5, 1.5, 10.0, 0.5, 3.5, 11.0, 2.0, 6.5, 10.5, 10.0, 11.0]
    expected_y = [1, 1, 2, 1, 1, 2, 0, 0, 0, 3, 3]
    np.testing.assert_array_equal(layout.x, expected_x)
    np.testing.assert_array_equal(layout.y, expected_y)
    np.testing.assert_array_equal(layout.column_left, [0, 5, 9])
    np.testing.assert_array_equal(layout.column_right, [4, 8, 12])
    np.testing.assert_array_equal(layout.column_center, [2, 6.5, 10.5])
    np.testing.assert_array_equal(layout.layer_ticks, [0, 1, 2, 3])
    assert layout.layer_tick_labels == ("Emb", "L0", "L1", "Logit")
    assert layout.width == 12.0


def test_ly2_hidden_nodes_are_nan_and_columns_shrink() -> None:
    visible = np.ones(11, bool)
    visible[[0, 4]] = False
    layout = compute_layout(tiny_store(), visible)
    assert np.isnan(layout.x[[0, 4]]).all() and np.isnan(layout.y[[0, 4]]).all()
    # pos 0 now holds 2 features -> minimum width 3.
    np.testing.assert_array_equal(layout.column_left, [0, 4, 8])
    np.testing.assert_array_equal(layout.x[[3, 1, 6]], [1.0, 2.0, 1.5])


def test_ly3_custom_score_and_min_width() -> None:
    score = np.zeros(11)
    score[0] = 5.0  # F:0:0:5 first, then ties broken by feature index (1, 7)
    layout = compute_layout(tiny_store(), score=score, min_column_width=1.0)
    np.testing.assert_array_equal(layout.x[[0, 3, 1, 4]], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(layout.column_left, [0, 5, 7])
    np.testing.assert_array_equal(layout.column_right, [4, 6, 9])


def test_ly4_rejects_wrong_mask_shape() -> None:
    with pytest.raises(ValueError, match="expected \\(11,\\)"):
        compute_layout(tiny_store(), np.ones(3, bool))


def test_ly5_labels() -> None:
    assert layer_tick_labels(0) == ("Emb", "Logit")
    assert layer_tick_labels(3) == ("Emb", "L0", "L1", "L2", "Logit")


def test_ly6_no_overlap_and_fast_on_10k_nodes() -> None:
    rng = np.random.default_rng(0)
    n_feat, n_layers, n_pos = 10_000, 12, 20
    layer = np.sort(rng.integers(0, n_layers, n_feat))
    pos = rng.integers(0, n_pos, n_feat)
    kinds = np.concatenate([np.zeros(n_feat), np.full(n_pos, 2), [3]]).astype(int)
    layers = np.concatenate([layer, np.full(n_pos, -1), [n_layers]])
    poss = np.concatenate([pos, np.arange(n_pos), [n_pos - 1]])
    nodes = NodeTable.build(
        kind=kinds,
        layer=layers,
        pos=poss,
        feature_idx=np.concatenate([np.arange(n_feat), -np.ones(n_pos + 1)]),
    )
    n = len(nodes)
    store = GraphStore(
        nodes=nodes,
        adjacency=sp.csr_matrix((n, n), dtype=np.float32),
        weighted=True,
        n_layers=n_layers,
        prompt_tokens=tuple(f"t{i}" for i in range(n_pos)),
        logits=(LogitInfo("x", 1, 1.0, True),),
    )
    compute_layout(store)  # warm-up
    start = time.perf_counter()
    layout = compute_layout(store)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1
    points = set(zip(layout.x.tolist(), layout.y.tolist(), strict=True))
    assert len(points) == n  # no two nodes share a spot
    inside = (layout.x >= layout.column_left[poss]) & (layout.x <= layout.column_right[poss])
    assert inside.all()


def test_ly7_widen_columns_keeps_offsets() -> None:
    store = tiny_store()
    layout = widen_columns(compute_layout(store), store.nodes.pos, np.array([1.0, 5.0, 3.0]))
    np.testing.assert_array_equal(layout.column_left, [0, 5, 11])
    np.testing.assert_array_equal(layout.column_right, [4, 10, 14])
    np.testing.assert_array_equal(layout.column_center, [2, 7.5, 12.5])
    np.testing.assert_array_equal(layout.x, [2.5, 1.5, 12.0, 0.5, 3.5, 13.0, 2.0, 7.5, 12.5, 12.0, 13.0])
    assert layout.width == 14.0


def test_ly_logit_spacing_spreads_the_top_row() -> None:
    """Logits sit logit_spacing slots apart, centred on the last column, which widens to fit."""
    store = build_tiny_store()
    layout = compute_layout(store, logit_spacing=3.0)
    logits = store.kind_slices[NodeKind.LOGIT]
    xs = layout.x[logits]
    assert xs[1] - xs[0] == 3.0
    # Two logits span 3 slots + 1: the last column is max(4, min width 3) = 4 wide.
    assert layout.column_right[1] - layout.column_left[1] == 4.0
    assert (xs[0] + xs[1]) / 2 == layout.column_center[1]


def test_ly_wrap_crowded_cell_onto_lines_and_grow_its_row() -> None:
    """Layer 0 / pos 0 holds 3 features and 1 error: with max_per_line=2 it wraps onto 2
    lines, its column stays at the minimum width, and row 1 (layer 0) is 1.5 rows tall."""
    layout = compute_layout(tiny_store(), max_per_line=2)
    # Cell order as in LY1: F idx 3, F idx 1, F idx 0, then the error (2 per line).
    assert layout.column_left.tolist() == [0.0, 4.0, 8.0]
    assert layout.column_right.tolist() == [3.0, 7.0, 11.0]
    assert layout.layer_ticks.tolist() == [0.0, 1.25, 2.5, 3.5]
    assert layout.x[[3, 1, 0, 4]].tolist() == [1.0, 2.0, 1.0, 2.0]
    assert layout.y[[3, 1, 0, 4]].tolist() == [1.0, 1.0, 1.5, 1.5]
    # Nodes of other rows sit on their row's centre.
    assert layout.y[[6, 2, 9]].tolist() == [0.0, 2.5, 3.5]
