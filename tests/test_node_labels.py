"""The labels toggle's server half (app/node_labels.py): the frame the browser sends, the
labels of a view placed in it, and the payload labels.js draws (NL-*)."""

from __future__ import annotations

import numpy as np
import pytest
from dash import Input, State
from test_layout import tiny_store

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls, view_dependencies
from attribution_viewer.app.node_labels import (
    FONT_SIZE,
    label_layer,
    parse_frame,
    place_view_labels,
    token_text_boxes,
)
from attribution_viewer.labels import LINE_HEIGHT, PAD, Frame, PlacedLabel, text_width
from attribution_viewer.settings import Settings
from attribution_viewer.view import ViewState


def app_context() -> AppContext:
    return AppContext(settings=Settings(autointerp_dir=None), store=tiny_store())


def test_nl1_parse_frame_and_its_errors() -> None:
    frame = parse_frame({"x": [0, 12], "y": [-1, 3], "w": 600, "h": 200, "serial": 4})
    assert frame == Frame((0.0, 12.0), (-1.0, 3.0), 600.0, 200.0)
    for bad in (None, {"x": [0], "y": [0, 1], "w": 1, "h": 1}, {"x": [0, 1], "y": [0, 1], "w": "a", "h": 1}):
        with pytest.raises(ValueError, match="label-frame"):
            parse_frame(bad)
    with pytest.raises(ValueError, match="finite"):
        parse_frame({"x": [0, float("inf")], "y": [0, 1], "w": 1, "h": 1})
    with pytest.raises(ValueError, match="plot size"):
        parse_frame({"x": [0, 1], "y": [0, 1], "w": 0, "h": 1})


def test_nl2_view_labels_codes_user_labels_and_the_selected_node() -> None:
    ctx = app_context()
    store = ctx.store
    frame = Frame((-1.5, 13.5), (-0.9, 3.9), 1500.0, 480.0)  # the figure's ranges, roomy
    controls = ViewControls(
        prune=1.0, toggles=["errors"], size=10, selected="F:0:0:7", labels={"F:1:2:3": "mine"}
    )
    placed = place_view_labels(ctx, controls, frame)
    by_key = {store.keys[p.index]: p.text for p in placed}
    assert by_key["F:1:2:3"] == "mine" and by_key["F:0:0:7"] == "L0/7"
    assert placed[0].index == store.index_of["F:0:0:7"]  # the selected node first, always
    assert not {"E:0", "L:0"} & set(by_key)  # embeddings and logits show their token already
    # a frame showing only the logits' corner: nothing to label but the selected node, if inside
    corner = Frame((9.0, 13.5), (2.5, 3.9), 300.0, 100.0)
    assert place_view_labels(ctx, controls, corner) == []


def test_nl3_token_text_boxes_exact() -> None:
    store = tiny_store()
    px, py = np.arange(11) * 100.0, np.full(11, 50.0)
    inside = np.zeros(11, bool)
    inside[[6, 9]] = True  # embedding 'a' at 600 px, logit ' d' (p 0.6) at 900 px
    boxes = token_text_boxes(store, px, py, inside, node_size=10)
    line = FONT_SIZE * LINE_HEIGHT
    w_emb, w_logit = text_width("a", FONT_SIZE), text_width("0.00", FONT_SIZE)
    r = 11.5 / 2  # embedding and logit markers are 1.15 x the node size
    assert boxes == [
        (600 - w_emb / 2, 50 + r + PAD, 600 + w_emb / 2, 50 + r + PAD + line),
        (900 - w_logit / 2, 50 - r - PAD - 2 * line, 900 + w_logit / 2, 50 - r - PAD),
    ]


def test_nl4_payload_boxes_are_relative_to_their_node() -> None:
    store = tiny_store()
    frame = Frame((0.0, 10.0), (0.0, 10.0), 100.0, 100.0)
    x, y = np.full(11, 5.0), np.full(11, 5.0)  # every node at (50, 50) px
    label = PlacedLabel(2, "Austin", 56.0, 50.0, "right", (56.0, 43.0, 90.0, 57.0))
    data = label_layer(store, x, y, [label], frame, serial=7)
    assert data == {
        "serial": 7,
        "font": FONT_SIZE,
        "labels": [["F:1:2:3", 5.0, 5.0, 6.0, -7.0, 34.0, 14.0, "Austin", "right"]],
    }


def test_nl5_the_toggle_reaches_the_view_and_the_url_but_not_the_figure() -> None:
    assert ViewControls(show_labels=["labels"]).view(ViewState()).show_labels
    assert not ViewControls(show_labels=[]).view(ViewState()).show_labels
    assert isinstance(view_dependencies()["show_labels"], Input)  # the URL follows it
    figure = view_dependencies(selected_kind=State, browser_kind=State)  # the figure does not
    assert isinstance(figure["show_labels"], State) and isinstance(figure["prune"], Input)
