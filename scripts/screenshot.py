"""Screenshot the running app in headless Chromium, optionally after clicking a node.

    python scripts/screenshot.py URL OUT.png [--click KEY] [--width 1600 --height 950]

The node is clicked with real pointer actions at its marker's position.
"""

from __future__ import annotations

import argparse
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains

from attribution_viewer.testing.headless import chrome_options

NODE_XY = """
const key = arguments[0];
const gd = document.querySelector('#attribution-graph .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, size = gd._fullLayout._size;
const box = gd.getBoundingClientRect();
for (const trace of gd._fullData) {
  if (!trace.hovertext || !trace.customdata || trace.mode.indexOf('markers') < 0) { continue; }
  const k = Array.from(trace.hovertext).findIndex(t => t.indexOf(' · ' + key + '<br>') >= 0);
  if (k >= 0) { return [box.left + size.l + xa.l2p(trace.x[k]), box.top + size.t + ya.l2p(trace.y[k])]; }
}
return null;
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--click", help="canonical key of a node to click first")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=950)
    args = parser.parse_args()
    options = chrome_options(args.width, args.height)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(args.url)
        for _ in range(200):
            if driver.execute_script(
                "return document.querySelectorAll('#attribution-graph path.point').length"
            ):
                break
            time.sleep(0.1)
        time.sleep(1.0)
        if args.click:
            xy = driver.execute_script(NODE_XY, args.click)
            if xy is None:
                raise SystemExit(f"node {args.click} is not drawn")
            actions = ActionChains(driver)
            actions.w3c_actions.pointer_action.move_to_location(round(xy[0]), round(xy[1]))
            actions.w3c_actions.pointer_action.pause(1)
            actions.w3c_actions.pointer_action.click()
            actions.perform()
            time.sleep(1.5)
        driver.save_screenshot(args.out)
        print(args.out)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
