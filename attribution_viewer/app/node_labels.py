"""The "labels" toggle's labels on the graph: placed on the server, drawn by the browser.

The placement is :func:`attribution_viewer.labels.place_in_frame`, the same as the print
figure's. The browser (``assets/labels.js``) owns when to ask: while the toggle is on it
writes the plot's frame (axis ranges and plot size in px) into ``label-frame`` after a
zoom, pan, resize, new figure or new selection (debounced), and the one callback here
answers with ``label-layer``: the labels that fit, each as its node's data coordinates and
its box relative to the node in px. ``labels.js`` draws them as an HTML overlay above the
plot (``pointer-events: none``), moves them with the nodes while the user drags, and hides
them when the toggle is off. With the toggle off nothing is requested: a click costs no
extra request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import ClientsideFunction, Dash, Input, Output, State, dcc

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls, view_dependencies
from attribution_viewer.app.failsafe import guard
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.labels import (
    LABELLED_KINDS,
    LINE_HEIGHT,
    Box,
    Frame,
    PlacedLabel,
    Side,
    label_texts,
    place_in_frame,
    side_box,
    text_width,
)
from attribution_viewer.markers import node_marker_size
from attribution_viewer.model import GraphStore, NodeKind, visible_token
from attribution_viewer.view import ViewState

FONT_SIZE = 11.0  # px, the size of the figure's token texts (markers.marker_trace)
MAX_CHARS = 28  # longer labels are cut with an ellipsis


def layout() -> list[dcc.Store]:
    """The frame the browser asks for and the labels placed in it."""
    return [dcc.Store(id=ids.LABEL_FRAME), dcc.Store(id=ids.LABEL_LAYER)]


def parse_frame(data: Any) -> Frame:
    """``label-frame``'s data (``{"x": [x0, x1], "y": [y0, y1], "w": px, "h": px}``) as a
    :class:`Frame`; ``ValueError`` when malformed."""
    if not isinstance(data, dict):
        raise ValueError("label-frame: expected an object")
    try:
        x0, x1 = (float(v) for v in data["x"])
        y0, y1 = (float(v) for v in data["y"])
        width, height = float(data["w"]), float(data["h"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"label-frame: expected x, y (two numbers each), w and h: {exc}") from exc
    if not all(np.isfinite([x0, x1, y0, y1, width, height])):
        raise ValueError("label-frame: numbers must be finite")
    return Frame((x0, x1), (y0, y1), width, height)


def token_text_boxes(
    store: GraphStore, px: np.ndarray, py: np.ndarray, inside: np.ndarray, node_size: float
) -> list[Box]:
    """The boxes (px) of the texts the figure writes itself: the token under each embedding
    and the token and probability above each logit (figures.node_traces)."""
    boxes: list[Box] = []
    line = FONT_SIZE * LINE_HEIGHT
    texts: tuple[tuple[NodeKind, Side, int], ...] = (
        (NodeKind.EMBEDDING, "below", 1),  # the token
        (NodeKind.LOGIT, "above", 2),  # the token and the probability
    )
    for kind, side, lines in texts:
        s = store.kind_slices[kind]
        radius = node_marker_size(kind, node_size) / 2
        for i in range(s.start, s.stop):
            if not inside[i]:
                continue
            if kind is NodeKind.EMBEDDING:
                text = visible_token(store.token_at(int(store.nodes.pos[i])))
            else:
                text = max(visible_token(store.logit_info(i).token), "0.00", key=len)
            width = text_width(text, FONT_SIZE)
            boxes.append(side_box(float(px[i]), float(py[i]), width, line * lines, radius, side))
    return boxes


def label_descriptions(app_ctx: AppContext, indices: np.ndarray) -> dict[int, str]:
    """The descriptions of the described features among ``indices``, by node index; looked
    up for the most influential first (their number is bounded by the settings)."""
    store = app_ctx.store
    by_influence = indices[np.argsort(cumulative_influence(store)[indices], kind="stable")]
    return {store.index_of[k]: v for k, v in app_ctx.descriptions_of(by_influence.tolist()).items()}


def place_view_labels(app_ctx: AppContext, controls: ViewControls, frame: Frame) -> list[PlacedLabel]:
    """The labels of the view the controls describe that fit in ``frame``: pinned and
    selected nodes always, the others by priority (:func:`~attribution_viewer.labels.label_texts`)."""
    store = app_ctx.store
    view = controls.view(ViewState())
    scene = app_ctx.scene(view)
    x, y = scene.layout.x, scene.layout.y
    inside = frame.inside(x, y, scene.visible)
    labelled = inside & np.isin(store.nodes.kind, LABELLED_KINDS)
    candidates = np.flatnonzero(labelled)
    index_of = store.index_of
    descriptions = label_descriptions(app_ctx, candidates)
    users = {index_of[k]: v for k, v in view.labels.items() if k in index_of}
    texts = label_texts(store, candidates.tolist(), users, descriptions)
    forced = [index_of[k] for k in (*view.pinned, view.selected or "") if k in index_of]
    px, py = frame.to_pixels(x, y)
    return place_in_frame(
        frame,
        x,
        y,
        inside,
        texts,
        font_size=FONT_SIZE,
        marker_size=view.node_size,
        max_chars=MAX_CHARS,
        forced=forced,
        blocked=token_text_boxes(store, px, py, inside, view.node_size),
    )


def label_layer(
    store: GraphStore, x: np.ndarray, y: np.ndarray, placed: list[PlacedLabel], frame: Frame, serial: Any
) -> dict[str, Any]:
    """``label-layer``'s data: per label ``[key, node x, node y, left, top, width, height,
    text, side]``: the node's data coordinates, the label's box in px relative to the node
    (so the browser keeps labels beside their nodes while the user drags) and its side of
    the node; ``serial`` echoes the frame's."""
    rows: list[list[Any]] = []
    for label in placed:
        node_px, node_py = frame.to_pixels(x[label.index], y[label.index])
        left, top, right, bottom = label.box
        rows.append(
            [
                store.keys[label.index],
                round(float(x[label.index]), 4),
                round(float(y[label.index]), 4),
                round(left - float(node_px), 2),
                round(top - float(node_py), 2),
                round(right - left, 2),
                round(bottom - top, 2),
                label.text,
                label.side,
            ]
        )
    return {"serial": serial, "font": FONT_SIZE, "labels": rows}


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the labels' callbacks to ``app``."""

    def place(frame: Any, view: dict[str, Any]) -> dict[str, Any]:
        parsed = parse_frame(frame)
        controls = ViewControls(**view)
        placed = place_view_labels(app_ctx, controls, parsed)
        layout = app_ctx.scene(controls.view(ViewState())).layout
        return label_layer(app_ctx.store, layout.x, layout.y, placed, parsed, frame.get("serial"))

    app.callback(
        Output(ids.LABEL_LAYER, "data"),
        inputs={"frame": Input(ids.LABEL_FRAME, "data"), "view": view_dependencies(State)},
        prevent_initial_call=True,
    )(guard(place, "place the labels", lambda m: None))
    # The toggle, a new figure or selection: labels.js asks for labels (only when on).
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "labelsWanted"),
        Input(ids.SHOW_LABELS, "value"),
        Input(ids.SELECTED, "data"),
        Input(ids.GRAPH, "figure"),
        prevent_initial_call=False,
    )
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "drawLabels"),
        Input(ids.LABEL_LAYER, "data"),
        prevent_initial_call=True,
    )
