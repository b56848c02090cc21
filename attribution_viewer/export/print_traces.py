"""The print figure's traces and annotations: edges (batched by sign and width), node
markers per kind with their legend entries, node and logit labels (see :mod:`.print_figure`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.edges import edge_batches
from attribution_viewer.export.print_geometry import PrintView, legend_name
from attribution_viewer.labels import (
    LINE_HEIGHT,
    PAD,
    Box,
    Frame,
    label_texts,
    place_in_frame,
    side_box,
    text_width,
)
from attribution_viewer.layout import GraphLayout
from attribution_viewer.markers import KIND_SIZE, marker_trace
from attribution_viewer.model import GraphStore, NodeKind, escape_markup
from attribution_viewer.style import (
    EDGE_COLORS,
    EDGE_SIGN_LABELS,
    NODE_COLORS,
    NODE_KIND_LABELS,
    NODE_LINE_COLOR,
    NODE_SYMBOLS,
    TARGET_LOGIT_COLOR,
)

PRINT_EDGE_WIDTH = (0.25, 1.6)


PRINT_EDGE_OPACITY = (0.15, 0.75)


FADED_EDGE_FACTOR = 0.35  # opacity of the other edges while a node is selected


FAINT_EDGE = (0.3, 0.07)  # width (px) and opacity of the edges that are not strong (faint)


def _legend_line(name: str, color: str, width: float) -> go.Scatter:
    return go.Scatter(x=[None], y=[None], mode="lines", name=name, line={"color": color, "width": width})


def _edge_traces(
    store: GraphStore,
    layout: GraphLayout,
    selection: np.ndarray,
    widths: np.ndarray,
    opacity_factor: float,
    faint: bool = False,
) -> list[go.Scatter]:
    """Line traces of the ``selection`` edges: widths and opacities by relative width
    (:data:`PRINT_EDGE_WIDTH`, :data:`PRINT_EDGE_OPACITY`), or all thin and faint
    (:data:`FAINT_EDGE`) when ``faint``; opacities times ``opacity_factor``."""
    width, opacity = (
        ((FAINT_EDGE[0],) * 2, (FAINT_EDGE[1],) * 2) if faint else (PRINT_EDGE_WIDTH, PRINT_EDGE_OPACITY)
    )
    traces = []
    for batch in edge_batches(
        store,
        layout,
        selection,
        n_buckets=1 if faint else 4,
        widths=widths,
        min_width=width[0],
        max_width=width[1],
        min_opacity=opacity[0] * opacity_factor,
        max_opacity=opacity[1] * opacity_factor,
    ):
        traces.append(
            go.Scatter(
                x=batch.x,
                y=batch.y,
                mode="lines",
                line={"color": EDGE_COLORS[batch.sign], "width": round(batch.width, 2)},
                opacity=round(min(batch.opacity, 1.0), 3),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def _marker_trace(
    x: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    name: str,
    symbol: str,
    color: str | list[str],
    size: float,
    rank: int,
    line_width: float = 0.5,
) -> go.Scatter:
    line = {"width": line_width, "color": NODE_LINE_COLOR}
    return marker_trace(
        x[idx],
        y[idx],
        idx,
        name=name,
        symbol=symbol,
        color=color,
        size=round(size, 2),
        line=line,
        legend_rank=rank,
    )


def _node_traces(
    store: GraphStore, x: np.ndarray, y: np.ndarray, visible: np.ndarray, size: float
) -> list[go.Scatter]:
    """One trace per node kind (errors first, faint, so the rest draws on top), target logit apart."""
    kinds = store.nodes.kind
    traces = []
    for kind in (NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.FEATURE, NodeKind.LOGIT):
        idx = np.flatnonzero(visible & (kinds == kind))
        if kind is NodeKind.LOGIT:
            target = np.array([store.logit_info(int(i)).is_target for i in idx], dtype=bool)
            if target.any():
                traces.append(
                    _marker_trace(
                        x,
                        y,
                        idx[target],
                        "Target logit",
                        NODE_SYMBOLS[kind],
                        TARGET_LOGIT_COLOR,
                        size * 1.1,
                        5,
                    )
                )
            idx = idx[~target]
        if idx.size:
            factor = KIND_SIZE[kind]
            traces.append(
                _marker_trace(
                    x,
                    y,
                    idx,
                    NODE_KIND_LABELS[kind],
                    NODE_SYMBOLS[kind],
                    NODE_COLORS[kind],
                    size * factor,
                    int(kind) + 1,
                    0.0 if kind is NodeKind.ERROR else 0.4,
                )
            )
    return traces


def _graph_legend_entries(store: GraphStore, visible: np.ndarray, view: PrintView) -> list[str]:
    kinds = store.nodes.kind
    entries = [NODE_KIND_LABELS[NodeKind(k)] for k in np.unique(kinds[visible]).tolist()]
    entries += ["Target logit", *(legend_name(c.name) for c in view.clusters)]
    entries += ["Selected"] if view.selected is not None else []
    entries += [EDGE_SIGN_LABELS[s] for s in _signs(store)]
    return entries


PRINT_LABEL_CHARS = 24  # node labels longer than this are cut with an ellipsis


def _node_label_annotations(
    store: GraphStore,
    plot: Frame,
    x: np.ndarray,
    y: np.ndarray,
    visible: np.ndarray,
    view: PrintView,
    size: float,
    font_size: float,
    blocked: Sequence[Box],
) -> list[dict[str, Any]]:
    """Labels beside the nodes that have room in the ``plot`` area, placed as the app
    places them (:func:`attribution_viewer.labels.place_in_frame`; texts by
    :func:`~attribution_viewer.labels.label_texts`: the view's labels, the graph's own,
    descriptions, codes), the selected node always; never over each other, a marker or a
    ``blocked`` box. Each is centred in its box, on a translucent white background."""
    inside = plot.inside(x, y, visible)
    texts = label_texts(store, np.flatnonzero(inside).tolist(), view.labels, view.descriptions)
    placed = place_in_frame(
        plot,
        x,
        y,
        inside,
        texts,
        font_size=font_size,
        marker_size=size,
        max_chars=PRINT_LABEL_CHARS,
        forced=[view.selected] if view.selected is not None else [],
        blocked=blocked,
    )
    out = []
    for label in placed:
        left, top, right, bottom = label.box
        cx, cy = plot.to_data((left + right) / 2, (top + bottom) / 2)
        out.append(
            {
                "x": round(cx, 4),
                "y": round(cy, 4),
                "text": escape_markup(label.text),
                "showarrow": False,
                "xanchor": "center",
                "yanchor": "middle",
                "font": {"size": font_size},
                "bgcolor": "rgba(255,255,255,0.75)",
                "borderpad": 0,
            }
        )
    return out


def _top_label_boxes(
    plot: Frame,
    x: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    labels: Sequence[str],
    vertical: bool,
    size: float,
    font_size: float,
) -> list[Box]:
    """The boxes (px in ``plot``) of :func:`_top_annotations`' labels."""
    boxes = []
    line = font_size * LINE_HEIGHT
    for i, label in zip(idx.tolist(), labels, strict=True):
        px, py = plot.to_pixels(x[i], y[i])
        length = text_width(label, font_size)
        width, height = (line, length) if vertical else (length, line)
        boxes.append(side_box(float(px), float(py), width, height, size * 0.6 + 2 - PAD, "above"))
    return boxes


def _top_annotations(
    x: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    labels: Sequence[str],
    vertical: bool,
    size: float,
    font_size: float,
) -> list[dict[str, Any]]:
    """Token and probability above each logit (vertical text when they do not fit side by side)."""
    return [
        {
            "x": round(float(x[i]), 2),
            "y": float(y[i]),
            "text": label,
            "showarrow": False,
            "yshift": size * 0.6 + 2,
            "yanchor": "bottom",
            "xanchor": "center",
            "textangle": -90 if vertical else 0,
            "font": {"size": font_size},
        }
        for i, label in zip(idx.tolist(), labels, strict=True)
    ]


def _signs(store: GraphStore) -> tuple[int, ...]:
    return (1, -1) if store.weighted else (0,)
