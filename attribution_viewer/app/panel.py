"""The side panel of the selected node: header, actions (pin, rename), details, connections.

The description part comes from :mod:`attribution_viewer.app.node_panel`; this module adds
what is common to every node kind and the clickable connections list: rows are
``button.conn-row`` elements carrying the node key in ``data-key``, without Dash ids, and
``assets/app.js`` turns a click on one into a selection (one delegated listener, so a panel
of 80 rows adds no callback inputs for Dash to wire up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from attribution_viewer.app import node_panel
from attribution_viewer.app.context import AppContext
from attribution_viewer.model import KIND_NAMES, GraphStore, NodeKind
from attribution_viewer.view import Connection, connections


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


def _data_weight(weight: float | None) -> dict[str, Any]:
    """The ``data-weight`` attribute a connection row shows through CSS."""
    return {"data-weight": "" if weight is None else f"{weight:+.3g}"}


def _connection_rows(
    title: str, rows: Sequence[Connection], total: int, sign_class: str, weighted: bool
) -> html.Div:
    if not rows:
        return html.Div()
    count = f"{len(rows)}" if len(rows) == total else f"top {len(rows)} of {total}"
    return html.Div(
        [
            html.Div(f"{title} ({count})", className=f"conn-title {sign_class}"),
            html.Div(
                [
                    # Compact rows (one click sends them all): the weight is shown by CSS
                    # from data-weight, the key is the tooltip.
                    html.Button(
                        row.label,
                        className=f"conn-row {sign_class}",
                        title=row.key,
                        **{"data-key": row.key},
                        **_data_weight(row.weight if weighted else None),
                    )
                    for row in rows
                ],
                className="conn-list",
            ),
        ],
        className="conn-group",
    )


def connections_section(ctx: AppContext, index: int, labels: Mapping[str, str]) -> html.Div:
    """Inputs and outputs of the node, split positive / negative, strongest first."""
    conns = connections(ctx.store, index, labels)
    weighted = ctx.store.weighted
    in_pos, in_neg, out_pos, out_neg = conns.totals
    if weighted:
        groups = [
            _connection_rows("Inputs +", conns.inputs_positive, in_pos, "pos", True),
            _connection_rows("Inputs −", conns.inputs_negative, in_neg, "neg", True),
            _connection_rows("Outputs +", conns.outputs_positive, out_pos, "pos", True),
            _connection_rows("Outputs −", conns.outputs_negative, out_neg, "neg", True),
        ]
    else:
        groups = [
            _connection_rows("Inputs", conns.inputs_positive, in_pos, "mask", False),
            _connection_rows("Outputs", conns.outputs_positive, out_pos, "mask", False),
        ]
    return html.Div([html.H4("Connections"), *groups], className="connections", id="node-connections")


def node_panel_children(
    ctx: AppContext, index: int, labels: Mapping[str, str], pinned: Sequence[str]
) -> list[Any]:
    """Everything the panel shows for node ``index``."""
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
                "Unpin" if key in pinned else "Pin", id="pin-button", n_clicks=0, className="small-button"
            ),
            dcc.Input(
                id="label-input",
                value=labels.get(key, ""),
                placeholder="Rename this node…",
                debounce=False,
                className="label-input",
            ),
            html.Button("Save label", id="label-save", n_clicks=0, className="small-button"),
        ],
        className="node-actions",
    )
    return [header, actions, *details_section(ctx, index, label), connections_section(ctx, index, labels)]


def details_section(ctx: AppContext, index: int, label: str) -> list[Any]:
    """Kind-specific details (descriptions are read lazily, one file per new feature)."""
    store = ctx.store
    kind = store.kind_of(index)
    if kind is NodeKind.FEATURE:
        result = ctx.feature_details(index)
        nodes = store.nodes
        freq_values = ctx.frequencies.values
        frequency = None if freq_values is None else float(freq_values[index])
        url = node_panel.neuronpedia_url(
            ctx.settings.neuronpedia_model,
            ctx.settings.neuronpedia_source,
            int(nodes.layer[index]),
            int(nodes.feature_idx[index]),
        )
        return node_panel.render_feature_details(
            result.details,
            store=store,
            index=index,
            label=label,
            frequency=frequency if frequency is not None and frequency == frequency else None,
            neuronpedia_url=url,
            error=result.error,
        )
    if kind is NodeKind.EMBEDDING:
        return node_panel.render_embedding_details(store, index)
    if kind is NodeKind.ERROR:
        return node_panel.render_error_details(store, index)
    return node_panel.render_logit_details(store, index)
