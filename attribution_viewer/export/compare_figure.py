"""Print figure of a comparison: two graphs side by side, shared features marked in both.

Each half is :func:`~attribution_viewer.export.print_figure.build_print_figure` of one graph
(half the page wide, its title above it), with the shared features
(:meth:`~attribution_viewer.compare.GraphComparison.shared_nodes`) highlighted as a
cluster named :data:`SHARED_NAME`; the two figures are then placed on one page: the right
half's traces, annotations and shapes move to a second pair of axes, each pair of axes
takes the plot area its own figure computed, and the legend lists each entry once.
:func:`build_compare_screen_figure` is the same figure for the page, where a shared
feature's markers carry its id (hover, click) and its twins can be ringed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.compare import GraphComparison, Side
from attribution_viewer.export.exporter import DEFAULT_LIMITS, ExportLimits, check_size
from attribution_viewer.export.image import ImageFormat
from attribution_viewer.export.isolated import render_isolated
from attribution_viewer.export.print_figure import PrintOptions, PrintView, build_print_figure
from attribution_viewer.figures import ClusterHighlight
from attribution_viewer.layout import GraphLayout
from attribution_viewer.model import GraphStore
from attribution_viewer.scene import build_scene
from attribution_viewer.style import SELECTED_NODE_COLOR, SHARED_FEATURE_COLOR, cluster_color
from attribution_viewer.view import DEFAULT_EDGES_PER_TARGET, ViewState, default_prune_threshold

SHARED_NAME = "Shared features"
TWIN_NAME = "Twin"  # screen figure: rings on the twins of the hovered (or selected) feature
TWIN_COLOR = SELECTED_NODE_COLOR
MIN_PANEL_WIDTH = 100


@dataclass(frozen=True, eq=False)
class ComparePanel:
    """One side of the comparison: the graph, its layout, what is shown, its title."""

    store: GraphStore
    layout: GraphLayout
    view: PrintView
    title: str = ""


def _panel_figure(panel: ComparePanel, shared: np.ndarray, options: PrintOptions, width: int) -> go.Figure:
    highlight = ClusterHighlight(SHARED_NAME, SHARED_FEATURE_COLOR, tuple(shared.tolist()))
    view = dataclasses.replace(panel.view, clusters=(highlight, *panel.view.clusters))
    half = dataclasses.replace(options, width=width, title=panel.title)
    return build_print_figure(panel.store, panel.layout, view, half)


def _axis_suffix(side: Side) -> str:
    return "" if side == "left" else "2"


def build_compare_print_figure(
    left: ComparePanel, right: ComparePanel, comparison: GraphComparison, options: PrintOptions
) -> go.Figure:
    """Both graphs on one ``options.width`` x ``options.height`` page (see the module docstring).

    ``options.title`` is not drawn: each panel's ``title`` is (name the graphs there).
    """
    half = options.width // 2
    if half < MIN_PANEL_WIDTH:
        raise ValueError(
            f"a comparison needs at least {2 * MIN_PANEL_WIDTH} px of width, got {options.width}"
        )
    width, height = options.width, options.height
    combined = go.Figure()
    layout: dict[str, Any] = {}
    annotations: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    named: set[str] = set()
    halves: tuple[tuple[Side, ComparePanel, int], ...] = (("left", left, 0), ("right", right, half))
    for side, panel, offset in halves:
        fig = _panel_figure(panel, comparison.shared_nodes(side), options, half)
        suffix = _axis_suffix(side)
        xname, yname = f"x{suffix}", f"y{suffix}"
        margin = fig.layout.margin
        x_domain = [(offset + margin.l) / width, (offset + half - margin.r) / width]
        y_domain = [margin.b / height, 1 - margin.t / height]
        traces: list[Any] = list(fig.data)
        for trace in traces:
            trace.update(xaxis=xname, yaxis=yname)
            if trace.name:
                trace.update(showlegend=trace.name not in named, legendgroup=trace.name)
                named.add(trace.name)
            combined.add_trace(trace)
        layout[f"xaxis{suffix}"] = {**fig.layout.xaxis.to_plotly_json(), "domain": x_domain, "anchor": yname}
        layout[f"yaxis{suffix}"] = {**fig.layout.yaxis.to_plotly_json(), "domain": y_domain, "anchor": xname}
        for note in fig.layout.annotations:
            annotations.append({**note.to_plotly_json(), "xref": xname, "yref": yname})
        for shape in fig.layout.shapes:
            shapes.append({**shape.to_plotly_json(), "xref": xname, "yref": f"{yname} domain"})
        if panel.title:
            annotations.append(_title(panel.title, (offset + half / 2) / width, fig))
        if side == "left":
            base = fig.layout.to_plotly_json()
            for key in ("title", "xaxis", "yaxis", "annotations", "shapes"):
                base.pop(key, None)
            layout = {**base, **layout}
    layout.update(
        width=width,
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0, "autoexpand": False},
        annotations=annotations,
        shapes=shapes,
    )
    combined.update_layout(layout)
    return combined


def panel_shown(panel: ComparePanel) -> np.ndarray:
    """Boolean mask of ``panel``'s nodes its print figure draws (placed, and visible in its view;
    error nodes aside, which are never features)."""
    shown = ~np.isnan(panel.layout.x)
    if panel.view.visible is not None:
        shown &= panel.view.visible
    return shown


def feature_key(store: GraphStore, index: int) -> str:
    """``"layer/feature"``: a feature's id in both graphs (the compare table's row ids too)."""
    return f"{int(store.nodes.layer[index])}/{int(store.nodes.feature_idx[index])}"


def build_compare_screen_figure(
    left: ComparePanel, right: ComparePanel, comparison: GraphComparison, options: PrintOptions
) -> go.Figure:
    """The print figure made for the page: the shared features' markers carry their
    ``"layer/feature"`` in ``customdata`` (hover text, click data) and each half has an empty
    :data:`TWIN_NAME` ring trace, which the page fills with the hovered feature's twins in
    the other half (the compare view's clientside callback, ``TWIN_JS``), or with a
    selected feature's markers in both halves (:func:`ring_feature`)."""
    fig = build_compare_print_figure(left, right, comparison, options)
    traces: list[Any] = list(fig.data)
    halves: tuple[tuple[Side, ComparePanel], ...] = (("left", left), ("right", right))
    for side, panel in halves:
        axis = "x" + _axis_suffix(side)
        shared = comparison.shared_nodes(side)
        keys = [feature_key(panel.store, int(i)) for i in shared[panel_shown(panel)[shared]]]
        size = 10.0
        for trace in traces:
            if trace.name == SHARED_NAME and trace.xaxis == axis:
                if len(trace.x) != len(keys):
                    raise ValueError(f"{SHARED_NAME} markers: expected {len(keys)}, got {len(trace.x)}")
                hover = [f"L{key.replace('/', ' / ')}: in both graphs" for key in keys]
                trace.update(customdata=keys, hovertext=hover, hoverinfo="text")
                size = float(trace.marker.size)
        fig.add_trace(
            go.Scatter(
                x=[],
                y=[],
                mode="markers",
                name=TWIN_NAME,
                xaxis=axis,
                yaxis="y" + _axis_suffix(side),
                marker={
                    "symbol": "circle-open",
                    "size": size * 2.2,
                    "color": TWIN_COLOR,
                    "line": {"width": 2.5, "color": TWIN_COLOR},
                },
                hoverinfo="skip",
                showlegend=False,
                cliponaxis=False,
            )
        )
    fig.update_layout(hovermode="closest", clickmode="event")
    return fig


def ring_feature(fig: go.Figure, key: str) -> int:
    """Fill each half's :data:`TWIN_NAME` ring trace of a screen figure
    (:func:`build_compare_screen_figure`) with that half's markers of the shared feature
    ``key`` (``"layer/feature"``): the rings of a selected (pinned) feature, in both halves.
    Returns how many markers were ringed."""
    traces: list[Any] = list(fig.data)
    shared = {t.xaxis: t for t in traces if t.name == SHARED_NAME}
    ringed = 0
    for trace in traces:
        if trace.name != TWIN_NAME:
            continue
        marks = shared.get(trace.xaxis)
        keys = [] if marks is None or marks.customdata is None else list(marks.customdata)
        idx = [i for i, k in enumerate(keys) if k == key]
        trace.update(
            x=[marks.x[i] for i in idx] if marks else [], y=[marks.y[i] for i in idx] if marks else []
        )
        ringed += len(idx)
    return ringed


def _title(text: str, x: float, fig: go.Figure) -> dict[str, Any]:
    """A panel's title as a page annotation where its own figure put it."""
    title = fig.layout.title
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": title.y,
        "xanchor": "center",
        "yanchor": "top",
        "showarrow": False,
        "font": title.font.to_plotly_json(),
    }


def export_compare_bytes(
    left: ComparePanel,
    right: ComparePanel,
    comparison: GraphComparison,
    options: PrintOptions,
    fmt: ImageFormat,
    *,
    scale: float = 1.0,
    limits: ExportLimits = DEFAULT_LIMITS,
) -> bytes:
    """The comparison figure as PDF / SVG / PNG bytes (``fmt``), within ``limits`` (size
    checked before any work, rendering in a child process stopped after the timeout)."""
    check_size(options, fmt, scale, limits.max_px)
    fig = build_compare_print_figure(left, right, comparison, options)
    return render_isolated(fig, fmt, options.width, options.height, scale, limits.timeout_s)


def supernode_clusters(store: GraphStore) -> tuple[ClusterHighlight, ...]:
    """The graph's supernodes as clusters, coloured from the palette."""
    index_of = store.index_of
    return tuple(
        ClusterHighlight(name, cluster_color(i), tuple(index_of[k] for k in keys if k in index_of))
        for i, (name, keys) in enumerate(store.supernodes)
    )


def print_view_of(
    store: GraphStore,
    node_threshold: float | None,
    show_errors: bool,
    edges_per_target: int = DEFAULT_EDGES_PER_TARGET,
    faded_edges: bool = True,
) -> tuple[GraphLayout, PrintView]:
    """The layout and print view the app shows for these settings (supernodes as clusters;
    ``node_threshold`` None: the graph's default pruning threshold; edges as the page's
    **Edges** control draws them)."""
    threshold = default_prune_threshold(store) if node_threshold is None else node_threshold
    view = ViewState(prune_threshold=threshold, show_errors=show_errors, pinned=store.pinned)
    scene = build_scene(store, view, None)
    labels = {i: label for i, label in enumerate(store.nodes.label) if label}
    print_view = PrintView(
        visible=scene.visible,
        clusters=supernode_clusters(store),
        labels=labels,
        show_errors=show_errors,
        edges_per_target=edges_per_target,
        faded_edges=faded_edges,
    )
    return scene.layout, print_view
