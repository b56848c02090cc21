"""Where live requests run, and the one job body every runner uses (no torch here).

Two ways to run jobs, chosen by ``settings.jobs``:

``diskcache`` (default, one machine, no extra service)
    Dash's ``DiskcacheManager`` runs each background callback in a fresh process, too
    short-lived to hold a model. The job therefore talks to a long-lived **model worker**
    (:mod:`attribution_viewer.live.worker`), started on first use and holding the model,
    over ``multiprocessing.connection`` (a Unix socket, an authentication key known only
    to this server and its jobs): :class:`~attribution_viewer.live.worker.WorkerClient`.
``celery`` (many users, one GPU box)
    Dash's ``CeleryManager`` sends jobs through Redis to Celery workers
    (``python -m attribution_viewer worker``); each worker process holds the model itself
    (:class:`InProcessBackend`).

Either way the job body is :func:`run_job`: a request (kind + JSON) in, a
:class:`JobOutcome` (JSON) out. The server never imports torch: the model is loaded in
the worker, lazily, on the first request.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attribution_viewer.companions import find_companions
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.live.backend import (
    REQUEST_TYPES,
    ForwardingBackend,
    InterventionBackend,
    JobCancelled,
    JobHooks,
    LiveModelError,
    ModelSpec,
    from_json,
    to_json,
)
from attribution_viewer.settings import Settings

if TYPE_CHECKING:
    from attribution_viewer.live.worker import WorkerClient

log = logging.getLogger(__name__)

NO_MODEL_MESSAGE = (
    "No model configured: steering, edge checks and new graphs need one "
    "(--model/--transcoders/--tokenizer, or a graph whose attribution-viewer.json names them)."
)
MISSING_EXTRA_MESSAGE = (
    "The live model needs the 'live' extra (pip install -e '.[live]'): {error}. "
    "Steering and edge checks are off; the rest of the app works."
)


def model_spec(settings: Settings, graph_path: Path | None) -> ModelSpec | None:
    """The model to use: the settings' own, else the graph's manifest companions, else None."""
    if settings.model is not None and settings.transcoders is not None:
        return ModelSpec(
            settings.model, settings.transcoders, settings.tokenizer or None, settings.model_backend
        )
    if graph_path is None:
        return None
    try:
        found = find_companions(graph_path)
    except GraphFormatError as exc:
        log.warning("no model: %s", exc)
        return None
    if found.model is None or found.transcoders is None:
        return None
    tokenizer = settings.tokenizer or (str(found.tokenizer) if found.tokenizer else None)
    return ModelSpec(str(found.model), str(found.transcoders), tokenizer, settings.model_backend)


@dataclass(frozen=True)
class JobOutcome:
    """What a job returns to the browser: the result, or one line saying why there is none."""

    kind: str
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    job_id: str = ""


def run_job(
    backend: InterventionBackend, kind: str, request: Any, hooks: JobHooks, job_id: str = ""
) -> JobOutcome:
    """The job body: decode the request, ask the backend, encode the result (never raises
    for bad input or model errors: the outcome says what went wrong)."""
    try:
        if kind not in REQUEST_TYPES:
            raise ValueError(f"job kind: expected one of {', '.join(REQUEST_TYPES)}, got {kind!r}")
        decoded = from_json(REQUEST_TYPES[kind], request)
        result = getattr(backend, kind)(decoded, hooks)
    except JobCancelled:
        return JobOutcome(kind, False, error="cancelled", job_id=job_id)
    except (LiveModelError, ValueError, GraphFormatError) as exc:
        return JobOutcome(kind, False, error=str(exc), job_id=job_id)
    return JobOutcome(kind, True, to_json(result), job_id=job_id)


def progress_hooks(set_progress: Callable[[tuple[str, str, str]], None]) -> JobHooks:
    """Hooks that report to a Dash background callback's ``set_progress``, whose outputs are
    a ``<progress>``'s value and max and a text: ``(done, total, what)`` as strings."""
    return JobHooks(progress=lambda done, total, what: set_progress((str(done), str(max(total, 1)), what)))


_IN_PROCESS: dict[ModelSpec, Any] = {}


class InProcessBackend(ForwardingBackend):
    """The model in this very process (a Celery worker, the command line), loaded on first use
    and kept for the process's life (one per :class:`ModelSpec`)."""

    def __init__(self, spec: ModelSpec, memory_gb: float = 0.0) -> None:
        self.spec = spec
        self.memory_gb = memory_gb

    @property
    def backend(self) -> Any:
        if self.spec not in _IN_PROCESS:
            from attribution_viewer.live.circuit_tracer_backend import CircuitTracerBackend, apply_memory_cap

            apply_memory_cap(self.memory_gb)
            _IN_PROCESS[self.spec] = CircuitTracerBackend(self.spec)
        return _IN_PROCESS[self.spec]

    def forward(self, kind: str, request: Any, hooks: JobHooks) -> Any:
        return getattr(self.backend, kind)(request, hooks)


@dataclass(frozen=True)
class LiveSetup:
    """Everything the app needs for live jobs: the model, the job backend and the manager."""

    spec: ModelSpec
    backend: InterventionBackend
    manager: Any
    jobs: str


def celery_app(redis_url: str) -> Any:
    """A Celery app using Redis as broker and result store."""
    from celery import Celery

    app = Celery("attribution_viewer_jobs", broker=redis_url, backend=redis_url)
    app.conf.update(
        worker_prefetch_multiplier=1, task_acks_late=False, broker_connection_retry_on_startup=True
    )
    return app


def live_setup(settings: Settings, graph_path: Path | None) -> LiveSetup | None:
    """The live-job wiring for ``settings`` (None when no model is configured, or when the
    ``live`` extra is missing: then a warning says so)."""
    spec = model_spec(settings, graph_path)
    if spec is None:
        return None
    try:
        return _setup(settings, spec)
    except ImportError as exc:
        log.warning(MISSING_EXTRA_MESSAGE.format(error=exc))
        return None


def _setup(settings: Settings, spec: ModelSpec) -> LiveSetup:
    if settings.jobs == "celery":
        from dash import CeleryManager

        manager = CeleryManager(celery_app(settings.redis_url))
        backend: InterventionBackend = InProcessBackend(spec, settings.job_memory_gb)
        log.info("live jobs go to Celery workers at %s", settings.redis_url)
        return LiveSetup(spec, backend, manager, "celery")
    import diskcache
    from dash import DiskcacheManager

    run_dir = Path(tempfile.mkdtemp(prefix="attrview-live-"))
    atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
    manager = DiskcacheManager(diskcache.Cache(str(run_dir / "jobs")))
    return LiveSetup(spec, model_worker(spec, settings.job_memory_gb), manager, "diskcache")


_WORKERS: dict[tuple[ModelSpec, float], WorkerClient] = {}
_WORKERS_LOCK = threading.Lock()


def model_worker(spec: ModelSpec, memory_gb: float) -> WorkerClient:
    """The client of this server process's model worker for ``spec`` (one per model, however
    many apps use it: serving a folder builds one app per graph, and each new worker would
    load the model again). Its run folder is removed when the process exits."""
    from attribution_viewer.live.worker import WorkerClient

    with _WORKERS_LOCK:
        client = _WORKERS.get((spec, memory_gb))
        if client is None:
            run_dir = Path(tempfile.mkdtemp(prefix="attrview-worker-"))
            atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
            client = WorkerClient(spec, run_dir, secrets.token_bytes(32), os.getpid(), memory_gb)
            _WORKERS[(spec, memory_gb)] = client
        return client
