"""The cluster panel: automatic clustering, manual editing, a list and a cluster-level graph.

All state lives in the browser in ``dcc.Store(id="cluster-state", storage_type="local")``
(the JSON of :class:`~attribution_viewer.clustering.ClusterState`); the callbacks here are
thin wrappers around the pure functions of :mod:`attribution_viewer.clustering`.

Element ids (stable):

``cluster-state``        store: ``{"clusters": [...], "active": [ids]}``
``cluster-method``       dropdown: similarity method
``cluster-n``            input: number of clusters (empty: automatic)
``cluster-max-size``     input: size cap
``cluster-run``          button: run automatic clustering (replaces the clusters)
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

Reads the lead's stores ``selected-node`` (key or None), ``pinned-nodes`` (keys) and
``url-clusters`` (clusters restored from the URL, which win over local storage once).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update

from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering import (
    METHODS,
    ClusterState,
    add_nodes,
    cluster_features,
    create_cluster,
    default_candidates,
    delete_cluster,
    dump_state,
    import_supernodes,
    load_cluster_file,
    manual_nodes,
    merge_clusters,
    recluster,
    recolor_cluster,
    remove_nodes,
    rename_cluster,
    split_cluster,
    toggle_active,
    validate_state,
)
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.export.print_figure import ClusterNode, PrintOptions, cluster_figure
from attribution_viewer.model import NodeKind
from attribution_viewer.settings import Settings
from attribution_viewer.style import CLUSTER_PALETTE

METHOD_LABELS: dict[str, str] = {
    "auto": "Auto",
    "connectivity": "Connectivity",
    "layer-position": "Layer + position",
    "text": "Meaning (descriptions)",
}


CLUSTER_GRAPH_WIDTH = 440  # px the cluster graph's name placement assumes (the panel is at least this wide
# from a 1375 px window; a wider panel only spreads the clusters apart)
CLUSTER_GRAPH_LINE = 16  # px of height per cluster, so that every name finds a free line
MAX_LISTED = 60  # clusters drawn in the list and the cluster graph


class ActionResult(NamedTuple):
    """New state (None: unchanged) and the status line to show."""

    state: ClusterState | None
    message: str


def _button(label: str, cid: str, title: str) -> html.Button:
    return html.Button(label, id=cid, n_clicks=0, className="small-button", title=title)


def cluster_panel_layout(settings: Settings) -> html.Div:
    """The panel's components (the lead wraps them in ``html.Div(id="cluster-panel")``)."""
    color_options: list[Any] = [
        {"label": html.Span(className="cluster-swatch", style={"background": c}), "value": c}
        for c in CLUSTER_PALETTE
    ]
    return html.Div(
        [
            dcc.Store(id="cluster-state", storage_type="local"),
            dcc.Download(id="cluster-download"),
            html.Div(
                [
                    html.Span("Clusters", className="cluster-title"),
                    dcc.Dropdown(
                        id="cluster-method",
                        options=[{"label": METHOD_LABELS.get(m, m), "value": m} for m in METHODS],
                        value="auto",
                        clearable=False,
                        className="cluster-method",
                    ),
                    html.Label(
                        [
                            "n",
                            dcc.Input(
                                id="cluster-n",
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
                                id="cluster-max-size",
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
                        "Run", "cluster-run", "cluster the features automatically (replaces the clusters)"
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
                                id="cluster-target", placeholder="cluster to edit", className="cluster-pick"
                            ),
                            _button(
                                "New",
                                "cluster-create",
                                "new cluster from the pinned nodes (else the selected node)",
                            ),
                            _button(
                                "Add",
                                "cluster-add",
                                "add the selected node (else the pinned nodes) to this cluster",
                            ),
                            _button("Remove", "cluster-remove", "take the selected node out of its cluster"),
                            _button("Split", "cluster-split", "split this cluster in two"),
                            _button(
                                "Delete",
                                "cluster-delete",
                                "delete this cluster (its nodes stay in the graph)",
                            ),
                        ],
                        className="cluster-row",
                    ),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id="cluster-merge-with", placeholder="merge with…", className="cluster-pick"
                            ),
                            _button("Merge", "cluster-merge", "merge the second cluster into the first"),
                            dcc.Input(
                                id="cluster-name-input",
                                type="text",
                                placeholder="new name",
                                debounce=True,
                                className="cluster-name-input",
                            ),
                            _button("Rename", "cluster-rename", "rename this cluster"),
                            dcc.Dropdown(
                                id="cluster-color",
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
                            _button("Save", "cluster-save", "download the clusters as JSON"),
                            dcc.Upload(
                                html.Span("Load…", className="small-button"),
                                id="cluster-upload",
                                accept=".json,application/json",
                                className="cluster-upload",
                            ),
                            html.Button(
                                "Import from graph",
                                id="cluster-import",
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
            html.Div(id="cluster-status", className="cluster-status"),
            html.Div(id="cluster-list", className="cluster-list"),
            dcc.Graph(
                id="cluster-graph",
                config={"displaylogo": False, "displayModeBar": False, "scrollZoom": False},
                className="cluster-graph",
            ),
        ],
        className="cluster-body",
    )


# -- pure helpers used by the callbacks ------------------------------------------------


def feature_texts(ctx: AppContext, read_descriptions: bool = True) -> list[str] | None:
    """Description (or label) of every feature node; None when no feature has any.

    ``read_descriptions=False`` uses the labels the graph file carries and reads no
    description file (the automatic clustering of a first visit must not read the folder).
    """
    features = range(ctx.store.count(NodeKind.FEATURE))
    labels = ctx.store.nodes.label
    texts = ctx.node_texts(features) if read_descriptions else [labels[i] for i in features]
    return texts if any(t.strip() for t in texts) else None


def decode_upload(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL (``data:...;base64,XXXX``)."""
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error) as exc:
        raise GraphFormatError("upload", "", "a base64 data URL", str(exc)) from exc


def _with_warnings(text: str, warnings: tuple[str, ...]) -> str:
    if len(warnings) == 0:
        return text
    more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return f"{text}; " * bool(text) + f"warning: {warnings[0]}{more}"


def run_clustering(
    ctx: AppContext,
    method: str,
    n_clusters: int | None,
    max_size: int | None,
    read_descriptions: bool = True,
    state: ClusterState | None = None,
) -> ActionResult:
    """Cluster again in place: the manually edited clusters of ``state`` stay as they are."""
    size = int(max_size) if max_size else ctx.settings.cluster_max_size
    if size < 2:
        return ActionResult(None, "size cap must be at least 2")
    state = state or ClusterState()
    keep = manual_nodes(state)
    keys = ctx.store.keys
    result = cluster_features(
        ctx.store,
        texts=feature_texts(ctx, read_descriptions),
        max_size=size,
        n_clusters=int(n_clusters) if n_clusters else None,
        method=method or "auto",
        seed=ctx.settings.cluster_seed,
        nodes=[int(i) for i in default_candidates(ctx.store) if keys[i] not in keep],
    )
    kept = sum(c.manual for c in state.clusters)
    return ActionResult(
        recluster(state, result, keys),
        f"{len(result.clusters)} clusters (≤ {size}), {len(result.unclustered)} unclustered"
        + (f"; {kept} edited cluster(s) kept" if kept else ""),
    )


class ActionInputs(NamedTuple):
    """Everything the edit actions may need, gathered from the callback's states."""

    method: str
    n_clusters: int | None
    max_size: int | None
    target: str | None
    merge_with: str | None
    name: str | None
    color: str | None
    selected: str | None
    pinned: list[str]
    upload: str | None
    upload_name: str | None


def _edit(ctx: AppContext, action: str, state: ClusterState, inputs: ActionInputs) -> ActionResult:
    """The actions that need no target cluster, then those that do."""
    store = ctx.store
    if action in ("cluster-run", "cluster-n", "cluster-max-size"):
        return run_clustering(ctx, inputs.method, inputs.n_clusters, inputs.max_size, state=state)
    if action == "cluster-create":
        nodes = list(inputs.pinned) or ([inputs.selected] if inputs.selected else [])
        if not nodes:
            return ActionResult(None, "select or pin nodes first")
        return ActionResult(create_cluster(state, nodes), f"new cluster of {len(nodes)} node(s)")
    if action == "cluster-remove":
        holder = next((c for c in state.clusters if inputs.selected in c.nodes), None)
        if holder is None or inputs.selected is None:
            return ActionResult(None, "the selected node is in no cluster")
        return ActionResult(remove_nodes(state, holder.id, [inputs.selected]), f"removed from {holder.name}")
    if action == "cluster-upload":
        if not inputs.upload:
            return ActionResult(None, "")
        name = Path(inputs.upload_name or "upload").name
        loaded = load_cluster_file(decode_upload(inputs.upload), store, source=name)
        message = f"loaded {len(loaded.state.clusters)} clusters from {name}"
        return ActionResult(loaded.state, _with_warnings(message, loaded.warnings))
    if action == "cluster-import":
        found = import_supernodes(store.supernodes, store)
        message = f"imported {len(found.state.clusters)} supernode group(s)"
        return ActionResult(found.state, _with_warnings(message, found.warnings))
    if action == "cluster-color" and not inputs.color:
        return ActionResult(None, "")  # the dropdown was reset
    target = inputs.target if inputs.target in state.ids else None
    if target is None:
        return ActionResult(None, "pick a cluster first")
    if action == "cluster-add":
        nodes = [inputs.selected] if inputs.selected else list(inputs.pinned)
        if not nodes:
            return ActionResult(None, "select a node first")
        return ActionResult(add_nodes(state, target, nodes), f"added {len(nodes)} node(s)")
    if action == "cluster-merge":
        if inputs.merge_with not in state.ids or inputs.merge_with == target:
            return ActionResult(None, "pick a second, different cluster to merge with")
        return ActionResult(merge_clusters(state, target, str(inputs.merge_with)), "merged")
    if action == "cluster-split":
        split = split_cluster(state, target, store, texts=feature_texts(ctx), method=inputs.method)
        return ActionResult(split, "split in two")
    if action == "cluster-delete":
        return ActionResult(delete_cluster(state, target), "deleted")
    if action == "cluster-rename":
        return ActionResult(rename_cluster(state, target, inputs.name or ""), "renamed")
    if action == "cluster-color":
        return ActionResult(recolor_cluster(state, target, str(inputs.color)), "recoloured")
    return ActionResult(None, "")


def apply_action(ctx: AppContext, action: str, state: ClusterState, inputs: ActionInputs) -> ActionResult:
    """Do one panel action on ``state``; bad input becomes the status line, never an exception."""
    try:
        return _edit(ctx, action, state, inputs)
    except ValueError as exc:  # includes GraphFormatError
        return ActionResult(None, str(exc))


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
            id={"type": "cluster-item", "id": c.id},
            n_clicks=0,
            className="cluster-item active" if c.id in active else "cluster-item",
            style={"--swatch": c.color},
            title=c.description or "click to highlight in the graph",
        )
        for c in state.clusters
    ] + note


def cluster_graph_figure(ctx: AppContext, state: ClusterState) -> go.Figure:
    """The cluster-level graph of ``state`` (issue #12: one builder for the panel and the export)."""
    index_of = ctx.store.index_of
    active = set(state.active)
    nodes = [
        ClusterNode(c.id, c.name, c.description, c.color, members, c.id in active)
        for c in state.clusters
        for members in [tuple(index_of[k] for k in c.nodes if k in index_of)]
    ]
    height = int(min(max(260, 70 + CLUSTER_GRAPH_LINE * len(nodes)), 1200))  # the panel scrolls
    page = PrintOptions(width=CLUSTER_GRAPH_WIDTH, height=height, font_size=10.0)
    return cluster_figure(ctx.store, nodes, page, interactive=True)


# -- callbacks ---------------------------------------------------------------------------


def register_cluster_callbacks(app: Dash, ctx: AppContext) -> None:
    """Wire the panel's ids to the pure functions (one dispatcher, one renderer, one saver)."""
    store = ctx.store

    def edit_state(
        _run: int,
        _items: list[int],
        graph_click: dict[str, Any] | None,
        _create: int,
        _add: int,
        _remove: int,
        _merge: int,
        _split: int,
        _delete: int,
        _rename: int,
        color: str | None,
        upload: str | None,
        _import: int,
        url_clusters: dict[str, Any] | None,
        raw: dict[str, Any] | None,
        method: str,
        n_clusters: int | None,
        max_size: int | None,
        target: str | None,
        merge_with: str | None,
        name: str | None,
        upload_name: str | None,
        selected: str | None,
        pinned: list[str] | None,
    ) -> tuple[Any, Any]:
        trigger = callback_context.triggered_id
        fired = bool(callback_context.triggered and callback_context.triggered[0].get("value"))
        checked = validate_state(raw, store.index_of)
        state = checked.state
        if trigger in (None, "url-clusters") and url_clusters:
            # page load with clusters in the link: they win over what this browser remembered
            restored = validate_state(url_clusters, store.index_of)
            return restored.state.to_json(), _with_warnings(
                "clusters restored from the link", restored.warnings
            )
        if raw is None:  # first visit in this browser: cluster from the graph alone, reading no file
            result = run_clustering(ctx, "auto", None, None, read_descriptions=False)
            note = "; Run to use the feature descriptions" if ctx.descriptions is not None else ""
            return (result.state or state).to_json(), result.message + note
        if not fired:  # page load, rows being rendered, a control being reset: not a user action
            if checked.warnings:
                return state.to_json(), _with_warnings("", checked.warnings)
            return no_update, no_update
        if isinstance(trigger, dict) and trigger.get("type") == "cluster-item":
            cid = str(trigger.get("id"))
            return (toggle_active(state, cid).to_json() if cid in state.ids else no_update), ""
        if trigger == "cluster-graph":
            points = (graph_click or {}).get("points") or []
            cid = points[0].get("customdata") if points else None
            return (toggle_active(state, cid).to_json() if cid in state.ids else no_update), ""
        inputs = ActionInputs(method, n_clusters, max_size, target, merge_with, name, color, selected,
                              list(pinned or []), upload, upload_name)  # fmt: skip
        result = apply_action(ctx, str(trigger), state, inputs)
        return (result.state.to_json() if result.state is not None else no_update), result.message

    app.callback(
        Output("cluster-state", "data"),
        Output("cluster-status", "children"),
        Input("cluster-run", "n_clicks"),
        Input({"type": "cluster-item", "id": ALL}, "n_clicks"),
        Input("cluster-graph", "clickData"),
        Input("cluster-create", "n_clicks"),
        Input("cluster-add", "n_clicks"),
        Input("cluster-remove", "n_clicks"),
        Input("cluster-merge", "n_clicks"),
        Input("cluster-split", "n_clicks"),
        Input("cluster-delete", "n_clicks"),
        Input("cluster-rename", "n_clicks"),
        Input("cluster-color", "value"),
        Input("cluster-upload", "contents"),
        Input("cluster-import", "n_clicks"),
        Input("url-clusters", "data"),
        State("cluster-state", "data"),
        State("cluster-method", "value"),
        Input("cluster-n", "value"),  # changing the number or the cap re-clusters in place
        Input("cluster-max-size", "value"),
        State("cluster-target", "value"),
        State("cluster-merge-with", "value"),
        State("cluster-name-input", "value"),
        State("cluster-upload", "filename"),
        State("selected-node", "data"),
        State("pinned-nodes", "data"),
    )(edit_state)

    def render(raw: dict[str, Any] | None, target: str | None) -> tuple[Any, ...]:
        state = validate_state(raw, store.index_of).state
        options = [{"label": c.name, "value": c.id} for c in state.clusters]
        keep = target if target in state.ids else (state.clusters[-1].id if state.clusters else None)
        import_style = {} if store.supernodes else {"display": "none"}
        shown = listed_clusters(state)
        return (cluster_list_children(shown, len(state.clusters)), cluster_graph_figure(ctx, shown), options,
                options, keep, import_style, None)  # fmt: skip

    app.callback(
        Output("cluster-list", "children"),
        Output("cluster-graph", "figure"),
        Output("cluster-target", "options"),
        Output("cluster-merge-with", "options"),
        Output("cluster-target", "value"),
        Output("cluster-import", "style"),
        Output("cluster-color", "value"),
        Input("cluster-state", "data"),
        State("cluster-target", "value"),
    )(render)

    def save(_clicks: int, raw: dict[str, Any] | None) -> dict[str, str]:
        state = validate_state(raw, store.index_of).state
        return {"content": dump_state(state, graph=ctx.graph_id), "filename": f"{ctx.graph_id}.clusters.json",
                "type": "application/json"}  # fmt: skip

    app.callback(
        Output("cluster-download", "data"),
        Input("cluster-save", "n_clicks"),
        State("cluster-state", "data"),
        prevent_initial_call=True,
    )(save)
