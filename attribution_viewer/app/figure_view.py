"""The figure of a view: controls -> view -> scene -> overlays -> figure, and the small
helper the page and the callbacks share about it (which clusters are drawn).

Plain functions of the read-only :class:`AppContext`; no Dash callbacks here.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.figures import (
    ClusterHighlight,
    Overlays,
    Scene,
    build_figure,
    build_overlays,
    hover_texts,
)
from attribution_viewer.model import GraphStore
from attribution_viewer.view import ViewState


def clusters_key(clusters: list[ClusterHighlight]) -> str:
    """What the figure's cluster trace and names show, as a string (to skip redrawing the same)."""
    return json.dumps([[c.name, c.color, list(c.members)] for c in clusters])


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
    app_ctx: AppContext, controls: ViewControls, search_keys: list[str] | None, token_focus: int | None
) -> tuple[go.Figure, Scene]:
    """The whole figure of the view (without clusters: they are patched in) and its scene."""
    view, scene, overlays = compose(app_ctx, controls, [], search_keys)
    figure = build_figure(
        app_ctx.store,
        scene.visible,
        node_size=view.node_size,
        hover=hover_texts(app_ctx.store, controls.labels),
        overlays=overlays,
        layout=scene.layout,
        token_focus=token_focus,
    )
    return figure, scene


def _indices(store: GraphStore, keys: list[str] | None) -> list[int]:
    return [store.index_of[k] for k in keys or [] if k in store.index_of]
