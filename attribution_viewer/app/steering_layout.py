"""The steering panel's components: the panel, its feature rows, and the top bar's scores.

:func:`steering_layout` is the panel (a ``<details>`` in the side column; without a model,
only the message saying how to configure one) with its stores; :func:`feature_rows` the
per-feature controls ``{"type": "steer-ablate" | "steer-mult", "key": K}``;
:func:`graph_scores_span` the top bar's ``graph-scores``. Ids: see :mod:`.steering`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.steering_requests import scores_text
from attribution_viewer.live.backend import MULTIPLIER_RANGE
from attribution_viewer.live.graph_requests import DEFAULT_EDGE_CHECKS
from attribution_viewer.live.jobs import NO_MODEL_MESSAGE, LiveSetup
from attribution_viewer.model import GraphStore

SOURCES = [
    {"label": " selection", "value": "selection"},
    {"label": " pinned", "value": "pinned"},
    {"label": " cluster", "value": "cluster"},
]
WHERE = [
    {"label": " own position", "value": "own"},
    {"label": " all positions", "value": "all"},
    {"label": " generated tokens", "value": "generated"},
]


def _field(label: str, child: Any) -> html.Label:
    return html.Label([html.Span(label, className="steer-label"), child], className="steer-field")


def steering_layout(live: LiveSetup | None, history: list[dict[str, Any]] | None = None) -> html.Details:
    """The panel; without a model, only the message saying how to configure one. ``history``:
    the runs a link restores (the tab's session storage, when it has some, wins)."""
    stores = [
        dcc.Store(id="steer-request"),
        dcc.Store(id="steer-job-output"),
        dcc.Store(id="steer-history", data=history or [], storage_type="session"),
    ]
    if live is None:
        body: list[Any] = [html.Div(NO_MODEL_MESSAGE, id="steer-no-model", className="steer-no-model")]
    else:
        body = [
            html.Div(
                [
                    _field(
                        "Features from",
                        dcc.RadioItems(id="steer-source", options=SOURCES, value="selection", inline=True),
                    ),
                    dcc.Dropdown(
                        id="steer-cluster", options=[], placeholder="cluster", className="steer-cluster"
                    ),
                ],
                className="steer-row",
            ),
            html.Div(id="steer-features", className="steer-features"),
            html.Div(id="steer-subgraph-scores", className="steer-note"),
            html.Div(
                [
                    _field(
                        "Apply at", dcc.RadioItems(id="steer-where", options=WHERE, value="own", inline=True)
                    )
                ],
                className="steer-row",
            ),
            html.Div(
                [
                    _field(
                        "Tokens", dcc.Input(id="steer-tokens", type="number", min=0, max=64, step=1, value=5)
                    ),
                    _field(
                        "Temperature",
                        dcc.Input(id="steer-temperature", type="number", min=0, max=2, step=0.1, value=0),
                    ),
                    _field("Seed", dcc.Input(id="steer-seed", type="number", min=0, step=1, value=0)),
                    dcc.Checklist(
                        id="steer-freeze",
                        options=[{"label": " freeze attention", "value": "freeze"}],
                        value=["freeze"],
                    ),
                ],
                className="steer-row",
            ),
            html.Div(
                [
                    html.Button("Run", id="steer-run", n_clicks=0, className="steer-button"),
                    html.Button(
                        "Cancel", id="steer-cancel", n_clicks=0, disabled=True, className="steer-button"
                    ),
                    html.Progress(id="steer-progress", value="0", max="1", className="steer-progress"),
                    html.Span(id="steer-progress-text", className="steer-note"),
                ],
                className="steer-row",
            ),
            html.Div(id="steer-status", className="steer-status"),
            html.Div(id="steer-result", className="steer-result"),
            html.Div(
                [
                    html.Div("Edge check (every layer frozen: direct effects)", className="steer-subtitle"),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id="edge-check-source",
                                options=[],
                                placeholder="an input of the selected node",
                                className="steer-cluster",
                            ),
                            html.Button(
                                "Check edge", id="edge-check-one", n_clicks=0, className="steer-button"
                            ),
                            html.Button(
                                f"Check {DEFAULT_EDGE_CHECKS} strongest inputs",
                                id="edge-check-run",
                                n_clicks=0,
                                className="steer-button",
                            ),
                        ],
                        className="steer-row",
                    ),
                    html.Div(id="edge-check-result", className="steer-result"),
                ],
                id="edge-check",
                className="edge-check",
            ),
            html.Details(
                [html.Summary("History"), html.Div(id="steer-history-list", className="steer-history")],
                className="steer-history-box",
            ),
        ]
    return html.Details(
        [
            html.Summary("Steer · check edges", id="steer-summary", n_clicks=0, className="steer-summary"),
            *stores,
            *body,
        ],
        id="steer-panel",
        className="steer-panel",
    )


def whole_graph_scores(app_ctx: AppContext) -> str:
    """``graph repl ... · compl ...``, or why the scores cannot be computed (a cyclic graph)."""
    try:
        return "graph " + scores_text(app_ctx.scores)
    except (RuntimeError, ValueError) as exc:
        return f"scores unavailable: {exc}"


def graph_scores_span(app_ctx: AppContext) -> html.Span:
    """The top bar's scores (the whole graph now; the pinned nodes are added by a callback)."""
    return html.Span(
        whole_graph_scores(app_ctx),
        id="graph-scores",
        className="graph-scores",
        title="circuit-tracer's replacement (repl) and completeness (compl) scores, from the graph alone: "
        "the whole graph, then the pinned nodes",
    )


def feature_rows(store: GraphStore, keys: Sequence[str]) -> list[Any]:
    """One row per feature key: its label, an ablate checkbox and a multiplier (default -1)."""
    labels = store.display_labels
    rows = [
        html.Div(
            [
                html.Span(labels[store.index_of[k]], className="steer-feature-label", title=k),
                dcc.Checklist(
                    id={"type": "steer-ablate", "key": k},
                    options=[{"label": " ablate", "value": "ablate"}],
                    value=[],
                    inline=True,
                ),
                dcc.Input(
                    id={"type": "steer-mult", "key": k},
                    type="number",
                    min=MULTIPLIER_RANGE[0],
                    max=MULTIPLIER_RANGE[1],
                    step=0.5,
                    value=-1,
                    className="steer-mult",
                ),
            ],
            className="steer-feature",
        )
        for k in keys
    ]
    if not rows:
        rows = [html.Div("No feature: select a feature, pin some or pick a cluster.", className="steer-note")]
    return rows
