"""Print-ready figures of a graph view and of a cluster graph: pure plotly, no Dash.

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
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.clustering.labels import short_label
from attribution_viewer.clustering.overview import cluster_overview, strongest_flows
from attribution_viewer.edges import edge_batches, edge_widths
from attribution_viewer.figures import KIND_SIZE, ClusterHighlight, column_shapes, selected_edge_selection
from attribution_viewer.layout import COLUMN_GAP, GraphLayout, layer_tick_labels, widen_columns
from attribution_viewer.model import GraphStore, NodeKind, escape_markup, visible_token
from attribution_viewer.style import (
    EDGE_COLORS,
    EDGE_SIGN_LABELS,
    FONT_FAMILY,
    NODE_COLORS,
    NODE_KIND_LABELS,
    NODE_LINE_COLOR,
    NODE_SYMBOLS,
    SELECTED_NODE_COLOR,
    TARGET_LOGIT_COLOR,
)

PX_PER_INCH = 96
CHAR_WIDTH = 0.58  # average glyph width as a fraction of the font size (sans serif)
TEXT_COLOR = "#222222"
MAX_TOKEN_CHARS = 14
MAX_LOGIT_LABELS = 10
X_PAD = 3.0  # layout units of margin left and right of the columns (half on each side)
LABEL_SHARE = 0.6  # at most this share of the plot width goes to spreading columns for labels
LEGEND_SYMBOL_PX = 46.0  # legend symbol and padding beside each entry's text
MAX_LEGEND_CHARS = 24
LOGIT_SHARE = 0.5  # horizontal logit labels only when they fit in this share of the width
PRINT_EDGE_WIDTH = (0.25, 1.6)
PRINT_EDGE_OPACITY = (0.15, 0.75)
FADED_EDGE_FACTOR = 0.35  # opacity of the other edges while a node is selected
FADED_CLUSTER_OPACITY = 0.45  # clusters of the interactive cluster graph that are not highlighted
FADED_TEXT_COLOR = "#777777"
LEADER_COLOR = "#9a9a9a"  # line from a cluster to its name when the name sits off its row


@dataclass(frozen=True)
class PrintOptions:
    """Page size (CSS px), font size (px), optional title, whether to write node labels."""

    width: int = 672
    height: int = 460
    font_size: float = 10.0
    title: str = ""
    show_labels: bool = False
    max_edges: int = 1500

    def __post_init__(self) -> None:
        if self.width < 100 or self.height < 100:
            raise ValueError(f"print size must be at least 100 x 100 px, got {self.width} x {self.height}")
        if not 4 <= self.font_size <= 48:
            raise ValueError(f"font size must be within 4..48 px, got {self.font_size}")
        if self.max_edges < 0:
            raise ValueError(f"max_edges must be >= 0, got {self.max_edges}")

    @classmethod
    def one_column(cls, **overrides: Any) -> PrintOptions:
        """A single-column figure: 3.5 in x 3.6 in, 7 pt text."""
        base = {"width": int(3.5 * PX_PER_INCH), "height": int(3.6 * PX_PER_INCH), "font_size": 9.0}
        return cls(**{**base, **overrides})

    @classmethod
    def two_column(cls, **overrides: Any) -> PrintOptions:
        """A full-width figure: 7 in x 4.6 in, 7.5 pt text."""
        base = {"width": 7 * PX_PER_INCH, "height": int(4.6 * PX_PER_INCH), "font_size": 10.0}
        return cls(**{**base, **overrides})


@dataclass(frozen=True, eq=False)
class PrintView:
    """What the exported graph view shows.

    ``visible``: node mask (None = every node placed by the layout); ``selected``: node
    whose edges are emphasised; ``clusters``: highlighted clusters drawn in their colours
    and named in the legend; ``labels``: node index -> text written beside the node when
    ``PrintOptions.show_labels``; ``node_size``: marker size in px (shrunk when nodes would
    overlap); ``show_errors``: draw error nodes.
    """

    visible: np.ndarray | None = None
    selected: int | None = None
    clusters: tuple[ClusterHighlight, ...] = ()
    labels: Mapping[int, str] = field(default_factory=dict)
    node_size: float = 8.0
    show_errors: bool = False


@dataclass(frozen=True)
class _Frame:
    """Pixel geometry of the plot area."""

    left: float
    right: float
    top: float
    bottom: float
    plot_width: float
    plot_height: float


def text_width(text: str, font_size: float) -> float:
    """Estimated rendered width in px of ``text`` (no font metrics available here)."""
    return len(text) * CHAR_WIDTH * font_size


def short_token(token: str) -> str:
    """A token for an axis label: whitespace made visible, long ones cut with an ellipsis."""
    shown = visible_token(token)
    return escape_markup(shown if len(shown) <= MAX_TOKEN_CHARS else shown[: MAX_TOKEN_CHARS - 1] + "…")


class TokenLabels(NamedTuple):
    """How the prompt tokens (or logit labels) are written: horizontal or vertical."""

    vertical: bool
    need_px: np.ndarray  # pixels each column (label) needs
    height_px: float  # height of the label band


def token_label_fit(labels: Sequence[str], available_px: float, font_size: float) -> TokenLabels:
    """Horizontal labels when they fit side by side in ``available_px``, else vertical ones.

    Vertical text (-90 degrees) stays extractable from a PDF (unlike slanted text).
    """
    widths = np.array([text_width(t, font_size) for t in labels], dtype=np.float64)
    longest = float(widths.max()) if widths.size else 0.0
    horizontal = widths + font_size * 0.8
    if horizontal.sum() <= available_px:
        return TokenLabels(False, horizontal, font_size * 1.6)
    need = min(font_size * 1.5, available_px / max(len(labels), 1))
    return TokenLabels(True, np.full(len(labels), need), longest + font_size)


def _token_axis(
    labels: Sequence[str], centers: np.ndarray, fit: TokenLabels, font_size: float
) -> dict[str, Any]:
    """x-axis settings writing the prompt tokens under their columns."""
    return {
        "tickvals": np.round(centers, 2).tolist(),
        "ticktext": list(labels),
        "tickangle": -90 if fit.vertical else 0,
        "showgrid": False,
        "zeroline": False,
        "showline": False,
        "ticks": "",
        "tickfont": {"size": font_size},
    }


def fit_columns(
    layout: GraphLayout, node_pos: np.ndarray, need_px: np.ndarray, plot_px: float
) -> GraphLayout:
    """Widen the columns of ``layout`` so that column ``p`` spans ``need_px[p]`` pixels.

    The x range drawn is ``layout.width + X_PAD`` units over ``plot_px`` pixels; widening
    columns shrinks the pixels per unit, so the widths are found by fixed-point iteration
    (it converges when ``need_px.sum() < plot_px``).
    """
    if layout.column_left.size == 0:
        return layout
    base = layout.column_right - layout.column_left
    units_per_px = (layout.width + X_PAD) / plot_px
    for _ in range(200):
        widths = np.maximum(base, need_px * units_per_px - COLUMN_GAP)
        total = float(widths.sum()) + COLUMN_GAP * (widths.size - 1) + X_PAD
        if abs(total / plot_px - units_per_px) <= 1e-9 * units_per_px:
            break
        units_per_px = total / plot_px
    return widen_columns(layout, node_pos, need_px * units_per_px - COLUMN_GAP)


def _layer_axis(n_rows: int, labels: Sequence[str], plot_height: float, font_size: float) -> dict[str, Any]:
    """y-axis settings: one tick per row, thinned out when rows are too dense for the font."""
    stride = max(1, math.ceil(font_size * 1.15 / max(plot_height / max(n_rows, 1), 1e-6)))
    rows = [r for r in range(n_rows) if r % stride == 0 or r in (0, n_rows - 1)]
    if len(rows) > 2 and rows[-1] - rows[-2] < stride:
        rows.pop(-2)
    return {
        "tickvals": rows,
        "ticktext": [labels[r] for r in rows],
        "range": [-0.7, n_rows - 1 + 0.7],
        "showgrid": True,
        "gridcolor": "#eeeeee",
        "gridwidth": 0.5,
        "zeroline": False,
        "showline": False,
        "ticks": "",
        "tickfont": {"size": font_size},
    }


class LegendGeometry(NamedTuple):
    """A horizontal legend: the number of rows its entries wrap to and its height (px)."""

    rows: int
    height: float


def legend_geometry(entries: Sequence[str], width: float, font_size: float) -> LegendGeometry:
    """Rows and height of a horizontal legend; plotly wraps entries into columns as wide as
    the widest entry."""
    if not entries:
        return LegendGeometry(0, 0.0)
    widest = max(text_width(name, font_size) for name in entries) + LEGEND_SYMBOL_PX
    total = sum(text_width(name, font_size) + LEGEND_SYMBOL_PX for name in entries)
    per_row = len(entries) if total <= width else max(1, int(width // widest))
    rows = math.ceil(len(entries) / per_row)
    return LegendGeometry(rows, rows * (font_size * 1.25 + 8) + font_size * 0.6)


def legend_name(name: str) -> str:
    """A legend entry's text, cut to ``MAX_LEGEND_CHARS``."""
    return short_label(name, MAX_LEGEND_CHARS)


def _base_layout(options: PrintOptions, frame: _Frame, legend: LegendGeometry) -> dict[str, Any]:
    """White page, print fonts, a horizontal legend along the bottom of the page."""
    fs = options.font_size
    layout: dict[str, Any] = {
        "width": options.width,
        "height": options.height,
        "template": "none",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT_FAMILY, "size": fs, "color": TEXT_COLOR},
        "margin": {"l": frame.left, "r": frame.right, "t": frame.top, "b": frame.bottom, "autoexpand": False},
        "showlegend": True,
        "legend": {
            "orientation": "h",
            "yref": "container",
            "y": 0.0,
            "yanchor": "bottom",
            "x": 0.5,
            "xanchor": "center",
            "font": {"size": fs},
            "itemwidth": 30,
            "tracegroupgap": 0,
            "bgcolor": "rgba(255,255,255,0)",
        },
        "hovermode": False,
    }
    if options.title:
        layout["title"] = {
            "text": options.title,
            "x": 0.5,
            "xanchor": "center",
            "y": 1.0 - 0.3 * fs * 1.2 / options.height,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": fs * 1.25},
        }
    return layout


def _legend_line(name: str, color: str, width: float) -> go.Scatter:
    return go.Scatter(x=[None], y=[None], mode="lines", name=name, line={"color": color, "width": width})


def _spread_logits(
    x: np.ndarray, idx: np.ndarray, fit: TokenLabels, layout: GraphLayout, px_per_unit: float
) -> None:
    """Re-place the logits ``idx`` along the top row, centred on the last column, spaced
    as ``fit`` needs for their labels, and kept (with their labels) inside the columns."""
    if idx.size == 0:
        return
    spacing = max(float(fit.need_px.max()) / px_per_unit, 1.0)
    margin = 0.0 if fit.vertical else spacing / 2.0
    lo, hi = min(margin, layout.width / 2.0), max(layout.width - margin, layout.width / 2.0)
    spacing = min(spacing, (hi - lo) / max(idx.size - 1, 1))
    span = spacing * (idx.size - 1)
    anchor = float(layout.column_center[-1]) if layout.column_center.size else 0.0
    start = min(max(anchor - span / 2.0, lo), hi - span)
    x[idx] = start + spacing * np.arange(idx.size)


def _logit_label(store: GraphStore, index: int) -> str:
    info = store.logit_info(index)
    return f"{short_token(info.token)} {info.probability:.2f}"


def _frame(options: PrintOptions, bottom_labels: float, legend: float, top_extra: float) -> _Frame:
    fs = options.font_size
    left = fs * 3.6
    right = fs * 1.2
    top = fs * 0.8 + (fs * 2.2 if options.title else 0.0) + top_extra
    bottom = bottom_labels + legend + fs * 0.4
    return _Frame(left, right, top, bottom, options.width - left - right, options.height - top - bottom)


def _edge_selection(store: GraphStore, visible: np.ndarray, widths: np.ndarray, max_edges: int) -> np.ndarray:
    """Indices of the widest ``max_edges`` edges between visible nodes."""
    a = store.adjacency
    rows = np.repeat(np.arange(store.n_nodes), np.diff(a.indptr))
    candidates = np.flatnonzero(visible[rows] & visible[a.indices])
    if candidates.size > max_edges:
        keep = np.argpartition(-widths[candidates], max_edges - 1)[:max_edges] if max_edges else []
        candidates = np.sort(candidates[keep])
    return candidates


def _edge_traces(
    store: GraphStore, layout: GraphLayout, selection: np.ndarray, widths: np.ndarray, opacity_factor: float
) -> list[go.Scatter]:
    traces = []
    for batch in edge_batches(
        store,
        layout,
        selection,
        widths=widths,
        min_width=PRINT_EDGE_WIDTH[0],
        max_width=PRINT_EDGE_WIDTH[1],
        min_opacity=PRINT_EDGE_OPACITY[0] * opacity_factor,
        max_opacity=PRINT_EDGE_OPACITY[1] * opacity_factor,
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

    n_rows = len(layout.layer_tick_labels)
    px_per_row = frame.plot_height / (n_rows - 1 + 1.4)
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
        yaxis=_layer_axis(n_rows, layout.layer_tick_labels, frame.plot_height, fs),
        shapes=column_shapes(layout, None),
        annotations=annotations,
    )
    return fig


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
    return go.Scatter(
        x=np.round(x[idx], 2),
        y=y[idx],
        mode="markers",
        name=name,
        legendrank=rank,
        marker={
            "symbol": symbol,
            "color": color,
            "size": round(size, 2),
            "line": {"width": line_width, "color": NODE_LINE_COLOR},
        },
        hoverinfo="skip",
        cliponaxis=False,
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


def _node_label_annotations(
    x: np.ndarray,
    y: np.ndarray,
    visible: np.ndarray,
    labels: Mapping[int, str],
    size: float,
    font_size: float,
    width: float,
) -> list[dict[str, Any]]:
    """The given labels beside their nodes (left of those in the right quarter of the
    ``width`` units drawn), on a translucent white box."""
    out = []
    for i in sorted(labels):
        if 0 <= i < visible.size and visible[i] and labels[i]:
            left = x[i] > 0.75 * width
            out.append(
                {
                    "x": round(float(x[i]), 2),
                    "y": float(y[i]),
                    "text": labels[i],
                    "showarrow": False,
                    "xanchor": "right" if left else "left",
                    "xshift": (-1 if left else 1) * (size * 0.6 + 1),
                    "font": {"size": font_size},
                    "bgcolor": "rgba(255,255,255,0.75)",
                    "borderpad": 0,
                }
            )
    return out


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


# -- cluster graph ----------------------------------------------------------------------


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


def _signs(store: GraphStore) -> tuple[int, ...]:
    return (1, -1) if store.weighted else (0,)


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
            **_layer_axis(n_rows, layer_tick_labels(store.n_layers), frame.plot_height, fs),
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
