"""The "New graph" menu of the top bar: attribute a typed prompt with the live model, then open it.

Present only when a model is configured (:attr:`AppContext.live`). The menu holds the
prompt (``new-graph-prompt``) and circuit-tracer's attribution settings (max logits,
desired logit probability, max feature nodes, batch size), bounded by the settings
(:func:`attribution_viewer.live.new_graph.attribute_request`). **Create** runs the same
``attribute`` job as the command line, as a Dash background callback (progress bar by
phase, **Cancel**), in the model worker or a Celery worker under ``job_memory_gb``.

The graph is saved as ``new-<prompt>-<time>.pt`` in ``settings.new_graphs_dir``, else
beside the graph being viewed (so the same manifest names its model, tokenizer and
descriptions), never replacing a file. Serving a folder (or one graph file with the graphs
made beside it, :func:`attribution_viewer.live.new_graph.new_graphs_library`), the index is
rescanned and the page opens ``?graph=<new path>``; writing outside the served folder
(``new_graphs_dir`` elsewhere), the menu says where the file went and how to open it.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.export_menu import MENU_STYLE
from attribution_viewer.live.backend import AttributeRequest, AttributeResult, from_json, to_json
from attribution_viewer.live.jobs import progress_hooks, run_job
from attribution_viewer.live.new_graph import (
    MAX_BATCH_SIZE,
    MAX_LOGITS,
    attribute_request,
    new_graph_folder,
    new_graph_path,
)

JOB_POLL_MS = 250  # how often the browser asks whether the job is done
DEFAULTS = AttributeRequest("-", "-.pt")  # the defaults of a request (the command line's too)


def output_folder(app_ctx: AppContext) -> Path | None:
    """Where this page's new graphs go (:func:`~attribution_viewer.live.new_graph.new_graph_folder`)."""
    source = app_ctx.store.metadata.source_path or app_ctx.settings.graph_path
    return new_graph_folder(app_ctx.settings, Path(source) if source else None)


def library_path(app_ctx: AppContext, saved: Path) -> str | None:
    """``saved``'s path in the served folder once the index has it (rescanned here), else None
    (one graph served, or saved outside the folder)."""
    library = app_ctx.library
    if library is None:
        return None
    index = library.cache.index
    try:
        rel = saved.resolve().relative_to(index.root.resolve()).as_posix()
    except ValueError:
        return None
    index.rescan()
    return rel if rel in index.entries else None


def saved_text(result: AttributeResult, opened: bool) -> str:
    """One line for the menu: what was made and where (and how to open it when it is not opened)."""
    what = f"{result.n_features} features, {result.n_tokens} tokens, {result.seconds:.1f} s"
    if opened:
        return f"Saved {Path(result.path).name} ({what}); opening it."
    folder = Path(result.path).parent
    return (
        f"Saved {result.path} ({what}). This server does not serve that folder: "
        f"open it with python launch.py --graph {folder}"
    )


def _number(component_id: str, label: str, value: float, low: float, high: float, step: float) -> html.Label:
    """A labelled number input (its bounds are checked again on the server)."""
    return html.Label(
        [
            html.Span(label, className="new-graph-label"),
            dcc.Input(
                id=component_id,
                type="number",
                min=low,
                max=high,
                step=step,
                value=value,
                className="new-graph-number",
            ),
        ],
        className="new-graph-field",
    )


def layout(app_ctx: AppContext) -> list[Any]:
    """The menu (nothing without a model), placed in the top bar by the page."""
    if app_ctx.live is None:
        return []
    settings = app_ctx.settings
    max_features = settings.attribute_max_feature_nodes
    default_features = min(DEFAULTS.max_feature_nodes or max_features, max_features)
    folder = output_folder(app_ctx)
    menu = html.Div(
        [
            dcc.Textarea(
                id=ids.NEW_GRAPH_PROMPT,
                placeholder="Prompt, as the model's tokenizer reads it",
                maxLength=settings.attribute_max_prompt_chars,
                rows=3,
                className="new-graph-prompt",
            ),
            _number(ids.NEW_GRAPH_MAX_LOGITS, "Max logits", DEFAULTS.max_n_logits, 1, MAX_LOGITS, 1),
            _number(
                ids.NEW_GRAPH_DESIRED_PROB, "Logit probability", DEFAULTS.desired_logit_prob, 0.01, 1, 0.01
            ),
            _number(ids.NEW_GRAPH_MAX_FEATURES, "Max features", default_features, 1, max_features, 1),
            _number(ids.NEW_GRAPH_BATCH_SIZE, "Batch size", DEFAULTS.batch_size, 1, MAX_BATCH_SIZE, 1),
            html.Div(
                [
                    html.Button("Create", id=ids.NEW_GRAPH_RUN, n_clicks=0, className="export-go"),
                    html.Button("Cancel", id=ids.NEW_GRAPH_CANCEL, n_clicks=0, disabled=True),
                ],
                className="new-graph-buttons",
            ),
            html.Progress(id=ids.NEW_GRAPH_PROGRESS, value="0", max="1", className="new-graph-progress"),
            html.Span(id=ids.NEW_GRAPH_PROGRESS_TEXT, className="new-graph-note"),
            html.Div(id=ids.NEW_GRAPH_STATUS, className="new-graph-status"),
            html.Div(f"Saved in {folder}" if folder else "", className="new-graph-note"),
            dcc.Store(id=ids.NEW_GRAPH_REQUEST),
            dcc.Store(id=ids.NEW_GRAPH_OUTPUT),
            dcc.Store(id=ids.NEW_GRAPH_OPEN),
        ],
        style={**MENU_STYLE, "width": "300px"},
    )
    return [
        html.Details(
            [html.Summary("New graph", className="new-graph-button", style={"cursor": "pointer"}), menu],
            id=ids.NEW_GRAPH_MENU,
            className="new-graph-menu",
            style={"position": "relative"},
            title="Attribute a new prompt with the model",
        )
    ]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the menu's callbacks (none without a model)."""
    live = app_ctx.live
    if live is None:
        return
    backend = live.backend

    def build_request(
        _clicks: int, prompt: Any, max_logits: Any, desired: Any, max_features: Any, batch: Any
    ) -> tuple[Any, str]:
        folder = output_folder(app_ctx)
        if folder is None or not folder.is_dir():
            return no_update, f"new_graphs_dir: expected an existing folder, got {folder}"
        try:
            out = attribute_request(
                app_ctx.settings,
                new_graph_path(folder, prompt if isinstance(prompt, str) else "", datetime.now()),
                prompt=prompt,
                max_logits=max_logits,
                desired_prob=desired,
                max_features=max_features,
                batch_size=batch,
            )
        except ValueError as exc:
            return no_update, str(exc)
        return {"request": to_json(out), "id": time.time()}, "Starting…"

    app.callback(
        Output(ids.NEW_GRAPH_REQUEST, "data"),
        Output(ids.NEW_GRAPH_STATUS, "children"),
        Input(ids.NEW_GRAPH_RUN, "n_clicks"),
        State(ids.NEW_GRAPH_PROMPT, "value"),
        State(ids.NEW_GRAPH_MAX_LOGITS, "value"),
        State(ids.NEW_GRAPH_DESIRED_PROB, "value"),
        State(ids.NEW_GRAPH_MAX_FEATURES, "value"),
        State(ids.NEW_GRAPH_BATCH_SIZE, "value"),
        prevent_initial_call=True,
    )(build_request)

    def attribute_job(set_progress: Any, job: dict[str, Any] | None) -> dict[str, Any]:
        if not job:
            raise PreventUpdate
        outcome = run_job(backend, "attribute", job["request"], progress_hooks(set_progress), str(job["id"]))
        return to_json(outcome)

    app.callback(
        Output(ids.NEW_GRAPH_OUTPUT, "data"),
        Input(ids.NEW_GRAPH_REQUEST, "data"),
        background=True,
        manager=live.manager,
        running=[
            (Output(ids.NEW_GRAPH_RUN, "disabled"), True, False),
            (Output(ids.NEW_GRAPH_CANCEL, "disabled"), False, True),
        ],
        progress=[
            Output(ids.NEW_GRAPH_PROGRESS, "value"),
            Output(ids.NEW_GRAPH_PROGRESS, "max"),
            Output(ids.NEW_GRAPH_PROGRESS_TEXT, "children"),
        ],
        cancel=[Input(ids.NEW_GRAPH_CANCEL, "n_clicks")],
        interval=JOB_POLL_MS,
        prevent_initial_call=True,
    )(attribute_job)

    def finish(outcome: dict[str, Any] | None) -> tuple[Any, str]:
        if not outcome:
            raise PreventUpdate
        if not outcome["ok"]:
            return no_update, f"No graph: {outcome['error']}"
        result = from_json(AttributeResult, outcome["result"])
        rel = library_path(app_ctx, Path(result.path))
        return (rel if rel is not None else no_update), saved_text(result, rel is not None)

    app.callback(
        Output(ids.NEW_GRAPH_OPEN, "data"),
        Output(ids.NEW_GRAPH_STATUS, "children", allow_duplicate=True),
        Input(ids.NEW_GRAPH_OUTPUT, "data"),
        prevent_initial_call=True,
    )(finish)
    app.clientside_callback(  # a new page, served by the new graph's app
        """function (path) {
            if (path) {
                window.location.assign("?graph=" + encodeURIComponent(path).replace(/%2F/g, "/"));
            }
            return "opening " + path + "…";
        }""",
        Output(ids.NEW_GRAPH_PROGRESS_TEXT, "children", allow_duplicate=True),
        Input(ids.NEW_GRAPH_OPEN, "data"),
        prevent_initial_call=True,
    )
