"""Load test of the production server: concurrent clients replaying clicks (loopback only).

    python benchmarks/serve_load.py [--graph PATH] [--clients 20] [--seconds 60] [--markdown]

Starts ``python launch.py`` (waitress, the default server) on a free 127.0.0.1 port, then
runs ``--clients`` threads for ``--seconds``. Each client replays what a browser sends for
a click on a random node: the panel request (``node-panel.children``) and then the
selection-layer request (``selection-layer.data``), as ``/_dash-update-component`` POSTs
built from the server's own ``/_dash-dependencies``; every 10th click it also reloads the
page (``/`` and ``/_dash-layout``). Bounded: loopback only, a fixed duration, no retries.

Prints requests, errors (any non-200 or exception), latency p50 / p95 / max per request
kind, and the server's RSS (``/proc/PID/status`` VmRSS) sampled every second: first 10 s
mean, last 10 s mean, max, so "memory flat" is visible. Exit code 1 when any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GRAPH = ROOT / "data" / "example" / "graph.npz"
PAGE_EVERY = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()


def payload(deps: list[dict[str, Any]], output: str, values: dict[str, Any], changed: str) -> bytes:
    """The body dash-renderer POSTs for the callback of ``output`` (values by ``id.prop``)."""
    dep = next(d for d in deps if d["output"] == output)

    def fill(items: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    out_id, prop = output.split(".", 1)
    body = {
        "output": output,
        "outputs": {"id": out_id, "property": prop},
        "inputs": fill(dep["inputs"]),
        "state": fill(dep["state"]),
        "changedPropIds": [changed],
    }
    return json.dumps(body).encode()


def run_client(
    port: int,
    deps: list[dict[str, Any]],
    keys: list[str],
    stop: float,
    seed: int,
    out: dict[str, list[float]],
) -> None:
    rng = random.Random(seed)
    client = Client(port)
    clicks = 0
    while time.monotonic() < stop:
        steps: list[tuple[str, str, str, bytes | None]] = []
        if clicks % PAGE_EVERY == 0:
            steps += [("page", "GET", "/", None), ("layout", "GET", "/_dash-layout", None)]
        key = rng.choice(keys)
        view = {
            "prune-value.data": 0.8,
            "frequency-value.data": 1.0,
            "error-toggle.value": [],
            "node-size.value": 10,
            "pinned-nodes.data": [],
            "node-labels.data": {},
        }
        panel = payload(
            deps, "node-panel.children", {**view, "selected-node.data": key}, "selected-node.data"
        )
        selection = payload(deps, "selection-layer.data", {**view, "panel-node.data": key}, "panel-node.data")
        steps.append(("panel", "POST", "/_dash-update-component", panel))
        steps.append(("selection", "POST", "/_dash-update-component", selection))
        for kind, method, path, body in steps:
            start = time.perf_counter()
            try:
                status, answer = client.request(method, path, body)
                ok = status == 200 and b"Could not " not in answer  # a guarded callback's failure
            except (OSError, http.client.HTTPException):
                ok = False
                client = Client(port)
            out[kind].append(time.perf_counter() - start)
            if not ok:
                out["errors"].append(1.0)
        clicks += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--graph", type=Path, default=DEFAULT_GRAPH)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--markdown", action="store_true", help="one Markdown table row")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "launch.py",
            "--graph",
            str(args.graph),
            "--autointerp",
            "none",
            "--port",
            str(port),
            "--cache-dir",
            "none",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, body = Client(port).request("GET", "/_dash-dependencies")
                if status == 200:
                    deps = json.loads(body)
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        _, layout = Client(port).request("GET", "/_dash-layout")
        keys = [k for k in json.loads(_find_store(layout, "node-keys")) if k.startswith(("F:", "X:", "E:"))]
        results: dict[str, list[float]] = {k: [] for k in ("page", "layout", "panel", "selection", "errors")}
        memory: list[tuple[float, float]] = []
        start = time.monotonic()
        stop = start + args.seconds
        threads = [
            threading.Thread(target=run_client, args=(port, deps, keys, stop, i, results), daemon=True)
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        while time.monotonic() < stop:
            memory.append((time.monotonic() - start, rss_mb(server.pid)))
            time.sleep(1.0)
        for t in threads:
            t.join(timeout=120)
        memory.append((time.monotonic() - start, rss_mb(server.pid)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    requests = sum(len(results[k]) for k in ("page", "layout", "panel", "selection"))
    errors = len(results["errors"])
    first = statistics.mean(m for t, m in memory if t <= 10)
    last = statistics.mean(m for t, m in memory if t >= args.seconds - 10)
    peak = max(m for _, m in memory)
    load = os.getloadavg()[0]
    lat = {k: results[k] for k in ("panel", "selection", "page", "layout")}
    every = [v for k in lat for v in lat[k]]
    if args.markdown:
        print(
            f"| {args.graph.name} | {args.clients} | {args.seconds:g} | {requests:,} | {errors} | "
            f"{1000 * percentile(every, 0.5):.0f} | {1000 * percentile(every, 0.95):.0f} | "
            f"{1000 * percentile(lat['panel'], 0.95):.0f} | {1000 * percentile(every, 1.0):.0f} | "
            f"{first:.0f} / {last:.0f} / {peak:.0f} | {load:.1f} |"
        )
    else:
        print(f"{requests} requests from {args.clients} clients in {args.seconds:g} s, {errors} errors")
        for kind, values in lat.items():
            print(
                f"  {kind:9s} n={len(values):5d}  p50 {1000 * percentile(values, 0.5):6.0f} ms  "
                f"p95 {1000 * percentile(values, 0.95):6.0f} ms  max {1000 * percentile(values, 1.0):6.0f} ms"
            )
        print(
            f"  server RSS MB: first 10 s {first:.0f}, last 10 s {last:.0f}, max {peak:.0f}; load {load:.1f}"
        )
    return 1 if errors else 0


def _find_store(layout: bytes, store_id: str) -> str:
    """The ``data`` of the dcc.Store ``store_id`` in a ``/_dash-layout`` response, as JSON."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props, dict) and props.get("id") == store_id:
                return props.get("data")
            for value in node.values():
                found = walk(value)
                if found is not None:
                    return found
        elif isinstance(node, list):
            for value in node:
                found = walk(value)
                if found is not None:
                    return found
        return None

    return json.dumps(walk(json.loads(layout)))


if __name__ == "__main__":
    raise SystemExit(main())
