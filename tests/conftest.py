"""Shared test fixtures: the bundled example and, when present, the real graphs."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dash.testing import wait
from dash.testing.application_runners import ThreadedRunner
from werkzeug.serving import BaseWSGIServer, make_server

from attribution_viewer.testing.headless import chrome_options
from config.settings import DEFAULTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = PROJECT_ROOT / "data" / "example"
# The synthetic example (the app's default graph is the tiny real model's, data/tiny-addition).
EXAMPLE_SETTINGS = dataclasses.replace(DEFAULTS, graph_path=EXAMPLE_DIR / "graph.npz")
TINY_DIR = PROJECT_ROOT / "data" / "tiny-addition"
REAL_GRAPHS_DIR = PROJECT_ROOT.parent / "shared" / "real_graphs"
SCHEMAS_DIR = PROJECT_ROOT.parent / "shared" / "schemas"

REAL_GRAPH_FILES = (
    sorted(
        p.name
        for p in REAL_GRAPHS_DIR.glob("*")
        if p.suffix in {".pt", ".json"} and not p.name.startswith("clusters_")
    )
    if REAL_GRAPHS_DIR.is_dir()
    else []
)


def real_graph(name: str) -> Path:
    """Path of a file in ../shared/real_graphs, skipping the test when it is absent."""
    path = REAL_GRAPHS_DIR / name
    if not path.exists():
        pytest.skip(f"real graph {name} not available ({REAL_GRAPHS_DIR} absent)")
    return path


@pytest.fixture(params=REAL_GRAPH_FILES or ["<none>"])
def real_graph_path(request: pytest.FixtureRequest) -> Path:
    """Each real graph file in turn (skipped when ../shared/real_graphs is absent)."""
    return real_graph(str(request.param))


def pytest_setup_options():
    """Chrome options for dash_duo: the system Chromium, headless, no network chatter."""
    return chrome_options(1500, 950)


@pytest.fixture(scope="session")
def dense_mask(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``clt_b_mask__category_20_de.pt`` with every mask entry set to 1 (nodes² edges, cycles)."""
    torch = pytest.importorskip("torch")
    payload = torch.load(real_graph("clt_b_mask__category_20_de.pt"), weights_only=True, map_location="cpu")
    payload["sparse_pruned_adj"] = torch.ones_like(payload["sparse_pruned_adj"])
    payload["edge_mask"] = torch.ones_like(payload["edge_mask"])
    path = tmp_path_factory.mktemp("dense") / "dense_mask.pt"
    torch.save(payload, path)
    return path


class GracefulThreadedRunner(ThreadedRunner):
    """dash_duo's server in a thread, stopped by shutting the WSGI server down.

    Dash's :class:`ThreadedRunner` stops its server by raising ``SystemExit`` asynchronously
    in every thread started since it started (``KillerThread.kill``), request threads
    included: a request thread still finishing a request or a closed connection (common
    when the machine is loaded) dies with ``SystemExit``, which pytest reports as
    ``PytestUnhandledThreadExceptionWarning``. This runner serves the app's WSGI
    application (as ``launch.py`` does, without ``app.run``) on a werkzeug server and stops
    it with ``shutdown()``: request threads end normally.
    """

    def __init__(self) -> None:
        super().__init__()
        self._server: BaseWSGIServer | None = None

    def start(self, app: Any, start_timeout: float = 3, **kwargs: Any) -> None:
        app.scripts.config.serve_locally = True
        app.css.config.serve_locally = True
        self._server = make_server("127.0.0.1", int(kwargs.get("port", 0)), app.server, threaded=True)
        self.port = self._server.server_port
        self.thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.thread.start()
        wait.until(lambda: self.running_and_accessible(self.url), timeout=start_timeout)
        self.started = True

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self.thread is not None:
            self.thread.join(timeout=self.stop_timeout)
        self.started = False


@pytest.fixture
def dash_thread_server() -> Iterator[ThreadedRunner]:
    """Replaces dash.testing's fixture of the same name (used by ``dash_duo``): see
    :class:`GracefulThreadedRunner`."""
    with GracefulThreadedRunner() as runner:
        yield runner


@contextmanager
def serving(server: Any) -> Iterator[int]:
    """Run a waitress server (``attribution_viewer.server.make_server``) in a daemon thread
    and yield its port. It is closed from inside its own loop (a trigger thunk), so the loop
    never waits in ``select`` on a descriptor another thread has just closed (EBADF, reported
    as an unhandled thread exception); connections still open are served until they close."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        server.trigger.pull_trigger(server.close)
