"""Label placement: exact spots, no overlaps, priority, forced labels, ellipsis; label
texts and their priority; the data <-> pixel frame."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from test_layout import TINY_FEAT, tiny_nodes, tiny_store

from attribution_viewer.labels import (
    PAD,
    Frame,
    LabelTexts,
    first_line,
    label_texts,
    place_in_frame,
    place_labels,
    shorten,
    side_box,
    text_width,
)
from attribution_viewer.model import GraphStore


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


def labelled_tiny_store() -> GraphStore:
    """The tiny graph (tests/test_layout.py) with a label of its own on feature 1."""
    store = tiny_store()
    labels = ["", "Texas\nsecond line", "", "", "", "", "", "", "", "", ""]
    nodes = tiny_nodes(TINY_FEAT)
    return dataclasses.replace(
        store, nodes=dataclasses.replace(nodes, label=np.asarray(labels, dtype=object))
    )


def test_frame_maps_data_to_pixels_and_back_exactly() -> None:
    frame = Frame((0.0, 10.0), (-1.0, 3.0), 200.0, 80.0)
    px, py = frame.to_pixels(np.array([0.0, 5.0, 10.0]), np.array([3.0, 1.0, -1.0]))
    assert px.tolist() == [0.0, 100.0, 200.0] and py.tolist() == [0.0, 40.0, 80.0]
    assert frame.to_data(100.0, 40.0) == (5.0, 1.0)
    inside = frame.inside(
        np.array([5.0, 11.0, np.nan, 5.0]), np.array([1.0, 1.0, 1.0, 1.0]), np.array([1, 1, 1, 0], bool)
    )
    assert inside.tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="plot size"):
        Frame((0.0, 1.0), (0.0, 1.0), 0.0, 10.0)
    with pytest.raises(ValueError, match="axis ranges"):
        Frame((1.0, 1.0), (0.0, 1.0), 10.0, 10.0)


def test_label_texts_user_then_own_then_description_then_code_named_first() -> None:
    store = labelled_tiny_store()
    texts = label_texts(store, range(store.n_nodes), {2: "my name"}, {0: "place names\nmore", 1: "ignored"})
    # embeddings (6-8) and logits (9, 10) show their token already: no label
    assert texts.texts == {
        0: "place names",
        1: "Texas",
        2: "my name",
        3: "L0/1",
        4: "err L0",
        5: "err L1",
    }
    # named first, most influential first (cumulative influence 0.333 < 1.0 = 1.0 -> index)
    assert texts.order == [2, 0, 1, 5, 3, 4]
    assert first_line("\n  a b \nc") == "a b"


def test_blocked_boxes_and_markers_outside_the_frame() -> None:
    frame = Frame((0.0, 40.0), (0.0, 10.0), 400.0, 100.0)
    x, y = np.array([10.0, 13.0, 50.0]), np.array([5.0, 5.0, 5.0])
    texts = LabelTexts({0: "Texas", 1: "Austin", 2: "far"}, [0, 1, 2])
    inside = frame.inside(x, y, np.ones(3, bool))
    assert inside.tolist() == [True, True, False]
    placed = place_in_frame(frame, x, y, inside, texts, font_size=10, marker_size=8, forced=[2])
    # node 0 at 100 px has node 1 at 130 px on its right: it goes left; node 1 goes right;
    # node 2 is outside the frame: not labelled even though forced
    assert [(p.index, p.side) for p in placed] == [(0, "left"), (1, "right")]
    box = side_box(130.0, 50.0, 40.0, 10.0, 4.0, "right")  # a text beside node 1
    assert box == (130.0 + 4 + PAD, 45.0, 130.0 + 4 + PAD + 40.0, 55.0)
    blocked = place_in_frame(frame, x, y, inside, texts, font_size=10, marker_size=8, blocked=[box])
    assert [(p.index, p.side) for p in blocked] == [(0, "left"), (1, "above")]
