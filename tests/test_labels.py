"""Label placement: exact spots, no overlaps, priority, forced labels, ellipsis."""

from __future__ import annotations

import itertools

import numpy as np

from attribution_viewer.labels import PAD, place_labels, shorten, text_width


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_shorten_cuts_with_an_ellipsis_and_flattens_whitespace() -> None:
    assert shorten("say  Austin\nnow", 40) == "say Austin now"
    assert shorten("capital cities of Texas", 10) == "capital c…"
    assert len(shorten("x" * 50, 12)) == 12


def test_single_label_goes_right_of_its_node_with_exact_box() -> None:
    x, y = np.array([100.0]), np.array([50.0])
    (label,) = place_labels(x, y, {0: "Texas"}, [0], font_size=10, marker_size=8, width=400, height=100)
    w = text_width("Texas", 10) + 2 * PAD
    assert label.side == "right"
    assert (label.x, label.y) == (100 + 4 + PAD, 50)
    assert label.box == (106.0, 43.75, 106.0 + w, 56.25)


def test_neighbour_on_the_right_pushes_the_label_to_the_left() -> None:
    x, y = np.array([100.0, 130.0]), np.array([50.0, 50.0])
    placed = place_labels(x, y, {0: "Texas"}, [0, 1], font_size=10, marker_size=8, width=400, height=100)
    assert [(p.index, p.side) for p in placed] == [(0, "left")]


def test_crowded_nodes_keep_the_higher_priority_label_and_never_overlap() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 600, 80), rng.uniform(0, 400, 80)
    texts = {i: f"feature {i}" for i in range(80)}
    placed = place_labels(x, y, texts, list(range(80)), font_size=11, marker_size=6, width=600, height=400)
    assert 10 < len(placed) < 80
    assert placed[0].index == 0
    for a, b in itertools.combinations(placed, 2):
        assert not overlaps(a.box, b.box)
    for p in placed:
        assert p.box[0] >= 0 and p.box[2] <= 600 and p.box[1] >= 0 and p.box[3] <= 400


def test_more_room_shows_more_labels() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, 150), rng.uniform(0, 1, 150)
    texts = {i: f"L3/{i}" for i in range(150)}
    counts = [
        len(
            place_labels(
                x * s, y * s, texts, list(range(150)), font_size=10, marker_size=6, width=s, height=s
            )
        )
        for s in (200, 800, 3200)
    ]
    assert counts[0] < counts[1] < counts[2]


def test_forced_labels_are_always_written_first() -> None:
    x, y = np.array([100.0, 104.0]), np.array([50.0, 50.0])
    texts = {0: "first", 1: "pinned"}
    placed = place_labels(x, y, texts, [0, 1], font_size=10, marker_size=8, width=400, height=100, forced=[1])
    assert placed[0].index == 1 and placed[0].side == "right"
    assert [(p.index, p.side) for p in placed] == [(1, "right"), (0, "left")]
