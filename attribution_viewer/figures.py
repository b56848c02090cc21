"""The interactive graph figure: pure plotly builders, no Dash.

The figure has a FIXED trace order so that callbacks can update parts of it with
``dash.Patch`` instead of resending it:

* ``NODE_TRACES`` one trace per node kind (features, errors, embeddings, logits);
* overlays, redrawn when clusters / search / pins change: ``CLUSTER_TRACE``,
  ``HIGHLIGHT_TRACE``, ``SEARCH_TRACE``, ``PINNED_TRACE``.

Every node marker carries its node index in ``customdata`` so a click maps to a node.

Edges are not traces: :func:`base_edge_layer` packs the drawn edges (faint) and
:func:`selection_layer` the selected node's edges (strong) with rings on the node and its
neighbours, for a canvas the browser draws under the plot (``assets/app.js``; the figure's
backgrounds are transparent). A click therefore never touches the figure: the canvas is
redrawn in a few milliseconds, where redrawing an SVG figure took up to a second.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.clustering.labels import NamedGroup, cluster_name_annotations
from attribution_viewer.edges import (
    base64_array,
    edge_batches,
    edge_sources,
    edge_widths,
    encode_edge_ends,
    encode_edge_layer,
)
from attribution_viewer.layout import GraphLayout, compute_layout
from attribution_viewer.model import KIND_NAMES, GraphStore, NodeKind, escape_markup, visible_token
from attribution_viewer.style import (
    EDGE_COLORS,
    FONT_FAMILY,
    NODE_COLORS,
    NODE_LINE_COLOR,
    NODE_SYMBOLS,
    SELECTED_NODE_COLOR,
    TARGET_LOGIT_COLOR,
)
from attribution_viewer.view import ViewState, visible_edges, visible_mask

N_BUCKETS = 4
SIGNS = (-1, 0, 1)
NODE_KINDS = (NodeKind.FEATURE, NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.LOGIT)
NODE_TRACES = range(0, len(NODE_KINDS))
CLUSTER_TRACE = NODE_TRACES.stop
HIGHLIGHT_TRACE = CLUSTER_TRACE + 1
SEARCH_TRACE = HIGHLIGHT_TRACE + 1
PINNED_TRACE = SEARCH_TRACE + 1
N_TRACES = PINNED_TRACE + 1

KIND_SIZE = {NodeKind.FEATURE: 1.0, NodeKind.ERROR: 0.8, NodeKind.EMBEDDING: 1.15, NodeKind.LOGIT: 1.15}
BASE_EDGE_EMPHASIS = 0.6  # all edges are drawn faint (opacity factor) ...
SELECTED_EDGE_EMPHASIS = 3.0  # ... the selection's edges strongly
SELECTED_EDGE_WIDENING = 1.6
MAX_SELECTED_EDGES = 250
LOGIT_SPACING = 3.0  # minimum slots between logits, room for their "token / p" labels
LOGIT_LABEL_SHARE = 0.05  # a logit label is about this share of the plot's width
HIGHLIGHT_COLOR = "#d4a017"
SEARCH_COLOR = "#e7298a"
PINNED_COLOR = "#111111"


class ClusterHighlight(NamedTuple):
    """An active cluster: its colour and member node indices."""

    name: str
    color: str
    members: tuple[int, ...]


def hover_texts(store: GraphStore, labels: Mapping[str, str] | None = None) -> list[str]:
    """One hover text per node: kind, layer, position, token, index, activation, label."""
    labels = labels or {}
    nodes = store.nodes
    out: list[str] = []
    for i, key in enumerate(store.keys):
        kind = store.kind_of(i)
        label = labels.get(key) or store.display_labels[i]
        token = visible_token(store.token_at(int(nodes.pos[i])))
        lines = [f"<b>{escape_markup(label)}</b>", f"{KIND_NAMES[kind]} · {key}"]
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


def node_marker_size(kind: NodeKind, node_size: float) -> float:
    return round(node_size * KIND_SIZE[kind], 2)


def cluster_marker_size(node_size: float) -> float:
    """Cluster members are drawn as a disc a little larger than the node."""
    return round(node_size * 1.25, 2)


def base_edge_layer(store: GraphStore, layout: GraphLayout, drawn: np.ndarray) -> dict[str, Any]:
    """The drawn edges (a mask over ``adjacency.data``), faint, for the browser's canvas layer."""
    batches = edge_batches(store, layout, drawn, n_buckets=N_BUCKETS)
    return encode_edge_layer(layout, batches, EDGE_COLORS, BASE_EDGE_EMPHASIS)


def selection_layer(
    store: GraphStore,
    layout: GraphLayout,
    selected: int | None,
    visible_edge_mask: np.ndarray,
    node_size: float,
) -> dict[str, Any] | None:
    """The selected node's visible edges (the ``MAX_SELECTED_EDGES`` strongest), drawn
    strongly on the canvas over the base edges (node positions come from the base layer of
    the same view), with a ring on the node and rings on its neighbours coloured by the
    sign of their edge with it (the strongest edge when there are two). None when nothing
    visible is selected.

    Keys: ``ends`` / ``index_bytes`` / ``batches`` as in :func:`encode_edge_layer`;
    ``selected`` (node index); ``neighbours`` (node indices, same integer type as ``ends``)
    and ``neighbour_signs`` (int8), base64; ``sign_colors``; ``rings``: diameter and line
    width in pixels, and colour, of the ``selected`` and ``neighbour`` rings.
    """
    if selected is None or np.isnan(layout.x[selected]):
        return None
    edges = selected_edge_selection(store, selected, visible_edge_mask)
    batches = [
        b._replace(width=b.width * SELECTED_EDGE_WIDENING)
        for b in edge_batches(store, layout, edges, n_buckets=N_BUCKETS)
    ]
    data = encode_edge_ends(layout.x.size, batches, EDGE_COLORS, SELECTED_EDGE_EMPHASIS)
    neighbours = np.zeros(0, dtype=np.int64)
    signs = np.zeros(0, dtype=np.int8)
    if edges.size:
        src = edge_sources(store)[edges]
        tgt = store.adjacency.indices[edges]
        other = np.where(src == selected, tgt, src)
        order = np.argsort(-np.abs(store.adjacency.data[edges]), kind="stable")  # strongest first
        neighbours, first = np.unique(other[order], return_index=True)
        weights = store.adjacency.data[edges][order][first]
        signs = np.sign(weights if store.weighted else np.zeros(first.size)).astype(np.int8)
    index_type = "<u2" if data["index_bytes"] == 2 else "<u4"
    return {
        **data,
        "selected": int(selected),
        "neighbours": base64_array(neighbours.astype(index_type)),
        "neighbour_signs": base64_array(signs),
        "sign_colors": {str(sign): EDGE_COLORS[sign] for sign in SIGNS},
        "rings": {
            "selected": {"size": round(node_size * 2.3, 2), "width": 3.5, "color": SELECTED_NODE_COLOR},
            "neighbour": {"size": round(node_size * 1.5, 2), "width": 2.0},
        },
    }


def _marker_trace(
    x: np.ndarray,
    y: np.ndarray,
    indices: np.ndarray,
    *,
    name: str,
    symbol: str | list[str],
    color: str | list[str] | np.ndarray,
    size: float,
    line: Mapping[str, Any] | None = None,
    text: list[str] | None = None,
    hovertext: list[str] | None = None,
    textposition: str = "bottom center",
) -> go.Scatter:
    return go.Scatter(
        x=np.round(x, 2).astype(np.float32),
        y=np.round(y, 2).astype(np.float32),
        mode="markers+text" if text else "markers",
        name=name,
        customdata=np.asarray(indices, dtype=np.int64).tolist(),  # a plain list: Dash drops typed arrays
        marker={
            "symbol": symbol,
            "color": color,
            "size": size,
            "line": dict(line or {"width": 0}),
        },
        text=text,
        textposition=textposition,
        textfont={"size": 11, "family": FONT_FAMILY},
        hovertext=hovertext,
        hoverinfo="text" if hovertext else "skip",
        showlegend=False,
        cliponaxis=False,
    )


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
            _marker_trace(
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
    return _marker_trace(
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
        (``"cluster-state"``, ``"search-results"``; anything else: all of them). Numeric
        arrays are binary-encoded as in a full figure."""
        everything = dict(enumerate(self, start=CLUSTER_TRACE))
        parts: dict[str, list[int]] = {"cluster-state": [CLUSTER_TRACE], "search-results": [SEARCH_TRACE]}
        if not changed or any(c not in parts for c in changed):
            wanted = list(everything)
        else:
            wanted = sorted({i for c in changed for i in parts[c]})
        # A Figure's JSON encodes numpy arrays as base64 typed arrays (a bare trace's does not).
        encoded = go.Figure(data=[everything[i] for i in wanted]).to_plotly_json()["data"]
        return dict(zip(wanted, encoded, strict=True))


def selected_edge_selection(
    store: GraphStore, index: int | None, visible_edge_mask: np.ndarray
) -> np.ndarray:
    """Edge indices (into adjacency.data) entering or leaving ``index``, strongest first, capped."""
    if index is None:
        return np.zeros(0, dtype=np.int64)
    a = store.adjacency
    out_edges = np.arange(a.indptr[index], a.indptr[index + 1])
    in_edges = np.flatnonzero(a.indices == index)
    edges = np.concatenate([out_edges, in_edges])
    edges = edges[visible_edge_mask[edges]]
    if edges.size > MAX_SELECTED_EDGES:
        edges = edges[np.argsort(-np.abs(a.data[edges]), kind="stable")[:MAX_SELECTED_EDGES]]
    return edges


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
    cluster_trace = _marker_trace(
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
    return cluster_name_annotations(groups, x_range=x_range, y_range=y_range)


def view_layout(store: GraphStore, visible: np.ndarray) -> GraphLayout:
    """Layout of the visible nodes, cells ordered by influence (most influential first).

    Logits are spread so that their labels (about ``LOGIT_LABEL_SHARE`` of a typical plot
    width each) do not collide: a first pass measures the graph's width in slots.
    """
    score = 1.0 - store.cumulative_influence
    first = compute_layout(store, visible, score=score, logit_spacing=LOGIT_SPACING)
    spacing = max(LOGIT_SPACING, LOGIT_LABEL_SHARE * first.width)
    if spacing == LOGIT_SPACING:
        return first
    return compute_layout(store, visible, score=score, logit_spacing=spacing)


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


class Scene(NamedTuple):
    """What a view shows: visible nodes, visible edges and the edges drawn (masks over
    ``adjacency.data``; at most ``max_drawn`` are drawn), and positions."""

    visible: np.ndarray
    edge_mask: np.ndarray
    layout: GraphLayout
    drawn: np.ndarray


def strongest_edges(store: GraphStore, edge_mask: np.ndarray, limit: int) -> np.ndarray:
    """``edge_mask`` reduced to its ``limit`` strongest edges: widest (per-target
    normalised) for weighted graphs, between the most influential nodes for masks."""
    idx = np.flatnonzero(edge_mask)
    if idx.size <= limit:
        return edge_mask
    if store.weighted:
        score = edge_widths(store)[idx]
    else:
        cumulative = store.cumulative_influence
        score = -(cumulative[edge_sources(store)[idx]] + cumulative[store.adjacency.indices[idx]])
    keep = idx[np.argsort(-score, kind="stable")[:limit]]
    out = np.zeros_like(edge_mask)
    out[keep] = True
    return out


def build_scene(
    store: GraphStore, view: ViewState, frequencies: np.ndarray | None, max_drawn: int | None = None
) -> Scene:
    """Visible nodes and edges of ``view``, the edges drawn (``max_drawn`` strongest, or all),
    and their layout."""
    visible = visible_mask(store, view, frequencies)
    edge_mask = visible_edges(store, visible)
    drawn = edge_mask if max_drawn is None else strongest_edges(store, edge_mask, max_drawn)
    return Scene(visible, edge_mask, view_layout(store, visible), drawn)


def counts_text(store: GraphStore, scene: Scene) -> str:
    """``"412 / 889 nodes · 1,203 / 1,257 edges"`` for the top bar (and how many are drawn
    when the strongest only are)."""
    shown, drawn = int(scene.edge_mask.sum()), int(scene.drawn.sum())
    text = f"{int(scene.visible.sum()):,} / {store.n_nodes:,} nodes · {shown:,} / {store.n_edges:,} edges"
    return text + (f" ({drawn:,} strongest drawn)" if drawn < shown else "")
