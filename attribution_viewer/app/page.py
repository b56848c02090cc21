"""The page: top bar, graph, prompt sentence, side panel (node details) and cluster area.

:func:`build_page` is called for every page load with the request's query string, so the
initial values of every control and store come from the URL (a copied link restores the
view) without a URL -> control -> URL callback loop.

Stable element ids (documented in the README): ``attribution-graph``, ``node-panel``,
``node-size``, ``error-toggle``, ``prune-slider``, ``frequency-slider``, ``node-search``,
``prompt-tokens``, ``cluster-panel``; browser stores ``selected-node``, ``pinned-nodes``,
``node-labels``, ``search-results``, ``token-focus``, ``edge-layer`` and ``selection-layer`` (what the
canvas under the figure draws).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from attribution_viewer.app.cluster_panel import cluster_panel_layout
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.export_controls import export_controls_layout
from attribution_viewer.app.figure_view import clusters_key
from attribution_viewer.app.steering import graph_scores_span, steering_layout
from attribution_viewer.model import GraphStore, visible_token
from attribution_viewer.view import ViewState, default_prune_threshold, state_from_query

GRAPH_CONFIG: Any = {
    "displaylogo": False,
    "scrollZoom": True,
    "doubleClick": "reset",
    # toImage would miss the canvas edge layer: the Export menu draws the whole graph.
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toImage"],
}


def base_view(ctx: AppContext) -> ViewState:
    """The view a fresh page starts from: the graph's threshold and the settings."""
    has_frequencies = ctx.frequencies.values is not None
    return ViewState(
        prune_threshold=default_prune_threshold(ctx.store),
        frequency_threshold=ctx.settings.frequency_threshold if has_frequencies else 1.0,
        show_errors=ctx.settings.show_errors,
        node_size=ctx.settings.node_size,
    )


def prompt_tokens(ctx: AppContext) -> list[html.Button]:
    """One button per prompt token: whitespace made visible, clicking focuses its column."""
    return [
        html.Button(
            visible_token(token) or "\u2205",
            id={"type": "prompt-token", "pos": pos},
            className="prompt-token",
            title=f"position {pos}: {token!r}",
            n_clicks=0,
        )
        for pos, token in enumerate(ctx.store.prompt_tokens)
    ]


def _control(label: str, child: Any, class_name: str = "", title: str = "") -> html.Div:
    return html.Div(
        [html.Label(label, className="control-label"), child], className=f"control {class_name}", title=title
    )


def toggle_values(store: GraphStore, view: ViewState) -> list[str]:
    """The checked boxes of the top bar's toggles (``shared`` only for graphs that have it)."""
    shared = store.highlighted is not None and view.show_highlighted
    return (["errors"] if view.show_errors else []) + (["shared"] if shared else [])


def _slider(
    component_id: str, low: float, high: float, step: float, value: float, **extra: Any
) -> dcc.Slider:
    """A top-bar slider: no marks, the value in a tooltip below."""
    return dcc.Slider(
        id=component_id,
        min=low,
        max=high,
        step=step,
        value=value,
        marks=None,
        tooltip={"placement": "bottom"},
        **extra,
    )


def top_bar(ctx: AppContext, view: ViewState) -> html.Header:
    store = ctx.store
    has_frequencies = ctx.frequencies.values is not None
    freq_title = (
        "Hide features firing on more than this fraction of tokens"
        if has_frequencies
        else (ctx.frequencies.error or "No feature frequency file configured")
    )
    toggles = [{"label": " errors", "value": "errors"}]
    if store.highlighted is not None:
        toggles.append({"label": " shared", "value": "shared"})
    return html.Header(
        [
            html.Div(
                [
                    html.Span("attribution-viewer", className="brand"),
                    html.Span(ctx.graph_id, className="graph-name", title=store.metadata.source_path),
                ],
                className="brand-block",
            ),
            _control(
                "Node size", _slider("node-size", 3, 30, 1, view.node_size, updatemode="drag"), "slider"
            ),
            _control("Pruning", _slider("prune-slider", 0.05, 1.0, 0.01, view.prune_threshold), "slider"),
            _control(
                "Max frequency",
                _slider(
                    "frequency-slider", 0.0, 1.0, 0.01, view.frequency_threshold, disabled=not has_frequencies
                ),
                "slider",
                freq_title,
            ),
            dcc.Checklist(
                id="error-toggle",
                options=toggles,
                value=toggle_values(store, view),
                className="toggles",
                inputClassName="toggle-input",
            ),
            dcc.Input(
                id="node-search",
                type="search",
                debounce=True,
                placeholder="Search: label, L5, L5/123, 'token'",
                className="search",
            ),
            html.Span(id="search-status", className="search-status"),
            html.Span(id="shown-counts", className="counts"),
            graph_scores_span(ctx),
            export_controls_layout(),
        ],
        className="topbar",
    )


def build_page(ctx: AppContext, query: str) -> html.Div:
    """The whole page for one page load; ``query`` is the URL's query string."""
    restored = state_from_query(query, ctx.store, ctx.graph_id, base_view(ctx))
    view = restored.state
    notices = [html.Div(problem, className="notice") for problem in restored.problems]
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="selected-node", data=view.selected),
            dcc.Store(id="panel-node", data=view.selected),
            dcc.Store(id="node-keys", data=list(ctx.store.keys)),
            dcc.Store(id="pinned-nodes", data=list(view.pinned)),
            dcc.Store(id="node-labels", data=dict(view.labels)),
            dcc.Store(id="search-results", data=[]),
            # No initial data: a Store mounted with data=None reports a change, which would
            # run the figure callback at every page load.
            dcc.Store(id="token-focus"),
            dcc.Store(id="figure-signature", data=None),
            dcc.Store(id="drawn-clusters", data=clusters_key([])),
            dcc.Store(id="edge-layer", data=None),
            dcc.Store(id="selection-layer", data=None),
            dcc.Store(id="edge-layer-size", data=None),
            dcc.Store(id="url-clusters", data=restored.clusters),
            html.Button(id="clear-selection", n_clicks=0, className="hidden-button"),
            top_bar(ctx, view),
            html.Div(notices, id="notices", className="notices"),
            html.Main(
                [
                    html.Section(
                        [
                            dcc.Graph(
                                id="attribution-graph",
                                config=GRAPH_CONFIG,
                                className="graph",
                                clear_on_unhover=True,
                                responsive=True,
                                style={"height": "100%"},
                            ),
                            html.Div(prompt_tokens(ctx), id="prompt-tokens", className="prompt"),
                        ],
                        className="graph-area",
                    ),
                    html.Aside(
                        [
                            html.Div(id="node-panel", className="node-panel"),
                            steering_layout(ctx.live),
                            html.Div(
                                cluster_panel_layout(ctx.settings),
                                id="cluster-panel",
                                className="cluster-panel",
                            ),
                        ],
                        className="side",
                    ),
                ],
                className="main",
            ),
        ],
        className="app",
    )
