"""Interactive figure: fixed trace order, node traces, overlays, hover text, scene counts."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from builders import build_tiny_store

from attribution_viewer.canvas import (
    N_BUCKETS,
    SELECTED_EDGE_EMPHASIS,
    SELECTED_EDGE_WIDENING,
    selection_layer,
)
from attribution_viewer.edges import edge_batches
from attribution_viewer.figures import (
    CLUSTER_TRACE,
    N_TRACES,
    NODE_TRACES,
    SEARCH_TRACE,
    ClusterHighlight,
    build_figure,
    build_overlays,
    hover_texts,
)
from attribution_viewer.scene import build_scene, counts_text, selected_edge_selection
from attribution_viewer.style import EDGE_COLORS, SELECTED_NODE_COLOR
from attribution_viewer.view import ViewState


def traces(fig) -> list[Any]:
    """The figure's trace objects (subscriptable: trace["marker"]["size"])."""
    return list(fig.data)


def make_overlays(store, scene, *, clusters=(), search=(), highlighted=None):
    return build_overlays(
        store,
        scene.layout,
        scene.visible,
        node_size=10,
        pinned=[],
        clusters=list(clusters),
        highlighted=highlighted,
        search=list(search),
    )


def make_figure(clusters=(), search=()):
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0, show_errors=True), None)
    fig = build_figure(
        store,
        scene.visible,
        node_size=10,
        hover=hover_texts(store),
        overlays=make_overlays(store, scene, clusters=clusters, search=search),
        layout=scene.layout,
    )
    return store, scene, fig


def test_trace_order_is_fixed() -> None:
    _, _, fig = make_figure()
    assert len(traces(fig)) == N_TRACES
    names = [traces(fig)[i]["name"] for i in NODE_TRACES]
    assert names == ["feature", "error", "embedding", "logit"]


def test_node_traces_carry_indices_and_kinds_have_glyphs() -> None:
    _, _, fig = make_figure()
    feature, error, embedding, logit = (traces(fig)[i] for i in NODE_TRACES)
    assert list(feature["customdata"]) == [0, 1]
    assert list(error["customdata"]) == [3]
    assert feature["marker"]["symbol"] == "circle"
    assert error["marker"]["symbol"] == "diamond"
    assert embedding["marker"]["symbol"] == "square" and logit["marker"]["symbol"] == "square"
    assert list(embedding["text"]) == ["a", "·b"]
    assert logit["text"][0] == "·c<br>0.60"


def decoded(text: str, dtype: str) -> list[int]:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).tolist()


def test_selection_layer_edges_and_rings_exact() -> None:
    store, scene, _ = make_figure()
    layer = selection_layer(store, scene.layout, 1, scene.edge_mask, 10)
    assert layer is not None
    # F1 (index 1): out F1->L:0 (3.0); in F0->F1 (1.0), E:1->F1 (-0.5), X:0:1->F1 (0.25).
    # Relative widths sqrt(|w| / incoming |w| of the target): 1.0, 0.756, 0.535, 0.378 ->
    # buckets 3, 3, 2, 1; batches thinnest first: X->F1 | E:1->F1 (negative) | F1->L:0, F0->F1.
    assert decoded(layer["ends"], "<u2") == [3, 1, 7, 1, 1, 8, 0, 1]
    assert [(b["color"], b["count"]) for b in layer["batches"]] == [
        (EDGE_COLORS[1], 1),
        (EDGE_COLORS[-1], 1),
        (EDGE_COLORS[1], 2),
    ]
    plain = edge_batches(
        store, scene.layout, selected_edge_selection(store, 1, scene.edge_mask), n_buckets=N_BUCKETS
    )
    assert [b["width"] for b in layer["batches"]] == [
        round(p.width * SELECTED_EDGE_WIDENING, 3) for p in plain
    ]
    assert [b["opacity"] for b in layer["batches"]] == [
        round(min(1.0, p.opacity * SELECTED_EDGE_EMPHASIS), 3) for p in plain
    ]
    assert layer["selected"] == 1
    assert decoded(layer["neighbours"], "<u2") == [0, 3, 7, 8]
    assert decoded(layer["neighbour_signs"], "i1") == [1, 1, -1, 1]
    assert layer["rings"]["selected"] == {"size": 23.0, "width": 3.5, "color": SELECTED_NODE_COLOR}
    assert layer["rings"]["neighbour"]["size"] == 15.0
    assert layer["sign_colors"]["-1"] == EDGE_COLORS[-1]


def test_selection_layer_none_when_nothing_visible_is_selected() -> None:
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0), None)  # errors hidden
    assert selection_layer(store, scene.layout, None, scene.edge_mask, 10) is None
    assert selection_layer(store, scene.layout, 2, scene.edge_mask, 10) is None  # X:0:0, hidden
    layer = selection_layer(store, scene.layout, 1, scene.edge_mask, 10)
    assert layer is not None and decoded(layer["neighbours"], "<u2") == [0, 7, 8]  # X:0:1 hidden


def test_cluster_and_search_overlays() -> None:
    _, _, fig = make_figure(clusters=[ClusterHighlight("c", "#ff0000", (0, 1))], search=[7])
    assert list(traces(fig)[CLUSTER_TRACE]["customdata"]) == [0, 1]
    assert list(traces(fig)[CLUSTER_TRACE]["marker"]["color"]) == ["#ff0000", "#ff0000"]
    assert list(traces(fig)[SEARCH_TRACE]["customdata"]) == [7]


def test_hover_text_has_kind_layer_token_and_activation() -> None:
    store = build_tiny_store()
    text = hover_texts(store, {"F:0:0:7": "my <label>"})[0]
    assert text.startswith("<b>my &lt;label&gt;</b>")
    assert "layer 0 · pos 0 'a'" in text
    assert "feature 7" in text and "activation 1.5" in text


def test_hover_title_is_the_label_else_the_description_first_line() -> None:
    store = build_tiny_store()
    long = "Lunar <phases> " + "x" * 100 + "\nsecond line"
    texts = hover_texts(store, {"F:1:1:9": "mine"}, {"F:0:0:7": long, "F:1:1:9": "tides"})
    assert texts[0].startswith("<b>Lunar &lt;phases&gt; " + "x" * 64 + "…</b><br>feature · F:0:0:7<br>")
    assert texts[1].startswith("<b>mine</b><br>tides<br>feature · F:1:1:9<br>")
    assert hover_texts(store)[1].startswith(f"<b>{store.display_labels[1]}</b><br>feature · F:1:1:9<br>")


def test_counts_text() -> None:
    store, scene, _ = make_figure()
    assert counts_text(store, scene) == "7 / 10 nodes · 6 / 6 edges"


def test_highlighted_nodes_are_ringed_when_shown() -> None:
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0), None)
    highlighted = np.zeros(store.n_nodes, dtype=bool)
    highlighted[[0, 2]] = True  # node 2 (an error) is hidden: not ringed
    overlays = make_overlays(store, scene, highlighted=highlighted)
    assert overlays.highlighted.to_plotly_json()["customdata"] == [0]


def test_changed_traces_sends_only_what_depends_on_the_input() -> None:
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0), None)
    overlays = make_overlays(store, scene, search=[1])
    assert set(overlays.changed_traces({"search"})) == {SEARCH_TRACE}
    assert set(overlays.changed_traces({"clusters"})) == {CLUSTER_TRACE}
    search = overlays.changed_traces({"search"})[SEARCH_TRACE]
    assert search["x"]["dtype"] == "f4"  # binary-encoded like a full figure
    assert set(overlays.changed_traces({"size"})) == set(range(CLUSTER_TRACE, N_TRACES))


def test_strongest_edges_cap_and_counts() -> None:
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0, show_errors=True), None, max_drawn=2)
    drawn = np.flatnonzero(scene.drawn)
    # Widths sqrt(|w| / incoming |w| of the target): E:0->F0 1.0, F1->L:0 1.0, E:1->L:1 1.0,
    # F0->F1 sqrt(1/1.75), E:1->F1 sqrt(0.5/1.75), X->F1 sqrt(0.25/1.75): ties keep CSR order.
    a = store.adjacency
    sources = np.repeat(np.arange(store.n_nodes), np.diff(a.indptr))
    assert [(store.keys[sources[e]], store.keys[a.indices[e]]) for e in drawn] == [
        ("F:1:1:9", "L:0"),
        ("E:0", "F:0:0:7"),
    ]
    assert counts_text(store, scene) == "7 / 10 nodes · 6 / 6 edges (2 drawn)"


def test_faded_edges_fill_the_room_left_by_the_strong_ones() -> None:
    store = build_tiny_store()
    a = store.adjacency
    sources = np.repeat(np.arange(store.n_nodes), np.diff(a.indptr))

    def pairs(mask: np.ndarray) -> set[tuple[str, str]]:
        return {(store.keys[sources[e]], store.keys[a.indices[e]]) for e in np.flatnonzero(mask)}

    # F:1:1:9 has three inputs (F:0:0:7 1.0, E:1 -0.5, X:0:1 0.25): one strong per target
    view = ViewState(prune_threshold=1.0, show_errors=True, edges_per_target=1)
    scene = build_scene(store, view, None)
    strong = {("E:0", "F:0:0:7"), ("F:0:0:7", "F:1:1:9"), ("F:1:1:9", "L:0"), ("E:1", "L:1")}
    assert pairs(scene.strong) == strong
    np.testing.assert_array_equal(scene.drawn, scene.edge_mask)  # the other two drawn faded
    assert counts_text(store, scene) == "7 / 10 nodes · 6 / 6 edges (4 strong)"
    # room for 5: the 4 strong ones and the widest other one, E:1 -> F:1:1:9 (sqrt(0.5/1.75))
    capped = build_scene(store, view, None, max_drawn=5)
    assert pairs(capped.strong) == strong
    assert pairs(capped.drawn) == strong | {("E:1", "F:1:1:9")}
    assert counts_text(store, capped) == "7 / 10 nodes · 6 / 6 edges (4 strong, 5 drawn)"
    # room for 3: the 3 widest strong ones, nothing faded
    assert pairs(build_scene(store, view, None, max_drawn=3).drawn) == strong - {("F:0:0:7", "F:1:1:9")}
    hidden = build_scene(
        store, ViewState(prune_threshold=1.0, show_errors=True, edges_per_target=1, faded_edges=False), None
    )
    np.testing.assert_array_equal(hidden.drawn, hidden.strong)
    assert counts_text(store, hidden) == "7 / 10 nodes · 6 / 6 edges (4 drawn)"
