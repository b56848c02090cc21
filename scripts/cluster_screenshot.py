"""Screenshot the cluster panel and the main graph with highlighted clusters; check the names.

    python scripts/cluster_screenshot.py URL OUT_DIR [--highlight 3] [--width 1600 --height 950]

Waits for the automatic clustering of the page at URL (runs it when the page did not),
highlights the ``--highlight`` clusters with the most members, then saves
``OUT_DIR/page.png`` (the whole window) and ``OUT_DIR/cluster_panel.png``; then, as a user
would, drags the node panel's grip up and scrolls the cluster graph into view:
``OUT_DIR/page_cluster_graph.png`` and ``OUT_DIR/cluster_graph.png``. Prints, for
both figures, how many names are drawn, how many are shortened (ellipsis) and every pair
of names whose boxes overlap, and every name drawn over a node marker. Exit code 1 when
names overlap each other.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from attribution_viewer.testing.headless import chrome_options

BOXES = """
const root = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!root) { return null; }
const names = Array.from(root.querySelectorAll('g.annotation')).map(g => {
  const r = g.getBoundingClientRect();
  return {text: g.textContent, box: [r.left, r.top, r.right, r.bottom]};
}).filter(a => a.text);
const markers = Array.from(root.querySelectorAll('.scatterlayer path.point')).map(p => {
  const r = p.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
}).filter(b => b[2] > b[0]);
return {names: names, markers: markers};
"""

ROW = (
    "Array.from(document.querySelectorAll('#cluster-list .cluster-item'))"
    ".find(r => JSON.parse(r.id).id === arguments[0])"
)
ROW_CLICK = f"const row = {ROW}; if (row) {{ row.click(); }}"
ROW_ACTIVE = f"const row = {ROW}; return !!row && row.classList.contains('active');"


def overlap(a: list[float], b: list[float], slack: float = 0.5) -> bool:
    """Whether two [left, top, right, bottom] boxes overlap by more than ``slack`` pixels."""
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


def wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def check(driver: webdriver.Chrome, graph_id: str) -> int:
    """Print the names of one figure and their overlaps; return the number of overlapping pairs."""
    found = driver.execute_script(BOXES, graph_id) or {"names": [], "markers": []}
    names = found["names"]
    pairs = [
        (a["text"], b["text"])
        for k, a in enumerate(names)
        for b in names[k + 1 :]
        if overlap(a["box"], b["box"])
    ]
    over_markers = [a["text"] for a in names if any(overlap(a["box"], m, 1.5) for m in found["markers"])]
    print(
        f"{graph_id}: {len(names)} names, {sum('…' in a['text'] for a in names)} shortened, "
        f"{len(pairs)} overlapping pairs, {len(over_markers)} over a marker"
    )
    for a in names:
        print(f"   {a['text']!r} at {[round(v) for v in a['box']]}")
    for a, b in pairs:
        print(f"   OVERLAP {a!r} / {b!r}")
    for a in over_markers:
        print(f"   OVER A MARKER {a!r}")
    return len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--highlight", type=int, default=3, help="clusters to highlight (largest first)")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=950)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(
        service=Service("/usr/bin/chromedriver"), options=chrome_options(args.width, args.height)
    )
    try:
        driver.get(args.url)

        def rows() -> list[Any]:
            return driver.find_elements(By.CSS_SELECTOR, "#cluster-list .cluster-item")

        try:
            wait(lambda: rows(), 30, "automatic clustering")
        except SystemExit:
            driver.find_element(By.ID, "cluster-run").click()
            wait(lambda: rows(), 60, "clustering")
        sizes = {
            json.loads(r.get_attribute("id"))["id"]: int(
                r.find_element(By.CSS_SELECTOR, ".cluster-name").get_attribute("data-size") or 0
            )
            for r in rows()
        }
        chosen = sorted(sizes, key=lambda cid: (-sizes[cid], cid))[: args.highlight]
        for cid in chosen:
            driver.execute_script(ROW_CLICK, cid)
            wait(lambda cid=cid: driver.execute_script(ROW_ACTIVE, cid), 20, f"cluster {cid} highlighted")
        script = (
            "const g = document.querySelector('#attribution-graph .js-plotly-plot');"
            "return g && g.layout ? (g.layout.annotations || []).filter(a => a.text).length : 0;"
        )
        wait(
            lambda: driver.execute_script(script) == len(chosen), 30, f"{len(chosen)} names in the main graph"
        )
        time.sleep(1.0)  # the last frame is painted
        driver.save_screenshot(str(args.out_dir / "page.png"))
        panel = driver.find_element(By.ID, "cluster-panel")
        panel.screenshot(str(args.out_dir / "cluster_panel.png"))
        # what a user does to see the cluster graph: drag the node panel's grip up, scroll down
        driver.execute_script("document.querySelector('.node-panel').style.height = '80px';")
        graph = driver.find_element(By.ID, "cluster-graph")
        driver.execute_script("arguments[0].scrollIntoView();", graph)
        time.sleep(1.0)
        driver.save_screenshot(str(args.out_dir / "page_cluster_graph.png"))
        graph.screenshot(str(args.out_dir / "cluster_graph.png"))
        bad = check(driver, "attribution-graph") + check(driver, "cluster-graph")
    finally:
        driver.quit()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
