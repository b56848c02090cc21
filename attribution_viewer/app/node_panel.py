"""The node panel: the selected node's header, actions (pin, rename), details and connections.

The kind-specific details come from :mod:`attribution_viewer.app.node_details`; this module
adds what is common to every node kind, the clickable connections list, and the callbacks:

* ``show_node`` -- THE click path: ``selected-node`` (set in the browser: a marker or a
  row click in ``assets/app.js``, search / Esc by the graph view's ``selectNode``) -> the
  panel and the ``selection-layer`` (the selected node's edges and rings for the canvas) in
  one response, one round trip per click. Pins and labels re-render the panel only (the
  figure callback sends the selection with the new scene);
* ``togglePin`` / ``saveLabel`` (clientside, ``assets/app.js``) -- the panel's buttons
  change ``pinned-nodes`` / ``node-labels`` in the browser.

Connection rows are ``button.conn-row`` elements carrying the node key in ``data-key``,
without Dash ids. They are not Dash components: the panel carries them as one JSON
attribute (``div.conn-groups[data-groups]``, see :func:`connection_groups`) and
``assets/app.js`` builds the buttons when that attribute appears or changes, and turns a
click on one into a selection (one delegated listener). A Dash component costs the
renderer time on every update; 80 rows of them cost more than the click's request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from dash import ClientsideFunction, Dash, Input, Output, State, callback_context, dcc, html, no_update

from attribution_viewer.app import ids, node_details
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls, view_dependencies
from attribution_viewer.app.drawing import selection_payload
from attribution_viewer.app.failsafe import error_panel, guard
from attribution_viewer.autointerp import model_mismatch
from attribution_viewer.model import KIND_NAMES, GraphStore, NodeKind
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


HIDDEN_TEXT = (
    "Hidden by the current filters (pruning, max frequency or errors): it is not on the graph. "
    "Pin it to show it."
)


def node_panel_children(
    ctx: AppContext, index: int, labels: Mapping[str, str], pinned: Sequence[str], hidden: bool = False
) -> list[Any]:
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
    actions = html.Div(
        [
            html.Button(
                "Unpin" if key in pinned else "Pin", id=ids.PIN_BUTTON, n_clicks=0, className="small-button"
            ),
            dcc.Input(
                id=ids.LABEL_INPUT,
                value=labels.get(key, ""),
                placeholder="Rename this node…",
                debounce=False,
                className="label-input",
            ),
            html.Button("Save label", id=ids.LABEL_SAVE, n_clicks=0, className="small-button"),
        ],
        className="node-actions",
    )
    note = [html.Div(HIDDEN_TEXT, className="panel-note hidden-note", id=ids.HIDDEN_NOTE)] if hidden else []
    return [
        header,
        *note,
        actions,
        *details_section(ctx, index, label),
        connections_section(ctx, index, labels),
    ]


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
    """The panel's box (filled by ``show_node``)."""
    return html.Div(id=ids.NODE_PANEL, className="node-panel")


def panel_children(app_ctx: AppContext, controls: ViewControls) -> list[Any]:
    """What the panel shows for the selection of ``controls`` (a hint when none)."""
    store = app_ctx.store
    index = store.index_of.get(controls.selected) if controls.selected else None
    if index is None:
        return empty_panel(store)
    hidden = not app_ctx.scene(controls.view(ViewState())).visible[index]
    return node_panel_children(app_ctx, index, controls.labels or {}, controls.pinned or [], bool(hidden))


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the node panel's callbacks to ``app``."""

    def show_node(view: dict[str, Any]) -> dict[str, Any]:
        controls = ViewControls(**view)
        triggered = set(callback_context.triggered_prop_ids.values())
        clicked = not triggered or ids.SELECTED in triggered  # a page's first call shows it too
        return {
            "panel": panel_children(app_ctx, controls),
            "selection": selection_payload(app_ctx, controls) if clicked else no_update,
        }

    dependencies = view_dependencies(State)
    # the filters too: the panel says when they hide the selected node
    for name in ("selected", "pinned", "labels", "prune", "freq", "toggles"):
        dependencies[name] = Input(dependencies[name].component_id, dependencies[name].component_property)
    app.callback(
        output={
            "panel": Output(ids.NODE_PANEL, "children"),
            "selection": Output(ids.SELECTION_LAYER, "data"),
        },
        inputs={"view": dependencies},
    )(guard(show_node, "show this node", lambda m: {"panel": error_panel(m), "selection": None}))

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
