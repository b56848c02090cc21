"""The cluster panel's cluster-level graph (issue #12): the clusters of the browser's state
drawn by the one cluster-graph builder the export also uses
(:func:`~attribution_viewer.export.cluster_figure.cluster_figure`, interactive). No callbacks.
"""

from __future__ import annotations

import plotly.graph_objects as go

from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering import ClusterState
from attribution_viewer.export.cluster_figure import ClusterNode, cluster_figure
from attribution_viewer.export.print_geometry import PrintOptions

CLUSTER_GRAPH_WIDTH = 440  # px the cluster graph's name placement assumes (the panel is at least this wide
# from a 1375 px window; a wider panel only spreads the clusters apart)
CLUSTER_GRAPH_LINE = 16  # px of height per cluster, so that every name finds a free line


def cluster_graph_figure(ctx: AppContext, state: ClusterState) -> go.Figure:
    """The cluster-level graph of ``state``: highlighted clusters solid, the others faded;
    as high as its clusters need (the panel scrolls)."""
    index_of = ctx.store.index_of
    active = set(state.active)
    nodes = [
        ClusterNode(c.id, c.name, c.description, c.color, members, c.id in active)
        for c in state.clusters
        for members in [tuple(index_of[k] for k in c.nodes if k in index_of)]
    ]
    height = int(min(max(260, 70 + CLUSTER_GRAPH_LINE * len(nodes)), 1200))
    page = PrintOptions(width=CLUSTER_GRAPH_WIDTH, height=height, font_size=10.0)
    return cluster_figure(ctx.store, nodes, page, interactive=True)
