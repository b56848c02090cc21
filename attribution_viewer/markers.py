"""The one node-marker builder, shared by the interactive figure (:mod:`.figures`) and the
print figure (:mod:`.export.print_figure`): marker sizes per node kind and the Plotly
marker trace both draw nodes, rings and cluster discs with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.kinds import NodeKind
from attribution_viewer.style import FONT_FAMILY

KIND_SIZE = {NodeKind.FEATURE: 1.0, NodeKind.ERROR: 0.8, NodeKind.EMBEDDING: 1.15, NodeKind.LOGIT: 1.15}


def node_marker_size(kind: NodeKind, node_size: float) -> float:
    """The marker diameter of a node of ``kind`` at the user's node size."""
    return round(node_size * KIND_SIZE[kind], 2)


def marker_trace(
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
    legend_rank: int | None = None,
) -> go.Scatter:
    """Markers at (``x``, ``y``) for the nodes ``indices`` (positions rounded to 0.01).

    Interactive (``legend_rank`` None): the node index in ``customdata`` maps a click to its
    node, no legend entry. Print (``legend_rank`` set): a legend entry at that rank, no
    click data.
    """
    interactive = legend_rank is None
    return go.Scatter(
        x=np.round(x, 2).astype(np.float32),
        y=np.round(y, 2).astype(np.float32),
        mode="markers+text" if text else "markers",
        name=name,
        # a plain list: Dash drops typed arrays
        customdata=np.asarray(indices, dtype=np.int64).tolist() if interactive else None,
        marker={"symbol": symbol, "color": color, "size": size, "line": dict(line or {"width": 0})},
        text=text,
        textposition=textposition,
        textfont={"size": 11, "family": FONT_FAMILY},
        hovertext=hovertext,
        hoverinfo="text" if hovertext else "skip",
        showlegend=not interactive,
        legendrank=legend_rank,
        cliponaxis=False,
    )
