"""The top bar: the view's controls (node size, pruning, max frequency, toggles), the
search, the shown counts, and the menus other units place in it (Export).

Layout, the search callback and the sliders' clientside callbacks: each slider's value is
written as text next to its name while it moves, and the pruning and frequency sliders reach
the view through a settled-value store (``settleValue`` in ``assets/app.js``): only the last
value of a burst (an arrow key held down) is computed. The controls' values are read by every
unit through :mod:`attribution_viewer.app.controls`; the counts are written by the graph view.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import FADED, ViewControls, view_dependencies
from attribution_viewer.model import GraphStore
from attribution_viewer.search import search_nodes, search_status
from attribution_viewer.view import ViewState


def toggle_values(store: GraphStore, view: ViewState) -> list[str]:
    """The checked boxes of the top bar's toggles (``shared`` only for graphs that have it)."""
    shared = store.highlighted is not None and view.show_highlighted
    return (["errors"] if view.show_errors else []) + (["shared"] if shared else [])


def _slider_control(
    label: str,
    component_id: str,
    bounds: tuple[float, float, float],
    value: float,
    title: str = "",
    **extra: Any,
) -> html.Div:
    """A slider (``bounds``: min, max, step) under its name and its value as text (kept
    current by ``sliderText``); no marks, no tooltip."""
    low, high, step = bounds
    text = html.Span(slider_text(value), id=ids.SLIDER_TEXTS[component_id], className="slider-value")
    slider = dcc.Slider(id=component_id, min=low, max=high, step=step, value=value, marks=None, **extra)
    return html.Div(
        [html.Label([label, " ", text], className="control-label"), slider],
        className="control slider",
        title=title,
    )


def slider_text(value: float | None) -> str:
    """A slider's value as the top bar writes it (the same rule as ``sliderText`` in app.js)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:.2f}"


LABELS_TITLE = "Write labels beside the nodes that have room (zoom in for more)"

EDGE_CHOICES = [{"label": f"top {k} in", "value": k} for k in (1, 3, 5, 10, 25)] + [
    {"label": "all", "value": 0}
]


def layout(app_ctx: AppContext, view: ViewState, menus: list[Any]) -> html.Header:
    """The bar, its controls set to ``view``; ``menus`` go at its right end."""
    store = app_ctx.store
    has_frequencies = app_ctx.frequencies.values is not None
    freq_title = (
        "Hide features firing on more than this fraction of tokens"
        if has_frequencies
        else (app_ctx.frequencies.error or "No feature frequency file configured")
    )
    toggles = [{"label": " errors", "value": "errors"}]
    if store.highlighted is not None:
        toggles.append({"label": " shared", "value": "shared"})
    return html.Header(
        [
            html.Div(
                [
                    html.Span("attribution-viewer", className="brand"),
                    html.Span(app_ctx.graph_id, className="graph-name", title=store.metadata.source_path),
                ],
                className="brand-block",
            ),
            dcc.Store(id=ids.PRUNE_VALUE, data=view.prune_threshold),
            dcc.Store(id=ids.FREQUENCY_VALUE, data=view.frequency_threshold),
            _slider_control("Node size", ids.NODE_SIZE, (3, 30, 1), view.node_size, updatemode="drag"),
            _slider_control("Pruning", ids.PRUNE, (0.05, 1.0, 0.01), view.prune_threshold),
            _slider_control(
                "Max frequency",
                ids.FREQUENCY,
                (0.0, 1.0, 0.01),
                view.frequency_threshold,
                freq_title,
                disabled=not has_frequencies,
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label("Edges", className="control-label"),
                            dcc.Checklist(
                                id=ids.EDGES_FADED,
                                options=[{"label": "others faint", "value": FADED}],
                                value=[FADED] if view.faded_edges else [],
                                className="edges-faded",
                                inputClassName="toggle-input",
                            ),
                        ],
                        className="edges-head",
                    ),
                    dcc.Dropdown(
                        id=ids.EDGES_PER_TARGET,
                        options=EDGE_CHOICES,
                        value=view.edges_per_target,
                        clearable=False,
                        searchable=False,
                        className="edges-dropdown",
                    ),
                ],
                className="control edges",
                title="Edges drawn strongly into each node: its strongest inputs; "
                "the other edges are drawn faint, or not at all",
            ),
            dcc.Checklist(
                id=ids.TOGGLES,
                options=toggles,
                value=toggle_values(store, view),
                className="toggles",
                inputClassName="toggle-input",
            ),
            dcc.Checklist(  # drawn by assets/labels.js from app/node_labels.py's placement
                id=ids.SHOW_LABELS,
                options=[{"label": html.Span(" labels", title=LABELS_TITLE), "value": "labels"}],
                value=["labels"] if view.show_labels else [],
                className="toggles",
                inputClassName="toggle-input",
            ),
            dcc.Input(
                id=ids.SEARCH,
                type="search",
                debounce=True,
                placeholder="Search: label, description, L5, L5/123, 'token'",
                className="search",
            ),
            html.Span(id=ids.SEARCH_STATUS, className="search-status"),
            html.Span(id=ids.COUNTS, className="counts"),
            *menus,
        ],
        className="topbar",
    )


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the search and the sliders' callbacks to ``app``."""
    store = app_ctx.store
    for slider, text in ids.SLIDER_TEXTS.items():
        app.clientside_callback(
            ClientsideFunction(ids.CLIENTSIDE, "sliderText"),
            Output(text, "children"),
            Input(slider, "drag_value"),
            Input(slider, "value"),
            prevent_initial_call=True,
        )
    for slider, settled in ((ids.PRUNE, ids.PRUNE_VALUE), (ids.FREQUENCY, ids.FREQUENCY_VALUE)):
        app.clientside_callback(
            ClientsideFunction(ids.CLIENTSIDE, "settleValue"),
            Output(settled, "data"),
            Input(slider, "value"),
            prevent_initial_call=True,
        )

    def run_search(query: str | None, view: dict[str, Any]) -> tuple[list[str], str]:
        if not query or not query.strip():
            return [], ""
        controls = ViewControls(**view)
        found = search_nodes(store, query, controls.labels, descriptions=app_ctx.search_texts)
        visible = app_ctx.scene(controls.view(ViewState())).visible
        return [store.keys[int(i)] for i in found], search_status(found, visible)

    app.callback(
        output=[Output(ids.SEARCH_RESULTS, "data"), Output(ids.SEARCH_STATUS, "children")],
        inputs={"query": Input(ids.SEARCH, "value"), "view": view_dependencies(State)},
        prevent_initial_call=True,
    )(run_search)
