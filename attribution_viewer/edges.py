"""Edge widths and line batches for drawing many edges with few traces. Pure numpy.

Edges are addressed by their index into ``store.adjacency.data`` (CSR order, rows are
sources). :func:`edge_widths` gives every edge a relative width in ``[0, 1]``:
``sqrt(|w| / sum of |w| over the edges entering the same target)``, so each node's
inputs are compared with each other. Mask-only graphs (``store.weighted`` False) draw
every edge at :data:`MASK_WIDTH`.

:func:`edge_batches` groups the selected edges by sign and width bucket and flattens
each group into one ``x`` / ``y`` polyline with NaN separators (source, target, NaN per
edge), ready for one plotly line trace per batch (the print figure); the browser's canvas
gets the same batches packed by :mod:`attribution_viewer.canvas`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from attribution_viewer.layout import GraphLayout
from attribution_viewer.model import GraphStore
from attribution_viewer.style import EDGE_MAX_OPACITY, EDGE_MAX_WIDTH, EDGE_MIN_OPACITY, EDGE_MIN_WIDTH

MASK_WIDTH = 0.2  # mask edges fall in the thinnest bucket
COORD_DECIMALS = 1


class EdgeBatch(NamedTuple):
    """Edges of one sign (+1, -1, or 0 for mask edges) and one width bucket."""

    sign: int
    bucket: int
    width: float
    opacity: float
    edges: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    x: np.ndarray
    y: np.ndarray


def edge_sources(store: GraphStore) -> np.ndarray:
    """Source node of every entry of ``store.adjacency.data``."""
    a = store.adjacency
    return np.repeat(np.arange(store.n_nodes, dtype=np.int64), np.diff(a.indptr))


def edge_widths(store: GraphStore) -> np.ndarray:
    """Relative width in ``[0, 1]`` of every edge (see module docstring)."""
    a = store.adjacency
    if not store.weighted:
        return np.full(a.nnz, MASK_WIDTH)
    magnitude = np.abs(a.data.astype(np.float64))
    incoming = np.bincount(a.indices, weights=magnitude, minlength=store.n_nodes)
    denominator = incoming[a.indices]
    rel = np.divide(magnitude, denominator, out=np.zeros_like(magnitude), where=denominator > 0)
    return np.sqrt(rel)


def selected_edges(store: GraphStore, selection: np.ndarray | None) -> np.ndarray:
    """Edge indices from ``selection``: None (all), a boolean mask over the edges, or indices."""
    nnz = store.adjacency.nnz
    if selection is None:
        return np.arange(nnz, dtype=np.int64)
    sel = np.asarray(selection)
    if sel.dtype == bool:
        if sel.shape != (nnz,):
            raise ValueError(f"edge mask has shape {sel.shape}, expected ({nnz},)")
        return np.flatnonzero(sel)
    return sel.astype(np.int64, copy=False)


def polyline(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat ``(x, y)`` arrays ``[x0, x1, NaN, ...]`` for segments, rounded to ``COORD_DECIMALS``."""
    m = x0.shape[0]
    xs = np.empty((m, 3))
    ys = np.empty((m, 3))
    xs[:, 0], xs[:, 1], xs[:, 2] = x0, x1, np.nan
    ys[:, 0], ys[:, 1], ys[:, 2] = y0, y1, np.nan
    return np.round(xs.ravel(), COORD_DECIMALS), np.round(ys.ravel(), COORD_DECIMALS)


def edge_batches(
    store: GraphStore,
    layout: GraphLayout,
    selection: np.ndarray | None = None,
    *,
    n_buckets: int = 4,
    widths: np.ndarray | None = None,
    min_width: float = EDGE_MIN_WIDTH,
    max_width: float = EDGE_MAX_WIDTH,
    min_opacity: float = EDGE_MIN_OPACITY,
    max_opacity: float = EDGE_MAX_OPACITY,
) -> list[EdgeBatch]:
    """Batches of the selected edges whose both ends are placed in ``layout``.

    Bucket ``b`` (0 = thinnest) holds relative widths in ``[b / n, (b + 1) / n)`` (the top
    bucket also holds 1.0) and is drawn ``min_width + (max_width - min_width) * (b + 1) / n``
    pixels wide, with the opacity scaled the same way. Batches come thinnest first, then by
    sign (-1, 0, +1), so that strong edges are drawn on top. ``widths`` defaults to
    :func:`edge_widths` (pass it to avoid recomputing).
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be >= 1, got {n_buckets}")
    a = store.adjacency
    edges = selected_edges(store, selection)
    src = edge_sources(store)[edges]
    tgt = a.indices[edges].astype(np.int64)
    placed = ~(np.isnan(layout.x[src]) | np.isnan(layout.x[tgt]))
    edges, src, tgt = edges[placed], src[placed], tgt[placed]

    rel = (edge_widths(store) if widths is None else widths)[edges]
    bucket = np.minimum((rel * n_buckets).astype(np.int64), n_buckets - 1)
    sign = np.sign(a.data[edges]).astype(np.int64) if store.weighted else np.zeros(edges.size, np.int64)
    group = bucket * 3 + (sign + 1)
    order = np.argsort(group, kind="stable")
    group_sorted = group[order]
    bounds = np.flatnonzero(np.diff(group_sorted)) + 1
    starts = np.concatenate(([0], bounds))
    stops = np.concatenate((bounds, [group_sorted.size]))

    batches: list[EdgeBatch] = []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        if start == stop:
            continue
        members = order[start:stop]
        g = int(group_sorted[start])
        b, s = divmod(g, 3)
        frac = (b + 1) / n_buckets
        xs, ys = polyline(
            layout.x[src[members]], layout.y[src[members]], layout.x[tgt[members]], layout.y[tgt[members]]
        )
        batches.append(
            EdgeBatch(
                sign=s - 1,
                bucket=b,
                width=min_width + (max_width - min_width) * frac,
                opacity=min_opacity + (max_opacity - min_opacity) * frac,
                edges=edges[members],
                src=src[members],
                tgt=tgt[members],
                x=xs,
                y=ys,
            )
        )
    return batches
