"""Picker switch benchmark in headless Chromium: a graph chosen in the picker vs its first load.

    python benchmarks/switch_ui.py [--files 200] [--repeat 3] [--markdown]

Serves the 200-file folder of ``library.py`` (the real graphs + synthetic native / JSON /
``.pt`` ones in sub-folders) with ``python launch.py --graph FOLDER`` (waitress, a fresh
conversion cache), then for each target graph X, ``--repeat`` times (a fresh server each
time, so X is never open at the start):

* **switch, cold**: in a browser showing the default graph, X is chosen the way the picker
  does it (its clientside callback runs ``location.assign('?graph=X')``; here a script runs
  it, timed from just before): from the choice to the first animation frame in which X's
  node markers and edge canvas are drawn (the ``ui.py`` paint hook, wall clock). The
  server opens X and builds its app meanwhile (X was never opened);
* **switch, warm**: back to the default graph, then X chosen again (X's app in the LRU);
* **first load**: a fresh browser (cold HTTP cache) opening ``/?graph=X`` on the same
  server, X already open there, as after ``launch.py --graph X`` opened it before
  serving: navigation start to painted (``ui.py``'s ``nav->painted``).

Reported: medians (s) and ``switch / first load``; target: a cold switch under 1.5x the
first load. ``.pt`` graphs are converted in a child process on their first open (cold
conversion cache), which a first load after ``launch.py`` does not count.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from library import build_index_folder
from selenium import webdriver
from ui import _WAIT_PAINTED, PROJECT_ROOT, SETTLE_MS, free_port, new_driver, wait_http

from attribution_viewer.library import GraphIndex

TARGETS = (
    "real/np_schema1__the-opposite-of.json",
    "real/np_schema0__3plus5-plt.json",
    "real/clt_b_mask__category_20_de.pt",
    "lang_0/threshold_0/g0.npz",
    "lang_1/threshold_1/g1.json",
    "lang_2/threshold_2/g2.pt",
)
# Choose X as the picker does, stamping the wall-clock time of the choice first.
_CHOOSE = "window.name = String(Date.now()); window.location.assign('?graph=' + arguments[0]);"


def load_average() -> str:
    """The 1-minute load average (other work on the machine inflates every time)."""
    return Path("/proc/loadavg").read_text().split()[0]


@contextmanager
def folder_server(root: Path, tmp: Path) -> Iterator[int]:
    """``launch.py --graph root`` (a fresh conversion cache); yields its port once it answers."""
    port = free_port()
    cache = tempfile.mkdtemp(prefix="switch-cache-", dir=tmp)
    cmd = [sys.executable, str(PROJECT_ROOT / "launch.py"), "--graph", str(root), "--port", str(port)]
    cmd += ["--cache-dir", cache]
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(proc, port, time.perf_counter(), log_path)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def painted(driver: webdriver.Chrome) -> dict[str, float]:
    """The ui.py paint hook's report once the page has painted and its requests settled."""
    page = driver.execute_async_script(_WAIT_PAINTED, SETTLE_MS, 300_000)
    if page["painted"] is None:
        raise RuntimeError("markers never drawn (300 s)")
    return page


def switch(driver: webdriver.Chrome, rel: str) -> float:
    """Seconds from choosing ``rel`` to its graph painted."""
    driver.execute_script(_CHOOSE, quote(rel))
    deadline = time.time() + 300
    while time.time() < deadline:  # the new document (its paint hook starts afresh)
        if f"graph={quote(rel)}" in driver.current_url:
            break
        time.sleep(0.01)
    page = painted(driver)
    chosen = float(driver.execute_script("return Number(window.name);"))
    return ((page["origin"] + page["painted"]) - chosen) / 1000


def measure(root: Path, rel: str, default: str, tmp: Path) -> tuple[float, float, float]:
    """(cold switch, warm switch, first load) seconds for ``rel`` on a fresh server."""
    with folder_server(root, tmp) as port:
        url = f"http://127.0.0.1:{port}/"
        driver = new_driver()
        try:
            driver.get(url)
            painted(driver)
            cold = switch(driver, rel)
            switch(driver, default)
            warm = switch(driver, rel)
        finally:
            driver.quit()
        fresh = new_driver()
        try:
            fresh.get(f"{url}?graph={quote(rel)}")
            first = painted(fresh)["painted"] / 1000
        finally:
            fresh.quit()
    return cold, warm, first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Picker switch vs first load, in the browser.")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="targets whose path contains this text")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "graphs"
        root.mkdir()
        build_index_folder(root, args.files)
        index = GraphIndex.scan(root)
        default = next(iter(index.entries))
        print(f"{len(index)} graphs; default {default}; load {load_average()}")
        print("| graph | switch cold s | switch warm s | first load s | cold / first | warm / first |")
        print("|---|---|---|---|---|---|")
        for rel in TARGETS:
            if rel not in index.entries or (args.only and args.only not in rel):
                continue
            runs = [measure(root, rel, default, tmp) for _ in range(args.repeat)]
            cold, warm, first = (statistics.median(r[i] for r in runs) for i in range(3))
            ratios = f"{cold / first:.2f} x | {warm / first:.2f} x"
            print(f"| {rel} | {cold:.2f} | {warm:.2f} | {first:.2f} | {ratios} |", flush=True)
        print(f"load {load_average()}")


if __name__ == "__main__":
    main()
