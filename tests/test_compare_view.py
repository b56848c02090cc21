"""Compare view helpers: a feature's nodes and its strongest shown node, table rows, row ids,
the picker's size text, the screen figure's shared markers and twin rings (exact values on
synthetic graphs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from attribution_viewer.app.compare_view import SCREEN, clicked_feature, parse_feature, table_rows
from attribution_viewer.app.picker import size_text
from attribution_viewer.compare import compare_graphs
from attribution_viewer.export.compare_figure import (
    SHARED_NAME,
    TWIN_NAME,
    ComparePanel,
    build_compare_screen_figure,
    panel_shown,
    print_view_of,
    ring_feature,
)
from attribution_viewer.influence import influence
from attribution_viewer.model import NodeKind
from attribution_viewer.testing.synthetic import make_synthetic_graph


def pair() -> tuple:
    graphs = [
        make_synthetic_graph(n_layers=4, n_tokens=5, n_features=60, n_edges=1000, d_transcoder=20, seed=s)
        for s in (0, 1)
    ]
    return graphs[0], graphs[1], compare_graphs(graphs[0], graphs[1])


def test_cv1_feature_nodes_and_strongest_node() -> None:
    left, right, comparison = pair()
    multi = next(r for r in comparison.rows if r.status == "shared" and r.left_nodes > 1)
    fid = (multi.layer, multi.feature_idx)
    nodes = comparison.feature_nodes("left", fid)
    span = left.kind_slices[NodeKind.FEATURE]
    expected = [
        i for i in range(span.start, span.stop) if (left.nodes.layer[i], left.nodes.feature_idx[i]) == fid
    ]
    assert nodes.tolist() == expected and len(expected) == multi.left_nodes
    best = expected[int(np.argmax(influence(left)[expected]))]
    assert comparison.strongest_node("left", left, fid) == best
    shown = np.ones(left.n_nodes, dtype=bool)
    shown[best] = False  # not drawn: the next strongest
    rest = [i for i in expected if i != best]
    assert comparison.strongest_node("left", left, fid, shown) == rest[int(np.argmax(influence(left)[rest]))]
    shown[expected] = False
    assert comparison.strongest_node("left", left, fid, shown) is None
    only_left = next(r for r in comparison.rows if r.status == "left")
    assert comparison.feature_nodes("right", (only_left.layer, only_left.feature_idx)).size == 0
    assert comparison.strongest_node("right", right, (only_left.layer, only_left.feature_idx)) is None


def test_cv2_table_rows_and_ids() -> None:
    _, _, comparison = pair()
    rows = table_rows(comparison)
    assert len(rows) == sum(comparison.counts)
    statuses = [r["status"] for r in rows]
    assert statuses.count("both") == comparison.counts.shared
    assert statuses.count("only here") == comparison.counts.only_left
    assert statuses.count("only there") == comparison.counts.only_right
    first = comparison.rows[0]
    assert rows[0]["id"] == f"{first.layer}/{first.feature_idx}"
    assert parse_feature(rows[0]["id"]) == (first.layer, first.feature_idx)
    assert parse_feature("3/x") is None and parse_feature(None) is None and parse_feature("7") is None


def test_cv3_size_text() -> None:
    assert [size_text(n) for n in (0, 999, 1000, 4200, 31_000_000, 2_500_000_000)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "4.2 kB",
        "31.0 MB",
        "2.5 GB",
    ]


def screen_figure() -> tuple:
    """The compare view's figure of :func:`pair`: (comparison, the two panels, figure)."""
    left, right, comparison = pair()
    halves = []
    for title, store in (("a", left), ("b", right)):
        layout, view = print_view_of(store, None, False)
        halves.append(ComparePanel(store, layout, view, title))
    return comparison, halves, build_compare_screen_figure(halves[0], halves[1], comparison, SCREEN)


def test_cv4_screen_figure_shared_markers_carry_their_feature() -> None:
    comparison, halves, figure = screen_figure()
    traces: list[Any] = list(figure.data)
    assert figure.layout.hovermode == "closest" and figure.layout.clickmode == "event"
    for side, panel, axis in (("left", halves[0], "x"), ("right", halves[1], "x2")):
        shared = comparison.shared_nodes(side)
        drawn = shared[panel_shown(panel)[shared]]
        assert 0 < drawn.size < shared.size + 1
        (marks,) = [t for t in traces if t.name == SHARED_NAME and t.xaxis == axis]
        keys = [f"{panel.store.nodes.layer[i]}/{panel.store.nodes.feature_idx[i]}" for i in drawn]
        assert list(marks.customdata) == keys and marks.hoverinfo == "text"
        assert marks.hovertext[0] == "L" + keys[0].replace("/", " / ") + ": in both graphs"
        (twin,) = [t for t in traces if t.name == TWIN_NAME and t.xaxis == axis]
        assert len(twin.x) == 0 and twin.showlegend is False
    # Every key of the left half's markers is a feature drawn in the right half too, or pruned there.
    assert {r["id"] for r in table_rows(comparison) if r["status"] == "both"} >= set(
        next(t for t in traces if t.name == SHARED_NAME and t.xaxis == "x").customdata
    )
    click = {"points": [{"curveNumber": 3, "customdata": keys[0]}]}
    assert clicked_feature(click) == parse_feature(keys[0]) and clicked_feature(None) is None
    assert clicked_feature({"points": [{"customdata": 12}]}) is None


def test_cv5_a_selected_feature_is_ringed_in_both_halves() -> None:
    _, _, figure = screen_figure()
    traces: list[Any] = list(figure.data)
    marks = {t.xaxis: t for t in traces if t.name == SHARED_NAME}
    key = next(k for k in marks["x"].customdata if k in set(marks["x2"].customdata))
    expected = {
        axis: [(float(m.x[i]), float(m.y[i])) for i, k in enumerate(m.customdata) if k == key]
        for axis, m in marks.items()
    }
    assert ring_feature(figure, key) == len(expected["x"]) + len(expected["x2"])
    rings = {t.xaxis: list(zip(t.x, t.y, strict=True)) for t in traces if t.name == TWIN_NAME}
    assert rings == expected and rings["x"] and rings["x2"]
    assert ring_feature(figure, "99/99999") == 0  # no such feature: the rings are emptied
    assert all(len(t.x) == 0 for t in traces if t.name == TWIN_NAME)
