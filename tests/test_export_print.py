"""Print figures (pure plotly, no browser): geometry helpers with exact values, and the
graph / cluster figures built on the tiny hand-made graph (EP-*)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest
from test_layout import tiny_store

from attribution_viewer.clustering.labels import MAX_NAME_CHARS, short_label
from attribution_viewer.clustering.overview import cluster_overview
from attribution_viewer.export.cluster_figure import (
    ClusterNode,
    build_cluster_print_figure,
    cluster_figure,
    place_labelled_markers,
)
from attribution_viewer.export.print_figure import (
    PrintOptions,
    PrintView,
    build_print_figure,
    fit_columns,
    legend_geometry,
    token_label_fit,
)
from attribution_viewer.export.print_traces import FAINT_EDGE, PRINT_EDGE_OPACITY, PRINT_EDGE_WIDTH
from attribution_viewer.figures import ClusterHighlight
from attribution_viewer.layout import compute_layout
from attribution_viewer.style import EDGE_NEGATIVE_COLOR, EDGE_POSITIVE_COLOR


def test_ep1_token_labels_horizontal_when_they_fit() -> None:
    fit = token_label_fit(["ab", "c"], 40.0, 10.0)  # widths 11.6 and 5.8, plus 8 px each
    assert not fit.vertical
    np.testing.assert_allclose(fit.need_px, [19.6, 13.8])
    assert fit.height_px == 16.0
    tight = token_label_fit(["ab", "c"], 30.0, 10.0)
    assert tight.vertical
    np.testing.assert_allclose(tight.need_px, [15.0, 15.0])
    assert tight.height_px == pytest.approx(21.6)


def test_ep2_fit_columns_fixed_point() -> None:
    store = tiny_store()
    layout = compute_layout(store)  # widths 4, 3, 3 -> 12 units + 3 padding
    same = fit_columns(layout, store.nodes.pos, np.full(3, 100.0), 600.0)
    np.testing.assert_array_equal(same.column_left, layout.column_left)
    # Column 0 must span 300 px: at 1/30 unit per px it becomes 9 units (+ 1 gap).
    wide = fit_columns(layout, store.nodes.pos, np.array([300.0, 60.0, 60.0]), 600.0)
    np.testing.assert_allclose(wide.column_right - wide.column_left, [9.0, 3.0, 3.0], atol=1e-6)
    assert wide.width == pytest.approx(17.0, abs=1e-6)
    np.testing.assert_allclose(wide.x[[3, 7]], [3.0, 11.5], atol=1e-6)  # centres 4.5 and 11.5


def test_ep3_legend_geometry() -> None:
    one_row = legend_geometry(["Feature", "Logit"], 500.0, 10.0)
    assert one_row.rows == 1 and one_row.height == pytest.approx(26.5)
    narrow = legend_geometry(["Feature", "Logit"], 100.0, 10.0)
    assert narrow.rows == 2 and narrow.height == pytest.approx(47.0)
    assert legend_geometry([], 100.0, 10.0) == (0, 0.0)


def test_ep4_labelled_markers_never_overlap() -> None:
    placed = place_labelled_markers(
        np.array([50.0, 50.0, 190.0]),
        np.array([50.0, 50.0, 150.0]),
        np.full(3, 40.0),
        10.0,
        12.0,
        200.0,
        200.0,
    )
    # two markers on one spot: the second name goes left; the last one's would leave the plot
    np.testing.assert_array_equal(placed.y, [50.0, 50.0, 150.0])
    np.testing.assert_array_equal(placed.right, [True, False, False])
    # four on one spot: right, left, then one line up on the right (a name never covers a marker)
    four = place_labelled_markers(
        np.full(4, 100.0), np.full(4, 100.0), np.full(4, 40.0), 10.0, 12.0, 200.0, 200.0
    )
    np.testing.assert_array_equal(four.y, [100.0, 100.0, 112.0, 112.0])
    np.testing.assert_array_equal(four.right, [True, False, True, False])


def test_ep5_print_options_validate_and_presets() -> None:
    assert (PrintOptions.one_column().width, PrintOptions.two_column().width) == (336, 672)
    assert PrintOptions.one_column(title="T").title == "T"
    with pytest.raises(ValueError, match="at least 100"):
        PrintOptions(width=50)
    with pytest.raises(ValueError, match="font size"):
        PrintOptions(font_size=100)


def traces(fig: go.Figure) -> list[Any]:
    return list(fig.data)


def _edge_segments(fig: go.Figure) -> int:
    return sum(
        int(np.isnan(np.asarray(t.x, dtype=float)).sum())
        for t in traces(fig)
        if t.mode == "lines" and not t.name
    )


def test_ep6_graph_figure_content() -> None:
    store = tiny_store()
    layout = compute_layout(store)
    view = PrintView(
        selected=2,
        clusters=(ClusterHighlight("Cluster A", "#ff0000", (1, 3)),),
        labels={0: "my label"},
    )
    fig = build_print_figure(store, layout, view, PrintOptions(title="Tiny", show_labels=True))
    assert {t.type for t in traces(fig)} == {"scatter"}  # SVG traces only: vector PDF / SVG
    names = [t.name for t in traces(fig) if t.name]
    for expected in (
        "Feature",
        "Embedding",
        "Logit",
        "Target logit",
        "Cluster A",
        "Selected",
        "Positive edge",
    ):
        assert expected in names
    assert "Error" not in names  # errors hidden by default
    assert list(fig.layout.xaxis.ticktext) == ["a", "·b", "·c"]
    assert fig.layout.yaxis.ticktext[0] == "Emb" and fig.layout.yaxis.ticktext[-1] == "Logit"
    texts = [a.text for a in fig.layout.annotations]
    assert texts[:2] == ["·d 0.60", "·e 0.30"]  # logits: token and probability
    assert "my label" in texts
    assert fig.layout.title.text == "Tiny"
    # 4 edges avoid the hidden error node; the selected node's 3 are drawn again on top.
    assert _edge_segments(fig) == 4 + 3


def test_ep7_errors_max_edges_and_too_small() -> None:
    store = tiny_store()
    layout = compute_layout(store)
    with_errors = build_print_figure(store, layout, PrintView(show_errors=True), PrintOptions())
    assert "Error" in [t.name for t in traces(with_errors)]
    assert _edge_segments(with_errors) == 5
    capped = build_print_figure(store, layout, PrintView(show_errors=True), PrintOptions(max_edges=2))
    assert _edge_segments(capped) == 2
    with pytest.raises(ValueError, match="no room"):
        build_print_figure(store, layout, PrintView(), PrintOptions(width=150, height=100, font_size=20))


def test_ep8_cluster_weights_and_positions() -> None:
    store = tiny_store()
    clusters = [
        ClusterHighlight("A", "#111111", (1, 3)),
        ClusterHighlight("B", "#222222", (2,)),
        ClusterHighlight("C", "#333333", (9,)),
    ]
    # A -> B: 3 (3->2) - 1 (1->2); B -> C: 2 (2->9); the error's edge 5->9 is outside.
    overview = cluster_overview(store, [c.members for c in clusters])
    np.testing.assert_array_equal(overview.weights, [[0, 2, 0], [0, 0, 2], [0, 0, 0]])
    np.testing.assert_array_equal(overview.x, [0, 2, 2])
    np.testing.assert_array_equal(overview.row, [1, 2, 3])
    np.testing.assert_array_equal(overview.sizes, [2, 1, 1])
    fig = build_cluster_print_figure(store, clusters, PrintOptions())
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert [(a.ax, a.ay, a.x, a.y) for a in arrows] == [(0, 1, 2, 2), (2, 2, 2, 3)]
    assert {a.arrowcolor for a in arrows} == {EDGE_POSITIVE_COLOR}
    names = [a.text for a in fig.layout.annotations if not a.showarrow]
    assert names == ["A (2)", "B (1)", "C (1)"]
    legend = [t.name for t in traces(fig) if t.name]
    assert legend == ["Positive attribution", "Negative attribution"]
    assert EDGE_NEGATIVE_COLOR in {t.line.color for t in traces(fig) if t.name}


def test_ep12_cluster_figure_names_every_cluster_without_overlap() -> None:
    store = tiny_store()
    long = "a very long cluster name that does not fit"
    nodes = [
        ClusterNode(f"c{j}", long if j == 0 else f"cluster {j}", f"about {j}", "#111111", (1, 3), j != 2)
        for j in range(6)
    ]  # six clusters on the same spot
    options = PrintOptions(width=460, height=300, font_size=11.0)
    fig = cluster_figure(store, nodes, options, interactive=True)
    notes = [a for a in fig.layout.annotations if not a.showarrow]
    assert [a.text for a in notes] == [short_label(long) + " (2)", *(f"cluster {j} (2)" for j in range(1, 6))]
    assert short_label(long) == long[: MAX_NAME_CHARS - 1] + "…"
    assert notes[0].hovertext == f"<b>{long}</b><br>about 0"  # the full name on hover
    assert notes[2].font.color != notes[1].font.color  # not highlighted: faded
    assert list(traces(fig)[0].customdata) == [f"c{j}" for j in range(6)]
    assert fig.layout.width is None and not fig.layout.showlegend  # fills its panel
    # all six sit on one spot: the names are stacked at least a text line apart (a layer row
    # is ~55 px here, a line 11 * 1.35 px: > 0.25 rows), all on one side, none on top of another
    ys = sorted(a.y for a in notes)
    assert min(b - a for a, b in itertools.pairwise(ys)) > 0.25


def _edge_trace_styles(fig: go.Figure) -> list[tuple[float, float, int]]:
    """(width, opacity, segments) of each edge line trace, in drawing order."""
    return [
        (float(t.line.width), float(t.opacity), int(np.isnan(np.asarray(t.x, dtype=float)).sum()))
        for t in traces(fig)
        if t.mode == "lines" and not t.name
    ]


def test_ep13_edges_follow_the_page_strong_full_others_faint_or_off() -> None:
    store = tiny_store()
    layout = compute_layout(store)
    # Inputs: node 2 <- 3 (3.0), 1 (-1.0); node 9 <- 2 (2.0), error 5 (-2.0: tie, lower
    # edge index wins); node 3 <- 6 (0.5). One per target: 3->2, 2->9, 6->3 strong.
    one = PrintView(show_errors=True, edges_per_target=1)
    styles = _edge_trace_styles(build_print_figure(store, layout, one, PrintOptions()))
    faint = [s for s in styles if s[:2] == FAINT_EDGE]
    assert sum(s[2] for s in faint) == 2  # 1->2 and 5->9, thin and faint, drawn first
    assert styles[: len(faint)] == faint
    assert sum(s[2] for s in styles) == 5
    assert all(s[0] >= PRINT_EDGE_WIDTH[0] and s[1] >= PRINT_EDGE_OPACITY[0] for s in styles[len(faint) :])
    off = dataclasses.replace(one, faded_edges=False)
    styles_off = _edge_trace_styles(build_print_figure(store, layout, off, PrintOptions()))
    assert sum(s[2] for s in styles_off) == 3 and (FAINT_EDGE[0], FAINT_EDGE[1]) not in [
        s[:2] for s in styles_off
    ]
    # All inputs strong (0 = all): nothing faint; the cap keeps the strong edges first.
    every = dataclasses.replace(one, edges_per_target=0)
    assert all(
        s[:2] != FAINT_EDGE
        for s in _edge_trace_styles(build_print_figure(store, layout, every, PrintOptions()))
    )
    capped = build_print_figure(store, layout, one, PrintOptions(max_edges=3))
    assert sum(s[2] for s in _edge_trace_styles(capped)) == 3
    assert all(s[:2] != FAINT_EDGE for s in _edge_trace_styles(capped))
