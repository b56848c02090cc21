"""Interactive figure: fixed trace order, node traces, overlays, hover text, scene counts."""

from __future__ import annotations

from typing import Any

import numpy as np
from builders import build_tiny_store

from attribution_viewer.figures import (
    CLUSTER_TRACE,
    N_TRACES,
    NEIGHBOUR_TRACE,
    NODE_TRACES,
    SEARCH_TRACE,
    SEL_EDGE_TRACES,
    SELECTED_TRACE,
    ClusterHighlight,
    build_figure,
    build_overlays,
    build_scene,
    counts_text,
    hover_texts,
)
from attribution_viewer.view import ViewState


def traces(fig) -> list[Any]:
    """The figure's trace objects (subscriptable: trace["marker"]["size"])."""
    return list(fig.data)


def make_figure(selected: int | None = None, clusters=(), search=()):
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0, show_errors=True), None)
    overlays = build_overlays(
        store,
        scene.layout,
        scene.visible,
        scene.edge_mask,
        node_size=10,
        selected=selected,
        pinned=[],
        clusters=list(clusters),
        highlighted=None,
        search=list(search),
    )
    fig = build_figure(
        store,
        scene.visible,
        node_size=10,
        hover=hover_texts(store),
        overlays=overlays,
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


def test_selection_overlay_draws_the_nodes_edges() -> None:
    _, _, fig = make_figure(selected=1)
    sel_points = sum(len(traces(fig)[i]["x"]) for i in SEL_EDGE_TRACES)
    # F1 has 4 edges (3 in, 1 out); each edge is 3 points (source, target, gap).
    assert sel_points == 12
    assert list(traces(fig)[SELECTED_TRACE]["customdata"]) == [1]
    _, _, unselected = make_figure()
    assert sum(len(traces(unselected)[i]["x"]) for i in SEL_EDGE_TRACES) == 0


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


def test_counts_text() -> None:
    store, scene, _ = make_figure()
    assert counts_text(store, scene) == "7 / 10 nodes · 6 / 6 edges"


def test_highlighted_nodes_are_ringed_when_shown() -> None:
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0), None)
    highlighted = np.zeros(store.n_nodes, dtype=bool)
    highlighted[[0, 2]] = True  # node 2 (an error) is hidden: not ringed
    overlays = build_overlays(
        store,
        scene.layout,
        scene.visible,
        scene.edge_mask,
        node_size=10,
        selected=None,
        pinned=[],
        clusters=[],
        highlighted=highlighted,
        search=[],
    )
    assert overlays.highlighted.to_plotly_json()["customdata"] == [0]


def test_changed_traces_sends_only_what_depends_on_the_input() -> None:
    store = build_tiny_store()
    scene = build_scene(store, ViewState(prune_threshold=1.0), None)
    overlays = build_overlays(
        store,
        scene.layout,
        scene.visible,
        scene.edge_mask,
        node_size=10,
        selected=1,
        pinned=[],
        clusters=[],
        highlighted=None,
        search=[],
    )
    assert set(overlays.changed_traces({"search-results"})) == {SEARCH_TRACE}
    assert set(overlays.changed_traces({"cluster-state"})) == {CLUSTER_TRACE}
    selection = overlays.changed_traces({"panel-node"})
    assert set(selection) == {*SEL_EDGE_TRACES, NEIGHBOUR_TRACE, SELECTED_TRACE}
    assert selection[SELECTED_TRACE]["x"]["dtype"] == "f4"  # binary-encoded like a full figure
    assert len(overlays.changed_traces({"node-size"})) == N_TRACES - SEL_EDGE_TRACES.start


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
    assert counts_text(store, scene) == "7 / 10 nodes · 6 / 6 edges (2 strongest drawn)"
