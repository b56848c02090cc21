"""Node positions of the graph view: x by token position, y by layer band. Pure numpy.

Coordinate system
    One horizontal unit is one node *slot*. Rows (y) are integers: row 0 holds the
    embeddings, row ``layer + 1`` holds the features and errors of model layer ``layer``,
    row ``n_layers + 1`` holds the logits. Token position ``p`` owns the column
    ``[column_left[p], column_right[p]]``; columns are separated by ``COLUMN_GAP`` slots.

Column width
    A column is as wide as its busiest (position, row) cell, in slots, but never narrower
    than ``min_column_width`` so that a position with no visible node still shows its token.
    A cell with more than ``max_per_line`` nodes wraps onto several lines inside its row
    (``LINE_STEP`` rows apart), so one crowded cell (typically layer 0 under a busy token)
    does not stretch its column across the page: the row grows taller instead, and the rows
    above move up (``layer_ticks`` holds every row's centre).

Inside a cell
    Nodes sit side by side, one slot apart, centred on the column. The order is
    deterministic: features before errors (errors go to the end of the row), then by
    descending ``|score|`` (influence by default), then by feature index, then storage
    index. Logits carry the last position, so they spread along the top of the last column
    in rank order (rank 0 = target logit leftmost), ``logit_spacing`` slots apart (the
    interactive view uses 3 so that their token / probability labels fit).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from attribution_viewer.model import EMBEDDING_LAYER, GraphStore

COLUMN_GAP = 1.0
MIN_COLUMN_WIDTH = 3.0
MAX_PER_LINE = 16
LINE_STEP = 0.5


@dataclass(frozen=True, eq=False)
class GraphLayout:
    """Positions of the nodes and the axes of the graph view.

    ``x`` and ``y`` hold one value per node (storage order), NaN where the node is not
    visible. ``column_*`` hold one value per token position. ``layer_ticks`` are the
    y values of the rows, labelled by ``layer_tick_labels`` (``Emb``, ``L0`` .. ``Logit``).
    """

    x: np.ndarray
    y: np.ndarray
    column_left: np.ndarray
    column_right: np.ndarray
    column_center: np.ndarray
    layer_ticks: np.ndarray
    layer_tick_labels: tuple[str, ...]

    @property
    def width(self) -> float:
        """Right edge of the last column (0 when the prompt is empty)."""
        return float(self.column_right[-1]) if self.column_right.size else 0.0


def layer_tick_labels(n_layers: int) -> tuple[str, ...]:
    """Row labels from the bottom: ``("Emb", "L0", ..., "L{n-1}", "Logit")``."""
    return ("Emb", *(f"L{layer}" for layer in range(n_layers)), "Logit")


def default_order_score(store: GraphStore) -> np.ndarray:
    """Per-node sort score: the file's influence, else |activation|, else 0."""
    nodes = store.nodes
    score = np.abs(nodes.influence.astype(np.float64))
    missing = np.isnan(score)
    score[missing] = np.abs(nodes.activation[missing].astype(np.float64))
    return np.nan_to_num(score, nan=0.0)


def widen_columns(layout: GraphLayout, node_pos: np.ndarray, min_widths: np.ndarray) -> GraphLayout:
    """``layout`` with column ``p`` at least ``min_widths[p]`` slots wide.

    Nodes keep their offset from their column's centre (``node_pos``: the token position
    of every node, e.g. ``store.nodes.pos``); columns keep their order and gaps.
    """
    if layout.column_left.size == 0:
        return layout
    widths = np.maximum(layout.column_right - layout.column_left, min_widths)
    left = np.concatenate(([0.0], np.cumsum(widths + COLUMN_GAP)[:-1]))
    center = left + widths / 2.0
    pos = np.clip(node_pos.astype(np.int64), 0, layout.column_center.size - 1)
    shift = center - layout.column_center
    return dataclasses.replace(
        layout, x=layout.x + shift[pos], column_left=left, column_right=left + widths, column_center=center
    )


def compute_layout(
    store: GraphStore,
    visible: np.ndarray | None = None,
    *,
    score: np.ndarray | None = None,
    min_column_width: float = MIN_COLUMN_WIDTH,
    logit_spacing: float = 1.0,
    max_per_line: int = MAX_PER_LINE,
) -> GraphLayout:
    """Place the ``visible`` nodes (boolean mask, default all) of ``store``.

    ``score`` orders the nodes inside a cell (larger ``|score|`` first); it defaults to
    :func:`default_order_score`. Logits sit ``logit_spacing`` slots apart so that their
    token / probability labels do not collide; feature / error cells wrap after
    ``max_per_line`` nodes. See the module docstring for the rules.
    """
    nodes = store.nodes
    n = len(nodes)
    n_pos = max(store.n_pos, 1)
    n_rows = store.n_layers + 2
    vis = np.ones(n, dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    if vis.shape != (n,):
        raise ValueError(f"visible mask has shape {vis.shape}, expected ({n},)")
    order_score = default_order_score(store) if score is None else np.abs(np.nan_to_num(score, nan=0.0))

    idx = np.flatnonzero(vis)
    pos = np.clip(nodes.pos[idx].astype(np.int64), 0, n_pos - 1)
    row = np.clip(nodes.layer[idx].astype(np.int64) - EMBEDDING_LAYER, 0, n_rows - 1)
    cell = pos * n_rows + row

    # Rank of every visible node inside its cell (lexsort: last key is primary).
    order = np.lexsort((idx, nodes.feature_idx[idx], -order_score[idx], nodes.kind[idx], cell))
    sorted_cell = cell[order]
    counts = np.bincount(cell, minlength=n_pos * n_rows)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(idx.size, dtype=np.float64)
    rank[order] = np.arange(idx.size) - starts[sorted_cell]

    row_spacing = np.ones(n_rows)
    row_spacing[-1] = logit_spacing
    grid = counts.reshape(n_pos, n_rows)
    # Lines per cell: the logit row never wraps; other cells wrap after max_per_line nodes.
    lines = np.maximum(np.ceil(grid / max(max_per_line, 1)), 1).astype(np.int64)
    lines[:, -1] = 1
    per_line = np.ceil(grid / lines).astype(np.int64)
    spans = np.maximum(per_line - 1, 0) * row_spacing + (grid > 0)
    widths = np.maximum(spans.max(axis=1).astype(np.float64), min_column_width)
    left = np.concatenate(([0.0], np.cumsum(widths + COLUMN_GAP)[:-1]))
    right = left + widths
    center = (left + right) / 2.0

    # Row centres: a row of k lines is 1 + (k - 1) * LINE_STEP rows tall.
    row_height = 1.0 + (lines.max(axis=0) - 1) * LINE_STEP
    ticks = np.concatenate(([0.0], np.cumsum((row_height[:-1] + row_height[1:]) / 2.0)))

    cell_lines = lines.reshape(-1)[cell]
    cell_per_line = per_line.reshape(-1)[cell]
    line = rank // cell_per_line
    slot = rank - line * cell_per_line
    in_line = np.minimum(cell_per_line, counts[cell] - line * cell_per_line)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    x[idx] = center[pos] + (slot - (in_line - 1) / 2.0) * row_spacing[row]
    y[idx] = ticks[row] + (line - (cell_lines - 1) / 2.0) * LINE_STEP
    if store.n_pos == 0:
        left, right, center = left[:0], right[:0], center[:0]
    return GraphLayout(
        x=x,
        y=y,
        column_left=left,
        column_right=right,
        column_center=center,
        layer_ticks=ticks,
        layer_tick_labels=layer_tick_labels(store.n_layers),
    )
