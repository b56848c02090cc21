"""Options shared by the commands that run the live model (``steer``, ``check-edges``, ``attribute``).

The model is the one the flags (or ``ATTRVIEW_MODEL`` / ``ATTRVIEW_TRANSCODERS`` /
``ATTRVIEW_TOKENIZER`` / ``ATTRVIEW_MODEL_BACKEND``) name, else the one the manifest
beside the graph names (``attribution-viewer.json``). It runs in this process, under the
memory cap (``--memory-gb``), like a Celery worker does; it is loaded once per command.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.live.backend import BACKENDS
from attribution_viewer.live.jobs import NO_MODEL_MESSAGE, InProcessBackend, model_spec
from attribution_viewer.settings import Settings, resolve_settings


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model folder or name (default: the graph's manifest)")
    parser.add_argument("--transcoders", help="transcoders folder or name")
    parser.add_argument("--tokenizer", help="tokenizer folder or name")
    parser.add_argument("--backend", dest="model_backend", choices=BACKENDS, help="circuit-tracer backend")
    parser.add_argument(
        "--memory-gb",
        dest="job_memory_gb",
        type=float,
        help=f"address-space cap of this process in GB, 0 = none (default {Settings.job_memory_gb:g})",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the model flags and the ``ATTRVIEW_*`` environment (GraphFormatError when bad)."""
    names = ("model", "transcoders", "tokenizer", "model_backend", "job_memory_gb")
    try:
        return resolve_settings({n: getattr(args, n) for n in names}, os.environ)
    except ValueError as exc:
        raise GraphFormatError("command line", "", "valid model settings", str(exc)) from exc


def live_backend(args: argparse.Namespace, beside: Path) -> InProcessBackend:
    """The model to run for a command about ``beside`` (a graph, or the new graph's path).

    Raises MissingDependencyError (exit code 2, one line) when no model is configured.
    """
    settings = settings_from(args)
    spec = model_spec(settings, beside)
    if spec is None:
        raise MissingDependencyError(NO_MODEL_MESSAGE)
    return InProcessBackend(spec, settings.job_memory_gb)
