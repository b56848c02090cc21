"""The graph view: the figure (nodes as SVG markers, edges on canvases under it) and the
prompt sentence under it. Layout and callbacks; the data come from :mod:`.drawing`.

Each output has one owner:

* ``update_figure`` -- the figure, the top bar's counts, the base ``edge-layer`` and the
  ``selection-layer``. A control that changes the scene (pruning, frequency, toggles, pins,
  labels; see :func:`~attribution_viewer.app.controls.changes_scene`) sends a full figure
  (with the active clusters of the moment) and both canvas payloads; the node size, the
  search and the column focus send a ``dash.Patch`` of the traces they change. A click is
  not an input: it never touches the figure;
* ``update_clusters`` -- patches the cluster trace and the cluster names (layout annotations)
  when ``cluster-state`` changes. It also
  listens to the counts (written with every figure) only so that Dash holds it while a
  figure is on its way: a patch must never reach the browser before the first figure;
* ``selectNode`` (clientside) -- search with one match, Esc / empty click ->
  ``selected-node``; a click on a marker (``plotly_click``) or on a connection row sets it
  from ``assets/app.js`` directly (``set_props``), with the keys ``rememberNodeKeys`` keeps;
* ``drawEdgeLayers`` (clientside, no output) -- the canvases follow their two stores;
* ``focus_token`` -- a prompt token click toggles its column's highlight.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, Patch, State, ctx, dcc, html, no_update

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls, changes_scene, view_dependencies
from attribution_viewer.app.drawing import (
    active_clusters,
    compose,
    edge_payload,
    full_figure,
    selection_payload,
)
from attribution_viewer.app.failsafe import error_figure, guard
from attribution_viewer.figures import (
    CLUSTER_TRACE,
    NODE_KINDS,
    NODE_TRACES,
    cluster_marker_size,
    cluster_names,
    column_shapes,
)
from attribution_viewer.markers import node_marker_size
from attribution_viewer.model import visible_token
from attribution_viewer.scene import counts_text

GRAPH_CONFIG: Any = {
    "displaylogo": False,
    "scrollZoom": True,
    "doubleClick": "reset",
    # toImage would miss the canvas edge layer: the Export menu draws the whole graph.
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toImage"],
}


def prompt_tokens(app_ctx: AppContext) -> list[html.Button]:
    """One button per prompt token: whitespace made visible, clicking focuses its column."""
    return [
        html.Button(
            visible_token(token) or "\u2205",
            id={"type": ids.PROMPT_TOKEN, "pos": pos},
            className="prompt-token",
            title=f"position {pos}: {token!r}",
            n_clicks=0,
        )
        for pos, token in enumerate(app_ctx.store.prompt_tokens)
    ]


def layout(app_ctx: AppContext) -> html.Section:
    """The graph, the prompt sentence and the graph view's stores."""
    return html.Section(
        [
            dcc.Store(id=ids.NODE_KEYS, data=list(app_ctx.store.keys)),
            dcc.Store(id=ids.SEARCH_RESULTS, data=[]),
            # No initial data: a Store mounted with data=None reports a change, which would
            # run the figure callback a second time at every page load.
            dcc.Store(id=ids.TOKEN_FOCUS),
            dcc.Store(id=ids.EDGE_LAYER, data=None),
            dcc.Store(id=ids.SELECTION_LAYER, data=None),
            html.Button(id=ids.CLEAR_SELECTION, n_clicks=0, className="hidden-button"),
            dcc.Graph(
                id=ids.GRAPH,
                config=GRAPH_CONFIG,
                className="graph",
                clear_on_unhover=True,
                responsive=True,
                style={"height": "100%"},
            ),
            html.Div(prompt_tokens(app_ctx), id=ids.PROMPT, className="prompt"),
        ],
        className="graph-area",
    )


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the graph view's callbacks to ``app``."""
    store = app_ctx.store

    def update_figure(
        view: dict[str, Any], search: list[str] | None, focus: int | None, clusters: dict[str, Any] | None
    ) -> dict[str, Any]:
        controls = ViewControls(**view)
        triggered = set(ctx.triggered_prop_ids.values())
        if changes_scene(triggered):
            figure, scene = full_figure(app_ctx, controls, active_clusters(app_ctx, clusters), search, focus)
            return {
                "figure": figure,
                "counts": counts_text(store, scene),
                "edges": edge_payload(app_ctx, scene),
                # a page's first call: the node panel sends the selection with the panel
                "selection": selection_payload(app_ctx, controls) if triggered else no_update,
            }
        view_state, scene, overlays = compose(app_ctx, controls, [], search)
        patch = Patch()
        changed = {"search"} if ids.SEARCH_RESULTS in triggered else set()
        changed |= {"size"} if ids.NODE_SIZE in triggered else set()  # all the rings
        for index, trace in (overlays.changed_traces(changed) if changed else {}).items():
            if index != CLUSTER_TRACE:
                patch["data"][index] = trace
        selection: Any = no_update
        if ids.NODE_SIZE in triggered:
            for trace_index, kind in zip(NODE_TRACES, NODE_KINDS, strict=True):
                patch["data"][trace_index]["marker"]["size"] = node_marker_size(kind, view_state.node_size)
            patch["data"][CLUSTER_TRACE]["marker"]["size"] = cluster_marker_size(view_state.node_size)
            selection = selection_payload(app_ctx, controls)  # ring sizes follow the node size
        if ids.TOKEN_FOCUS in triggered:
            patch["layout"]["shapes"] = column_shapes(scene.layout, focus)
        return {
            "figure": patch,
            "counts": counts_text(store, scene),
            "edges": no_update,
            "selection": selection,
        }

    app.callback(
        output={
            "figure": Output(ids.GRAPH, "figure"),
            "counts": Output(ids.COUNTS, "children"),
            "edges": Output(ids.EDGE_LAYER, "data"),
            "selection": Output(ids.SELECTION_LAYER, "data", allow_duplicate=True),
        },
        # The selection is a State: a click never touches the figure (the canvas shows it).
        inputs={
            "view": view_dependencies(selected_kind=State, browser_kind=State),
            "search": Input(ids.SEARCH_RESULTS, "data"),
            "focus": Input(ids.TOKEN_FOCUS, "data"),
        },
        state={"clusters": State(ids.CLUSTER_STATE, "data")},
        prevent_initial_call="initial_duplicate",
    )(
        guard(
            update_figure,
            "draw the graph",
            lambda m: {"figure": error_figure(m), "counts": m, "edges": None, "selection": None},
        )
    )

    def update_clusters(clusters: dict[str, Any] | None, counts: Any, view: dict[str, Any]) -> Any:
        if ids.CLUSTER_STATE not in ctx.triggered_prop_ids.values():
            return no_update  # a new figure: it was drawn with the clusters of the moment
        highlighted = active_clusters(app_ctx, clusters)
        _, scene, overlays = compose(app_ctx, ViewControls(**view), highlighted, [])
        patch = Patch()
        patch["data"][CLUSTER_TRACE] = overlays.changed_traces({"clusters"})[CLUSTER_TRACE]
        names = cluster_names(scene.layout, scene.visible, highlighted)  # issue #12
        if names:
            patch["layout"]["annotations"] = names
        else:  # as a full figure without names has it (no key): an empty list would replot
            del patch["layout"]["annotations"]
        return patch

    app.callback(
        Output(ids.GRAPH, "figure", allow_duplicate=True),
        inputs={
            "clusters": Input(ids.CLUSTER_STATE, "data"),
            "counts": Input(ids.COUNTS, "children"),
            "view": view_dependencies(State),
        },
        prevent_initial_call=True,
    )(guard(update_clusters, "draw the clusters", lambda m: no_update))

    # Edges and the selection: drawn on canvases under the figure by assets/app.js.
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "drawEdgeLayers"),
        Input(ids.EDGE_LAYER, "data"),
        Input(ids.SELECTION_LAYER, "data"),
        prevent_initial_call=True,
    )
    # The selection changes in the browser: no round trip before the panel's request. A
    # click on a marker is handled by assets/app.js (plotly_click -> the node panel's route,
    # with the keys remembered here; Dash is told after the panel is painted): the graph's
    # clickData is no callback input, dcc.Graph does not even write it (issue #10).
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "rememberNodeKeys"),
        Input(ids.NODE_KEYS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "selectNode"),
        Output(ids.SELECTED, "data"),
        Input(ids.CLEAR_SELECTION, "n_clicks"),
        Input(ids.SEARCH_RESULTS, "data"),
        prevent_initial_call=True,
    )

    def focus_token(clicks: list[int], current: int | None) -> tuple[Any, list[Any]]:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
            return no_update, [no_update] * len(clicks)
        pos = int(trigger["pos"])
        focus = None if current == pos else pos
        return focus, ["prompt-token focused" if p == focus else "prompt-token" for p in range(len(clicks))]

    app.callback(
        Output(ids.TOKEN_FOCUS, "data"),
        Output({"type": ids.PROMPT_TOKEN, "pos": ALL}, "className"),
        Input({"type": ids.PROMPT_TOKEN, "pos": ALL}, "n_clicks"),
        State(ids.TOKEN_FOCUS, "data"),
        prevent_initial_call=True,
    )(focus_token)
