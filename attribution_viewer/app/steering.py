"""The steering panel: steer features on the live model, check edges, and the graph scores.

One Dash unit: :func:`steering_layout` (the panel, placed in the side column) and
:func:`register_steering_callbacks` (its callbacks, registered per app). Live work runs as
ONE Dash background callback (``live_job``): a request built here from the controls and the
graph (``steer-request``) goes to the job runner of :mod:`attribution_viewer.live.jobs`
(the model worker, or a Celery worker) and its outcome comes back in ``steer-job-output``;
small callbacks render it. Without a configured model the panel says so and the rest of
the app is unchanged. The scores need no model: the top bar shows those of the graph and
of the pinned nodes, the panel those of the features being steered.

Element ids (stable):

``steer-panel``          the panel (a ``<details>``, closed at first; ``steer-summary`` opens it:
                         its rows follow the selection only while it is open)
``steer-source``         radio: features from the selection, the pinned nodes or a cluster
``steer-cluster``        dropdown: the cluster (from ``cluster-state``)
``steer-features``       one row per feature: ``{"type": "steer-ablate", "key": K}`` (checkbox)
                         and ``{"type": "steer-mult", "key": K}`` (multiplier -5..5, default -1)
``steer-where``          radio: own position / all positions / generated tokens
``steer-tokens``, ``steer-temperature``, ``steer-seed``, ``steer-freeze``: generation controls
``steer-run``, ``steer-cancel``: buttons; ``steer-progress`` (progress bar) and
``steer-progress-text``; ``steer-status``: why a run could not start
``steer-result``         default vs steered continuation, next-token probabilities, changes
``steer-history``        store (session): the runs of this tab; ``steer-history-list``
                         rows ``{"type": "steer-history-item", "index": i}`` re-run one
``edge-check``           the edge-check section: ``edge-check-source`` (an input of the
                         selected node), ``edge-check-one`` (check that edge),
                         ``edge-check-run`` (its 20 strongest inputs), ``edge-check-result``
``graph-scores``         top bar: replacement / completeness of the graph and the pinned nodes
stores ``steer-request`` (the job to run) and ``steer-job-output`` (its outcome)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering.state import validate_state
from attribution_viewer.live.backend import (
    MULTIPLIER_RANGE,
    EdgeCheckRequest,
    EdgeCheckResult,
    GenerateRequest,
    JobHooks,
    SteerRequest,
    SteerResult,
    from_json,
    to_json,
)
from attribution_viewer.live.graph_requests import (
    DEFAULT_EDGE_CHECKS,
    edge_spec,
    prompt_token_ids,
    steer_features,
    strongest_input_edges,
)
from attribution_viewer.live.jobs import NO_MODEL_MESSAGE, LiveSetup, run_job
from attribution_viewer.model import GraphStore, NodeKind, visible_token
from attribution_viewer.scores import GraphScores, graph_scores

HISTORY_MAX = 20
JOB_POLL_MS = 100
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


# -- pure helpers (no Dash state) ---------------------------------------------------------
def chosen_features(
    store: GraphStore,
    source: str,
    selected: str | None,
    pinned: Sequence[str],
    cluster_nodes: Sequence[str],
) -> list[str]:
    """The feature keys the panel acts on, for a source (selection / pinned / cluster)."""
    keys = {
        "selection": [selected] if selected else [],
        "pinned": list(pinned),
        "cluster": list(cluster_nodes),
    }
    index = store.index_of
    return [
        k
        for k in dict.fromkeys(keys.get(source, []))
        if k in index and store.kind_of(index[k]) is NodeKind.FEATURE
    ]


def is_open(summary_clicks: int | None) -> bool:
    """Whether the panel (a ``<details>`` starting closed) is open after this many clicks on it."""
    return bool((summary_clicks or 0) % 2)


def scores_text(scores: GraphScores) -> str:
    """``repl 0.736 · compl 0.916``: replacement and completeness scores, short for the top bar."""
    return f"repl {scores.replacement:.3f} · compl {scores.completeness:.3f}"


def _cluster_nodes(store: GraphStore, cluster_state: Any, cluster_id: str | None) -> list[str]:
    state = validate_state(cluster_state, store.index_of).state
    for cluster in state.clusters:
        if cluster.id == cluster_id:
            return list(cluster.nodes)
    return []


def _number(value: Any, default: float, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high) if math.isfinite(number) else default


# -- layout ---------------------------------------------------------------------------------
def _field(label: str, child: Any) -> html.Label:
    return html.Label([html.Span(label, className="steer-label"), child], className="steer-field")


def steering_layout(live: LiveSetup | None) -> html.Details:
    """The panel; without a model, only the message saying how to configure one."""
    stores = [
        dcc.Store(id="steer-request"),
        dcc.Store(id="steer-job-output"),
        dcc.Store(id="steer-history", data=[], storage_type="session"),
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


# -- rendering --------------------------------------------------------------------------------
def _data(**values: str) -> dict[str, Any]:
    """``data-*`` attributes (exact values for scripts and tests): ``token_id`` -> ``data-token-id``."""
    return {"data-" + name.replace("_", "-"): value for name, value in values.items()}


def _continuation(title: str, prompt: str, text: str) -> html.Div:
    return html.Div(
        [
            html.Div(title, className="steer-subtitle"),
            html.Span(prompt, className="steer-prompt"),
            html.Span(visible_token(text) or "∅", className="steer-continuation"),
        ],
        className="steer-column",
    )


def changes_figure(result: SteerResult) -> go.Figure:
    """Horizontal bars: next-token probability change per token (after - before)."""
    changes = list(reversed(result.changes[:12]))
    labels = [f"'{visible_token(c.token)}'" for c in changes]
    values = [c.change for c in changes]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=["#1a9850" if v >= 0 else "#762a83" for v in values],
            customdata=[[c.before, c.after] for c in changes],
            hovertemplate="%{y}: %{customdata[0]:.3f} → %{customdata[1]:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=40 + 18 * len(changes),
        margin={"l": 60, "r": 10, "t": 24, "b": 20},
        title={"text": "next-token probability change", "font": {"size": 12}},
        xaxis={"zeroline": True, "zerolinecolor": "#888"},
        plot_bgcolor="white",
    )
    return figure


def steer_result_view(result: SteerResult, prompt: str, label: str, job_id: str = "") -> list[Any]:
    rows = [
        html.Tr(
            [
                html.Td(f"'{visible_token(c.token)}'"),
                html.Td(f"{c.before:.3f}"),
                html.Td(f"{c.after:.3f}"),
                html.Td(f"{c.change:+.3f}", className="pos" if c.change >= 0 else "neg"),
            ],
            className="steer-change-row",
            # Exact values, for scripts and tests.
            **_data(token_id=str(c.token_id), before=repr(c.before), after=repr(c.after)),
        )
        for c in result.changes
    ]
    return [
        html.Div(label, className="steer-note"),
        html.Div(
            [
                _continuation("Default", prompt, result.baseline.text),
                _continuation("Steered", prompt, result.steered.text),
            ],
            className="steer-columns",
        ),
        dcc.Graph(id="steer-chart", figure=changes_figure(result), config={"displayModeBar": False}),
        html.Table(
            [
                html.Thead(
                    html.Tr([html.Th("token"), html.Th("before"), html.Th("after"), html.Th("change")])
                ),
                html.Tbody(rows),
            ],
            className="steer-table",
        ),
        html.Div(
            f"Run mode: {result.freeze_mode} · {result.seconds:.2f} s",
            className="steer-note steer-mode",
            **_data(job=job_id),
        ),
    ]


def edge_result_view(result: EdgeCheckResult) -> list[Any]:
    rows = []
    for edge in result.edges:
        ratio = edge.ratio
        rows.append(
            html.Tr(
                [
                    html.Td(edge.source),
                    html.Td(edge.target),
                    html.Td(f"{edge.graph_weight:.4g}"),
                    html.Td(f"{edge.measured:.4g}"),
                    html.Td("-" if ratio is None else f"{ratio:.3f}"),
                ],
                className="edge-check-row",
                **_data(weight=repr(edge.graph_weight), measured=repr(edge.measured)),
            )
        )
    header = html.Tr([html.Th(t) for t in ("source", "target", "graph weight", "measured", "ratio")])
    return [
        html.Table([html.Thead(header), html.Tbody(rows)], className="steer-table"),
        html.Div(
            f"Run mode: {result.freeze_mode} · {result.seconds:.2f} s", className="steer-note steer-mode"
        ),
    ]


# -- callbacks ------------------------------------------------------------------------------
def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the steering panel's callbacks (and the top bar's scores) to ``app``."""
    register_steering_callbacks(app, app_ctx, app_ctx.live)


def register_steering_callbacks(app: Dash, app_ctx: AppContext, live: LiveSetup | None) -> None:
    """Attach the panel's callbacks (and the top bar's scores) to ``app``."""
    store = app_ctx.store

    def pinned_scores(pinned: list[str] | None) -> str:
        text = whole_graph_scores(app_ctx)
        features = chosen_features(store, "pinned", None, pinned or [], [])
        if features and text.startswith("graph "):
            sub = graph_scores(store, [store.index_of[k] for k in features])
            text += f" | pinned ({sub.n_features}) " + scores_text(sub)
        return text

    app.callback(
        Output("graph-scores", "children"), Input("pinned-nodes", "data"), prevent_initial_call=True
    )(pinned_scores)
    if live is None:
        return
    backend = live.backend

    def feature_rows(
        toggles: int,
        source: str,
        cluster_id: str | None,
        selected: str | None,
        pinned: list[str] | None,
        clusters: Any,
    ) -> tuple[Any, Any, str]:
        if not is_open(toggles):
            raise PreventUpdate  # nothing to follow while the panel is closed
        state = validate_state(clusters, store.index_of).state
        options = [{"label": f"{c.name} ({len(c.nodes)})", "value": c.id} for c in state.clusters]
        nodes = _cluster_nodes(store, clusters, cluster_id)
        keys = chosen_features(store, source, selected, pinned or [], nodes)
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
            rows = [
                html.Div("No feature: select a feature, pin some or pick a cluster.", className="steer-note")
            ]
        note = ""
        if source != "selection" and keys:
            note = "subgraph " + scores_text(graph_scores(store, [store.index_of[k] for k in keys]))
        return rows, options, note

    app.callback(
        Output("steer-features", "children"),
        Output("steer-cluster", "options"),
        Output("steer-subgraph-scores", "children"),
        Input("steer-summary", "n_clicks"),
        Input("steer-source", "value"),
        Input("steer-cluster", "value"),
        Input("selected-node", "data"),
        Input("pinned-nodes", "data"),
        Input("cluster-state", "data"),
    )(feature_rows)

    def edge_sources(toggles: int, selected: str | None) -> list[dict[str, str]]:
        if not is_open(toggles):
            raise PreventUpdate
        if not selected or selected not in store.index_of:
            return []
        try:
            edges = strongest_input_edges(store, selected, DEFAULT_EDGE_CHECKS)
        except ValueError:
            return []
        labels = store.display_labels
        return [
            {
                "label": f"{labels[store.index_of[e.source_key]]} ({e.graph_weight:+.3g})",
                "value": e.source_key,
            }
            for e in edges
        ]

    app.callback(
        Output("edge-check-source", "options"),
        Input("steer-summary", "n_clicks"),
        Input("selected-node", "data"),
    )(edge_sources)

    def build_request(
        _run: int,
        _edge_one: int,
        _edge_all: int,
        _history_clicks: list[int],
        selected: str | None,
        source: str,
        cluster_id: str | None,
        pinned: list[str] | None,
        clusters: Any,
        ablate_values: list[list[str]],
        mult_values: list[Any],
        where: str,
        n_tokens: Any,
        temperature: Any,
        seed: Any,
        freeze: list[str] | None,
        edge_source: str | None,
        history: list[dict[str, Any]] | None,
    ) -> tuple[Any, str]:
        trigger = ctx.triggered_id
        try:
            token_ids = prompt_token_ids(store)
            if isinstance(trigger, dict) and trigger.get("type") == "steer-history-item":
                if not ctx.triggered[0]["value"]:  # a re-rendered row, not a click
                    raise PreventUpdate
                entry = (history or [])[int(trigger["index"])]
                return {**entry["job"], "id": time.time()}, ""
            if trigger == "steer-run":
                nodes = _cluster_nodes(store, clusters, cluster_id)
                keys = chosen_features(store, source, selected, pinned or [], nodes)
                features = []
                for key, ablate, mult in zip(
                    _row_keys(ctx.states_list[5]), ablate_values, mult_values, strict=True
                ):
                    if key not in keys:
                        continue
                    mode = "ablate" if ablate else "multiply"
                    features.extend(
                        steer_features(store, [key], mode, _number(mult, -1.0, *MULTIPLIER_RANGE))
                    )
                if not features:
                    return no_update, "Choose at least one feature to steer."
                generation = GenerateRequest(
                    token_ids,
                    n_tokens=int(_number(n_tokens, 5, 0, 64)),
                    temperature=_number(temperature, 0.0, 0.0, 2.0),
                    seed=int(_number(seed, 0, 0, 2**31 - 1)),
                )
                request = SteerRequest(generation, tuple(features), where, bool(freeze))  # pyright: ignore[reportArgumentType]
                label = ", ".join(
                    f"{f.feature.layer}/{f.feature.feature_idx}@{f.feature.pos}"
                    + (" ablated" if f.mode == "ablate" else f" x{f.amount:g}")
                    for f in features
                )
                return {"kind": "steer", "request": to_json(request), "label": label, "id": time.time()}, ""
            if not selected:
                return no_update, "Select a node first."
            if trigger == "edge-check-one":
                if not edge_source:
                    return no_update, "Choose an input of the selected node."
                edges = (edge_spec(store, edge_source, selected),)
            else:
                edges = strongest_input_edges(store, selected, DEFAULT_EDGE_CHECKS)
                if not edges:
                    return no_update, "The selected node has no feature inputs to check."
            request = EdgeCheckRequest(token_ids, edges)
            label = f"edge check into {selected} ({len(edges)} edges)"
            return {"kind": "check_edges", "request": to_json(request), "label": label, "id": time.time()}, ""
        except ValueError as exc:
            return no_update, str(exc)

    app.callback(
        Output("steer-request", "data"),
        Output("steer-status", "children"),
        Input("steer-run", "n_clicks"),
        Input("edge-check-one", "n_clicks"),
        Input("edge-check-run", "n_clicks"),
        Input({"type": "steer-history-item", "index": ALL}, "n_clicks"),
        State("selected-node", "data"),
        State("steer-source", "value"),
        State("steer-cluster", "value"),
        State("pinned-nodes", "data"),
        State("cluster-state", "data"),
        State({"type": "steer-ablate", "key": ALL}, "value"),
        State({"type": "steer-mult", "key": ALL}, "value"),
        State("steer-where", "value"),
        State("steer-tokens", "value"),
        State("steer-temperature", "value"),
        State("steer-seed", "value"),
        State("steer-freeze", "value"),
        State("edge-check-source", "value"),
        State("steer-history", "data"),
        prevent_initial_call=True,
    )(build_request)

    def live_job(set_progress: Any, job: dict[str, Any] | None) -> dict[str, Any]:
        if not job:
            raise PreventUpdate
        hooks = JobHooks(
            progress=lambda done, total, what: set_progress((str(done), str(max(total, 1)), what))
        )
        outcome = run_job(backend, job["kind"], job["request"], hooks, str(job.get("id", "")))
        return {"outcome": to_json(outcome), "job": job}

    app.callback(
        Output("steer-job-output", "data"),
        Input("steer-request", "data"),
        background=True,
        manager=live.manager,
        running=[
            (Output("steer-run", "disabled"), True, False),
            (Output("edge-check-run", "disabled"), True, False),
            (Output("edge-check-one", "disabled"), True, False),
            (Output("steer-cancel", "disabled"), False, True),
            (Output("steer-progress-text", "className"), "steer-note busy", "steer-note"),
        ],
        progress=[
            Output("steer-progress", "value"),
            Output("steer-progress", "max"),
            Output("steer-progress-text", "children"),
        ],
        cancel=[Input("steer-cancel", "n_clicks")],
        # How often the browser asks whether the job is done (Dash's default is 1 s, longer
        # than a warm steering run).
        interval=JOB_POLL_MS,
        prevent_initial_call=True,
    )(live_job)

    prompt = "".join(store.prompt_tokens)

    def show_output(
        data: dict[str, Any] | None, history: list[dict[str, Any]] | None
    ) -> tuple[Any, Any, Any, str]:
        if not data:
            raise PreventUpdate
        outcome, job = data["outcome"], data["job"]
        if not outcome["ok"]:
            return no_update, no_update, no_update, f"{job.get('label', '')}: {outcome['error']}"
        entry = {"job": {k: job[k] for k in ("kind", "request", "label")}, "label": job.get("label", "")}
        new_history = ([entry] + [h for h in (history or []) if h.get("job") != entry["job"]])[:HISTORY_MAX]
        if outcome["kind"] == "steer":
            result = from_json(SteerResult, outcome["result"])
            return (
                steer_result_view(result, visible_token(prompt), job.get("label", ""), outcome["job_id"]),
                no_update,
                new_history,
                "",
            )
        result = from_json(EdgeCheckResult, outcome["result"])
        return no_update, edge_result_view(result), new_history, ""

    app.callback(
        Output("steer-result", "children"),
        Output("edge-check-result", "children"),
        Output("steer-history", "data"),
        Output("steer-status", "children", allow_duplicate=True),
        Input("steer-job-output", "data"),
        State("steer-history", "data"),
        prevent_initial_call=True,
    )(show_output)

    def history_list(history: list[dict[str, Any]] | None) -> list[Any]:
        return [
            html.Button(
                f"{'steer' if h['job']['kind'] == 'steer' else 'edges'}: {h['label']}",
                id={"type": "steer-history-item", "index": i},
                n_clicks=0,
                className="steer-history-item",
                title="run again",
            )
            for i, h in enumerate(history or [])
        ]

    app.callback(Output("steer-history-list", "children"), Input("steer-history", "data"))(history_list)


def _row_keys(states: list[dict[str, Any]]) -> list[str]:
    """The feature keys of the pattern-matching ablate checkboxes, in order."""
    return [item["id"]["key"] for item in states]
