"""Helpers for browser tests: click graph nodes with real pointer actions, read the figure."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection
from typing import Any

import numpy as np
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains

from attribution_viewer.app.page import base_view
from attribution_viewer.model import NodeKind
from attribution_viewer.scene import build_scene

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


def node_xy(dash_duo: Any, index: int) -> tuple[int, int]:
    """The page coordinates (pixels) of node ``index``'s marker."""
    xy = dash_duo.driver.execute_script(_NODE_XY, index)
    if xy is None:
        raise AssertionError(f"node {index} is not drawn")
    return round(xy[0]), round(xy[1])


def click_node(dash_duo: Any, index: int) -> None:
    """Click node ``index`` where its marker is drawn, with real pointer actions."""
    actions = ActionChains(dash_duo.driver)
    actions.w3c_actions.pointer_action.move_to_location(*node_xy(dash_duo, index))
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


def wait_until_settled(dash_duo: Any, quiet: float = 0.5, timeout: float = 15.0) -> None:
    """Wait until no component has been loading (``data-dash-is-loading``) for ``quiet``
    seconds, so that the test does not stop the server in the middle of a callback."""
    busy = "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length;"
    deadline = time.time() + timeout
    calm_since = time.time()
    while time.time() < deadline:
        if dash_duo.driver.execute_script(busy):
            calm_since = time.time()
        elif time.time() - calm_since >= quiet:
            return
        time.sleep(0.05)
    raise AssertionError("the page kept loading")


# Counts the page's requests in flight and notes when the last one ended (browser clock).
_TRACK_REQUESTS = """
if (window._avRequests) { return; }
window._avRequests = {pending: 0, lastDone: performance.now()};
const inner = window.fetch;
window.fetch = function () {
  window._avRequests.pending += 1;
  const done = () => { window._avRequests.pending -= 1; window._avRequests.lastDone = performance.now(); };
  return inner.apply(this, arguments).then(r => { done(); return r; }, e => { done(); throw e; });
};
"""


def track_requests(dash_duo: Any) -> None:
    """Start counting the page's requests (for :func:`wait_until_requests_idle`)."""
    dash_duo.driver.execute_script(_TRACK_REQUESTS)


def wait_until_requests_idle(dash_duo: Any, quiet_ms: float = 1000.0, timeout: float = 30.0) -> None:
    """Wait until no request of the page (tracked since :func:`track_requests`) has been in
    flight for ``quiet_ms``: callbacks, and the polls of background callbacks, have stopped."""
    idle = (
        "const r = window._avRequests;"
        "return r.pending === 0 && performance.now() - r.lastDone >= arguments[0];"
    )
    wait_until(lambda: dash_duo.driver.execute_script(idle, quiet_ms), timeout, "requests idle")


def text_of(dash_duo: Any, selector: str) -> str:
    """Text of the first element matching ``selector`` ("" while it is being re-rendered)."""
    try:
        return dash_duo.find_element(selector).text
    except StaleElementReferenceException:
        return ""


def context_of(app: Any) -> Any:
    """The app's :class:`~attribution_viewer.app.context.AppContext`."""
    return app.server.config["attribution_viewer_context"]


def visible_nodes(app: Any, **view_changes: Any) -> np.ndarray:
    """Boolean mask of the nodes drawn in the start-up view (plus ``view_changes``)."""
    ctx = context_of(app)
    view = dataclasses.replace(base_view(ctx), **view_changes)
    return build_scene(ctx.store, view, ctx.frequencies.values).visible


def first_visible(app: Any, kind: NodeKind, among: Collection[int] | None = None, **view_changes: Any) -> int:
    """The visible node of ``kind`` (optionally only ``among`` these indices) farthest from
    its neighbours in the start-up view plus ``view_changes``, so that a click at its marker
    cannot land on another node."""
    ctx = context_of(app)
    store = ctx.store
    view = dataclasses.replace(base_view(ctx), **view_changes)
    scene = build_scene(store, view, ctx.frequencies.values)
    shown = np.flatnonzero(scene.visible)
    s = store.kind_slices[kind]
    candidates = shown[(shown >= s.start) & (shown < s.stop)]
    if among is not None:
        candidates = candidates[np.isin(candidates, np.fromiter(among, dtype=np.int64))]
    assert candidates.size, f"no visible {kind.name}"
    x, y = scene.layout.x, scene.layout.y * 3.0  # rows are ~3 slots tall on screen
    gaps = [
        np.min(np.hypot(x[shown[shown != i]] - x[i], y[shown[shown != i]] - y[i]), initial=np.inf)
        for i in candidates
    ]
    return int(candidates[int(np.argmax(gaps))])


def trace_points(dash_duo: Any, trace_index: int) -> dict[int, str]:
    """Node index -> marker colour of every point of figure trace ``trace_index``."""
    pairs = dash_duo.driver.execute_script(
        "const gd=document.querySelector('#attribution-graph .js-plotly-plot');"
        "const t=gd && gd._fullData ? gd._fullData[arguments[0]] : null;"
        "if (!t || !t.customdata || !t.customdata.length) { return []; }"
        "const c=(t.marker || {}).color, ids=Array.from(t.customdata, Number);"
        "return ids.map((id, k) => [id, Array.isArray(c) ? c[k] : c]);",
        trace_index,
    )
    return {int(i): str(c) for i, c in pairs}


def assert_no_console_errors(dash_duo: Any) -> None:
    """The browser console has no SEVERE entries."""
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert errors == []
