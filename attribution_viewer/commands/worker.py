"""``worker`` command: a Celery worker for the app's live jobs (``--jobs celery``).

    python -m attribution_viewer worker --graph GRAPH --redis redis://HOST:6379/0
        [--model DIR --transcoders DIR --tokenizer DIR] [--backend B] [--memory-gb G]
        [--concurrency 1]

Builds the same app as ``launch.py`` (so Dash registers the same background-callback
tasks), then runs a Celery worker on it. Each worker process loads the model on its first
job and keeps it; ``--concurrency`` processes hold one model each (on one GPU, keep 1).
Start one or more next to ``python launch.py --jobs celery --redis URL``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from attribution_viewer.commands.live_options import add_model_options
from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.live.jobs import NO_MODEL_MESSAGE
from attribution_viewer.settings import resolve_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run a Celery worker for live jobs (--jobs celery)")
    parser.add_argument(
        "--graph", dest="graph_path", type=Path, required=True, help="the graph the app serves"
    )
    parser.add_argument("--redis", dest="redis_url", required=True, help="Redis URL (broker and results)")
    parser.add_argument("--concurrency", type=int, default=1, help="worker processes (one model each)")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from attribution_viewer.app import create_app

    names = ("graph_path", "redis_url", "model", "transcoders", "tokenizer", "model_backend", "job_memory_gb")
    cli = {n: getattr(args, n) for n in names} | {"jobs": "celery"}
    try:
        settings = resolve_settings(cli, os.environ)
    except ValueError as exc:
        raise GraphFormatError("command line", "", "valid worker settings", str(exc)) from exc
    app = create_app(settings)
    live = app.server.config["attribution_viewer_context"].live
    if live is None:
        raise MissingDependencyError(NO_MODEL_MESSAGE)
    live.manager.handle.worker_main(
        [
            "worker",
            f"--concurrency={args.concurrency}",
            "--pool=prefork",
            "--loglevel=INFO",
            "--without-gossip",
        ]
    )
    return 0
