"""Names of highlighted clusters beside their members in the main graph (codes CLB*)."""

from __future__ import annotations

import numpy as np
import pytest
from test_clustering_core import two_circuits

from attribution_viewer.clustering.labels import (
    MAX_NAME_CHARS,
    NamedGroup,
    cluster_name_annotations,
    readable_color,
)
from attribution_viewer.figures import ClusterHighlight, cluster_names
from attribution_viewer.layout import compute_layout


def place(*groups: NamedGroup, obstacles: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict]:
    # 10 px per unit both ways, font 10: a 3-letter name is 3 * 6 + 8 = 26 px wide, 17 px high
    return cluster_name_annotations(
        groups,
        x_range=(0, 10),
        y_range=(0, 10),
        plot_px=(100, 100),
        font_size=10,
        marker_px=10,
        obstacles=obstacles,
    )


def test_clb1_right_of_the_box_then_the_next_free_spot() -> None:
    a = NamedGroup("abc", "#ff0000", np.array([2.0]), np.array([5.0]))
    # a's box spans 15..25 x 45..55 px: its name right of it, top-aligned: 31..57 x 38..55
    (only,) = place(a)
    assert (only["x"], only["y"]) == (3.1, 4.65)
    assert only["font"]["color"] == "#ff0000" and only["bordercolor"] == "#ff0000"
    # b sits just above a: right of it collides with a's name, left leaves the plot, above is free
    b = NamedGroup("xyz", "#0000ff", np.array([2.0]), np.array([5.5]))
    first, second = place(a, b)
    assert first == only
    assert (second["x"], second["y"]) == pytest.approx((0.7, 7.45))


def test_clb2_long_names_cut_full_name_on_hover_and_empty_groups_skipped() -> None:
    long = "<b>" + "n" * 40
    (note,) = place(
        NamedGroup(long, "#00ff00", np.array([1.0]), np.array([1.0])),
        NamedGroup("e", "#000", np.zeros(0), np.zeros(0)),
    )
    assert note["text"] == "&lt;b&gt;" + "n" * (MAX_NAME_CHARS - 4) + "…"
    assert note["hovertext"] == "&lt;b&gt;" + "n" * 40


def test_clb3_main_figure_names_only_visible_members() -> None:
    store = two_circuits()
    visible = np.ones(store.n_nodes, dtype=bool)
    layout = compute_layout(store, visible)
    clusters = [
        ClusterHighlight("left", "#111111", (0, 1, 2, 3)),
        ClusterHighlight("right", "#222222", (4, 5)),
    ]
    notes = cluster_names(layout, visible, clusters)
    assert [n["text"] for n in notes] == ["left", "right"]
    visible[[4, 5]] = False
    assert [n["text"] for n in cluster_names(layout, visible, clusters)] == ["left"]


def test_clb4_light_colours_darkened_for_text() -> None:
    assert readable_color("#e6194b") == "#e6194b"  # dark enough: unchanged
    # white has luminance 1: scaled to 0.55 -> 0.55 * 255 = 140.25 -> 8c
    assert readable_color("#ffffff") == "#8c8c8c"
    assert readable_color("rgb(1,2,3)") == "rgb(1,2,3)"


def test_clb5_names_avoid_other_markers() -> None:
    a = NamedGroup("abc", "#ff0000", np.array([2.0]), np.array([5.0]))
    # a node at (4, 5) = 35..45 x 45..55 px lies under the first spot (31..57 x 38..55);
    # the left spot leaves the plot; above a's box (7..33 x 61..78 px) is free
    (note,) = place(a, obstacles=(np.array([2.0, 4.0]), np.array([5.0, 5.0])))
    assert (note["x"], note["y"]) == pytest.approx((0.7, 6.95))
    # no free spot: a dense block from x = 4.5 on (under every spot right of a), one node
    # above a's box and one below it: the first spot covering the fewest (one) wins, above
    xs, ys = np.meshgrid(np.arange(4.5, 10.5, 0.5), np.arange(0.0, 10.5, 0.5))
    (crowded,) = place(a, obstacles=(np.r_[xs.ravel(), 2.0, 2.0, 2.0], np.r_[ys.ravel(), 5.0, 7.0, 3.0]))
    assert (crowded["x"], crowded["y"]) == pytest.approx((0.7, 6.95))
