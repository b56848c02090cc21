"""Callbacks of the graph view: thin wiring from component ids to pure functions.

Registered per app by :func:`register_graph_callbacks` (never with the global
``@dash.callback``), so tests can build many apps. Each output has one owner:

* ``attribution-graph.figure`` -- full figure (nodes and overlays) and ``edge-layer`` (the
  base edges, drawn on a canvas under the figure by ``assets/app.js``) when the visible set
  changes (tracked by the ``figure-signature`` store), otherwise a ``dash.Patch`` of the
  overlay traces (search, sizes, column focus) only. The active clusters are patched in by
  a second callback once a figure is drawn (and only when they change), so the first
  figure never waits for the first-visit clustering. A click never changes the figure;
* ``selected-node`` -- graph clicks, search with one match, Esc / empty click (connection
  rows set it from a delegated click listener); ``pinned-nodes`` and ``node-labels`` --
  the panel's buttons. These are clientside callbacks (``assets/app.js``): trivial logic,
  and no round trip before the panel request;
* ``panel-node`` -- set (clientside) once the panel shows the selection;
  ``selection-layer`` -- the selected node's edges and rings for the canvas, computed
  after the panel is shown so that it never delays the panel;
* ``node-panel`` -- the selected node's details; ``search-results``; ``token-focus``;
  ``url.search`` (the view as URL; the ``node`` parameter is set in the browser).
"""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, Patch, State, ctx, no_update

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import VIEW_CONTROLS, ViewControls, view_dependencies
from attribution_viewer.app.figure_view import clusters_key, compose, full_figure
from attribution_viewer.app.panel import empty_panel, node_panel_children
from attribution_viewer.clustering.state import validate_state
from attribution_viewer.figures import (
    CLUSTER_TRACE,
    NODE_KINDS,
    NODE_TRACES,
    ClusterHighlight,
    base_edge_layer,
    cluster_marker_size,
    cluster_names,
    column_shapes,
    counts_text,
    node_marker_size,
    selection_layer,
)
from attribution_viewer.search import search_nodes
from attribution_viewer.view import ViewState, state_to_query

CLIENTSIDE = "attributionViewer"


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


def register_graph_callbacks(app: Dash, app_ctx: AppContext) -> None:
    """Attach the graph-view callbacks to ``app``."""
    store = app_ctx.store
    base = ViewState()

    def update_figure(*values: Any) -> tuple[Any, str, Any, Any]:
        controls = ViewControls(*values[: len(VIEW_CONTROLS)])
        search_keys, token_focus, drawn_signature = values[len(VIEW_CONTROLS) :]
        signature = controls.scene_signature()
        if signature == drawn_signature:
            view, scene, overlays = compose(app_ctx, controls, [], search_keys)
            patch = Patch()
            triggered = set(ctx.triggered_prop_ids.values())
            changed = triggered - {"token-focus"}
            for index, trace in (overlays.changed_traces(changed) if changed else {}).items():
                if index != CLUSTER_TRACE:
                    patch["data"][index] = trace
            if "node-size" in triggered:
                for trace_index, kind in zip(NODE_TRACES, NODE_KINDS, strict=True):
                    patch["data"][trace_index]["marker"]["size"] = node_marker_size(kind, view.node_size)
                patch["data"][CLUSTER_TRACE]["marker"]["size"] = cluster_marker_size(view.node_size)
            if "token-focus" in triggered:
                patch["layout"]["shapes"] = column_shapes(scene.layout, token_focus)
            return patch, counts_text(store, scene), no_update, no_update
        # Clusters are patched in by ``update_clusters`` once the figure is drawn, so the first
        # figure never waits for the first-visit clustering.
        figure, scene = full_figure(app_ctx, controls, search_keys, token_focus)
        return figure, counts_text(store, scene), signature, base_edge_layer(store, scene.layout, scene.drawn)

    # The selection is a State: a click never touches the figure (the canvas shows it).
    app.callback(
        Output("attribution-graph", "figure"),
        Output("shown-counts", "children"),
        Output("figure-signature", "data"),
        Output("edge-layer", "data"),
        *view_dependencies(selected_kind=State),
        Input("search-results", "data"),
        Input("token-focus", "data"),
        State("figure-signature", "data"),
    )(update_figure)

    def update_clusters(
        cluster_state: dict[str, Any] | None, signature: str | None, drawn: str | None, *values: Any
    ) -> tuple[Any, Any]:
        clusters = active_clusters(app_ctx, cluster_state)
        wanted = clusters_key(clusters)
        # A new figure (or the page's first) is drawn without clusters.
        shown = drawn if ctx.triggered_id == "cluster-state" else clusters_key([])
        if signature is None:
            return no_update, no_update  # no figure yet: its arrival triggers this again
        if wanted == shown:
            return no_update, wanted
        controls = ViewControls(*values[: len(VIEW_CONTROLS)])
        _, scene, overlays = compose(app_ctx, controls, clusters, [])
        patch = Patch()
        patch["data"][CLUSTER_TRACE] = overlays.changed_traces({"cluster-state"})[CLUSTER_TRACE]
        patch["layout"]["annotations"] = cluster_names(scene.layout, scene.visible, clusters)  # issue #12
        return patch, wanted

    app.callback(
        Output("attribution-graph", "figure", allow_duplicate=True),
        Output("drawn-clusters", "data"),
        Input("cluster-state", "data"),
        Input("figure-signature", "data"),
        State("drawn-clusters", "data"),
        *view_dependencies(State),
        prevent_initial_call=True,
    )(update_clusters)

    def update_selection(*values: Any) -> dict[str, Any] | None:
        controls = ViewControls(*values)
        view = controls.view(base)
        if controls.selected not in store.index_of:
            return None
        scene = app_ctx.scene(view)
        return selection_layer(
            store, scene.layout, store.index_of[controls.selected], scene.edge_mask, view.node_size
        )

    app.callback(
        Output("selection-layer", "data"),
        *view_dependencies(selected_from="panel-node"),
    )(update_selection)

    # Edges and the selection: drawn on a canvas under the figure by assets/app.js.
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "drawEdgeLayers"),
        Output("edge-layer-size", "data"),
        Input("edge-layer", "data"),
        Input("selection-layer", "data"),
        prevent_initial_call=True,
    )

    # Selection, pins and labels change in the browser (clientside, no round trip before
    # the panel request): assets/app.js, namespace "attributionViewer".
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "selectNode"),
        Output("selected-node", "data"),
        Input("attribution-graph", "clickData"),
        Input("clear-selection", "n_clicks"),
        Input("search-results", "data"),
        State("node-keys", "data"),
        prevent_initial_call=True,
    )
    # The figure highlights the selection once the panel shows it, so that redrawing the
    # figure never delays the panel.
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "panelNode"),
        Output("panel-node", "data"),
        Input("node-panel", "children"),
        State("selected-node", "data"),
        State("panel-node", "data"),
        prevent_initial_call=True,
    )

    def render_panel(selected: str | None, labels: dict[str, str], pinned: list[str]) -> list[Any]:
        index = store.index_of.get(selected) if selected else None
        if index is None:
            return empty_panel(store)
        return node_panel_children(app_ctx, index, labels or {}, pinned or [])

    app.callback(
        Output("node-panel", "children"),
        Input("selected-node", "data"),
        Input("node-labels", "data"),
        Input("pinned-nodes", "data"),
    )(render_panel)

    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "togglePin"),
        Output("pinned-nodes", "data"),
        Input("pin-button", "n_clicks"),
        State("selected-node", "data"),
        State("pinned-nodes", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "saveLabel"),
        Output("node-labels", "data"),
        Input("label-save", "n_clicks"),
        Input("label-input", "n_submit"),
        State("label-input", "value"),
        State("selected-node", "data"),
        State("node-labels", "data"),
        prevent_initial_call=True,
    )

    def run_search(query: str | None, labels: dict[str, str]) -> tuple[list[str], str]:
        if not query or not query.strip():
            return [], ""
        found = search_nodes(store, query, labels)
        keys = [store.keys[int(i)] for i in found]
        return keys, f"{len(keys)} match" + ("" if len(keys) == 1 else "es")

    app.callback(
        Output("search-results", "data"),
        Output("search-status", "children"),
        Input("node-search", "value"),
        State("node-labels", "data"),
        prevent_initial_call=True,
    )(run_search)

    def focus_token(clicks: list[int], current: int | None) -> tuple[Any, list[Any]]:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
            return no_update, [no_update] * len(clicks)
        pos = int(trigger["pos"])
        focus = None if current == pos else pos
        return focus, ["prompt-token focused" if p == focus else "prompt-token" for p in range(len(clicks))]

    app.callback(
        Output("token-focus", "data"),
        Output({"type": "prompt-token", "pos": ALL}, "className"),
        Input({"type": "prompt-token", "pos": ALL}, "n_clicks"),
        State("token-focus", "data"),
        prevent_initial_call=True,
    )(focus_token)

    def sync_url(*values: Any) -> str:
        controls = ViewControls(*values[: len(VIEW_CONTROLS)])
        return state_to_query(controls.view(base), app_ctx.graph_id, values[len(VIEW_CONTROLS)])

    # The selection is a State here: a click changes only the ``node`` parameter, in the
    # browser (assets/app.js ``selectionQuery``), without a round trip.
    app.callback(
        Output("url", "search"),
        *view_dependencies(selected_kind=State),
        Input("cluster-state", "data"),
        prevent_initial_call=True,
    )(sync_url)
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE, "selectionQuery"),
        Output("url", "search", allow_duplicate=True),
        Input("selected-node", "data"),
        prevent_initial_call=True,
    )
