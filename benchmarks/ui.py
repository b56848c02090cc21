"""UI benchmark in headless Chromium: launch -> painted, click -> panel, bytes per click, server RSS.

    python benchmarks/ui.py [--clicks 20] [--repeat 3] [--only TEXT] [--exclude TEXT] [--markdown] [--verbose]
                            [--bare-each]

Graphs: first the floor, a bare Dash page (``benchmarks/bare_page.py``: one dcc.Graph of
500 SVG markers and one click callback, as ``../shared/docs/perf-notes.md`` defines it),
measured exactly like the app in the same run (column ``p50 / bare``: a graph's click p50
over the bare page's measured last before it; with ``--bare-each`` the bare page is
measured again, one launch, right before every graph, so that a ratio compares two
measurements at about the same machine load); then the bundled example
(``data/example/graph.npz`` with its autointerp folder), every graph in
``../shared/real_graphs`` (``clusters_*.json`` skipped; no autointerp), a synthetic
5k-feature / 200k-edge graph and a 10k-feature / 700k-edge mask-only graph (0/1 weights),
both written with :func:`attribution_viewer.loaders.save_native` to a temporary folder.

For each graph, ``--repeat`` times, a fresh ``python launch.py`` server and a fresh
browser (cold HTTP cache):

* ``start->200``: from just before the server process is started to its first HTTP 200;
* ``nav->painted``: from navigation start (``performance.timeOrigin``) to the first
  animation frame in which node markers (``path.point``) exist and the edge canvas has been
  drawn (``canvas.edge-layer[data-edges]``); a ``requestAnimationFrame`` loop is injected
  before any page script runs (CDP ``addScriptToEvaluateOnNewDocument``);
* ``launch->painted``: process start to that frame (same clock: wall time of both sides).

``.pt`` graphs are converted at every launch (each launch gets an empty conversion cache):
these are cold starts; reopening an unchanged ``.pt`` file skips the conversion.

On the last launch, ``--clicks`` well-separated visible nodes (mostly features, plus up to
two embeddings and two logits; the markers farthest in pixels from any other marker) are
clicked with real pointer actions (W3C ``move_to_location`` + ``click``), the page seeing
a mouse (``(hover: hover)``, ``(pointer: fine)``, as on a desktop; ``--touch-media`` keeps
headless Chromium's touch-like ``(hover: none)``, under which plotly.js restyles the whole
page twice per click). In-page, a ``mousedown`` listener (the first: window, capture)
records ``performance.now()``; a MutationObserver on ``#node-panel`` records
``performance.now()`` at the animation frame after the panel shows the clicked node's key
and its connection rows (built by ``assets/app.js`` from one JSON attribute).
The in-page ``fetch`` wrapper sums the bodies of the ``_dash-update-component``
responses and the node panel route's (``_attrview/node-panel``) started after the
mousedown (until no request for 1 s), and checks that the
``attribution-graph.figure`` output of a click, if any, is a ``dash.Patch`` (column
``figure``: ``none`` when no click sent the figure, ``Patch``, or ``FULL`` when a click
resent the whole figure). ``peak MB`` is the
server process's ``VmHWM`` after the clicks. ``load`` is the machine's 1-minute load
average when the graph was done: other work on the machine inflates every time.

Medians over the launches are reported; click times as p50 / p95 over the clicks. With
``--verbose`` the page-load breakdown (largest and slowest resources, figure callback
timing) is printed per graph.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains

from attribution_viewer.loaders import open_graph, save_native
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.testing.headless import chrome_options
from attribution_viewer.testing.synthetic import make_synthetic_graph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_GRAPHS = PROJECT_ROOT.parent / "shared" / "real_graphs"
BARE_NAME = "bare Dash page"
BARE_MARKERS = 500  # benchmarks/bare_page.py N_MARKERS
EXAMPLE_GRAPH = PROJECT_ROOT / "data" / "example" / "graph.npz"
EXAMPLE_AUTOINTERP = PROJECT_ROOT / "data" / "example" / "autointerp" / "features"
CHROMEDRIVER = "/usr/bin/chromedriver"
TARGETS = (
    "targets: painted < 1.5 s (real graphs), < 4 s (5k/200k); click->panel < 150 ms and p50 at most "
    "1.5x the bare page's; no click over 20 KB (real graphs); server peak RSS < 250 MB (real graphs)"
)
CLICK_TIMEOUT_MS = 120_000
SETTLE_MS = 1000  # a click's requests are over when none has started or ended for this long

# Injected before any page script: paint detection and a fetch wrapper recording every
# _dash-update-component response and the node panel route's (output ids, body bytes,
# timing, Patch or not).
_PAGE_INIT = """
(function () {
  const av = window.__av = {painted: null, responses: [], pending: 0, lastActivity: 0};
  const originalFetch = window.fetch;
  window.fetch = function (resource, init) {
    const url = typeof resource === 'string' ? resource : (resource && resource.url) || '';
    const promise = originalFetch.apply(this, arguments);
    const route = url.indexOf('_attrview/node-panel') >= 0;  // the node panel's route
    if (url.indexOf('_dash-update-component') < 0 && !route) { return promise; }
    let output = route ? 'node-panel route' : '';
    try { output = output || JSON.parse(init.body).output; } catch (e) { output = '?'; }
    const start = performance.now();
    av.pending += 1;
    av.lastActivity = start;
    promise.then(r => r.clone().arrayBuffer()).then(buf => {
      let patch = null;
      if (output.indexOf('attribution-graph.figure') >= 0 && buf.byteLength) {
        try {
          const fig = JSON.parse(new TextDecoder().decode(buf)).response['attribution-graph'].figure;
          patch = !!(fig && fig.__dash_patch_update);
        } catch (e) { patch = null; }
      }
      av.responses.push({output: output, bytes: buf.byteLength, start: start,
                         end: performance.now(), patch: patch});
    }).catch(() => {}).finally(() => { av.pending -= 1; av.lastActivity = performance.now(); });
    return promise;
  };
  function frame() {
    if (document.querySelector('#attribution-graph .scatterlayer .trace path.point') &&
        (document.querySelector('#attribution-graph canvas.edge-layer[data-edges]') ||
         document.getElementById('bare-page'))) {
      av.painted = performance.now();
    } else {
      requestAnimationFrame(frame);
    }
  }
  requestAnimationFrame(frame);
})();
"""

# Resolves with the paint time once markers exist and the page's requests have settled.
_WAIT_PAINTED = """
const done = arguments[arguments.length - 1], settle = arguments[0], timeout = arguments[1];
const t0 = performance.now();
(function poll() {
  const av = window.__av;
  const now = performance.now();
  if (av && av.painted !== null && av.pending === 0 && now - av.lastActivity > settle) {
    done({painted: av.painted, origin: performance.timeOrigin, responses: av.responses});
  } else if (now - t0 > timeout) {
    done({painted: av ? av.painted : null, origin: performance.timeOrigin, responses: av ? av.responses : [],
          timedOut: true});
  } else { setTimeout(poll, 20); }
})();
"""

# Every clickable marker on screen: [customdata, x, y, distance in px to the nearest other marker].
_MARKERS = """
const gd = document.querySelector('#attribution-graph .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, size = gd._fullLayout._size;
const box = gd.getBoundingClientRect();
const pts = [];
for (const trace of gd._fullData) {
  if (trace.visible !== true || !trace.customdata) { continue; }
  if (!trace.mode || trace.mode.indexOf('markers') < 0) { continue; }
  if (trace.marker && trace.marker.symbol === 'circle-open') { continue; }
  for (let k = 0; k < trace.x.length; k++) {
    const px = xa.l2p(trace.x[k]), py = ya.l2p(trace.y[k]);
    if (!(px >= 0 && px <= size.w && py >= 0 && py <= size.h)) { continue; }
    const x = box.left + size.l + px, y = box.top + size.t + py;
    if (x < 0 || y < 0 || x > window.innerWidth || y > window.innerHeight) { continue; }
    pts.push([Number(trace.customdata[k]), x, y]);
  }
}
for (let i = 0; i < pts.length; i++) {
  let best = Infinity;
  for (let j = 0; j < pts.length; j++) {
    if (j === i) { continue; }
    const d = Math.hypot(pts[i][1] - pts[j][1], pts[i][2] - pts[j][2]);
    if (d < best) { best = d; }
  }
  pts[i].push(best);
}
return pts;
"""

# Arms one click: mousedown time, and the frame after the panel shows `key`.
_ARM_CLICK = """
const key = arguments[0];
const av = window.__av;
const click = av.click = {key: key, down: null, done: null};
window.addEventListener('mousedown', () => { if (click.down === null) { click.down = performance.now(); } },
                          {capture: true, once: true});
const panel = document.getElementById('node-panel');
// The connection rows count as part of the panel: assets/app.js builds them from
// div.conn-groups[data-groups] (none for the bare page).
function rowsBuilt() {
  const box = panel.querySelector('.conn-groups[data-groups]');
  return !box || box.getAttribute('data-groups') === '[]' || box.querySelector('.conn-row') !== null;
}
const observer = new MutationObserver(() => {
  const shown = panel.querySelector('.node-key');
  if (click.down !== null && shown && shown.textContent.trim() === key && rowsBuilt()) {
    observer.disconnect();
    requestAnimationFrame(() => { click.done = performance.now(); });
  }
});
observer.observe(panel, {childList: true, subtree: true, characterData: true});
"""

# Resolves once the armed click has updated the panel and its requests have settled.
_WAIT_CLICK = r"""
const done = arguments[arguments.length - 1], settle = arguments[0], timeout = arguments[1];
const t0 = performance.now();
(function poll() {
  const av = window.__av, c = av.click, now = performance.now();
  const settled = av.pending === 0 && now - av.lastActivity > settle;
  if ((c.done !== null && settled) || now - t0 > timeout) {
    const after = c.down === null ? [] : av.responses.filter(r => r.start >= c.down);
    const network = c.down === null ? [] : performance.getEntriesByType('resource')
      .filter(e => e.startTime >= c.down && /_dash-update-component|_attrview\/node-panel/.test(e.name))
      .map(e => [e.startTime, e.responseEnd]);
    done({down: c.down, done: c.done, responses: after, network: network});
  } else { setTimeout(poll, 20); }
})();
"""

_RESOURCES = """
return performance.getEntriesByType('resource').map(e => [
  e.name.replace(location.origin, ''), e.startTime, e.responseEnd, e.decodedBodySize, e.transferSize]);
"""


@dataclass(frozen=True)
class GraphCase:
    """One graph to benchmark."""

    name: str
    path: Path
    autointerp: Path | None
    real: bool
    large: bool = False  # synthetic 200k+ edges: --large-repeat launches
    bare: bool = False  # the bare Dash page (benchmarks/bare_page.py), not the app


class Launch(NamedTuple):
    """One launch: server start -> HTTP 200 -> navigation -> markers painted (seconds)."""

    to_http: float
    nav_to_painted: float
    total: float


class ClickResult(NamedTuple):
    """One click: mousedown -> panel updated (ms), bytes of its update responses, Patch or not."""

    ms: float
    bytes: int
    figure_patch: bool | None


@dataclass
class GraphResult:
    """Everything measured for one graph (``error`` says how it failed, if it did)."""

    case: GraphCase
    nodes: int = 0
    edges: int = 0
    launches: list[Launch] = field(default_factory=list)
    clicks: list[ClickResult] = field(default_factory=list)
    initial_figure_bytes: int = 0
    peak_mb: float = float("nan")
    min_gap_px: float = float("nan")
    load_avg: float = float("nan")  # 1-minute load average when the graph was done
    error: str = ""
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_driver(mouse: bool = True) -> webdriver.Chrome:
    """A fresh headless Chromium (fresh profile, so a cold HTTP cache) with the page hooks;
    ``mouse``: its pages see a mouse, as on a desktop (headless Chromium reports a
    touch-like "(hover: none)" otherwise; see ``testing.headless.MOUSE_FLAG``)."""
    options = chrome_options(1600, 950, mouse=mouse)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _PAGE_INIT})
    driver.set_script_timeout(600)
    return driver


@contextlib.contextmanager
def server(case: GraphCase, log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, float, float]]:
    """Start ``launch.py`` for ``case``; yield (process, port, wall start, seconds to first HTTP 200)."""
    port = free_port()
    if case.bare:
        # -P: benchmarks/click.py would shadow the click package Flask imports
        cmd = [sys.executable, "-P", str(case.path), "--port", str(port)]
    else:
        cmd = [
            sys.executable,
            str(PROJECT_ROOT / "launch.py"),
            "--graph",
            str(case.path),
            "--port",
            str(port),
        ]
        cmd += ["--autointerp", str(case.autointerp) if case.autointerp else "none"]
        # A fresh conversion cache per launch: .pt graphs are always measured cold.
        cmd += ["--cache-dir", tempfile.mkdtemp(prefix=f"{case.name}-cache-", dir=log_path.parent)]
    with log_path.open("wb") as log:
        wall0, t0 = time.time(), time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            to_http = wait_http(proc, port, t0, log_path)
            yield proc, port, wall0, to_http
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_http(
    proc: subprocess.Popen[bytes], port: int, t0: float, log_path: Path, timeout: float = 300
) -> float:
    """Poll until the server answers 200; seconds since ``t0``."""
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"server exited with {proc.returncode}: {' / '.join(tail)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.01)
    raise RuntimeError(f"no HTTP 200 within {timeout} s")


def vm_hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return int(next(line for line in fh if line.startswith("VmHWM")).split()[1]) / 1024


def choose_nodes(
    store: GraphStore | None, markers: list[list[float]], n: int
) -> tuple[list[tuple[int, float, float]], float]:
    """Up to ``n`` distinct on-screen nodes, farthest from other markers first: features
    mostly, plus up to two embeddings and two logits (any markers for the bare page, no
    ``store``). Returns (index, x, y) and the smallest gap."""
    by_node: dict[int, list[float]] = {}
    for index, x, y, gap in markers:
        key = int(index)
        if key not in by_node or gap > by_node[key][2]:
            by_node[key] = [x, y, gap]
    if store is None:
        chosen = sorted(by_node, key=lambda i: -by_node[i][2])[:n]
        gap = min((by_node[i][2] for i in chosen), default=float("nan"))
        return [(i, by_node[i][0], by_node[i][1]) for i in chosen], gap
    slices = store.kind_slices

    def of_kind(kind: NodeKind) -> list[int]:
        s = slices[kind]
        found = [i for i in by_node if s.start <= i < s.stop]
        return sorted(found, key=lambda i: -by_node[i][2])

    extra = of_kind(NodeKind.EMBEDDING)[:2] + of_kind(NodeKind.LOGIT)[:2]
    features = of_kind(NodeKind.FEATURE)[: max(n - len(extra), 0)]
    chosen = (features + extra)[:n]
    if len(chosen) < n:  # few features on screen: fill with any other node
        rest = sorted((i for i in by_node if i not in chosen), key=lambda i: -by_node[i][2])
        chosen += rest[: n - len(chosen)]
    gap = min((by_node[i][2] for i in chosen), default=float("nan"))
    return [(i, by_node[i][0], by_node[i][1]) for i in chosen], gap


def click_at(driver: webdriver.Chrome, x: float, y: float) -> None:
    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(round(x), round(y))
    actions.w3c_actions.pointer_action.click()
    actions.perform()


def load_breakdown(driver: webdriver.Chrome, page: dict[str, Any]) -> list[str]:
    """Human-readable page-load breakdown: slowest resources and the figure callback."""
    lines = []
    resources = sorted(driver.execute_script(_RESOURCES), key=lambda r: -(r[2] - r[1]))
    for name, start, end, decoded, transfer in resources[:6]:
        lines.append(
            f"    {name[:70]:70s} {start:7.0f}->{end:7.0f} ms  {decoded / 1024:8.1f} KB"
            f" (wire {transfer / 1024:.1f})"
        )
    for r in page["responses"]:
        lines.append(
            f"    update {r['output'][:60]:60s} {r['start']:7.0f}->{r['end']:7.0f} ms"
            f"  {r['bytes'] / 1024:8.1f} KB"
        )
    lines.append(f"    painted at {page['painted']:.0f} ms")
    return lines


def run_graph(
    case: GraphCase, n_clicks: int, repeat: int, tmp: Path, verbose: bool, mouse: bool = True
) -> GraphResult:
    result = GraphResult(case)
    store = None if case.bare else open_graph(case.path)
    result.nodes, result.edges = (BARE_MARKERS, 0) if store is None else (store.n_nodes, store.n_edges)
    for attempt in range(repeat):
        last = attempt == repeat - 1
        driver = new_driver(mouse)
        try:
            with server(case, tmp / f"{case.name}.log") as (proc, port, wall0, to_http):
                driver.get(f"http://127.0.0.1:{port}/")
                page = driver.execute_async_script(_WAIT_PAINTED, SETTLE_MS, 300_000)
                if page["painted"] is None:
                    raise RuntimeError("markers never drawn (300 s)")
                total = (page["origin"] + page["painted"]) / 1000 - wall0
                result.launches.append(Launch(to_http, page["painted"] / 1000, total))
                figures = [r for r in page["responses"] if "attribution-graph.figure" in r["output"]]
                if figures:
                    result.initial_figure_bytes = figures[0]["bytes"]
                if verbose:
                    print(f"  {case.name} launch {attempt + 1}: page load", flush=True)
                    print("\n".join(load_breakdown(driver, page)), flush=True)
                if last:
                    run_clicks(driver, store, n_clicks, result, verbose)
                    result.peak_mb = vm_hwm_mb(proc.pid)
        except (RuntimeError, WebDriverException) as exc:
            result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
            return result
        finally:
            driver.quit()
    return result


def run_clicks(
    driver: webdriver.Chrome, store: GraphStore | None, n_clicks: int, result: GraphResult, verbose: bool
) -> None:
    nodes, result.min_gap_px = choose_nodes(store, driver.execute_script(_MARKERS), n_clicks)
    for index, x, y in nodes:
        key = f"N:{index}" if store is None else store.keys[index]
        driver.execute_script(_ARM_CLICK, key)
        click_at(driver, x, y)
        out = driver.execute_async_script(_WAIT_CLICK, SETTLE_MS, CLICK_TIMEOUT_MS)
        if out["done"] is None or out["down"] is None:
            result.notes.append(
                f"click on {key} did not update the panel within {CLICK_TIMEOUT_MS // 1000} s"
            )
            continue
        patches = [r["patch"] for r in out["responses"] if r["patch"] is not None]
        result.clicks.append(
            ClickResult(
                ms=out["done"] - out["down"],
                bytes=sum(int(r["bytes"]) for r in out["responses"]),
                figure_patch=all(patches) if patches else None,
            )
        )
        if verbose:
            print(f"    click {key}: {result.clicks[-1].ms:.0f} ms", flush=True)
            for r in out["responses"]:
                print(
                    f"      {r['output'][:60]:60s} +{r['start'] - out['down']:5.0f}"
                    f" -> +{r['end'] - out['down']:5.0f} ms"
                    f" {r['bytes'] / 1024:6.1f} KB",
                    flush=True,
                )
            network = ", ".join(f"+{a - out['down']:.0f}->+{b - out['down']:.0f}" for a, b in out["network"])
            print(f"      network (request start -> response end, ms): {network}", flush=True)


def matches(name: str, patterns: str | None) -> bool:
    """Whether ``name`` contains one of the comma-separated ``patterns``."""
    return bool(patterns) and any(p and p in name for p in (patterns or "").split(","))


def cases(only: str | None, exclude: str | None, tmp: Path) -> list[GraphCase]:
    found = [
        GraphCase(BARE_NAME, PROJECT_ROOT / "benchmarks" / "bare_page.py", None, real=False, bare=True),
        GraphCase("example", EXAMPLE_GRAPH, EXAMPLE_AUTOINTERP, real=False),
    ]
    if REAL_GRAPHS.is_dir():
        found += [
            GraphCase(p.stem, p, None, real=True)
            for p in sorted(REAL_GRAPHS.iterdir())
            if p.suffix in {".pt", ".json"} and not p.name.startswith("clusters_")
        ]
    else:
        print(f"({REAL_GRAPHS} absent: example and synthetic graphs only)")
    synthetic = [
        ("synthetic_5k_200k", {"n_features": 5000, "n_edges": 200_000, "n_tokens": 20}),
        (
            "synthetic_mask_10k_700k",
            {"n_features": 10_000, "n_edges": 700_000, "n_tokens": 40, "weighted": False},
        ),
    ]
    for name, kwargs in synthetic:
        if (only and not matches(name, only)) or matches(name, exclude):
            continue
        path = save_native(make_synthetic_graph(**kwargs), tmp / f"{name}.npz")
        found.append(GraphCase(name, path, None, real=False, large=True))
    # The bare page is always measured (the ratio column needs it) unless excluded by name.
    return [
        c for c in found if (c.bare or not only or matches(c.name, only)) and not matches(c.name, exclude)
    ]


def fmt(value: float, spec: str) -> str:
    return "-" if value != value else format(value, spec)  # NaN -> "-"


def table_rows(results: Sequence[GraphResult]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    header = (
        "graph",
        "nodes",
        "edges",
        "start->200 s",
        "nav->painted s",
        "launch->painted s",
        "click p50 ms",
        "click p95 ms",
        "p50 / bare",
        "KB/click mean",
        "KB/click max",
        "figure",
        "initial fig KB",
        "peak MB",
        "load",
    )
    rows = []
    nan = float("nan")
    bare = nan  # the click p50 of the bare page measured last before this graph
    for r in results:
        if r.case.bare and r.clicks:
            bare = float(np.percentile([c.ms for c in r.clicks], 50))

        def med(i: int, r: GraphResult = r) -> float:
            return statistics.median(launch[i] for launch in r.launches) if r.launches else nan

        ms = np.array([c.ms for c in r.clicks]) if r.clicks else np.array([nan])
        kb = np.array([c.bytes / 1024 for c in r.clicks]) if r.clicks else np.array([nan])
        patch_flags = [c.figure_patch for c in r.clicks if c.figure_patch is not None]
        patch = "none" if not patch_flags else ("Patch" if all(patch_flags) else "FULL")
        rows.append(
            (
                r.case.name + (f" (FAILED: {r.error})" if r.error else ""),
                f"{r.nodes:,}",
                f"{r.edges:,}",
                fmt(med(0), ".2f"),
                fmt(med(1), ".2f"),
                fmt(med(2), ".2f"),
                fmt(float(np.percentile(ms, 50)), ".0f"),
                fmt(float(np.percentile(ms, 95)), ".0f"),
                fmt(float(np.percentile(ms, 50)) / bare, ".2f"),
                fmt(float(kb.mean()), ".1f"),
                fmt(float(kb.max()), ".1f"),
                patch,
                fmt(r.initial_figure_bytes / 1024, ".0f") if r.initial_figure_bytes else "-",
                fmt(r.peak_mb, ".0f"),
                fmt(r.load_avg, ".1f"),
            )
        )
    return header, rows


def render(header: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    sep = " | " if markdown else "  "
    edge = ("| ", " |") if markdown else ("", "")

    def line(cells: Sequence[str]) -> str:
        return edge[0] + sep.join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + edge[1]

    out = [line(header)]
    if markdown:
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [line(row) for row in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=20, help="nodes clicked per graph")
    parser.add_argument("--repeat", type=int, default=3, help="launches per graph (median)")
    parser.add_argument("--large-repeat", type=int, default=1, help="launches per synthetic large graph")
    parser.add_argument("--only", help="only graphs whose name contains one of these (a,b)")
    parser.add_argument("--exclude", help="skip graphs whose name contains one of these (a,b)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--verbose", action="store_true", help="page-load breakdown per launch")
    parser.add_argument(
        "--bare-each",
        action="store_true",
        help="measure the bare page again (one launch) before each graph: a loaded machine's speed drifts",
    )
    parser.add_argument(
        "--touch-media",
        action="store_true",
        help="keep headless Chromium's touch-like '(hover: none)' media (before 2026-11-30 runs)",
    )
    args = parser.parse_args(argv)

    print(TARGETS)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, commit {head.stdout.strip() or '?'}")
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; launches per graph: "
        f"{args.repeat} ({args.large_repeat} for the large synthetic graphs)"
    )
    results: list[GraphResult] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        found = cases(args.only, args.exclude, tmp)
        bare = [c for c in found if c.bare]
        if args.bare_each and bare:  # the bare page again right before each graph
            found = [c for case in found if not case.bare for c in (bare[0], case)]
        for case in found:
            t0 = time.perf_counter()
            repeat = 1 if case.bare and args.bare_each else args.large_repeat if case.large else args.repeat
            result = run_graph(case, args.clicks, repeat, tmp, args.verbose, not args.touch_media)
            result.load_avg = os.getloadavg()[0]
            results.append(result)
            status = result.error or f"{len(result.clicks)} clicks, min gap {result.min_gap_px:.0f} px"
            print(f"  {case.name}: {time.perf_counter() - t0:.0f} s ({status})", flush=True)
            for note in result.notes:
                print(f"    {note}", flush=True)
            # each row as soon as it is measured, in case a later graph crashes the run
            print(f"    row: {' | '.join(table_rows(results)[1][-1])}", flush=True)
    print()
    print(render(*table_rows(results), markdown=args.markdown))
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
