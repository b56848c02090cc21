"""The node panel: the selected node's header, actions (pin, rename), details and connections.

The kind-specific details come from :mod:`attribution_viewer.app.node_details`; this module
adds what is common to every node kind, the clickable connections list, the panel's route
and callbacks:

* the panel route (``POST <prefix>_attrview/node-panel``, :func:`panel_response`) -- THE
  click path (issue #10): ``assets/node_panel.js`` asks it on a click on a marker or a
  connection row, with the view's values (:mod:`attribution_viewer.panel_request`), and
  gets the panel's two parts (:func:`panel_parts`, as Dash component JSON) and the
  ``selection-layer`` data (the selected node's edges and rings for the canvas) in one
  answer; it builds the panel itself, and tells Dash the selection (``selected-node``,
  ``selection-layer``) only after that frame is painted. The panel is rendered by Dash
  once (:func:`layout`); Dash's renderer does not take part in a click;
* ``panelView`` (clientside) -- the view's values -> ``assets/node_panel.js``, which asks
  the route again when the selection, pins, labels or filters changed some other way
  (search, Esc, a pin, a slider), and the actions' state (shown, Pin / Unpin, the label);
* ``togglePin`` / ``saveLabel`` (clientside, ``assets/app.js``) -- the panel's buttons
  change ``pinned-nodes`` / ``node-labels`` in the browser.

The route reads descriptions lazily (one file per new feature, through the context's
description source of this graph) and answers a bad request with ``{"error": one line}``
(400, 404 for a key the graph does not have; 500 for a failure, logged once), which the
panel shows.

Connection rows are ``button.conn-row`` elements carrying the node key in ``data-key``,
without Dash ids. They are not Dash components: the panel carries them as one JSON
attribute (``div.conn-groups[data-groups]``, see :func:`connection_groups`) and
``assets/app.js`` builds the buttons when that attribute appears or changes, and turns a
click on one into a selection (one delegated listener).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html
from flask import Response, request
from plotly.io.json import to_json_plotly

from attribution_viewer.app import ids, node_details
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import VIEW_CONTROLS, ViewControls
from attribution_viewer.app.drawing import selection_payload
from attribution_viewer.app.failsafe import guard
from attribution_viewer.autointerp import model_mismatch
from attribution_viewer.model import KIND_NAMES, GraphStore, NodeKind
from attribution_viewer.panel_request import PanelRequestError, parse_panel_request
from attribution_viewer.view import Connection, ViewState, connections


def neuronpedia_url(model: str, source: str, layer: int, idx: int) -> str | None:
    """Neuronpedia page of a feature: ``https://www.neuronpedia.org/{model}/{layer}-{source}/{idx}``.

    None when ``model`` or ``source`` is empty (no Neuronpedia ids configured).
    """
    if not model or not source:
        return None
    return f"https://www.neuronpedia.org/{quote(model, safe='')}/{layer}-{quote(source, safe='')}/{idx}"


def empty_panel(store: GraphStore) -> list[Any]:
    """What the panel shows with nothing selected: a hint and the graph's vital numbers."""
    summary = store.summary()
    facts = [
        ("Prompt", "".join(store.prompt_tokens)),
        (
            "Nodes",
            f"{summary['n_features']} features, {summary['n_errors']} errors, "
            f"{summary['n_embeddings']} embeddings, {summary['n_logits']} logits",
        ),
        ("Edges", f"{summary['n_edges']:,} ({'weighted' if store.weighted else '0/1 mask'})"),
        ("Layers", str(store.n_layers)),
        ("Format", store.metadata.source_format),
    ]
    return [
        html.Div(
            "Click a node to see its description, examples and connections. "
            "Esc or a click on empty space clears the selection.",
            className="panel-hint",
        ),
        html.Dl(
            [item for name, value in facts for item in (html.Dt(name), html.Dd(value))], className="facts"
        ),
    ]


def _weight_text(weight: float | None) -> str:
    """A connection row's weight as shown (by CSS, from ``data-weight``); empty for masks."""
    return "" if weight is None else f"{weight:+.3g}"


def _row_text(ctx: AppContext, row: Connection, labels: Mapping[str, str]) -> str:
    """A connection row's text: the user's label, else the feature's description (read
    through the description cache) before its code, else the graph's label."""
    if row.key in labels:
        return row.label
    description = ctx.descriptions_of([row.node]).get(row.key)
    return f"{description} · {row.label}" if description else row.label


def _connection_group(
    ctx: AppContext,
    title: str,
    rows: Sequence[Connection],
    total: int,
    style: tuple[str, bool],
    labels: Mapping[str, str],
) -> dict[str, Any] | None:
    """One group of rows as data (None when empty); ``style``: the sign class and whether
    weights are shown."""
    sign_class, weighted = style
    if not rows:
        return None
    count = f"{len(rows)}" if len(rows) == total else f"top {len(rows)} of {total}"
    return {
        "title": f"{title} ({count})",
        "sign": sign_class,
        "rows": [
            [row.key, _row_text(ctx, row, labels), _weight_text(row.weight if weighted else None)]
            for row in rows
        ],
    }


def connection_groups(ctx: AppContext, index: int, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Inputs and outputs of the node, split positive / negative, strongest first, as the
    data ``assets/app.js`` builds the rows from: per non-empty group ``{"title", "sign",
    "rows": [[key, text, weight text], ...]}``."""
    conns = connections(ctx.store, index, labels)
    in_pos, in_neg, out_pos, out_neg = conns.totals
    if ctx.store.weighted:
        groups = [
            _connection_group(ctx, "Inputs +", conns.inputs_positive, in_pos, ("pos", True), labels),
            _connection_group(ctx, "Inputs −", conns.inputs_negative, in_neg, ("neg", True), labels),
            _connection_group(ctx, "Outputs +", conns.outputs_positive, out_pos, ("pos", True), labels),
            _connection_group(ctx, "Outputs −", conns.outputs_negative, out_neg, ("neg", True), labels),
        ]
    else:
        groups = [
            _connection_group(ctx, "Inputs", conns.inputs_positive, in_pos, ("mask", False), labels),
            _connection_group(ctx, "Outputs", conns.outputs_positive, out_pos, ("mask", False), labels),
        ]
    return [group for group in groups if group is not None]


def connections_section(ctx: AppContext, index: int, labels: Mapping[str, str]) -> html.Div:
    """The connections list: a heading and one ``div.conn-groups`` whose rows
    ``assets/app.js`` builds in the browser from its ``data-groups`` JSON (80 rows as Dash
    components cost the renderer far more than the request: issue #10)."""
    groups = connection_groups(ctx, index, labels)
    data: dict[str, Any] = {"data-groups": json.dumps(groups, ensure_ascii=False, separators=(",", ":"))}
    return html.Div(
        [html.H4("Connections"), html.Div(className="conn-groups", **data)],
        className="connections",
        id="node-connections",
    )


# The view fields the panel shows (a change asks the route again); the others are sent along.
PANEL_INPUTS = frozenset({"selected", "pinned", "labels", "prune", "freq", "toggles"})
# The order of panelView's arguments (Dash wants the Inputs first), also in the panel's
# data-view-fields attribute for assets/node_panel.js.
PANEL_FIELDS = sorted(VIEW_CONTROLS, key=lambda name: name not in PANEL_INPUTS)

HIDDEN_TEXT = (
    "Hidden by the current filters (pruning, max frequency or errors): it is not on the graph. "
    "Pin it to show it."
)


class PanelParts(NamedTuple):
    """The panel's two parts around its Dash-owned actions (pin, rename): ``head`` (the
    node's header and the hidden note, or the empty panel's hint) and ``body`` (details
    and connections)."""

    head: list[Any]
    body: list[Any]


def node_panel_parts(
    ctx: AppContext, index: int, labels: Mapping[str, str], hidden: bool = False
) -> PanelParts:
    """Everything the panel shows for node ``index`` (``hidden``: the view's filters hide it)."""
    store = ctx.store
    key = store.keys[index]
    kind = store.kind_of(index)
    label = labels.get(key) or store.display_labels[index]
    header = html.Div(
        [
            html.Span(KIND_NAMES[kind], className=f"kind-badge kind-{KIND_NAMES[kind]}"),
            html.Span(label, className="node-title", id="node-title"),
            html.Code(key, className="node-key"),
        ],
        className="node-header",
    )
    note = [html.Div(HIDDEN_TEXT, className="panel-note hidden-note", id=ids.HIDDEN_NOTE)] if hidden else []
    return PanelParts(
        [header, *note], [*details_section(ctx, index, label), connections_section(ctx, index, labels)]
    )


def details_section(ctx: AppContext, index: int, label: str) -> list[Any]:
    """Kind-specific details (descriptions are read lazily, one file per new feature)."""
    store = ctx.store
    kind = store.kind_of(index)
    if kind is NodeKind.FEATURE:
        result = ctx.feature_details(index)
        nodes = store.nodes
        freq_values = ctx.frequencies.values
        frequency = None if freq_values is None else float(freq_values[index])
        url = neuronpedia_url(
            ctx.settings.neuronpedia_model,
            ctx.settings.neuronpedia_source,
            int(nodes.layer[index]),
            int(nodes.feature_idx[index]),
        )
        return node_details.render_feature_details(
            result.details,
            store=store,
            index=index,
            label=label,
            frequency=frequency if frequency is not None and frequency == frequency else None,
            neuronpedia_url=url,
            error=result.error,
            mismatch=model_mismatch(store.metadata.scan, result.details) if result.details else "",
        )
    if kind is NodeKind.EMBEDDING:
        return node_details.render_embedding_details(store, index)
    if kind is NodeKind.ERROR:
        return node_details.render_error_details(store, index)
    return node_details.render_logit_details(store, index)


def layout() -> html.Div:
    """The panel's box, rendered once: two parts ``assets/node_panel.js`` fills from the
    panel route, and the actions (pin, rename; shown when a node is selected) between them."""
    actions = html.Div(
        [
            html.Button("Pin", id=ids.PIN_BUTTON, n_clicks=0, className="small-button"),
            dcc.Input(
                id=ids.LABEL_INPUT,
                value="",
                placeholder="Rename this node…",
                debounce=False,
                className="label-input",
            ),
            html.Button("Save label", id=ids.LABEL_SAVE, n_clicks=0, className="small-button"),
        ],
        id=ids.NODE_ACTIONS,
        className="node-actions",
        hidden=True,
    )
    fields: dict[str, Any] = {"data-view-fields": json.dumps(PANEL_FIELDS)}
    return html.Div(
        [html.Div(id=ids.NODE_PANEL_HEAD), actions, html.Div(id=ids.NODE_PANEL_BODY)],
        id=ids.NODE_PANEL,
        className="node-panel",
        **fields,
    )


def panel_parts(app_ctx: AppContext, controls: ViewControls) -> PanelParts:
    """What the panel shows for the selection of ``controls`` (a hint when none)."""
    store = app_ctx.store
    index = store.index_of.get(controls.selected) if controls.selected else None
    if index is None:
        return PanelParts(empty_panel(store), [])
    hidden = not app_ctx.scene(controls.view(ViewState())).visible[index]
    return node_panel_parts(app_ctx, index, controls.labels or {}, bool(hidden))


def panel_response(app_ctx: AppContext, body: bytes) -> tuple[dict[str, Any], int]:
    """The panel route's answer to ``body`` (:mod:`attribution_viewer.panel_request`) and
    its HTTP status: ``{"key", "head", "body", "selection"}`` (the parts as Dash component
    JSON, the selection canvas's data), or ``{"error": one line}`` (400: a bad request,
    404: a key this graph does not have)."""
    try:
        asked = parse_panel_request(body)
    except PanelRequestError as exc:
        return {"error": str(exc)}, 400
    if asked.key is not None and asked.key not in app_ctx.store.index_of:
        return {"error": f"panel request: key 'key': no node {asked.key!r} in this graph"}, 404
    controls = ViewControls(**asked.view)
    head, rest = panel_parts(app_ctx, controls)
    selection = selection_payload(app_ctx, controls)
    return {"key": asked.key, "head": head, "body": rest, "selection": selection}, 200


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the node panel's route and callbacks to ``app``."""
    answer = guard(
        lambda body: panel_response(app_ctx, body), "show this node", lambda m: ({"error": m}, 500)
    )

    def node_panel_route() -> Response:
        payload, status = answer(request.get_data(cache=False))
        return Response(to_json_plotly(payload), status=status, mimetype="application/json")

    app.server.add_url_rule(
        f"{app.config.routes_pathname_prefix}{ids.PANEL_ROUTE}",
        endpoint="node_panel_route",
        view_func=node_panel_route,
        methods=["POST"],
    )
    # The view's values (in PANEL_FIELDS order, named by the panel's data-view-fields) ->
    # assets/node_panel.js, which asks the route again when the selection, pins, labels or
    # filters change (a click asks first, before Dash knows), and the actions' state.
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "panelView"),
        Output(ids.NODE_ACTIONS, "hidden"),
        Output(ids.PIN_BUTTON, "children"),
        Output(ids.LABEL_INPUT, "value"),
        *[(Input if name in PANEL_INPUTS else State)(*VIEW_CONTROLS[name]) for name in PANEL_FIELDS],
    )

    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "togglePin"),
        Output(ids.PINNED, "data"),
        Input(ids.PIN_BUTTON, "n_clicks"),
        State(ids.SELECTED, "data"),
        State(ids.PINNED, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(ids.CLIENTSIDE, "saveLabel"),
        Output(ids.LABELS, "data"),
        Input(ids.LABEL_SAVE, "n_clicks"),
        Input(ids.LABEL_INPUT, "n_submit"),
        State(ids.LABEL_INPUT, "value"),
        State(ids.SELECTED, "data"),
        State(ids.LABELS, "data"),
        prevent_initial_call=True,
    )
