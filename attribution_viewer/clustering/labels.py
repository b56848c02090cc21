"""Names of highlighted clusters written next to their members in the main graph.

Pure: numpy only; returns plotly annotation dicts (no plotly import). Each cluster's name
goes beside the bounding box of its visible members, in the cluster's colour on a white
backing so it stays legible over edges. Candidate spots are tried in order: right of the
box at its top, left of it, above it, below it, then the same spots one text line further
up or down (up to ``MAX_SHIFT_LINES``); the first spot whose text box overlaps no name
placed before and stays inside the plot, and costs least: each node marker it covers
(``obstacles``: the visible nodes) costs 1, each line it moves up or down ``SHIFT_COST``
(so a name moves up to two lines to uncover a node, but stays next to its cluster).
Names longer than ``MAX_NAME_CHARS`` are cut with an ellipsis; the full name shows on
hover. Light colours are darkened for the
text (:func:`readable_color`); the border keeps the cluster's own colour.

The interactive figure sizes itself in the browser, so the pixel scale is an assumption
(``plot_px``, the plot area of the default window); at other sizes the labels keep their
data positions, and they only come closer together when the plot is smaller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from attribution_viewer.model import escape_markup

MAX_NAME_CHARS = 28
MAX_SHIFT_LINES = 6
CHAR_WIDTH = 0.6  # average glyph width as a fraction of the font size
PLOT_PX = (1000.0, 620.0)  # plot area (px) the placement assumes
PAD_PX = 6.0  # gap between a bounding box and its name
SHIFT_COST = 0.5  # moving a name one line away costs as much as covering half a marker


class NamedGroup(NamedTuple):
    """A highlighted cluster: name, colour, and the (x, y) of its visible members."""

    name: str
    color: str
    x: np.ndarray
    y: np.ndarray


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in px (y up)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def readable_color(color: str, max_luminance: float = 0.55) -> str:
    """``#rrggbb`` darkened (towards black, same hue) until its luminance is at most
    ``max_luminance``, so that text in it reads on white; other strings unchanged."""
    if len(color) != 7 or not color.startswith("#"):
        return color
    rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    if luminance <= max_luminance:
        return color
    scale = max_luminance / luminance
    return "#" + "".join(f"{round(c * scale * 255):02x}" for c in rgb)


def short_label(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """``name`` cut to ``limit`` characters with an ellipsis."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def cluster_name_annotations(
    groups: Sequence[NamedGroup],
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    plot_px: tuple[float, float] = PLOT_PX,
    font_size: float = 11.0,
    marker_px: float = 10.0,
    obstacles: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """One annotation per group with members, placed as the module docstring says.

    ``obstacles`` holds the (x, y) of the node markers a name should not cover (the
    groups' own members included).
    """
    px_x = plot_px[0] / (x_range[1] - x_range[0])
    px_y = plot_px[1] / (y_range[1] - y_range[0])
    if obstacles is None:
        ox = oy = np.zeros(0)
    else:
        ox = (np.asarray(obstacles[0], dtype=np.float64) - x_range[0]) * px_x
        oy = (np.asarray(obstacles[1], dtype=np.float64) - y_range[0]) * px_y
    half = marker_px / 2

    def covered(box: Box) -> int:
        """How many obstacle markers the text box overlaps."""
        return int(
            np.count_nonzero(
                (ox + half > box[0]) & (ox - half < box[2]) & (oy + half > box[1]) & (oy - half < box[3])
            )
        )

    line = font_size * 1.3
    placed: list[Box] = []
    out: list[dict[str, Any]] = []
    for group in groups:
        if group.x.size == 0:
            continue
        text = short_label(group.name)
        w, h = len(text) * CHAR_WIDTH * font_size + 8.0, line + 4.0  # + the backing's padding
        x0 = (float(np.min(group.x)) - x_range[0]) * px_x - marker_px / 2
        x1 = (float(np.max(group.x)) - x_range[0]) * px_x + marker_px / 2
        y0 = (float(np.min(group.y)) - y_range[0]) * px_y - marker_px / 2
        y1 = (float(np.max(group.y)) - y_range[0]) * px_y + marker_px / 2
        spots = [  # left x of the text box, its vertical centre
            (x1 + PAD_PX, y1 - h / 2),
            (x0 - PAD_PX - w, y1 - h / 2),
            ((x0 + x1 - w) / 2, y1 + PAD_PX + h / 2),
            ((x0 + x1 - w) / 2, y0 - PAD_PX - h / 2),
        ]
        chosen: Box | None = None
        best = np.inf  # cost of the chosen spot: markers covered + SHIFT_COST per line moved
        for shift in range(2 * MAX_SHIFT_LINES + 1):
            lines = (shift + 1) // 2
            if lines * SHIFT_COST >= best:
                break
            dy = line * lines * (1 if shift % 2 else -1)
            for left, centre in spots:
                box = (left, centre + dy - h / 2, left + w, centre + dy + h / 2)
                inside = box[0] >= 0 and box[2] <= plot_px[0] and box[1] >= 0 and box[3] <= plot_px[1]
                if not inside or any(_overlaps(box, other) for other in placed):
                    continue
                cost = covered(box) + lines * SHIFT_COST
                if cost < best:
                    chosen, best = box, cost
        if chosen is None:  # crowded: right of the box, on top of what is there
            chosen = (x1 + PAD_PX, y1 - h, x1 + PAD_PX + w, y1)
        placed.append(chosen)
        out.append(
            {
                "x": round(x_range[0] + chosen[0] / px_x, 3),
                "y": round(y_range[0] + (chosen[1] + chosen[3]) / 2 / px_y, 3),
                "xref": "x",
                "yref": "y",
                "xanchor": "left",
                "yanchor": "middle",
                "text": escape_markup(text),
                "hovertext": escape_markup(group.name),
                "showarrow": False,
                "font": {"size": font_size, "color": readable_color(group.color)},
                "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": group.color,
                "borderwidth": 1,
                "borderpad": 1,
            }
        )
    return out
