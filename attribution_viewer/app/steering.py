"""The steering panel: steer features on the live model, check edges, and the graph scores.

One Dash unit: :func:`steering_layout` (the panel, placed in the side column) and
:func:`register_steering_callbacks` (its callbacks, registered per app), in four parts:
``steering_layout`` (the components), ``steering_requests`` (controls + graph -> the job to
run; pure, no Dash), ``steering_results`` (a result as components) and ``steering_history``
(the runs of this tab). This module wires them: callbacks only. Live work runs as
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
``steer-history``        store (session; also in the URL, ``steer=``): the runs of this tab;
                         ``steer-history-list`` rows ``{"type": "steer-history-item", "index": i}`` re-run one
``edge-check``           the edge-check section: ``edge-check-source`` (an input of the
                         selected node), ``edge-check-one`` (check that edge),
                         ``edge-check-run`` (its 20 strongest inputs), ``edge-check-result``
``graph-scores``         top bar: replacement / completeness of the graph and the pinned nodes
stores ``steer-request`` (the job to run) and ``steer-job-output`` (its outcome)
"""

from __future__ import annotations

import time
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.steering_history import history_buttons, rerun_job, with_run
from attribution_viewer.app.steering_layout import (
    feature_rows,
    graph_scores_span,
    steering_layout,
    whole_graph_scores,
)
from attribution_viewer.app.steering_requests import (
    chosen_features,
    cluster_nodes,
    edge_check_job,
    is_open,
    scores_text,
    steer_job,
)
from attribution_viewer.app.steering_results import edge_result_view, steer_result_view
from attribution_viewer.clustering.state import validate_state
from attribution_viewer.live.backend import EdgeCheckResult, SteerResult, from_json, to_json
from attribution_viewer.live.graph_requests import (
    DEFAULT_EDGE_CHECKS,
    prompt_token_ids,
    strongest_input_edges,
)
from attribution_viewer.live.jobs import LiveSetup, progress_hooks, run_job
from attribution_viewer.model import visible_token
from attribution_viewer.scores import graph_scores

# The layout's entry points, placed by page.build_page.
__all__ = ["graph_scores_span", "register", "register_steering_callbacks", "steering_layout"]

JOB_POLL_MS = 100


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

    def update_features(
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
        keys = chosen_features(
            store, source, selected, pinned or [], cluster_nodes(store, clusters, cluster_id)
        )
        note = ""
        if source != "selection" and keys:
            note = "subgraph " + scores_text(graph_scores(store, [store.index_of[k] for k in keys]))
        return feature_rows(store, keys), options, note

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
    )(update_features)

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
                return rerun_job(history, int(trigger["index"]), time.time()), ""
            if trigger == "steer-run":
                keys = chosen_features(
                    store, source, selected, pinned or [], cluster_nodes(store, clusters, cluster_id)
                )
                # The pattern-matching ablate checkboxes' keys, in the order of their values.
                row_keys = [item["id"]["key"] for item in ctx.states_list[5]]
                rows = list(zip(row_keys, ablate_values, mult_values, strict=True))
                generation = (n_tokens, temperature, seed)
                job = steer_job(store, token_ids, keys, rows, where, generation, bool(freeze), time.time())
                return job, ""
            one = trigger == "edge-check-one"
            return edge_check_job(store, token_ids, selected, edge_source, one, time.time()), ""
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
        hooks = progress_hooks(set_progress)
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
        new_history = with_run(history, job)
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

    app.callback(Output("steer-history-list", "children"), Input("steer-history", "data"))(history_buttons)
