"""The graph view as data: controls -> view -> scene -> overlays -> figure, and the canvas
payloads of a view. Plain functions of the read-only :class:`AppContext` (no Dash
callbacks), shared by the graph view, the node panel and the export menu.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.canvas import base_edge_layer, selection_layer
from attribution_viewer.clustering.state import validate_state
from attribution_viewer.figures import (
    ClusterHighlight,
    Overlays,
    build_figure,
    build_overlays,
    cluster_names,
    hover_texts,
)
from attribution_viewer.model import GraphStore
from attribution_viewer.scene import Scene
from attribution_viewer.view import ViewState


def active_clusters(app_ctx: AppContext, cluster_state: dict[str, Any] | None) -> list[ClusterHighlight]:
    """The active clusters of the browser's cluster state (validated), as node indices."""
    store = app_ctx.store
    state = validate_state(cluster_state, store.index_of).state
    active = set(state.active)
    return [
        ClusterHighlight(c.name, c.color, tuple(store.index_of[k] for k in c.nodes))
        for c in state.clusters
        if c.id in active
    ]


def compose(
    app_ctx: AppContext,
    controls: ViewControls,
    clusters: list[ClusterHighlight],
    search_keys: list[str] | None,
) -> tuple[ViewState, Scene, Overlays]:
    """The view the controls describe, its scene and its overlay traces."""
    store = app_ctx.store
    view = controls.view(ViewState())
    scene = app_ctx.scene(view)
    overlays = build_overlays(
        store,
        scene.layout,
        scene.visible,
        node_size=view.node_size,
        pinned=_indices(store, controls.pinned),
        clusters=clusters,
        highlighted=store.highlighted if view.show_highlighted else None,
        search=_indices(store, search_keys),
    )
    return view, scene, overlays


def full_figure(
    app_ctx: AppContext,
    controls: ViewControls,
    clusters: list[ClusterHighlight],
    search_keys: list[str] | None,
    token_focus: int | None,
) -> tuple[go.Figure, Scene]:
    """The whole figure of the view and its scene, the highlighted clusters named."""
    view, scene, overlays = compose(app_ctx, controls, clusters, search_keys)
    figure = build_figure(
        app_ctx.store,
        scene.visible,
        node_size=view.node_size,
        hover=hover_texts(
            app_ctx.store,
            controls.labels,
            app_ctx.descriptions_of([int(i) for i in np.flatnonzero(scene.visible)]),
        ),
        overlays=overlays,
        layout=scene.layout,
        token_focus=token_focus,
    )
    figure.update_layout(annotations=cluster_names(scene.layout, scene.visible, clusters))  # issue #12
    return figure, scene


def edge_payload(app_ctx: AppContext, scene: Scene) -> dict[str, Any]:
    """The base edge canvas's data for ``scene``."""
    return base_edge_layer(app_ctx.store, scene.layout, scene.drawn, scene.strong)


def selection_payload(app_ctx: AppContext, controls: ViewControls) -> dict[str, Any] | None:
    """The selection canvas's data (the selected node's edges and rings); None when nothing
    (or nothing known) is selected."""
    store = app_ctx.store
    if controls.selected not in store.index_of:
        return None
    view = controls.view(ViewState())
    scene = app_ctx.scene(view)
    return selection_layer(
        store, scene.layout, store.index_of[controls.selected], scene.edge_mask, view.node_size
    )


def _indices(store: GraphStore, keys: list[str] | None) -> list[int]:
    return [store.index_of[k] for k in keys or [] if k in store.index_of]
