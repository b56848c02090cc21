"""The print figure's geometry: options, text widths, token and layer axes, the legend,
the frame around the plot, and the logits spread along the top row. Pure arithmetic and
plotly layout dicts (see :mod:`.print_figure`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from attribution_viewer.clustering.labels import short_label
from attribution_viewer.figures import ClusterHighlight
from attribution_viewer.labels import text_width as text_width  # one estimate of text widths
from attribution_viewer.layout import COLUMN_GAP, GraphLayout, widen_columns
from attribution_viewer.model import GraphStore, escape_markup, visible_token
from attribution_viewer.style import (
    FONT_FAMILY,
)
from attribution_viewer.view import DEFAULT_EDGES_PER_TARGET

PX_PER_INCH = 96


TEXT_COLOR = "#222222"


MAX_TOKEN_CHARS = 14


MAX_LOGIT_LABELS = 10


X_PAD = 3.0  # layout units of margin left and right of the columns (half on each side)


LABEL_SHARE = 0.6  # at most this share of the plot width goes to spreading columns for labels


LEGEND_SYMBOL_PX = 46.0  # legend symbol and padding beside each entry's text


MAX_LEGEND_CHARS = 24


PRINT_MAX_EDGES = 6000  # edges drawn at most: Chromium takes ~5 s for 5,000 in a PDF, 16 s for 20,000


LOGIT_SHARE = 0.5  # horizontal logit labels only when they fit in this share of the width


@dataclass(frozen=True)
class PrintOptions:
    """Page size (CSS px), font size (px), optional title, whether to write node labels,
    and the most edges drawn (the strong ones first, see :data:`PRINT_MAX_EDGES`)."""

    width: int = 672
    height: int = 460
    font_size: float = 10.0
    title: str = ""
    show_labels: bool = False
    max_edges: int = PRINT_MAX_EDGES

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
    ``PrintOptions.show_labels`` (a node without one gets the graph's own label, else the
    first line of its entry in ``descriptions``, else a code: see
    :func:`attribution_viewer.labels.label_texts`); ``node_size``: marker size in px (shrunk
    when nodes would overlap); ``show_errors``: draw error nodes; ``edges_per_target`` and
    ``faded_edges``: the page's **Edges** control: each node's strongest inputs drawn
    strongly, the other visible edges faint (or not at all when ``faded_edges`` is False),
    as :func:`attribution_viewer.scene.drawn_edges` picks them.
    """

    visible: np.ndarray | None = None
    selected: int | None = None
    clusters: tuple[ClusterHighlight, ...] = ()
    labels: Mapping[int, str] = field(default_factory=dict)
    descriptions: Mapping[int, str] = field(default_factory=dict)
    node_size: float = 8.0
    show_errors: bool = False
    edges_per_target: int = DEFAULT_EDGES_PER_TARGET
    faded_edges: bool = True


@dataclass(frozen=True)
class _Frame:
    """Pixel geometry of the plot area."""

    left: float
    right: float
    top: float
    bottom: float
    plot_width: float
    plot_height: float


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


def _layer_axis(
    ticks: np.ndarray, labels: Sequence[str], plot_height: float, font_size: float
) -> dict[str, Any]:
    """y-axis settings: one tick per row (rows centred at ``ticks``), thinned out when rows
    are too dense for the font."""
    n_rows = len(ticks)
    span = float(ticks[-1] - ticks[0]) if n_rows > 1 else 1.0
    stride = max(1, math.ceil(font_size * 1.15 / max(plot_height / max(span + 1.0, 1.0), 1e-6)))
    rows = [r for r in range(n_rows) if r % stride == 0 or r in (0, n_rows - 1)]
    if len(rows) > 2 and rows[-1] - rows[-2] < stride:
        rows.pop(-2)
    return {
        "tickvals": [float(ticks[r]) for r in rows],
        "ticktext": [labels[r] for r in rows],
        "range": [float(ticks[0]) - 0.7, float(ticks[-1]) + 0.7],
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
