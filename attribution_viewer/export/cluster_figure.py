"""The cluster-level graph (issue #12): one node per cluster, arrows for the attribution
between clusters, every cluster named without overlaps. One pure builder
(:func:`cluster_figure`) for the exported figure and the cluster panel's interactive graph.

Pure plotly, no Dash; the geometry (axes, legend, frame) is shared with the print figure
(:mod:`.print_geometry`, :mod:`.print_traces`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.clustering.labels import short_label
from attribution_viewer.clustering.overview import cluster_overview, strongest_flows
from attribution_viewer.export.print_geometry import (
    TEXT_COLOR,
    PrintOptions,
    _base_layout,
    _frame,
    _layer_axis,
    _token_axis,
    legend_geometry,
    short_token,
    text_width,
    token_label_fit,
)
from attribution_viewer.export.print_traces import _legend_line, _signs
from attribution_viewer.figures import ClusterHighlight
from attribution_viewer.layout import layer_tick_labels
from attribution_viewer.model import GraphStore, escape_markup
from attribution_viewer.style import EDGE_COLORS, NODE_LINE_COLOR

FADED_CLUSTER_OPACITY = 0.45  # clusters of the interactive cluster graph that are not highlighted
FADED_TEXT_COLOR = "#777777"
NAME_BACKING = "rgba(255, 255, 255, 0.85)"  # behind each cluster name
LEADER_COLOR = "#9a9a9a"  # line from a cluster to its name when the name sits off its row


class LabelPlacement(NamedTuple):
    """Where the names of fixed markers go: y in px and the side (right of the marker or not)."""

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
    """Greedy placement of names beside markers so that no two names overlap and no name
    covers a marker. The markers stay where they are.

    Coordinates are plot pixels (y up). Names are taken by marker, bottom to top; each
    takes the first free spot among: right of its marker, left of it, then the same one
    line up, one line down, two lines up, ... (at most 40 lines away), preferring spots
    within the plot; failing all that it goes right of its marker, on its row.
    """
    out_y = y.astype(np.float64).copy()
    right = np.ones(x.size, dtype=bool)
    valid = ~np.isnan(x)
    half_m, half_h = marker_px / 2.0, line_px / 2.0
    markers = [(x[i] - half_m, y[i] - half_m, x[i] + half_m, y[i] + half_m) for i in np.flatnonzero(valid)]
    boxes: list[tuple[float, float, float, float]] = []
    for i in np.lexsort((np.arange(x.size), x, y)).tolist():
        if not valid[i]:
            continue
        chosen: tuple[float, bool, tuple[float, float, float, float]] | None = None
        for must_fit in (True, False):  # second pass: names may run past the plot's sides
            for step in range(81):
                cy = float(y[i]) + line_px * ((step + 1) // 2) * (1 if step % 2 else -1)
                if not half_h <= cy <= height - half_h and step:
                    continue
                for side in (True, False):
                    x0 = (
                        float(x[i]) + half_m + 3.0
                        if side
                        else float(x[i]) - half_m - 3.0 - float(label_px[i])
                    )
                    box = (x0, cy - half_h, x0 + float(label_px[i]), cy + half_h)
                    inside = box[0] >= -2.0 and box[2] <= width + 2.0
                    free = not any(_overlap(box, other) for other in (*boxes, *markers))
                    if (inside or not must_fit) and free:
                        chosen = (cy, side, box)
                        break
                if chosen is not None:
                    break
            if chosen is not None:
                break
        if chosen is None:
            x0, y0 = float(x[i]) + half_m + 3.0, float(y[i])
            chosen = (y0, True, (x0, y0 - half_h, x0 + float(label_px[i]), y0 + half_h))
        out_y[i], right[i] = chosen[0], chosen[1]
        boxes.append(chosen[2])
    return LabelPlacement(out_y, right)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _attribution_label(sign: int) -> str:
    return {1: "Positive attribution", -1: "Negative attribution", 0: "Edges (count)"}[sign]


class ClusterNode(NamedTuple):
    """One cluster of the cluster-level figure (``id`` comes back in click events)."""

    id: str
    name: str
    description: str
    color: str
    members: tuple[int, ...]
    active: bool = True


def cluster_figure(
    store: GraphStore,
    clusters: Sequence[ClusterNode],
    options: PrintOptions,
    *,
    interactive: bool = False,
    max_arrows: int = 40,
    min_fraction: float = 0.02,
) -> go.Figure:
    """The cluster-level graph: one node per cluster, arrows for the attribution between them.

    Laid out like the main graph: token columns (the prompt tokens under them) and layer
    rows (Emb, L0.., Logit); a cluster sits at the mean position and layer row of its
    members (:func:`~attribution_viewer.clustering.overview.cluster_overview`). Every
    cluster is named beside its marker ("name (size)", cut with an ellipsis past
    ``MAX_NAME_CHARS``; the full name and description on hover), placed so that no
    two names overlap (:func:`place_labelled_markers`, on an ``options.width x
    options.height`` page). Arrows are coloured by the sign of the summed attribution and
    as wide as its magnitude relative to the strongest; only the ``max_arrows`` strongest
    of at least ``min_fraction`` of the strongest are drawn.

    ``interactive``: the figure of the cluster panel: no legend, ``options.height`` high and
    as wide as its container (the placement assumes ``options.width``: wider only spreads
    the markers apart), clusters not ``active`` faded, markers carrying the cluster ids
    (``customdata``) for clicks. Otherwise a print figure.
    """
    fs = options.font_size
    n_rows = store.n_layers + 2
    tokens = [short_token(t) for t in store.prompt_tokens]
    n_pos = max(len(tokens), 1)
    provisional = _frame(options, 0.0, 0.0, 0.0)
    token_fit = token_label_fit(tokens, provisional.plot_width, fs)
    x_axis = _token_axis(tokens, np.arange(len(tokens), dtype=np.float64), token_fit, fs)
    signs = () if interactive else _signs(store)
    legend = legend_geometry([_attribution_label(s) for s in signs], options.width - fs, fs)
    frame = _frame(options, token_fit.height_px, legend.height, fs)
    px_y = frame.plot_height / (n_rows - 1 + 1.4)

    overview = cluster_overview(store, [c.members for c in clusters])
    x = overview.x
    size = float(np.clip(fs * 1.4, 6.0, 24.0))
    names = [f"{short_label(c.name)} ({len(c.members)})" for c in clusters]
    x_range = (-0.6, n_pos - 0.4)
    px_x = frame.plot_width / (x_range[1] - x_range[0])
    placement = place_labelled_markers(
        (x - x_range[0]) * px_x,
        (overview.row + 0.7) * px_y,
        np.array([text_width(t, fs) for t in names]),
        size,
        fs * 1.35,
        frame.plot_width,
        frame.plot_height,
    )
    y = overview.row
    name_y = placement.y / px_y - 0.7
    flows = strongest_flows(overview.weights, max_flows=max_arrows, min_fraction=min_fraction)
    strongest = abs(flows[0].weight) if flows else 1.0
    annotations: list[dict[str, Any]] = []
    for flow in flows:
        a, b, w = flow
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
    placed = np.flatnonzero(~np.isnan(x))
    shown = [clusters[i] for i in placed.tolist()]
    hover = [f"<b>{escape_markup(c.name)}</b><br>{escape_markup(c.description)}" for c in shown]
    moved = [i for i in placed.tolist() if abs(name_y[i] - y[i]) * px_y > 0.5]
    side = np.where(placement.right, 1.0, -1.0) * (size / 2 + 3) / px_x
    traces: list[go.Scatter] = [
        go.Scatter(
            x=np.round(x[placed], 3),
            y=np.round(y[placed], 3),
            mode="markers",
            marker={
                "size": size,
                "color": [c.color for c in shown],
                "opacity": [1.0 if c.active else FADED_CLUSTER_OPACITY for c in shown],
                "line": {
                    "width": [1.8 if c.active and interactive else 0.6 for c in shown],
                    "color": NODE_LINE_COLOR,
                },
            },
            customdata=[c.id for c in shown],
            hovertext=hover,
            hoverinfo="text" if interactive else "skip",
            showlegend=False,
            cliponaxis=False,
        ),
        go.Scatter(  # leaders from a marker to its name when the name had to move off its row
            x=[v for i in moved for v in (float(x[i]), float(x[i] + side[i]), None)],
            y=[v for i in moved for v in (float(y[i]), float(name_y[i]), None)],
            mode="lines",
            line={"color": LEADER_COLOR, "width": 0.6},
            hoverinfo="skip",
            showlegend=False,
        ),
    ]
    for k, (i, cluster) in enumerate(zip(placed.tolist(), shown, strict=True)):
        right = bool(placement.right[i])
        annotations.append(
            {
                "x": round(float(x[i]), 3),
                "y": round(float(name_y[i]), 3),
                "text": escape_markup(names[i]),
                "hovertext": hover[k] if interactive else None,
                "showarrow": False,
                "xanchor": "left" if right else "right",
                "xshift": (1 if right else -1) * (size / 2 + 3),
                "font": {"size": fs, "color": TEXT_COLOR if cluster.active else FADED_TEXT_COLOR},
                "bgcolor": NAME_BACKING,  # edges pass under the names, not through them
            }
        )
    traces += [_legend_line(_attribution_label(s), EDGE_COLORS[s], 2.0) for s in signs]
    layout = _base_layout(options, frame, legend)
    if interactive:
        layout.update(
            width=None,
            autosize=True,
            showlegend=False,
            hovermode="closest",
            dragmode=False,
            clickmode="event",
        )
    fig = go.Figure(data=traces, layout=layout)
    fig.update_layout(
        xaxis={**x_axis, "range": list(x_range), "fixedrange": interactive},
        yaxis={
            **_layer_axis(
                np.arange(n_rows, dtype=np.float64), layer_tick_labels(store.n_layers), frame.plot_height, fs
            ),
            "fixedrange": interactive,
        },
        annotations=annotations,
    )
    return fig


def build_cluster_print_figure(
    store: GraphStore, clusters: Sequence[ClusterHighlight], options: PrintOptions
) -> go.Figure:
    """The exported cluster figure of the highlighted clusters (see :func:`cluster_figure`)."""
    nodes = [ClusterNode(str(j), c.name, "", c.color, c.members) for j, c in enumerate(clusters)]
    return cluster_figure(store, nodes, options)
