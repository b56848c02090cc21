"""Visual constants of every figure (interactive view and print export), in one place.

Colours are CSS strings that plotly accepts. Edge colours follow ColorBrewer PRGn:
green for positive attribution, purple for negative, grey for unweighted (mask) edges.
"""

from __future__ import annotations

from typing import Final

from attribution_viewer.model import NodeKind

FONT_FAMILY: Final = "Helvetica, Arial, 'DejaVu Sans', sans-serif"

# -- nodes --------------------------------------------------------------------
NODE_COLORS: Final[dict[NodeKind, str]] = {
    NodeKind.FEATURE: "#4c78a8",
    NodeKind.ERROR: "rgba(150, 150, 150, 0.45)",
    NodeKind.EMBEDDING: "#7f7f7f",
    NodeKind.LOGIT: "#f2a541",
}
TARGET_LOGIT_COLOR: Final = "#d62728"
NODE_LINE_COLOR: Final = "#333333"
SELECTED_NODE_COLOR: Final = "#ff7f0e"
# Features present in both graphs of a comparison (marked in both).
SHARED_FEATURE_COLOR: Final = "#e7298a"

NODE_SYMBOLS: Final[dict[NodeKind, str]] = {
    NodeKind.FEATURE: "circle",
    NodeKind.ERROR: "diamond",
    NodeKind.EMBEDDING: "square",
    NodeKind.LOGIT: "square",
}

NODE_KIND_LABELS: Final[dict[NodeKind, str]] = {
    NodeKind.FEATURE: "Feature",
    NodeKind.ERROR: "Error",
    NodeKind.EMBEDDING: "Embedding",
    NodeKind.LOGIT: "Logit",
}

# -- edges --------------------------------------------------------------------
EDGE_POSITIVE_COLOR: Final = "#1b7837"  # PRGn dark green
EDGE_NEGATIVE_COLOR: Final = "#762a83"  # PRGn dark purple
EDGE_MASK_COLOR: Final = "#8c8c8c"
EDGE_COLORS: Final[dict[int, str]] = {1: EDGE_POSITIVE_COLOR, -1: EDGE_NEGATIVE_COLOR, 0: EDGE_MASK_COLOR}
EDGE_SIGN_LABELS: Final[dict[int, str]] = {1: "Positive edge", -1: "Negative edge", 0: "Edge"}
EDGE_MIN_WIDTH: Final = 0.4
EDGE_MAX_WIDTH: Final = 3.5
EDGE_MIN_OPACITY: Final = 0.15
EDGE_MAX_OPACITY: Final = 0.8

# -- clusters -----------------------------------------------------------------
# Categorical palette for clusters: 16 mutually distinguishable colours.
CLUSTER_PALETTE: Final[tuple[str, ...]] = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#fabed4",
    "#469990",
    "#dcbeff",
    "#9a6324",
    "#800000",
    "#aaffc3",
    "#808000",
    "#000075",
)


def cluster_color(index: int) -> str:
    """The palette colour of the ``index``-th cluster (cycles past the palette)."""
    return CLUSTER_PALETTE[index % len(CLUSTER_PALETTE)]
