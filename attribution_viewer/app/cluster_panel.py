"""The cluster panel: automatic clustering, manual editing, a list and a cluster-level graph.

All state lives in the browser tab in ``dcc.Store(id="cluster-state", storage_type="session")``
(the JSON of :class:`~attribution_viewer.clustering.ClusterState`; session storage: each tab
has its own, kept across reloads of that tab, so a Run in one tab never replaces another
tab's clusters); the callbacks here are
thin wrappers around the pure functions of :mod:`attribution_viewer.clustering`.

Element ids (stable):

``cluster-state``        store: ``{"clusters": [...], "active": [ids]}``
``cluster-method``       dropdown: similarity method
``cluster-n``            input: number of clusters (empty: automatic); a new value re-clusters
``cluster-max-size``     input: size cap; a new value re-clusters
``cluster-run``          button: run automatic clustering again (edited clusters are kept)
``cluster-target``       dropdown: the cluster that edits apply to
``cluster-merge-with``   dropdown: the second cluster of a merge
``cluster-create``       button: new cluster from the pinned nodes (else the selected node)
``cluster-add``          button: add the selected node (else the pinned ones) to the target
``cluster-remove``       button: take the selected node out of its cluster
``cluster-merge`` / ``cluster-split`` / ``cluster-delete``: buttons acting on the target
``cluster-name-input`` + ``cluster-rename``: rename the target
``cluster-color``        dropdown: recolour the target
``cluster-save`` + ``cluster-download``: download the clusters as JSON
``cluster-upload``       upload: our JSON, the original app's v2.0 file or a Neuronpedia graph JSON
``cluster-import``       button: import the graph file's own supernodes (shown when it has some)
``cluster-status``       one line: what the last action did, warnings, errors
``cluster-list``         the clusters; rows ``{"type": "cluster-item", "id": cid}`` toggle active
``cluster-graph``        cluster-level graph; clicking a cluster toggles it

Reads the stores ``selected-node`` (key or None), ``pinned-nodes`` (keys) and
``url-clusters`` (clusters restored from the URL, which win over the tab's session storage
once). The actions are :mod:`.cluster_actions`, the cluster-level graph :mod:`.cluster_graph`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update

from attribution_viewer.app import ids
from attribution_viewer.app.cluster_actions import ActionInputs, apply_action, run_clustering, with_warnings
from attribution_viewer.app.cluster_graph import cluster_graph_figure
from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering import METHODS, ClusterState, dump_state, toggle_active, validate_state
from attribution_viewer.settings import Settings
from attribution_viewer.style import CLUSTER_PALETTE

METHOD_LABELS: dict[str, str] = {
    "auto": "Auto",
    "connectivity": "Connectivity",
    "layer-position": "Layer + position",
    "text": "Meaning (descriptions)",
}


MAX_LISTED = 60  # clusters drawn in the list and the cluster graph


def _button(label: str, cid: str, title: str) -> html.Button:
    return html.Button(label, id=cid, n_clicks=0, className="small-button", title=title)


def panel_body(settings: Settings) -> html.Div:
    """The panel's components (:func:`layout` puts them in their box)."""
    color_options: list[Any] = [
        {"label": html.Span(className="cluster-swatch", style={"background": c}), "value": c}
        for c in CLUSTER_PALETTE
    ]
    return html.Div(
        [
            dcc.Store(id=ids.CLUSTER_STATE, storage_type="session"),
            dcc.Download(id=ids.CLUSTER_DOWNLOAD),
            html.Div(
                [
                    html.Span("Clusters", className="cluster-title"),
                    dcc.Dropdown(
                        id=ids.CLUSTER_METHOD,
                        options=[{"label": METHOD_LABELS.get(m, m), "value": m} for m in METHODS],
                        value="auto",
                        clearable=False,
                        className="cluster-method",
                    ),
                    html.Label(
                        [
                            "n",
                            dcc.Input(
                                id=ids.CLUSTER_N,
                                type="number",
                                debounce=True,
                                min=1,
                                step=1,
                                placeholder="auto",
                                className="cluster-number",
                            ),
                        ],
                        title="number of clusters (empty: as many as form)",
                        className="cluster-field",
                    ),
                    html.Label(
                        [
                            "max",
                            dcc.Input(
                                id=ids.CLUSTER_MAX_SIZE,
                                type="number",
                                debounce=True,
                                min=2,
                                step=1,
                                value=settings.cluster_max_size,
                                className="cluster-number",
                            ),
                        ],
                        title="largest cluster size",
                        className="cluster-field",
                    ),
                    _button(
                        "Run", ids.CLUSTER_RUN, "cluster the features again (clusters you edited are kept)"
                    ),
                ],
                className="cluster-row",
            ),
            html.Details(
                [
                    html.Summary("Edit · save · load", className="cluster-summary"),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id=ids.CLUSTER_TARGET, placeholder="cluster to edit", className="cluster-pick"
                            ),
                            _button(
                                "New",
                                ids.CLUSTER_CREATE,
                                "new cluster from the pinned nodes (else the selected node)",
                            ),
                            _button(
                                "Add",
                                ids.CLUSTER_ADD,
                                "add the selected node (else the pinned nodes) to this cluster",
                            ),
                            _button(
                                "Remove", ids.CLUSTER_REMOVE, "take the selected node out of its cluster"
                            ),
                            _button("Split", ids.CLUSTER_SPLIT, "split this cluster in two"),
                            _button(
                                "Delete",
                                ids.CLUSTER_DELETE,
                                "delete this cluster (its nodes stay in the graph)",
                            ),
                        ],
                        className="cluster-row",
                    ),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id=ids.CLUSTER_MERGE_WITH, placeholder="merge with…", className="cluster-pick"
                            ),
                            _button("Merge", ids.CLUSTER_MERGE, "merge the second cluster into the first"),
                            dcc.Input(
                                id=ids.CLUSTER_NAME,
                                type="text",
                                placeholder="new name",
                                debounce=True,
                                className="cluster-name-input",
                            ),
                            _button("Rename", ids.CLUSTER_RENAME, "rename this cluster"),
                            dcc.Dropdown(
                                id=ids.CLUSTER_COLOR,
                                options=color_options,
                                placeholder="colour",
                                clearable=False,
                                className="cluster-color",
                            ),
                        ],
                        className="cluster-row",
                    ),
                    html.Div(
                        [
                            _button("Save", ids.CLUSTER_SAVE, "download the clusters as JSON"),
                            dcc.Upload(
                                html.Span("Load…", className="small-button"),
                                id=ids.CLUSTER_UPLOAD,
                                accept=".json,application/json",
                                className="cluster-upload",
                            ),
                            html.Button(
                                "Import from graph",
                                id=ids.CLUSTER_IMPORT,
                                n_clicks=0,
                                className="small-button",
                                title="the supernodes saved in the graph file",
                                style={"display": "none"},
                            ),
                        ],
                        className="cluster-row",
                    ),
                ],
                className="cluster-edit",
            ),
            html.Div(id=ids.CLUSTER_STATUS, className="cluster-status"),
            html.Div(id=ids.CLUSTER_LIST, className="cluster-list"),
            dcc.Graph(
                id=ids.CLUSTER_GRAPH,
                config={"displaylogo": False, "displayModeBar": False, "scrollZoom": False},
                className="cluster-graph",
            ),
        ],
        className="cluster-body",
    )


# -- pure helpers used by the callbacks ------------------------------------------------


def listed_clusters(state: ClusterState, limit: int = MAX_LISTED) -> ClusterState:
    """The clusters the panel draws: the active ones and the first others, ``limit`` in all
    (hundreds of rows and arrows would make every page update slow)."""
    if len(state.clusters) <= limit:
        return state
    active = set(state.active)
    room = max(limit - len(active), 0)
    others = [c for c in state.clusters if c.id not in active][:room]
    keep = {c.id for c in others} | active
    return dataclasses.replace(state, clusters=tuple(c for c in state.clusters if c.id in keep))


def _size_attribute(size: int) -> dict[str, Any]:
    """The ``data-size`` attribute the row's name shows through CSS."""
    return {"data-size": str(size)}


def cluster_list_children(state: ClusterState, total: int | None = None) -> list[Any]:
    """One clickable row per cluster: swatch, name, size, description (``total``: how many
    clusters the full state has, when only some are listed)."""
    if not state.clusters:
        return [html.Div("No clusters yet: press Run, or pin nodes and press New.", className="panel-hint")]
    active = set(state.active)
    more = (total or 0) - len(state.clusters)
    note = [html.Div(f"+{more} more clusters (saved with Save)", className="panel-hint")] if more > 0 else []
    # Two components a row (every Dash component costs time on every page update): the
    # swatch and the size are drawn by CSS from a custom property and a data attribute.
    return [
        html.Div(
            [html.Span(c.name, className="cluster-name", **_size_attribute(len(c.nodes))), c.description],
            id={"type": ids.CLUSTER_ITEM, "id": c.id},
            n_clicks=0,
            className="cluster-item active" if c.id in active else "cluster-item",
            style={"--swatch": c.color},
            title=c.description or "click to highlight in the graph",
        )
        for c in state.clusters
    ] + note


def layout(settings: Settings, url_clusters: dict[str, Any] | None) -> html.Div:
    """The panel in its box, with the clusters a link carries (None: none)."""
    return html.Div(
        [dcc.Store(id=ids.URL_CLUSTERS, data=url_clusters), panel_body(settings)],
        id=ids.CLUSTER_PANEL,
        className="cluster-panel",
    )


# The buttons whose clicks are actions (cluster_actions dispatches on the pressed id).
ACTION_BUTTONS = (
    ids.CLUSTER_RUN,
    ids.CLUSTER_CREATE,
    ids.CLUSTER_ADD,
    ids.CLUSTER_REMOVE,
    ids.CLUSTER_MERGE,
    ids.CLUSTER_SPLIT,
    ids.CLUSTER_DELETE,
    ids.CLUSTER_RENAME,
    ids.CLUSTER_IMPORT,
)
# The number of clusters and the size cap: a new value re-clusters in place (debounced inputs).
ACTION_FIELDS: dict[str, str] = {"n_clusters": ids.CLUSTER_N, "max_size": ids.CLUSTER_MAX_SIZE}
# The other form fields an action reads: ActionInputs field -> component property.
ACTION_FORM: dict[str, tuple[str, str]] = {
    "method": (ids.CLUSTER_METHOD, "value"),
    "target": (ids.CLUSTER_TARGET, "value"),
    "merge_with": (ids.CLUSTER_MERGE_WITH, "value"),
    "name": (ids.CLUSTER_NAME, "value"),
    "upload_name": (ids.CLUSTER_UPLOAD, "filename"),
    "selected": (ids.SELECTED, "data"),
    "pinned": (ids.PINNED, "data"),
}


def register(app: Dash, app_ctx: AppContext) -> None:
    """Wire the panel's ids to the pure functions (one dispatcher, one renderer, one saver)."""
    store = app_ctx.store

    def edit_state(
        pressed: dict[str, int | None],
        graph_click: dict[str, Any] | None,
        color: str | None,
        upload: str | None,
        url_clusters: dict[str, Any] | None,
        fields: dict[str, int | None],
        raw: dict[str, Any] | None,
        form: dict[str, Any],
    ) -> tuple[Any, Any]:
        del pressed  # which control fired is read from the callback context
        trigger = callback_context.triggered_id
        fired = bool(callback_context.triggered and callback_context.triggered[0].get("value"))
        checked = validate_state(raw, store.index_of)
        state = checked.state
        if trigger in (None, ids.URL_CLUSTERS) and url_clusters:
            # page load with clusters in the link: they win over what this browser remembered
            restored = validate_state(url_clusters, store.index_of)
            return restored.state.to_json(), with_warnings(
                "clusters restored from the link", restored.warnings
            )
        if raw is None:  # first visit in this tab: cluster from the graph alone, reading no file
            result = run_clustering(app_ctx, "auto", None, None, read_descriptions=False)
            note = "; Run to use the feature descriptions" if app_ctx.descriptions is not None else ""
            return (result.state or state).to_json(), result.message + note
        if not fired:  # page load, rows being rendered, a control being reset: not a user action
            if checked.warnings:
                return state.to_json(), with_warnings("", checked.warnings)
            return no_update, no_update
        if isinstance(trigger, dict) and trigger.get("type") == ids.CLUSTER_ITEM:
            cid = str(trigger.get("id"))
            return (toggle_active(state, cid).to_json() if cid in state.ids else no_update), ""
        if trigger == ids.CLUSTER_GRAPH:
            points = (graph_click or {}).get("points") or []
            cid = points[0].get("customdata") if points else None
            return (toggle_active(state, cid).to_json() if cid in state.ids else no_update), ""
        inputs = ActionInputs(
            **{**form, **fields, "pinned": list(form["pinned"] or [])}, color=color, upload=upload
        )
        result = apply_action(app_ctx, str(trigger), state, inputs)
        return (result.state.to_json() if result.state is not None else no_update), result.message

    app.callback(
        Output(ids.CLUSTER_STATE, "data"),
        Output(ids.CLUSTER_STATUS, "children"),
        inputs={
            "pressed": {
                **{button: Input(button, "n_clicks") for button in ACTION_BUTTONS},
                ids.CLUSTER_ITEM: Input({"type": ids.CLUSTER_ITEM, "id": ALL}, "n_clicks"),
            },
            "graph_click": Input(ids.CLUSTER_GRAPH, "clickData"),
            "color": Input(ids.CLUSTER_COLOR, "value"),
            "upload": Input(ids.CLUSTER_UPLOAD, "contents"),
            "url_clusters": Input(ids.URL_CLUSTERS, "data"),
            "fields": {name: Input(component, "value") for name, component in ACTION_FIELDS.items()},
        },
        state={
            "raw": State(ids.CLUSTER_STATE, "data"),
            "form": {name: State(component, prop) for name, (component, prop) in ACTION_FORM.items()},
        },
        # busy: Run is disabled and spins while an action (a clustering) is computed
        running=[
            (Output(ids.CLUSTER_RUN, "disabled"), True, False),
            (Output(ids.CLUSTER_RUN, "className"), "small-button busy", "small-button"),
        ],
    )(edit_state)

    def render(raw: dict[str, Any] | None, target: str | None) -> tuple[Any, ...]:
        state = validate_state(raw, store.index_of).state
        options = [{"label": c.name, "value": c.id} for c in state.clusters]
        keep = target if target in state.ids else (state.clusters[-1].id if state.clusters else None)
        import_style = {} if store.supernodes else {"display": "none"}
        shown = listed_clusters(state)
        return (cluster_list_children(shown, len(state.clusters)), cluster_graph_figure(app_ctx, shown),
                options, options, keep, import_style, None)  # fmt: skip

    app.callback(
        Output(ids.CLUSTER_LIST, "children"),
        Output(ids.CLUSTER_GRAPH, "figure"),
        Output(ids.CLUSTER_TARGET, "options"),
        Output(ids.CLUSTER_MERGE_WITH, "options"),
        Output(ids.CLUSTER_TARGET, "value"),
        Output(ids.CLUSTER_IMPORT, "style"),
        Output(ids.CLUSTER_COLOR, "value"),
        Input(ids.CLUSTER_STATE, "data"),
        State(ids.CLUSTER_TARGET, "value"),
    )(render)

    def save(_clicks: int, raw: dict[str, Any] | None) -> dict[str, str]:
        state = validate_state(raw, store.index_of).state
        return {"content": dump_state(state, graph=app_ctx.graph_id),
                "filename": f"{app_ctx.graph_id}.clusters.json", "type": "application/json"}  # fmt: skip

    app.callback(
        Output(ids.CLUSTER_DOWNLOAD, "data"),
        Input(ids.CLUSTER_SAVE, "n_clicks"),
        State(ids.CLUSTER_STATE, "data"),
        prevent_initial_call=True,
    )(save)
