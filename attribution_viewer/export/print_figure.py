"""Print-ready figures of a graph view and of a cluster graph: pure plotly, no Dash.

The geometry (options, axes, legend, frame) is in :mod:`.print_geometry`, the traces and
annotations in :mod:`.print_traces`; this module composes them.

Everything is drawn with SVG traces (``go.Scatter``) and annotations, so PDF and SVG output
stay vector and the text stays text. Sizes are CSS pixels (96 per inch, 1 px = 0.75 pt):
:meth:`PrintOptions.one_column` is 3.5 in wide, :meth:`PrintOptions.two_column` 7 in.

Compared with the interactive view the print figure
  * spreads the logits along the top row so their labels (token and probability) do not
    collide, and shrinks markers so that neighbouring nodes never overlap;
  * draws at most ``PrintOptions.max_edges`` edges (the widest ones) plus every edge of the
    selected node;
  * has a legend for node kinds, edge signs and highlighted clusters, and no UI chrome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
import scipy.sparse as sp

from attribution_viewer.edges import edge_widths
from attribution_viewer.export.print_geometry import (
    LABEL_SHARE,
    LOGIT_SHARE,
    MAX_LOGIT_LABELS,
    X_PAD,
    _base_layout,
    _frame,
    _layer_axis,
    _logit_label,
    _spread_logits,
    _token_axis,
    fit_columns,
    legend_geometry,
    legend_name,
    short_token,
    text_width,
    token_label_fit,
)
from attribution_viewer.export.print_geometry import PrintOptions as PrintOptions
from attribution_viewer.export.print_geometry import PrintView as PrintView
from attribution_viewer.export.print_traces import (
    FADED_EDGE_FACTOR,
    _edge_selection,
    _edge_traces,
    _graph_legend_entries,
    _legend_line,
    _marker_trace,
    _node_label_annotations,
    _node_traces,
    _signs,
    _top_annotations,
)
from attribution_viewer.figures import ClusterHighlight, column_shapes
from attribution_viewer.layout import GraphLayout, layer_tick_labels
from attribution_viewer.model import EMBEDDING_LAYER, GraphStore, NodeKind
from attribution_viewer.scene import selected_edge_selection
from attribution_viewer.style import (
    EDGE_COLORS,
    EDGE_SIGN_LABELS,
    NODE_LINE_COLOR,
    SELECTED_NODE_COLOR,
)


def build_print_figure(
    store: GraphStore, layout: GraphLayout, view: PrintView, options: PrintOptions
) -> go.Figure:
    """The graph view ``view`` drawn for print (see the module docstring)."""
    fs = options.font_size
    kinds = store.nodes.kind
    visible = ~np.isnan(layout.x)
    if view.visible is not None:
        visible &= view.visible
    if not view.show_errors:
        visible &= kinds != NodeKind.ERROR

    # Geometry: label bands first, then the columns widened so every token label fits.
    plot_w = _frame(options, 0.0, 0.0, 0.0).plot_width
    legend = legend_geometry(_graph_legend_entries(store, visible, view), options.width - fs, fs)
    tokens = [short_token(t) for t in store.prompt_tokens]
    token_fit = token_label_fit(tokens, LABEL_SHARE * plot_w, fs)
    layout = fit_columns(layout, store.nodes.pos, token_fit.need_px, plot_w)
    px_per_unit = plot_w / (layout.width + X_PAD)
    logit_idx = store.logit_indices[visible[store.logit_indices]]
    logit_labels = [_logit_label(store, int(i)) for i in logit_idx[:MAX_LOGIT_LABELS]]
    logit_fit = token_label_fit(logit_labels, LOGIT_SHARE * plot_w, fs * 0.9)
    frame = _frame(options, token_fit.height_px, legend.height, logit_fit.height_px)
    if frame.plot_height < 40:
        raise ValueError(
            f"{options.width} x {options.height} px leaves no room for the graph with {fs:g} px text; "
            "use a larger height or a smaller font"
        )
    x = np.where(visible, layout.x, np.nan)
    y = np.where(visible, layout.y, np.nan)
    _spread_logits(x, logit_idx, logit_fit, layout, px_per_unit)
    placed = dataclasses.replace(layout, x=x, y=y)

    px_per_row = frame.plot_height / (float(layout.layer_ticks[-1] - layout.layer_ticks[0]) + 1.4)
    size = float(np.clip(min(view.node_size, 0.85 * px_per_unit, 0.8 * px_per_row), 2.5, 40.0))

    traces: list[go.Scatter] = []
    widths = edge_widths(store)
    selected = view.selected if view.selected is not None and visible[view.selected] else None
    base_edges = _edge_selection(store, visible, widths, options.max_edges)
    traces += _edge_traces(
        store, placed, base_edges, widths, FADED_EDGE_FACTOR if selected is not None else 1.0
    )
    if selected is not None:
        edge_mask = np.zeros(store.n_edges, dtype=bool)
        edge_mask[_edge_selection(store, visible, widths, store.n_edges)] = True
        traces += _edge_traces(
            store, placed, selected_edge_selection(store, selected, edge_mask), widths, 1.2
        )
    traces += _node_traces(store, x, y, visible, size)
    for rank, cluster in enumerate(view.clusters):
        members = np.asarray([m for m in cluster.members if visible[m]], dtype=np.int64)
        traces.append(
            _marker_trace(
                x, y, members, legend_name(cluster.name), "circle", cluster.color, size * 1.15, 20 + rank
            )
        )
    if selected is not None:
        ring = _marker_trace(
            x, y, np.array([selected]), "Selected", "circle-open", SELECTED_NODE_COLOR, size * 2.0, 10
        )
        traces.append(ring.update(marker_line={"width": 2.0, "color": SELECTED_NODE_COLOR}))
    for rank, sign in enumerate(_signs(store)):
        traces.append(
            _legend_line(EDGE_SIGN_LABELS[sign], EDGE_COLORS[sign], 2.0).update(legendrank=40 + rank)
        )

    annotations = _top_annotations(
        x, y, logit_idx[:MAX_LOGIT_LABELS], logit_labels, logit_fit.vertical, size, fs * 0.9
    )
    if options.show_labels:
        annotations += _node_label_annotations(x, y, visible, view.labels, size, fs * 0.85, layout.width)
    fig = go.Figure(data=traces, layout=_base_layout(options, frame, legend))
    fig.update_layout(
        xaxis={
            **_token_axis(tokens, layout.column_center, token_fit, fs),
            "range": [-X_PAD / 2, layout.width + X_PAD / 2],
        },
        yaxis=_layer_axis(layout.layer_ticks, layout.layer_tick_labels, frame.plot_height, fs),
        shapes=column_shapes(layout, None),
        annotations=annotations,
    )
    return fig


# -- cluster graph ----------------------------------------------------------------------


def cluster_weights(store: GraphStore, clusters: Sequence[ClusterHighlight]) -> np.ndarray:
    """``W[a, b]``: summed attribution of the edges from cluster ``a``'s members to ``b``'s.

    Mask-only graphs sum the mask (edge counts). The diagonal (edges inside a cluster) is
    kept; the figure ignores it.
    """
    n, k = store.n_nodes, len(clusters)
    rows = [i for c in clusters for i in c.members]
    cols = [j for j, c in enumerate(clusters) for _ in c.members]
    membership = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, k))
    adjacency = sp.csr_matrix(store.adjacency, dtype=np.float64)
    return np.asarray((membership.T @ adjacency @ membership).todense())


def cluster_positions(
    store: GraphStore, clusters: Sequence[ClusterHighlight]
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of each cluster: the mean token position and mean layer row of its members."""
    nodes = store.nodes
    x = np.array(
        [nodes.pos[list(c.members)].mean() if c.members else np.nan for c in clusters], dtype=np.float64
    )
    rows = [
        (nodes.layer[list(c.members)] - EMBEDDING_LAYER).mean() if c.members else np.nan for c in clusters
    ]
    return x, np.asarray(rows, dtype=np.float64)


class LabelPlacement(NamedTuple):
    """Where cluster markers and names go: y in px (x is kept) and the side of the name."""

    y: np.ndarray
    right: np.ndarray


def place_labelled_markers(
    x: np.ndarray,
    y: np.ndarray,
    label_px: np.ndarray,
    marker_px: float,
    line_px: float,
    width: float,
    height: float,
) -> LabelPlacement:
    """Greedy placement of markers with a name beside them so no two boxes overlap.

    Coordinates are plot pixels (y up). Markers are taken bottom to top; each keeps its x
    and takes the first free spot among: name right, name left, then the same one line up,
    one line down, two lines up, ... (at most 40 lines away), preferring spots where the
    name stays within ``width``; failing all that it stays put.
    """
    out_y = y.astype(np.float64).copy()
    right = np.ones(x.size, dtype=bool)
    boxes: list[tuple[float, float, float, float]] = []
    half_h = max(marker_px, line_px) / 2.0 + 1.5
    for i in np.lexsort((np.arange(x.size), x, y)).tolist():
        if np.isnan(x[i]):
            continue
        reach = marker_px / 2.0 + 3.0 + float(label_px[i])
        chosen: tuple[float, bool, tuple[float, float, float, float]] | None = None
        for must_fit in (True, False):  # second pass: names may run past the plot's sides
            for step in range(81):
                cy = float(y[i]) + line_px * ((step + 1) // 2) * (1 if step % 2 else -1)
                if not half_h <= cy <= height - half_h and step:
                    continue
                for side in (True, False):
                    x0 = float(x[i]) - (marker_px / 2.0 if side else reach)
                    box = (x0, cy - half_h, x0 + reach + marker_px / 2.0, cy + half_h)
                    inside = box[0] >= -2.0 and box[2] <= width + 2.0
                    if (inside or not must_fit) and not any(_overlap(box, other) for other in boxes):
                        chosen = (cy, side, box)
                        break
                if chosen is not None:
                    break
            if chosen is not None:
                break
        if chosen is None:
            x0, y0 = float(x[i]) - marker_px / 2.0, float(y[i])
            chosen = (y0, True, (x0, y0 - half_h, x0 + reach, y0 + half_h))
        out_y[i], right[i] = chosen[0], chosen[1]
        boxes.append(chosen[2])
    return LabelPlacement(out_y, right)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _attribution_label(sign: int) -> str:
    return {1: "Positive attribution", -1: "Negative attribution", 0: "Edges (count)"}[sign]


def build_cluster_print_figure(
    store: GraphStore,
    clusters: Sequence[ClusterHighlight],
    options: PrintOptions,
    *,
    max_arrows: int = 40,
    min_fraction: float = 0.02,
) -> go.Figure:
    """One node per cluster, arrows for the summed attribution between clusters.

    Clusters sit at the mean (position, layer) of their members and are named beside
    their marker; arrows are coloured by the sign of the summed attribution and as wide as
    its magnitude relative to the strongest one. Only the ``max_arrows`` strongest arrows
    of at least ``min_fraction`` of the strongest are drawn.
    """
    fs = options.font_size
    n_rows = store.n_layers + 2
    row_labels = layer_tick_labels(store.n_layers)
    tokens = [short_token(t) for t in store.prompt_tokens]
    n_pos = max(len(tokens), 1)
    provisional = _frame(options, 0.0, 0.0, 0.0)
    token_fit = token_label_fit(tokens, provisional.plot_width, fs)
    x_axis = _token_axis(tokens, np.arange(len(tokens), dtype=np.float64), token_fit, fs)
    legend = legend_geometry([_attribution_label(s) for s in _signs(store)], options.width - fs, fs)
    frame = _frame(options, token_fit.height_px, legend.height, fs)
    px_y = frame.plot_height / (n_rows - 1 + 1.4)

    x, y = cluster_positions(store, clusters)
    size = float(np.clip(fs * 1.4, 6.0, 24.0))
    names = [f"{c.name} ({len(c.members)})" for c in clusters]
    x_range = (-0.6, n_pos - 0.4)
    px_x = frame.plot_width / (x_range[1] - x_range[0])
    placement = place_labelled_markers(
        (x - x_range[0]) * px_x,
        (y + 0.7) * px_y,
        np.array([text_width(t, fs) for t in names]),
        size,
        fs * 1.35,
        frame.plot_width,
        frame.plot_height,
    )
    y = placement.y / px_y - 0.7
    weights = cluster_weights(store, clusters)
    np.fill_diagonal(weights, 0.0)
    magnitude = np.abs(weights)
    strongest = float(magnitude.max()) if magnitude.size else 0.0

    annotations: list[dict[str, Any]] = []
    if strongest > 0:
        flat = np.argsort(-magnitude, axis=None, kind="stable")[:max_arrows]
        for a, b in zip(*np.unravel_index(flat, magnitude.shape), strict=True):
            w = float(weights[a, b])
            if abs(w) < min_fraction * strongest or np.isnan(x[a]) or np.isnan(x[b]):
                continue
            sign = int(np.sign(w)) if store.weighted else 0
            annotations.append(
                {
                    "x": float(x[b]),
                    "y": float(y[b]),
                    "ax": float(x[a]),
                    "ay": float(y[a]),
                    "xref": "x",
                    "yref": "y",
                    "axref": "x",
                    "ayref": "y",
                    "showarrow": True,
                    "text": "",
                    "arrowhead": 2,
                    "arrowsize": 0.8,
                    "arrowwidth": round(0.6 + 3.0 * abs(w) / strongest, 2),
                    "arrowcolor": EDGE_COLORS[sign],
                    "opacity": 0.85,
                    "standoff": size / 2 + 1,
                    "startstandoff": size / 2 + 1,
                }
            )
    placed = ~np.isnan(x)
    traces: list[go.Scatter] = [
        go.Scatter(
            x=np.round(x[placed], 3),
            y=np.round(y[placed], 3),
            mode="markers",
            marker={
                "size": size,
                "color": [c.color for c, ok in zip(clusters, placed, strict=True) if ok],
                "line": {"width": 0.6, "color": NODE_LINE_COLOR},
            },
            hoverinfo="skip",
            showlegend=False,
            cliponaxis=False,
        )
    ]
    for i in np.flatnonzero(placed).tolist():
        right = bool(placement.right[i])
        annotations.append(
            {
                "x": round(float(x[i]), 3),
                "y": round(float(y[i]), 3),
                "text": names[i],
                "showarrow": False,
                "xanchor": "left" if right else "right",
                "xshift": (1 if right else -1) * (size / 2 + 3),
                "font": {"size": fs},
            }
        )
    traces += [_legend_line(_attribution_label(sign), EDGE_COLORS[sign], 2.0) for sign in _signs(store)]
    fig = go.Figure(data=traces, layout=_base_layout(options, frame, legend))
    fig.update_layout(
        xaxis={**x_axis, "range": list(x_range)},
        yaxis=_layer_axis(np.arange(n_rows, dtype=np.float64), row_labels, frame.plot_height, fs),
        annotations=annotations,
    )
    return fig
