"""Node labels written beside nodes: which ones fit, and where, without overlaps.

Pure geometry in pixel space, shared by the interactive graph and the exports. Labels are
placed greedily in priority order (forced ones first: pinned and selected nodes), each at
the first free spot of: right of its node, left of it, above, below. A spot is free when
its box meets no placed label box and no other node's marker. Labels that find no spot are
left out, so zooming in (more pixels between nodes) shows more of them. Text longer than
``max_chars`` is cut with an ellipsis; widths are estimated from the character count
(no font metrics here), slightly generously, so that real text stays inside its box.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

CHAR_WIDTH = 0.58  # average glyph width as a fraction of the font size (sans serif)
LINE_HEIGHT = 1.25  # box height as a multiple of the font size
PAD = 2.0  # px between a marker and its label, and around each box

Side = Literal["right", "left", "above", "below"]
SIDES: tuple[Side, ...] = ("right", "left", "above", "below")


def text_width(text: str, font_size: float) -> float:
    """Estimated rendered width in px of ``text`` at ``font_size`` px."""
    return len(text) * CHAR_WIDTH * font_size


def shorten(text: str, max_chars: int) -> str:
    """``text`` on one line, cut to ``max_chars`` characters with an ellipsis when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max(max_chars - 1, 1)].rstrip() + "…"


@dataclass(frozen=True)
class PlacedLabel:
    """A label that fits: the node, the (possibly shortened) text, its anchor and its box.

    ``x``/``y`` is the anchor point in px (y grows downwards); ``side`` says where the text
    sits relative to its node; ``box`` is (left, top, right, bottom) in px."""

    index: int
    text: str
    x: float
    y: float
    side: Side
    box: tuple[float, float, float, float]


class _Grid:
    """Boxes in a uniform grid of cells, for fast overlap queries."""

    def __init__(self, cell: float) -> None:
        self.cell = max(cell, 1.0)
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def _keys(self, box: tuple[float, float, float, float]) -> Iterable[tuple[int, int]]:
        c = self.cell
        for gx in range(int(box[0] // c), int(box[2] // c) + 1):
            for gy in range(int(box[1] // c), int(box[3] // c) + 1):
                yield gx, gy

    def add(self, box: tuple[float, float, float, float]) -> None:
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(box)

    def hits(self, box: tuple[float, float, float, float]) -> bool:
        for key in self._keys(box):
            for other in self.cells.get(key, ()):
                if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                    return True
        return False


def _candidate(
    x: float, y: float, width: float, height: float, radius: float, side: Side
) -> tuple[float, float, tuple[float, float, float, float]]:
    """Anchor and box of a label of ``width`` x ``height`` on ``side`` of a node at (x, y)."""
    if side == "right":
        ax, ay = x + radius + PAD, y
        box = (ax, y - height / 2, ax + width, y + height / 2)
    elif side == "left":
        ax, ay = x - radius - PAD, y
        box = (ax - width, y - height / 2, ax, y + height / 2)
    elif side == "above":
        ax, ay = x, y - radius - PAD - height / 2
        box = (x - width / 2, ay - height / 2, x + width / 2, ay + height / 2)
    else:
        ax, ay = x, y + radius + PAD + height / 2
        box = (x - width / 2, ay - height / 2, x + width / 2, ay + height / 2)
    return ax, ay, box


def place_labels(
    x: np.ndarray,
    y: np.ndarray,
    texts: dict[int, str],
    order: Sequence[int],
    *,
    font_size: float,
    marker_size: float,
    width: float,
    height: float,
    max_chars: int = 28,
    forced: Iterable[int] = (),
    obstacles: np.ndarray | None = None,
) -> list[PlacedLabel]:
    """The labels of ``texts`` (node index -> text) that fit, in ``order`` of priority.

    ``x``/``y``: every node's position in px (y downwards) inside a ``width`` x ``height``
    plot; ``obstacles``: indices of the drawn nodes whose markers labels must not cover
    (default: every node of ``order``); ``forced`` nodes are placed first and always
    labelled (on their right when no spot is free). Deterministic for equal input.
    """
    forced_list = [i for i in dict.fromkeys(forced) if i in texts]
    forced_set = set(forced_list)
    queue = forced_list + [i for i in order if i in texts and i not in forced_set]
    height_px = font_size * LINE_HEIGHT
    radius = marker_size / 2
    grid = _Grid(font_size * 6)
    markers = _Grid(font_size * 6)
    drawn = np.asarray(order if obstacles is None else obstacles, dtype=np.int64)
    for i in drawn.tolist():
        cx, cy = float(x[i]), float(y[i])
        markers.add((cx - radius, cy - radius, cx + radius, cy + radius))
    placed: list[PlacedLabel] = []
    for i in queue:
        text = shorten(texts[i], max_chars)
        if not text:
            continue
        w = text_width(text, font_size) + 2 * PAD
        spot: PlacedLabel | None = None
        for side in SIDES:
            ax, ay, box = _candidate(float(x[i]), float(y[i]), w, height_px, radius, side)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
            if inside and not grid.hits(box) and not markers.hits(box):
                spot = PlacedLabel(i, text, ax, ay, side, box)
                break
        if spot is None and i in forced_set:
            ax, ay, box = _candidate(float(x[i]), float(y[i]), w, height_px, radius, "right")
            spot = PlacedLabel(i, text, ax, ay, "right", box)
        if spot is not None:
            grid.add(spot.box)
            placed.append(spot)
    return placed
