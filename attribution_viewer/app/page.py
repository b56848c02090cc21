"""The page: the frame every unit is placed in, the user's view stores, and the URL.

:func:`build_page` is called for every page load with the request's query string, so the
initial values of every control and store come from the URL (a copied link restores the
view) without a URL -> control -> URL callback loop. Each unit brings its own layout;
this module only places them:

    top bar (with the Export menu) | notices
    graph view (graph, prompt)     | node panel / cluster panel

:func:`register` keeps the address bar in step with the view: ``sync_url`` writes the
view, the clusters and the steering history; the ``node`` parameter follows the selection in the browser
(``assets/app.js`` ``selectionQuery``), so a click costs no round trip for it.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html

from attribution_viewer.app import (
    cluster_panel,
    compare_view,
    export_menu,
    graph_view,
    ids,
    new_graph,
    node_labels,
    node_panel,
    picker,
    steering,
    top_bar,
)
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls, view_dependencies
from attribution_viewer.app.steering_history import history_from_url
from attribution_viewer.view import ViewState, default_prune_threshold, state_from_query, state_to_query


def base_view(app_ctx: AppContext) -> ViewState:
    """The view a fresh page starts from: the graph's threshold and the settings."""
    has_frequencies = app_ctx.frequencies.values is not None
    return ViewState(
        prune_threshold=default_prune_threshold(app_ctx.store),
        frequency_threshold=app_ctx.settings.frequency_threshold if has_frequencies else 1.0,
        show_errors=app_ctx.settings.show_errors,
        node_size=app_ctx.settings.node_size,
    )


def build_page(app_ctx: AppContext, query: str) -> html.Div:
    """The whole page for one page load; ``query`` is the URL's query string."""
    restored = state_from_query(
        query, app_ctx.store, app_ctx.graph_id, base_view(app_ctx), app_ctx.settings.max_url_state_bytes
    )
    view = restored.state
    history, history_problems = history_from_url(restored.history)
    # What the loader repaired in the graph (dropped edges, ambiguous ids), then URL problems.
    problems = (*app_ctx.store.warnings, *restored.problems, *history_problems)
    notices = [html.Div(problem, className="notice") for problem in problems]
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            # The user's selection, pins and labels: read by every unit.
            dcc.Store(id=ids.SELECTED, data=view.selected),
            dcc.Store(id=ids.PINNED, data=list(view.pinned)),
            dcc.Store(id=ids.LABELS, data=dict(view.labels)),
            *node_labels.layout(),
            # Folder mode: the graph picker joins the bar's menus (nothing for one graph).
            top_bar.layout(
                app_ctx,
                view,
                menus=[
                    *picker.layout(app_ctx),
                    *new_graph.layout(app_ctx),  # with a model only: a new graph from a prompt
                    steering.graph_scores_span(app_ctx),
                    export_menu.layout(),
                ],
            ),
            html.Div(notices, id=ids.NOTICES, className="notices"),
            html.Main(
                [
                    graph_view.layout(app_ctx),
                    html.Aside(
                        [
                            node_panel.layout(),
                            steering.steering_layout(app_ctx.live, history),
                            cluster_panel.layout(app_ctx.settings, restored.clusters),
                        ],
                        className="side",
                    ),
                ],
                className="main",
            ),
            *compare_view.layout(app_ctx),  # folder mode: a second graph side by side
        ],
        className="app",
    )


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the URL callbacks to ``app``."""
    base = ViewState()

    def sync_url(
        view: dict[str, Any], clusters: dict[str, Any] | None, history: list[dict[str, Any]] | None
    ) -> str:
        return state_to_query(ViewControls(**view).view(base), app_ctx.graph_id, clusters, history)

    # The selection is a State here: a click changes only the ``node`` parameter, in the browser.
    app.callback(
        Output(ids.URL, "search"),
        inputs={
            "view": view_dependencies(selected_kind=State),
            "clusters": Input(ids.CLUSTER_STATE, "data"),
            "history": Input("steer-history", "data"),  # the steering runs (steering_history.py)
        },
        prevent_initial_call=True,
    )(sync_url)
    # ... and it is written once the click's panel is painted (assets/node_panel.js then
    # sets the selection layer that came with it), straight to the browser history: off
    # the click path (issue #10).
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "selectionQuery"),
        Input(ids.SELECTION_LAYER, "data"),
        State(ids.SELECTED, "data"),
        prevent_initial_call=True,
    )
