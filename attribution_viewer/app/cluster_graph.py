"""The cluster panel's cluster-level graph: clusters at the mean position / layer of their
members, arrows for the summed attribution between them (a Plotly figure, no callbacks).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering import ClusterState
from attribution_viewer.clustering.overview import cluster_overview
from attribution_viewer.model import escape_markup, visible_token
from attribution_viewer.style import EDGE_COLORS, FONT_FAMILY

STACK_STEP = 0.7  # layers between clusters drawn on the same spot


ALL_NAMES_UP_TO = 8  # the cluster graph names every cluster up to this many, else only the active ones


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def cluster_graph_figure(ctx: AppContext, state: ClusterState) -> go.Figure:
    """Clusters at the mean position / layer of their members, arrows for the flows between them.

    Names are written next to active clusters (and next to all when there are few); every
    cluster shows its name and description on hover.
    """
    store = ctx.store
    overview = cluster_overview(store, state)
    by_id = {c.id: c for c in state.clusters}
    active = set(state.active)
    fig = go.Figure()
    # clusters on the same (position, layer) spot are stacked upwards so names stay readable
    seen: dict[tuple[int, int], int] = {}
    ys = overview.y.copy()
    for j in np.lexsort((overview.y, overview.x)):
        spot = (round(float(overview.x[j])), round(float(overview.y[j])))
        ys[j] += STACK_STEP * seen.get(spot, 0)
        seen[spot] = seen.get(spot, 0) + 1
    if overview.ids:
        clusters = [by_id[i] for i in overview.ids]
        strongest = max((abs(f.weight) for f in overview.flows), default=1.0) or 1.0
        for flow in overview.flows:
            sign = 0 if not store.weighted else (1 if flow.weight > 0 else -1)
            fig.add_annotation(
                x=overview.x[flow.target], y=ys[flow.target],
                ax=overview.x[flow.source], ay=ys[flow.source],
                xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True, arrowhead=2,
                arrowwidth=0.5 + 3.0 * abs(flow.weight) / strongest, arrowcolor=EDGE_COLORS[sign],
                opacity=0.55, standoff=8, startstandoff=8,
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=overview.x, y=ys, mode="markers+text",
                text=[escape_markup(_short(c.name)) if c.id in active or len(clusters) <= ALL_NAMES_UP_TO
                      else "" for c in clusters],
                textposition="middle right",
                textfont={"size": 11, "family": FONT_FAMILY},
                customdata=list(overview.ids),
                marker={
                    "size": [8 + 4 * math.sqrt(n) for n in overview.sizes],
                    "color": [c.color for c in clusters],
                    "opacity": [1.0 if c.id in active else 0.45 for c in clusters],
                    "line": {"width": [2.5 if c.id in active else 0.5 for c in clusters], "color": "#333"},
                },
                hovertext=[f"{escape_markup(c.name)}<br>{escape_markup(c.description)}" for c in clusters],
                hoverinfo="text",
            )
        )  # fmt: skip
    positions = sorted({round(float(x)) for x in overview.x}) if overview.ids else []
    fig.update_layout(
        margin={"l": 34, "r": 10, "t": 6, "b": 30},
        showlegend=False,
        plot_bgcolor="#fff",
        font={"family": FONT_FAMILY},
        xaxis={
            "tickvals": positions,
            "ticktext": [visible_token(store.token_at(p)) for p in positions],
            "showgrid": False, "zeroline": False,
            "range": [min(positions, default=0) - 0.6, max(positions, default=0) + 2.2],
        },
        yaxis={"title": {"text": "layer", "font": {"size": 11}}, "showgrid": True, "gridcolor": "#f0f0f0",
               "zeroline": False},
        dragmode=False,
        clickmode="event",
    )  # fmt: skip
    return fig
