"""Browser tests of the steering panel on a real (tiny, random) model: ST1 (Diskcache), ST2 (Celery).

ST1: select a feature, steer it to 0, see the default and steered continuations and the
probability changes; check the selected node's strongest inputs; see the scores. The
probabilities the page shows (exact values in ``data-before`` / ``data-after``) are the
ones the model gives in this process for the same request. ST2 runs the same steering
through Celery + Redis (a real ``redis-server`` and a ``python -m attribution_viewer
worker`` started here) and gets the same numbers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    assert_no_console_errors,
    click_node,
    text_of,
    track_requests,
    wait_for_graph,
    wait_until,
    wait_until_requests_idle,
)
from live_model import write_tiny_bundle

from attribution_viewer.app import create_app
from attribution_viewer.live.backend import GenerateRequest, JobHooks, SteerRequest
from attribution_viewer.live.circuit_tracer_backend import CircuitTracerBackend
from attribution_viewer.live.graph_requests import prompt_token_ids, steer_features, strongest_input_edges
from attribution_viewer.live.jobs import model_spec
from attribution_viewer.live.worker import WorkerClient
from attribution_viewer.loaders import open_graph
from attribution_viewer.settings import Settings
from attribution_viewer.view import decode_blob

pytestmark = pytest.mark.browser
PROJECT_ROOT = Path(__file__).resolve().parent.parent
JOB_TIMEOUT = 120.0  # a cold model worker under a loaded machine
COLD_WORKER_MEMORY_GB = 15.5  # a cap no other test uses: a model worker of st3's own

ROWS = """
return Array.from(document.querySelectorAll(arguments[0]), r => Object.assign({}, r.dataset));
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_bundle(tmp_path_factory.mktemp("bundle"))


def expected_changes(graph: Path, key: str) -> dict[str, tuple[float, float]]:
    """token id -> (before, after) for ablating ``key``, computed in this process."""
    store = open_graph(graph)
    spec = model_spec(Settings(), graph)
    assert spec is not None
    request = SteerRequest(GenerateRequest(prompt_token_ids(store)), steer_features(store, [key], "ablate"))
    result = CircuitTracerBackend(spec).steer(request, JobHooks())
    return {str(c.token_id): (c.before, c.after) for c in result.changes}


def open_panel_on_top_feature(dash_duo: Any, app: Any) -> str:
    """Serve ``app``, open the steering panel and select the feature feeding the top logit most;
    returns its key."""
    store = app.server.config["attribution_viewer_context"].store
    key = strongest_input_edges(store, "L:0", 1)[0].source_key
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    dash_duo.find_element("#steer-panel summary").click()
    click_node(dash_duo, store.index_of[key])
    return key


def steer_in_browser(dash_duo: Any, app: Any, graph: Path) -> tuple[str, list[dict[str, str]]]:
    """Select the feature feeding the top logit most, ablate it, run; returns (key, change rows)."""
    key = open_panel_on_top_feature(dash_duo, app)
    wait_until(lambda: key in text_of(dash_duo, "#node-panel"), message="panel shows the feature")
    dash_duo.wait_for_element("#steer-features input[type=checkbox]", timeout=10)
    dash_duo.find_element("#steer-features input[type=checkbox]").click()
    dash_duo.find_element("#steer-run").click()
    dash_duo.wait_for_element("#steer-result .steer-change-row", timeout=JOB_TIMEOUT)
    result = text_of(dash_duo, "#steer-result")
    assert "Default" in result and "Steered" in result and "ablated" in result
    assert "attention patterns frozen" in result  # the run mode is shown
    dash_duo.wait_for_element("#steer-chart .bars, #steer-chart .trace", timeout=10)
    return key, dash_duo.driver.execute_script(ROWS, "#steer-result .steer-change-row")


def assert_same(rows: list[dict[str, str]], expected: dict[str, tuple[float, float]]) -> None:
    got = {r["tokenId"]: (float(r["before"]), float(r["after"])) for r in rows}
    assert got.keys() == expected.keys()
    for token, (before, after) in expected.items():
        assert got[token] == pytest.approx((before, after), abs=1e-9)
    assert any(abs(b - a) > 1e-4 for b, a in expected.values())  # the ablation changed something


def test_st1_steer_check_edges_and_scores_with_diskcache(dash_duo: Any, bundle: Path) -> None:
    app = create_app(Settings(graph_path=bundle))
    key, rows = steer_in_browser(dash_duo, app, bundle)
    assert_same(rows, expected_changes(bundle, key))

    dash_duo.find_element("#edge-check-run").click()
    dash_duo.wait_for_element("#edge-check-result .edge-check-row", timeout=JOB_TIMEOUT)
    edges = dash_duo.driver.execute_script(ROWS, "#edge-check-result .edge-check-row")
    store = open_graph(bundle)
    assert len(edges) == len(strongest_input_edges(store, key, 20)) > 0
    for edge in edges:
        assert float(edge["measured"]) == pytest.approx(float(edge["weight"]), abs=1e-4)

    assert text_of(dash_duo, "#graph-scores").startswith("graph repl 0.")
    history = dash_duo.driver.execute_script(ROWS, ".steer-history-item")
    assert len(history) == 2  # the steering run and the edge check, re-runnable

    # The history is in the link too: opened in a new tab (its own, empty session storage),
    # the link restores both runs.
    def link_runs() -> list[dict[str, Any]]:
        query = parse_qs(urlparse(dash_duo.driver.current_url).query)
        return decode_blob(query["steer"][0]) if "steer" in query else []

    wait_until(lambda: len(link_runs()) == 2, message="the runs in the URL")
    assert [run["job"]["kind"] for run in link_runs()] == ["check_edges", "steer"]
    link = dash_duo.driver.current_url
    assert_no_console_errors(dash_duo)
    dash_duo.driver.switch_to.new_window("tab")
    dash_duo.driver.get(link)
    wait_until(
        lambda: len(dash_duo.driver.execute_script(ROWS, ".steer-history-item")) == 2,
        message="the link's runs in a new tab",
    )
    assert_no_console_errors(dash_duo)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def celery_setup(bundle: Path, tmp_path: Path) -> Iterator[str]:
    """A real redis-server and a Celery worker for ``bundle``; yields the Redis URL."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    redis = subprocess.Popen(
        [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    url = f"redis://127.0.0.1:{port}/0"
    log = tmp_path / "worker.log"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "attribution_viewer", "worker", "--graph", str(bundle), "--redis", url],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        wait_until(lambda: "ready" in log.read_text(), timeout=90, message="celery worker ready")
        yield url
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        redis.terminate()
        redis.wait(timeout=10)


def test_st2_the_same_steering_through_celery_and_redis(
    dash_duo: Any, bundle: Path, celery_setup: str
) -> None:
    app = create_app(Settings(graph_path=bundle, jobs="celery", redis_url=celery_setup))
    started = time.perf_counter()
    key, rows = steer_in_browser(dash_duo, app, bundle)
    assert time.perf_counter() - started < JOB_TIMEOUT
    assert_same(rows, expected_changes(bundle, key))
    assert_no_console_errors(dash_duo)


def test_st3_cancel_stops_a_job_and_the_next_run_works(dash_duo: Any, bundle: Path) -> None:
    """Cancelled during the cold start (worker start + model load take seconds), a run shows
    nothing; the buttons come back and the next run answers (the model worker survived).

    A server process keeps one model worker per (model, memory cap): with st1's settings this
    app would reuse st1's warm worker, whose answer can arrive before the cancel click. Its
    own memory cap gives it a worker of its own, started by this run."""
    app = create_app(Settings(graph_path=bundle, job_memory_gb=COLD_WORKER_MEMORY_GB))
    live = app.server.config["attribution_viewer_context"].live
    assert isinstance(live.backend, WorkerClient) and live.backend.memory_gb == COLD_WORKER_MEMORY_GB
    probe = live.backend._try_connect()  # no worker answers yet: the run below starts it
    assert probe is None
    open_panel_on_top_feature(dash_duo, app)
    dash_duo.wait_for_element("#steer-features input[type=checkbox]", timeout=10)
    track_requests(dash_duo)
    dash_duo.find_element("#steer-run").click()
    wait_until(lambda: dash_duo.find_element("#steer-cancel").is_enabled(), message="job running")
    dash_duo.find_element("#steer-cancel").click()
    wait_until(lambda: dash_duo.find_element("#steer-run").is_enabled(), timeout=20, message="run enabled")
    # No request for a second (the job was polled every 150 ms): a result still coming would be here.
    wait_until_requests_idle(dash_duo)
    assert dash_duo.driver.execute_script(ROWS, "#steer-result .steer-change-row") == []
    dash_duo.find_element("#steer-run").click()
    dash_duo.wait_for_element("#steer-result .steer-change-row", timeout=JOB_TIMEOUT)
    assert_no_console_errors(dash_duo)
