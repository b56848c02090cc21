"""The interactive graph figure: pure plotly builders, no Dash.

The figure has a FIXED trace order so that callbacks can update parts of it with
``dash.Patch`` instead of resending it:

* ``NODE_TRACES`` one trace per node kind (features, errors, embeddings, logits);
* overlays, redrawn when clusters / search / pins change: ``CLUSTER_TRACE``,
  ``HIGHLIGHT_TRACE``, ``SEARCH_TRACE``, ``PINNED_TRACE``.

Every node marker carries its node index in ``customdata`` so a click maps to a node.

Edges are not traces: they are drawn on a canvas under the plot (the figure's backgrounds
are transparent), from the payload of :mod:`attribution_viewer.canvas`. What is visible and
where nodes sit comes from :mod:`attribution_viewer.scene`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.clustering.labels import NamedGroup, cluster_name_annotations
from attribution_viewer.labels import shorten
from attribution_viewer.layout import GraphLayout
from attribution_viewer.markers import marker_trace, node_marker_size
from attribution_viewer.model import KIND_NAMES, GraphStore, NodeKind, escape_markup, visible_token
from attribution_viewer.style import (
    FONT_FAMILY,
    NODE_COLORS,
    NODE_LINE_COLOR,
    NODE_SYMBOLS,
    TARGET_LOGIT_COLOR,
)

NODE_KINDS = (NodeKind.FEATURE, NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.LOGIT)
NODE_TRACES = range(0, len(NODE_KINDS))
CLUSTER_TRACE = NODE_TRACES.stop
HIGHLIGHT_TRACE = CLUSTER_TRACE + 1
SEARCH_TRACE = HIGHLIGHT_TRACE + 1
PINNED_TRACE = SEARCH_TRACE + 1
N_TRACES = PINNED_TRACE + 1

HIGHLIGHT_COLOR = "#d4a017"
SEARCH_COLOR = "#e7298a"
PINNED_COLOR = "#111111"


class ClusterHighlight(NamedTuple):
    """An active cluster: its colour and member node indices."""

    name: str
    color: str
    members: tuple[int, ...]


HOVER_CHARS = 80  # a description's first line in the hover text is cut to this length


def hover_texts(
    store: GraphStore, labels: Mapping[str, str] | None = None, descriptions: Mapping[str, str] | None = None
) -> list[str]:
    """One hover text per node: its title, kind, layer, position, token, index, activation.

    The title is the user's label, else the first line of the node's description (from
    ``descriptions``, by key), else the graph's label; a description under a user's label
    gets its own line."""
    labels = labels or {}
    descriptions = descriptions or {}
    nodes = store.nodes
    out: list[str] = []
    for i, key in enumerate(store.keys):
        kind = store.kind_of(i)
        description = shorten(descriptions.get(key, "").strip().split("\n")[0], HOVER_CHARS)
        label = labels.get(key) or description or store.display_labels[i]
        token = visible_token(store.token_at(int(nodes.pos[i])))
        lines = [f"<b>{escape_markup(label)}</b>"]
        if description and label != description:
            lines.append(escape_markup(description))
        lines.append(f"{KIND_NAMES[kind]} · {key}")
        if kind in (NodeKind.FEATURE, NodeKind.ERROR):
            lines.append(f"layer {int(nodes.layer[i])} · pos {int(nodes.pos[i])} '{escape_markup(token)}'")
        elif kind is NodeKind.EMBEDDING:
            lines.append(f"pos {int(nodes.pos[i])} '{escape_markup(token)}'")
        else:
            info = store.logit_info(i)
            lines.append(f"p = {info.probability:.3f}" + (" · target" if info.is_target else ""))
        if kind is NodeKind.FEATURE:
            lines.append(f"feature {int(nodes.feature_idx[i])}")
        act = float(nodes.activation[i])
        if np.isfinite(act):
            lines.append(f"activation {act:.3g}")
        out.append("<br>".join(lines))
    return out


def cluster_marker_size(node_size: float) -> float:
    """Cluster members are drawn as a disc a little larger than the node."""
    return round(node_size * 1.25, 2)


def node_traces(
    store: GraphStore, layout: GraphLayout, visible: np.ndarray, node_size: float, hover: Sequence[str]
) -> list[go.Scatter]:
    """One marker trace per node kind, in ``NODE_KINDS`` order."""
    traces = []
    for kind in NODE_KINDS:
        s = store.kind_slices[kind]
        idx = np.arange(s.start, s.stop)
        idx = idx[visible[idx]]
        color: str | list[str] = NODE_COLORS[kind]
        text = None
        position = "bottom center"
        if kind is NodeKind.EMBEDDING:
            text = [escape_markup(visible_token(store.token_at(int(store.nodes.pos[i])))) for i in idx]
        elif kind is NodeKind.LOGIT:
            infos = [store.logit_info(int(i)) for i in idx]
            text = [f"{escape_markup(visible_token(info.token))}<br>{info.probability:.2f}" for info in infos]
            color = [TARGET_LOGIT_COLOR if info.is_target else NODE_COLORS[kind] for info in infos]
            position = "top center"
        line = {"width": 0.5, "color": NODE_LINE_COLOR} if kind is not NodeKind.ERROR else {"width": 0}
        traces.append(
            marker_trace(
                layout.x[idx],
                layout.y[idx],
                idx,
                name=KIND_NAMES[kind],
                symbol=NODE_SYMBOLS[kind],
                color=color,
                size=node_marker_size(kind, node_size),
                line=line,
                text=text,
                hovertext=[hover[int(i)] for i in idx],
                textposition=position,
            )
        )
    return traces


def _ring(layout: GraphLayout, indices: np.ndarray, *, color: str, size: float, width: float, name: str):
    placed = indices[~np.isnan(layout.x[indices])] if indices.size else indices
    return marker_trace(
        layout.x[placed],
        layout.y[placed],
        placed,
        name=name,
        symbol="circle-open",
        color=color,
        size=size,
        line={"width": width, "color": color},
    )


class Overlays(NamedTuple):
    """The overlay traces (clusters, shared nodes, search, pins), in trace order."""

    clusters: go.Scatter
    highlighted: go.Scatter
    search: go.Scatter
    pinned: go.Scatter

    def changed_traces(self, changed: Collection[str]) -> dict[int, dict[str, Any]]:
        """Trace index -> trace JSON for the overlays that depend on the ``changed`` inputs
        (``"clusters"``, ``"search"``; anything else, such as ``"size"``: all of them). Numeric
        arrays are binary-encoded as in a full figure."""
        everything = dict(enumerate(self, start=CLUSTER_TRACE))
        parts: dict[str, list[int]] = {"clusters": [CLUSTER_TRACE], "search": [SEARCH_TRACE]}
        if not changed or any(c not in parts for c in changed):
            wanted = list(everything)
        else:
            wanted = sorted({i for c in changed for i in parts[c]})
        # A Figure's JSON encodes numpy arrays as base64 typed arrays (a bare trace's does not).
        encoded = go.Figure(data=[everything[i] for i in wanted]).to_plotly_json()["data"]
        return dict(zip(wanted, encoded, strict=True))


def build_overlays(
    store: GraphStore,
    layout: GraphLayout,
    visible: np.ndarray,
    *,
    node_size: float,
    pinned: Sequence[int],
    clusters: Sequence[ClusterHighlight],
    highlighted: np.ndarray | None,
    search: Sequence[int],
) -> Overlays:
    """Overlay traces for the clusters, shared nodes, search matches and pins."""
    cluster_idx: list[int] = []
    cluster_colors: list[str] = []
    for cluster in clusters:
        members = [m for m in cluster.members if visible[m]]
        cluster_idx.extend(members)
        cluster_colors.extend([cluster.color] * len(members))
    cidx = np.asarray(cluster_idx, dtype=np.int64)
    cluster_trace = marker_trace(
        layout.x[cidx],
        layout.y[cidx],
        cidx,
        name="clusters",
        symbol="circle",
        color=cluster_colors or "#000",
        size=cluster_marker_size(node_size),
        line={"width": 1, "color": NODE_LINE_COLOR},
    )
    hl = np.flatnonzero(highlighted & visible) if highlighted is not None else np.zeros(0, dtype=np.int64)
    sidx = np.asarray([i for i in search if visible[i]], dtype=np.int64)
    pidx = np.asarray([i for i in pinned if visible[i]], dtype=np.int64)
    return Overlays(
        clusters=cluster_trace,
        highlighted=_ring(layout, hl, color=HIGHLIGHT_COLOR, size=node_size * 1.7, width=2, name="shared"),
        search=_ring(layout, sidx, color=SEARCH_COLOR, size=node_size * 2.0, width=2.5, name="search"),
        pinned=_ring(layout, pidx, color=PINNED_COLOR, size=node_size * 1.5, width=1.5, name="pinned"),
    )


def axis_ranges(layout: GraphLayout) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (x, y) axis ranges of the interactive figure."""
    return (-1.5, layout.width + 1.5), (-0.9, float(layout.layer_ticks[-1]) + 0.9)


def cluster_names(
    layout: GraphLayout, visible: np.ndarray, clusters: Sequence[ClusterHighlight]
) -> list[dict[str, Any]]:
    """Annotations naming each highlighted cluster beside its visible members (issue #12)."""
    shown = [np.asarray([m for m in c.members if visible[m]], dtype=np.int64) for c in clusters]
    groups = [
        NamedGroup(c.name, c.color, layout.x[m], layout.y[m]) for c, m in zip(clusters, shown, strict=True)
    ]
    x_range, y_range = axis_ranges(layout)
    on_screen = np.flatnonzero(visible)
    return cluster_name_annotations(
        groups, x_range=x_range, y_range=y_range, obstacles=(layout.x[on_screen], layout.y[on_screen])
    )


def figure_layout(store: GraphStore, layout: GraphLayout, token_focus: int | None = None) -> dict[str, Any]:
    """Axes, ticks and margins of the interactive figure."""
    return {
        "margin": {"l": 48, "r": 12, "t": 56, "b": 56},
        "paper_bgcolor": "rgba(0, 0, 0, 0)",  # transparent: the edge canvas lies underneath
        "plot_bgcolor": "rgba(0, 0, 0, 0)",
        "font": {"family": FONT_FAMILY, "size": 12},
        "dragmode": "pan",
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "uirevision": "graph",
        "showlegend": False,
        "xaxis": {
            "showticklabels": False,
            "showgrid": False,
            "zeroline": False,
            "range": list(axis_ranges(layout)[0]),
            "fixedrange": False,
        },
        "yaxis": {
            "tickvals": layout.layer_ticks.tolist(),
            "ticktext": list(layout.layer_tick_labels),
            "showgrid": True,
            "gridcolor": "#f0f0f0",
            "zeroline": False,
            "range": list(axis_ranges(layout)[1]),
        },
        "shapes": column_shapes(layout, token_focus),
    }


def column_shapes(layout: GraphLayout, token_focus: int | None) -> list[dict[str, Any]]:
    """Alternating column bands, and a stronger band on the focused token's column."""
    shapes = []
    for p in range(layout.column_center.size):
        focused = p == token_focus
        if p % 2 == 1 or focused:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": float(layout.column_left[p]) - 0.5,
                    "x1": float(layout.column_right[p]) + 0.5,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": "rgba(255, 200, 60, 0.25)" if focused else "rgba(0, 0, 0, 0.025)",
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
    return shapes


def build_figure(
    store: GraphStore,
    visible: np.ndarray,
    *,
    node_size: float,
    hover: Sequence[str],
    overlays: Overlays,
    layout: GraphLayout,
    token_focus: int | None = None,
) -> go.Figure:
    """The whole interactive figure (nodes and overlays; the base edges are a separate
    layer, :func:`base_edge_layer`), traces in the fixed order of the module docstring."""
    traces = [*node_traces(store, layout, visible, node_size, hover), *overlays]
    if len(traces) != N_TRACES:
        raise AssertionError(f"figure has {len(traces)} traces, expected {N_TRACES}")
    return go.Figure(data=traces, layout=figure_layout(store, layout, token_focus))
