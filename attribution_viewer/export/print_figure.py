"""Print-ready figure of a graph view: pure plotly, no Dash.

The geometry (options, axes, legend, frame) is in :mod:`.print_geometry`, the traces and
annotations in :mod:`.print_traces`; this module composes them. The cluster-level graph
is :mod:`.cluster_figure`.

Everything is drawn with SVG traces (``go.Scatter``) and annotations, so PDF and SVG output
stay vector and the text stays text. Sizes are CSS pixels (96 per inch, 1 px = 0.75 pt):
:meth:`PrintOptions.one_column` is 3.5 in wide, :meth:`PrintOptions.two_column` 7 in.

Compared with the interactive view the print figure
  * spreads the logits along the top row so their labels (token and probability) do not
    collide, and shrinks markers so that neighbouring nodes never overlap;
  * draws the page's edges (:func:`attribution_viewer.scene.drawn_edges`): each node's
    ``PrintView.edges_per_target`` strongest inputs in full, the other visible edges thin
    and faint (none when ``PrintView.faded_edges`` is False), at most
    ``PrintOptions.max_edges`` (the strong ones first), plus every edge of the selected node;
  * has a legend for node kinds, edge signs and highlighted clusters, and no UI chrome.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

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
    token_label_fit,
)
from attribution_viewer.export.print_geometry import PrintOptions as PrintOptions
from attribution_viewer.export.print_geometry import PrintView as PrintView
from attribution_viewer.export.print_traces import (
    FADED_EDGE_FACTOR,
    _edge_traces,
    _graph_legend_entries,
    _legend_line,
    _marker_trace,
    _node_label_annotations,
    _node_traces,
    _signs,
    _top_annotations,
    _top_label_boxes,
)
from attribution_viewer.figures import column_shapes
from attribution_viewer.labels import Frame
from attribution_viewer.layout import GraphLayout
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.scene import drawn_edges, selected_edge_selection
from attribution_viewer.style import (
    EDGE_COLORS,
    EDGE_SIGN_LABELS,
    SELECTED_NODE_COLOR,
)
from attribution_viewer.view import visible_edges


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
    edge_mask = visible_edges(store, visible)
    drawn, strong = drawn_edges(store, edge_mask, view.edges_per_target, view.faded_edges, options.max_edges)
    factor = FADED_EDGE_FACTOR if selected is not None else 1.0
    traces += _edge_traces(store, placed, np.flatnonzero(drawn & ~strong), widths, factor, faint=True)
    traces += _edge_traces(store, placed, np.flatnonzero(strong), widths, factor)
    if selected is not None:
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
    x_range = (-X_PAD / 2, layout.width + X_PAD / 2)
    yaxis = _layer_axis(layout.layer_ticks, layout.layer_tick_labels, frame.plot_height, fs)
    if options.show_labels:
        plot = Frame(x_range, tuple(yaxis["range"]), frame.plot_width, frame.plot_height)
        top_idx = logit_idx[:MAX_LOGIT_LABELS]
        blocked = _top_label_boxes(plot, x, y, top_idx, logit_labels, logit_fit.vertical, size, fs * 0.9)
        annotations += _node_label_annotations(store, plot, x, y, visible, view, size, fs * 0.85, blocked)
    fig = go.Figure(data=traces, layout=_base_layout(options, frame, legend))
    fig.update_layout(
        xaxis={**_token_axis(tokens, layout.column_center, token_fit, fs), "range": list(x_range)},
        yaxis=yaxis,
        shapes=column_shapes(layout, None),
        annotations=annotations,
    )
    return fig
