"""Helpers for browser tests: click graph nodes with real pointer actions, read the figure."""

from __future__ import annotations

import time
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains

# Finds the marker of node `index` in the figure and returns its page coordinates.
_NODE_XY = """
const index = arguments[0];
const gd = document.querySelector('#attribution-graph .js-plotly-plot');
if (!gd || !gd._fullLayout) { return null; }
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, size = gd._fullLayout._size;
const box = gd.getBoundingClientRect();
for (const trace of gd._fullData) {
  if (!trace.customdata || !trace.mode || trace.mode.indexOf('markers') < 0) { continue; }
  if (trace.marker && trace.marker.symbol === 'circle-open') { continue; }
  const k = Array.from(trace.customdata, Number).indexOf(index);
  if (k >= 0) {
    return [box.left + size.l + xa.l2p(trace.x[k]), box.top + size.t + ya.l2p(trace.y[k])];
  }
}
return null;
"""


def wait_for_graph(dash_duo: Any, timeout: float = 20.0) -> None:
    """Wait until the figure has been drawn (markers present)."""
    dash_duo.wait_for_element("#attribution-graph .scatterlayer .trace", timeout=timeout)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if dash_duo.driver.execute_script(_NODE_XY, 0) is not None or figure_trace_count(dash_duo) > 0:
            return
        time.sleep(0.1)
    raise TimeoutError("graph not drawn")


def figure_trace_count(dash_duo: Any) -> int:
    return int(
        dash_duo.driver.execute_script(
            "const gd=document.querySelector('#attribution-graph .js-plotly-plot');"
            "return gd && gd._fullData ? gd._fullData.length : 0;"
        )
    )


def click_node(dash_duo: Any, index: int) -> None:
    """Click node ``index`` where its marker is drawn, with real pointer actions."""
    xy = dash_duo.driver.execute_script(_NODE_XY, index)
    if xy is None:
        raise AssertionError(f"node {index} is not drawn")
    actions = ActionChains(dash_duo.driver)
    actions.w3c_actions.pointer_action.move_to_location(round(xy[0]), round(xy[1]))
    actions.w3c_actions.pointer_action.click()
    actions.perform()


def marker_size(dash_duo: Any, trace_index: int) -> float:
    return float(
        dash_duo.driver.execute_script(
            "const gd=document.querySelector('#attribution-graph .js-plotly-plot');"
            f"return gd._fullData[{trace_index}].marker.size;"
        )
    )


def wait_until(predicate: Any, timeout: float = 10.0, message: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def text_of(dash_duo: Any, selector: str) -> str:
    """Text of the first element matching ``selector`` ("" while it is being re-rendered)."""
    try:
        return dash_duo.find_element(selector).text
    except StaleElementReferenceException:
        return ""
