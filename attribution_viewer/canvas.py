"""The canvas payload: the Python half of ``assets/app.js``'s edge-canvas contract.

The browser draws edges on two canvases under the plot (the figure's traces are nodes
only). This module packs what they draw as JSON with base64 binary arrays:

* :func:`base_edge_layer` (store ``edge-layer``): node positions ``x`` / ``y`` (float32,
  NaN when not placed) and the drawn edges as (source, target) node-index pairs ``ends``
  (uint16 below 65,536 nodes, ``index_bytes`` 2, else uint32), in style ``batches``
  (colour, width, opacity, count, ``faded``, ``max_opacity``), drawn in order: first the
  faded edges (thin, nearly transparent; the browser raises their opacity with the zoom
  factor, up to ``max_opacity``, so a zoomed-in region shows them), then the strong ones;
* :func:`selection_layer` (store ``selection-layer``): the selected node's edges (strong,
  same encoding without positions), ``selected``, its ``neighbours`` with
  ``neighbour_signs`` and ``sign_colors``, and ring sizes.

All arrays are little-endian. The browser decodes them with ``atob`` and typed arrays.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attribution_viewer.edges import COORD_DECIMALS, EdgeBatch, edge_batches, edge_sources
from attribution_viewer.layout import GraphLayout
from attribution_viewer.model import GraphStore
from attribution_viewer.scene import selected_edge_selection
from attribution_viewer.style import EDGE_COLORS, SELECTED_NODE_COLOR

N_BUCKETS = 4


SIGNS = (-1, 0, 1)


FADED_EDGE_OPACITY = 0.03  # base edges that are not strong: thin, nearly transparent, ...


FADED_EDGE_MAX_OPACITY = 0.3  # ... more visible as the user zooms in, up to this ...


FADED_EDGE_WIDTH = 0.6


SELECTED_EDGE_EMPHASIS = 3.0  # ... and the selection's edges strongly


SELECTED_EDGE_WIDENING = 1.6


def base_edge_layer(
    store: GraphStore, layout: GraphLayout, drawn: np.ndarray, strong: np.ndarray
) -> dict[str, Any]:
    """The drawn edges (a mask over ``adjacency.data``) for the browser's canvas layer: those
    of ``strong`` (a subset) by width bucket at their full opacity, the others faded (one
    batch per sign, drawn first, ``faded`` true)."""
    faded = [
        b._replace(width=FADED_EDGE_WIDTH, opacity=FADED_EDGE_OPACITY)
        for b in edge_batches(store, layout, drawn & ~strong, n_buckets=1)
    ]
    batches = faded + edge_batches(store, layout, strong, n_buckets=N_BUCKETS)
    return encode_edge_layer(layout, batches, EDGE_COLORS, faded_batches=len(faded))


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


def base64_array(array: np.ndarray) -> str:
    """The bytes of ``array`` (give it an explicit little-endian dtype), base64-encoded."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def encode_edge_ends(
    n_nodes: int,
    batches: Sequence[EdgeBatch],
    colors: Mapping[int, str],
    opacity_factor: float = 1.0,
    faded_batches: int = 0,
) -> dict[str, Any]:
    """The edges of ``batches`` for the canvas: ``ends``, (source, target) pairs of node
    indices, uint16 when there are fewer than 65,536 nodes (``index_bytes`` 2) else uint32
    (4), batch after batch, little-endian, base64; ``batches``: colour, width, opacity (times
    ``opacity_factor``, at most 1) and edge count of each, drawn in order, and ``faded``
    (true for the first ``faded_batches``) with ``max_opacity``, the opacity a faded batch
    may reach when zoomed in (the opacity itself for the others)."""
    index_type = np.dtype("<u2") if n_nodes < 2**16 else np.dtype("<u4")
    pairs = [np.column_stack((b.src, b.tgt)).ravel() for b in batches]
    ends = np.concatenate(pairs).astype(index_type) if pairs else np.zeros(0, index_type)
    out = []
    for i, b in enumerate(batches):
        opacity = round(min(1.0, b.opacity * opacity_factor), 3)
        faded = i < faded_batches
        out.append(
            {
                "color": colors[b.sign],
                "width": round(b.width, 3),
                "opacity": opacity,
                "count": int(b.edges.size),
                "faded": faded,
                "max_opacity": FADED_EDGE_MAX_OPACITY if faded else opacity,
            }
        )
    return {"ends": base64_array(ends), "index_bytes": index_type.itemsize, "batches": out}


def encode_edge_layer(
    layout: GraphLayout,
    batches: Sequence[EdgeBatch],
    colors: Mapping[int, str],
    opacity_factor: float = 1.0,
    faded_batches: int = 0,
) -> dict[str, Any]:
    """JSON for the canvas edge layer (``assets/app.js`` draws it): :func:`encode_edge_ends`
    plus ``x`` / ``y``, the float32 position of every node (NaN when not placed, rounded to
    ``COORD_DECIMALS``), little-endian, base64."""
    return {
        "x": base64_array(np.round(layout.x, COORD_DECIMALS).astype("<f4")),
        "y": base64_array(np.round(layout.y, COORD_DECIMALS).astype("<f4")),
        **encode_edge_ends(layout.x.size, batches, colors, opacity_factor, faded_batches),
    }
