"""Edge widths and batched polylines: exact values on the tiny graph (ED-*)."""

from __future__ import annotations

import base64
import time

import numpy as np
import scipy.sparse as sp
from builders import build_tiny_store
from test_layout import tiny_store

from attribution_viewer.canvas import base_edge_layer, encode_edge_layer
from attribution_viewer.edges import (
    MASK_WIDTH,
    EdgeBatch,
    edge_batches,
    edge_sources,
    edge_widths,
    selected_edges,
)
from attribution_viewer.layout import GraphLayout, compute_layout
from attribution_viewer.model import GraphStore, LogitInfo, NodeTable
from attribution_viewer.scene import strongest_inputs

NAN = np.nan


def test_ed1_sources_follow_csr_order() -> None:
    # CSR order: rows 1, 2, 3, 5, 6 -> edges (1,2) (2,9) (3,2) (5,9) (6,3)
    np.testing.assert_array_equal(edge_sources(tiny_store()), [1, 2, 3, 5, 6])


def test_ed2_widths_normalised_per_target() -> None:
    # target 2 gets |-1| and |3| (sum 4); target 9 gets |2| and |-2|; target 3 only 0.5.
    expected = np.sqrt([0.25, 0.5, 0.75, 0.5, 1.0])
    np.testing.assert_allclose(edge_widths(tiny_store()), expected, rtol=1e-12)


def test_ed3_mask_graph_uniform() -> None:
    np.testing.assert_array_equal(edge_widths(tiny_store(weighted=False)), np.full(5, MASK_WIDTH))


def test_ed4_batches_exact() -> None:
    store = tiny_store()
    layout = compute_layout(store)
    batches = edge_batches(
        store, layout, n_buckets=4, min_width=1.0, max_width=5.0, min_opacity=0.0, max_opacity=1.0
    )
    assert [(b.sign, b.bucket, b.width, b.opacity) for b in batches] == [
        (-1, 2, 4.0, 0.75),
        (1, 2, 4.0, 0.75),
        (1, 3, 5.0, 1.0),
    ]
    neg, pos_mid, pos_top = batches
    np.testing.assert_array_equal(neg.edges, [0, 3])
    np.testing.assert_array_equal(neg.x, [1.5, 10.0, NAN, 11.0, 10.0, NAN])
    np.testing.assert_array_equal(neg.y, [1.0, 2.0, NAN, 2.0, 3.0, NAN])
    np.testing.assert_array_equal(pos_mid.edges, [1])
    np.testing.assert_array_equal(pos_mid.x, [10.0, 10.0, NAN])
    np.testing.assert_array_equal(pos_top.edges, [2, 4])
    np.testing.assert_array_equal(pos_top.x, [0.5, 10.0, NAN, 2.0, 0.5, NAN])
    np.testing.assert_array_equal(pos_top.y, [1.0, 2.0, NAN, 0.0, 1.0, NAN])
    np.testing.assert_array_equal(neg.src, [1, 5])
    np.testing.assert_array_equal(neg.tgt, [2, 9])


def decoded(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def test_ed4b_canvas_layer_encoding_exact() -> None:
    store = tiny_store()
    layout = compute_layout(store)
    batches = edge_batches(
        store, layout, n_buckets=4, min_width=1.0, max_width=5.0, min_opacity=0.0, max_opacity=1.0
    )
    data = encode_edge_layer(layout, batches, {-1: "neg", 0: "mask", 1: "pos"}, opacity_factor=0.5)
    assert data["index_bytes"] == 2
    # (source, target) pairs batch after batch: (1,2) (5,9) | (2,9) | (3,2) (6,3)
    np.testing.assert_array_equal(decoded(data["ends"], "<u2"), [1, 2, 5, 9, 2, 9, 3, 2, 6, 3])
    assert data["batches"] == [
        {"color": "neg", "width": 4.0, "opacity": 0.375, "count": 2, "faded": False, "max_opacity": 0.375},
        {"color": "pos", "width": 4.0, "opacity": 0.375, "count": 1, "faded": False, "max_opacity": 0.375},
        {"color": "pos", "width": 5.0, "opacity": 0.5, "count": 2, "faded": False, "max_opacity": 0.5},
    ]
    np.testing.assert_array_equal(decoded(data["x"], "<f4"), layout.x)
    np.testing.assert_array_equal(decoded(data["y"], "<f4"), layout.y)
    hidden = compute_layout(store, np.arange(11) != 4)  # node 4 hidden: NaN position
    assert np.isnan(decoded(encode_edge_layer(hidden, [], {})["x"], "<f4")[4])
    assert encode_edge_layer(hidden, [], {})["ends"] == ""


def test_ed4d_base_layer_strong_edges_over_faded_ones() -> None:
    # Weights -1, 2, 3, -2, 0.5 on (1,2) (2,9) (3,2) (5,9) (6,3); the strongest input of each
    # target (ties: the lower edge index) is strong: edges 1, 2, 4; edges 0 and 3 (both
    # negative) are faded: one batch, drawn first.
    store = tiny_store()
    layout = compute_layout(store)
    everything = np.ones(5, dtype=bool)
    strong = strongest_inputs(store, everything, 1)
    np.testing.assert_array_equal(strong, [False, True, True, False, True])
    data = base_edge_layer(store, layout, everything, strong)
    np.testing.assert_array_equal(decoded(data["ends"], "<u2"), [1, 2, 5, 9, 2, 9, 3, 2, 6, 3])
    # strong widths sqrt(2/4) -> bucket 2 of 4: 0.4 + 3.1 * 3/4 px, opacity 0.15 + 0.65 * 3/4;
    # sqrt(3/4) and 1.0 -> bucket 3: 3.5 px, opacity 0.8 (style.EDGE_* ranges, factor 1)
    assert data["batches"] == [
        {"color": "#762a83", "width": 0.6, "opacity": 0.03, "count": 2, "faded": True, "max_opacity": 0.3},
        {
            "color": "#1b7837",
            "width": 2.725,
            "opacity": 0.638,
            "count": 1,
            "faded": False,
            "max_opacity": 0.638,
        },
        {"color": "#1b7837", "width": 3.5, "opacity": 0.8, "count": 2, "faded": False, "max_opacity": 0.8},
    ]
    only_strong = base_edge_layer(store, layout, strong, strong)
    assert [b["faded"] for b in only_strong["batches"]] == [False, False]
    np.testing.assert_array_equal(decoded(only_strong["ends"], "<u2"), [2, 9, 3, 2, 6, 3])


def test_ed5_selection_and_hidden_endpoints() -> None:
    store = tiny_store()
    visible = np.ones(11, bool)
    visible[5] = False  # drops edge (5, 9)
    layout = compute_layout(store, visible)
    mask = np.array([True, False, True, True, False])
    batches = edge_batches(store, layout, mask, n_buckets=1)
    assert [(b.sign, b.bucket, b.edges.tolist()) for b in batches] == [(-1, 0, [0]), (1, 0, [2])]
    by_index = edge_batches(store, layout, np.array([3, 4]), n_buckets=1)
    assert [b.edges.tolist() for b in by_index] == [[4]]
    np.testing.assert_array_equal(selected_edges(store, None), np.arange(5))


def test_ed6_mask_graph_sign_zero() -> None:
    store = tiny_store(weighted=False)
    batches = edge_batches(store, compute_layout(store), n_buckets=4)
    assert [(b.sign, b.bucket, b.edges.size) for b in batches] == [(0, 0, 5)]


def test_ed7_rounding_and_speed_200k_edges() -> None:
    rng = np.random.default_rng(1)
    n_feat, n_pos = 5000, 10
    n = n_feat + n_pos + 1
    kinds = np.concatenate([np.zeros(n_feat), np.full(n_pos, 2), [3]]).astype(int)
    layers = np.concatenate([np.sort(rng.integers(0, 6, n_feat)), np.full(n_pos, -1), [6]])
    pos = np.concatenate([rng.integers(0, n_pos, n_feat), np.arange(n_pos), [n_pos - 1]])
    src = rng.integers(0, n, 200_000)
    tgt = rng.integers(0, n, 200_000)
    adjacency = sp.csr_matrix((rng.normal(size=200_000).astype(np.float32), (src, tgt)), shape=(n, n))
    store = GraphStore(
        nodes=NodeTable.build(kind=kinds, layer=layers, pos=pos),
        adjacency=adjacency,
        weighted=True,
        n_layers=6,
        prompt_tokens=tuple("abcdefghij"),
        logits=(LogitInfo("x", 1, 1.0, True),),
    )
    layout = compute_layout(store)
    edge_batches(store, layout)  # warm-up
    start = time.perf_counter()
    batches = edge_batches(store, layout)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.2
    assert sum(b.edges.size for b in batches) == adjacency.nnz
    coords = np.concatenate([b.x for b in batches])
    finite = coords[~np.isnan(coords)]
    np.testing.assert_array_equal(finite, np.round(finite, 1))


def test_ed4c_canvas_layer_wide_indices_above_65535_nodes() -> None:
    n = 70_000
    layout = GraphLayout(
        x=np.zeros(n), y=np.ones(n), column_left=np.zeros(1), column_right=np.ones(1),
        column_center=np.zeros(1), layer_ticks=np.zeros(1), layer_tick_labels=("Emb",),
    )  # fmt: skip
    batch = EdgeBatch(
        1, 0, 1.0, 1.0, np.array([0]), np.array([3]), np.array([69_999]), np.zeros(3), np.zeros(3)
    )
    data = encode_edge_layer(layout, [batch], {1: "pos"})
    assert data["index_bytes"] == 4
    np.testing.assert_array_equal(decoded(data["ends"], "<u4"), [3, 69_999])


def test_strongest_inputs_keep_the_k_largest_per_target() -> None:
    store = build_tiny_store()
    everything = np.ones(store.adjacency.nnz, dtype=bool)
    sources, targets = edge_sources(store), store.adjacency.indices
    kept = strongest_inputs(store, everything, 1)
    pairs = {(store.keys[int(sources[e])], store.keys[int(targets[e])]) for e in np.flatnonzero(kept)}
    # F:1:1:9 has three inputs (F:0:0:7 1.0, E:1 -0.5, X:0:1 0.25): only the strongest stays
    assert pairs == {("E:0", "F:0:0:7"), ("F:0:0:7", "F:1:1:9"), ("F:1:1:9", "L:0"), ("E:1", "L:1")}
    assert int(strongest_inputs(store, everything, 2).sum()) == 5
    assert strongest_inputs(store, everything, 0) is everything
    assert strongest_inputs(store, everything, 3).all()
