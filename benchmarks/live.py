"""Live model latency: steering (cold / warm), edge-check throughput, attribution time, UI round trip.

    python benchmarks/live.py [--graph G.pt ...] [--runs 20] [--cold 3] [--no-ui]

Uses the shipped tiny model (``data/tiny-addition``: the graphs there and the model their
``attribution-viewer.json`` names); ``--graph`` picks other graphs (each needs a manifest
naming its model, or ``ATTRVIEW_MODEL`` / ``ATTRVIEW_TRANSCODERS``). Measures, through the
same code the app uses:

* cold steering: a fresh model worker (process start, imports, model load) and the first
  steering request, timed at the client; each cold run is a fresh child process (the worker
  exits with its owner), median of ``--cold``;
* warm steering: the same worker, ablating the feature that feeds the top logit most:
  next-token probabilities only (``tokens 0``) and with a 5-token continuation; p50 / p95 of
  ``--runs`` requests (client wall time: socket + JSON included);
* edge checks: the 20 strongest inputs of the top logit in one request, edges per second;
* attribution: circuit-tracer's ``attribute`` on each graph's prompt, in this process (the
  model already loaded), the app's default settings;
* UI round trip (unless ``--no-ui``): a ``launch.py`` server and headless Chromium; from the
  click on Run to the steered result shown (Dash background callback, Diskcache job process,
  model worker), warm (after 2 warm-up runs), median of 10.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attribution_viewer.live.backend import (
    AttributeRequest,
    EdgeCheckRequest,
    GenerateRequest,
    JobHooks,
    ModelSpec,
    SteerRequest,
)
from attribution_viewer.live.graph_requests import prompt_token_ids, steer_features, strongest_input_edges
from attribution_viewer.live.jobs import model_spec
from attribution_viewer.live.worker import WorkerClient
from attribution_viewer.loaders import open_graph
from attribution_viewer.settings import Settings, resolve_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TINY_DIR = PROJECT_ROOT / "data" / "tiny-addition"


def steer_request(graph: Path, n_tokens: int) -> SteerRequest:
    store = open_graph(graph)
    key = strongest_input_edges(store, "L:0", 1)[0].source_key
    return SteerRequest(
        GenerateRequest(prompt_token_ids(store), n_tokens=n_tokens), steer_features(store, [key], "ablate")
    )


def spec_for(graph: Path) -> ModelSpec:
    spec = model_spec(resolve_settings({}, os.environ, Settings()), graph)
    if spec is None:
        raise SystemExit(f"{graph}: no model (no manifest naming one, no ATTRVIEW_MODEL)")
    return spec


def client_for(spec: ModelSpec) -> WorkerClient:
    return WorkerClient(
        spec, Path(tempfile.mkdtemp(prefix="attrview-bench-")), secrets.token_bytes(32), os.getpid()
    )


def cold_once(graph: Path) -> float:
    """One cold steering request (run in a fresh child process)."""
    client = client_for(spec_for(graph))
    request = steer_request(graph, 0)
    start = time.perf_counter()
    client.steer(request, JobHooks())
    return time.perf_counter() - start


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ui_round_trip(graph: Path, runs: int) -> list[float]:
    """Click Run -> steered result shown, in headless Chromium against launch.py (warm runs)."""
    import socket

    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    from attribution_viewer.testing.headless import chrome_options

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    server = subprocess.Popen(
        [sys.executable, "launch.py", "--graph", str(graph), "--port", str(port), "--cache-dir", "none"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    driver = webdriver.Chrome(options=chrome_options())
    store = open_graph(graph)
    key = strongest_input_edges(store, "L:0", 1)[0].source_key
    times: list[float] = []
    try:
        deadline = time.time() + 60
        while True:
            try:
                driver.get(f"http://127.0.0.1:{port}/?node={key}")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        wait = WebDriverWait(driver, 180)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#steer-panel summary"))
        driver.find_element(By.CSS_SELECTOR, "#steer-panel summary").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#steer-features input[type=checkbox]"))
        time.sleep(1.0)  # the rows may be rendered twice at page load (selection, then cluster state)
        driver.find_element(By.CSS_SELECTOR, "#steer-features input[type=checkbox]").click()
        wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#steer-features input[type=checkbox]").is_selected()
        )
        shown = (
            "const m = document.querySelector('#steer-result .steer-mode'); return m ? m.dataset.job : '';"
        )
        for run in range(runs + WARM_UP_RUNS):  # the first runs start and warm the worker: not counted
            before = driver.execute_script(shown)
            start = time.perf_counter()
            driver.find_element(By.ID, "steer-run").click()
            wait.until(lambda d, old=before: d.execute_script(shown) not in ("", old))
            if run >= WARM_UP_RUNS:
                times.append(time.perf_counter() - start)
            wait.until(lambda d: d.find_element(By.ID, "steer-run").is_enabled())
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=20)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--graph", type=Path, action="append", help="graph(s) (default: data/tiny-addition/*.pt)"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--no-ui", action="store_true")
    parser.add_argument("--cold-once", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_once:
        print(json.dumps(cold_once(args.cold_once)))
        return 0
    graphs = args.graph or sorted(TINY_DIR.glob("*.pt"))
    if not graphs:
        raise SystemExit(f"no graphs: {TINY_DIR} holds no .pt file (pass --graph)")
    graph = graphs[0]
    print(f"graph {graph.name}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    colds = []
    for _ in range(args.cold):
        done = subprocess.run(
            [sys.executable, __file__, "--cold-once", str(graph)], capture_output=True, text=True, check=True
        )
        colds.append(float(done.stdout.strip().splitlines()[-1]))
        time.sleep(OWNER_EXIT_S)  # let the child's worker notice its owner is gone
    print(f"| steering, cold (worker start + model load + request) | {statistics.median(colds):.2f} s |")

    client = client_for(spec_for(graph))
    for n_tokens in (0, 5):
        request = steer_request(graph, n_tokens)
        client.steer(request, JobHooks())
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.steer(request, JobHooks())
            times.append(time.perf_counter() - start)
        p50, p95 = percentiles(times)
        ms = f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        print(f"| steering, warm, {n_tokens} tokens generated | {ms} |")

    store = open_graph(graph)
    edges = strongest_input_edges(store, "L:0", 20)
    request = EdgeCheckRequest(prompt_token_ids(store), edges)
    start = time.perf_counter()
    result = client.check_edges(request, JobHooks())
    seconds = time.perf_counter() - start
    worst = max(abs(e.measured - e.graph_weight) for e in result.edges)
    print(
        f"| edge check, {len(edges)} edges in one job | {seconds:.2f} s, {len(edges) / seconds:.1f} edges/s "
        f"(max |measured - weight| {worst:.1e}) |"
    )

    from attribution_viewer.live.circuit_tracer_backend import CircuitTracerBackend

    backend = CircuitTracerBackend(spec_for(graph))
    with tempfile.TemporaryDirectory() as tmp:
        for g in graphs:
            store = open_graph(g)
            prompt = str(store.metadata.extra.get("prompt", g.stem))
            request = AttributeRequest(prompt, str(Path(tmp) / g.name), token_ids=prompt_token_ids(store))
            backend.attribute(request, JobHooks())  # warm-up
            result = backend.attribute(request, JobHooks())
            print(f"| attribution of {prompt!r} ({result.n_features} features) | {result.seconds:.2f} s |")

    if not args.no_ui:
        times = ui_round_trip(graph, 10)
        print(f"| UI: click Run -> steered result shown, warm | median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}) |")  # fmt: skip
    return 0


OWNER_EXIT_S = 2.5
WARM_UP_RUNS = 2

if __name__ == "__main__":
    raise SystemExit(main())
