"""Node labels written beside nodes: which ones fit, and where, without overlaps.

Pure geometry in pixel space, shared by the interactive graph and the exports. Labels are
placed greedily in priority order (forced ones first: pinned and selected nodes), each at
the first free spot of: right of its node, left of it, above, below. A spot is free when
its box meets no placed label box, no other node's marker and no ``blocked`` box (text the
figure already writes, such as logit tokens). Labels that find no spot are left out, so
zooming in (more pixels between nodes) shows more of them. Text longer than ``max_chars``
is cut with an ellipsis; widths are estimated from the character count (no font metrics
here), slightly generously, so that real text stays inside its box.

Which text a node gets and in which priority (:func:`label_texts`), and the map between data
coordinates and the plot's pixels (:class:`Frame`), are here too: the interactive graph
(``app/node_labels.py``) and the print figure place labels with the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from attribution_viewer.influence import cumulative_influence
from attribution_viewer.model import GraphStore, NodeKind

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


Box = tuple[float, float, float, float]  # (left, top, right, bottom) in px, y downwards


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
    blocked: Iterable[Box] = (),
) -> list[PlacedLabel]:
    """The labels of ``texts`` (node index -> text) that fit, in ``order`` of priority.

    ``x``/``y``: every node's position in px (y downwards) inside a ``width`` x ``height``
    plot; ``obstacles``: indices of the drawn nodes whose markers labels must not cover
    (default: every node of ``order``); ``blocked``: other boxes (px) labels must not
    cover; ``forced`` nodes are placed first and always labelled (on their right when no
    spot is free). Deterministic for equal input.
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
    for box in blocked:
        markers.add(box)
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


def side_box(x: float, y: float, width: float, height: float, radius: float, side: Side) -> Box:
    """The box (px) of a ``width`` x ``height`` text written on ``side`` of a marker of
    ``radius`` px at (``x``, ``y``): for text the figure already writes (see ``blocked``)."""
    return _candidate(x, y, width, height, radius, side)[2]


@dataclass(frozen=True)
class Frame:
    """A plot area: the data ranges it shows and its size in px (y grows downwards in px)."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width: float
    height: float

    def __post_init__(self) -> None:
        if not (self.width > 0 and self.height > 0):
            raise ValueError(f"plot size must be positive, got {self.width} x {self.height} px")
        if not (self.x_range[1] != self.x_range[0] and self.y_range[1] != self.y_range[0]):
            raise ValueError(f"axis ranges must not be empty, got {self.x_range} and {self.y_range}")

    def to_pixels(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Data coordinates -> px from the plot area's top left corner."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (x - x0) * (self.width / (x1 - x0)), (y1 - y) * (self.height / (y1 - y0))

    def to_data(self, px: float, py: float) -> tuple[float, float]:
        """px from the plot area's top left corner -> data coordinates."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return x0 + px * (x1 - x0) / self.width, y1 - py * (y1 - y0) / self.height

    def inside(self, x: np.ndarray, y: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """Mask of the ``visible`` nodes whose centre lies in the plot area."""
        px, py = self.to_pixels(x, y)
        with np.errstate(invalid="ignore"):
            return visible & (px >= 0) & (px <= self.width) & (py >= 0) & (py <= self.height)


LABELLED_KINDS = (NodeKind.FEATURE, NodeKind.ERROR)  # embeddings and logits show their token already


class LabelTexts(NamedTuple):
    """Each labelled node's text (node index -> text) and the nodes in priority order."""

    texts: dict[int, str]
    order: list[int]


def first_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped ("" when none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def label_texts(
    store: GraphStore,
    indices: Iterable[int],
    user_labels: Mapping[int, str],
    descriptions: Mapping[int, str],
) -> LabelTexts:
    """The label text of each feature and error node of ``indices``, and their priority.

    Text: the user's label, else the graph's own label (a Neuronpedia clerp), else the first
    line of the node's description (``descriptions``: node index -> text, those known), else
    a short code (``L4/1311`` for a feature, ``err L4`` for an error node). Priority: nodes
    with a name (not a code) first; within each group the most influential first (lowest
    cumulative influence, then index).
    """
    nodes = store.nodes
    texts: dict[int, str] = {}
    named: list[int] = []
    coded: list[int] = []
    for i in indices:
        kind = store.kind_of(i)
        if kind not in LABELLED_KINDS:
            continue
        name = first_line(user_labels.get(i, "") or str(nodes.label[i]) or descriptions.get(i, ""))
        if name:
            named.append(i)
        elif kind is NodeKind.FEATURE:
            name = f"L{int(nodes.layer[i])}/{int(nodes.feature_idx[i])}"
            coded.append(i)
        else:
            name = f"err L{int(nodes.layer[i])}"
            coded.append(i)
        texts[i] = name
    influence = cumulative_influence(store)
    order = sorted(named, key=lambda i: (float(influence[i]), i)) + sorted(
        coded, key=lambda i: (float(influence[i]), i)
    )
    return LabelTexts(texts, order)


def place_in_frame(
    frame: Frame,
    x: np.ndarray,
    y: np.ndarray,
    inside: np.ndarray,
    texts: LabelTexts,
    *,
    font_size: float,
    marker_size: float,
    max_chars: int = 28,
    forced: Iterable[int] = (),
    blocked: Iterable[Box] = (),
) -> list[PlacedLabel]:
    """:func:`place_labels` for nodes at data coordinates ``x``/``y`` in ``frame``: only the
    ``inside`` nodes (mask, see :meth:`Frame.inside`) are labelled or block labels; boxes
    and anchors are in the frame's px."""
    px, py = frame.to_pixels(x, y)
    return place_labels(
        px,
        py,
        texts.texts,
        [i for i in texts.order if inside[i]],
        font_size=font_size,
        marker_size=marker_size,
        width=frame.width,
        height=frame.height,
        max_chars=max_chars,
        forced=[i for i in forced if 0 <= i < inside.size and inside[i]],
        obstacles=np.flatnonzero(inside),
        blocked=blocked,
    )
