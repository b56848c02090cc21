"""Busy indicators appear only once an action has taken 300 ms (BZ-*).

The requests are slowed down with Chromium's network emulation (a real delay on the real
app's requests), and the tests wait on the page's own state (Dash's ``data-dash-is-loading``,
the buttons' ``busy`` class, the computed style of the spinners), never on time.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import assert_no_console_errors, wait_for_graph, wait_until, wait_until_settled
from conftest import EXAMPLE_SETTINGS

from attribution_viewer.app import create_app

pytestmark = pytest.mark.browser

LATENCY_MS = 2500  # every request takes this long: the indicators must show meanwhile

# The computed style of an element's ::after spinner.
SPINNER = """
const el = document.querySelector(arguments[0]);
if (!el) { return null; }
const s = getComputedStyle(el, '::after');
return {content: s.content, visibility: s.visibility, name: s.animationName, delay: s.animationDelay};
"""


def slow_network(dash_duo: Any, latency_ms: int) -> None:
    """Every request of the page takes ``latency_ms`` more (0: normal again)."""
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def spinner(dash_duo: Any, selector: str) -> dict[str, str]:
    style = dash_duo.driver.execute_script(SPINNER, selector)
    assert style is not None, f"{selector} is not on the page"
    return style


def test_bz1_graph_update_and_cluster_run_spin_after_300_ms(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    wait_until_settled(dash_duo)
    graph = "#attribution-graph"
    assert spinner(dash_duo, graph)["content"] == "none"  # idle: no spinner at all

    slow_network(dash_duo, LATENCY_MS)
    dash_duo.find_element("#error-toggle input[value='errors']").click()
    loading = f"return document.querySelector('{graph}').getAttribute('data-dash-is-loading');"
    wait_until(lambda: dash_duo.driver.execute_script(loading) == "true", message="graph loading")
    # The spinner exists from the start but stays hidden for the first 300 ms ...
    style = spinner(dash_duo, graph)
    assert style["name"] == "busy-appear, busy-spin" and style["delay"] == "0.3s, 0s"
    # ... then shows while the figure is on its way.
    wait_until(lambda: spinner(dash_duo, graph)["visibility"] == "visible", message="graph spinner shown")

    # A button's spinner (cluster Run) takes no room and stays hidden for 300 ms too.
    wait_until(lambda: dash_duo.driver.execute_script(loading) is None, timeout=20, message="figure done")
    wait_until_settled(dash_duo)
    dash_duo.find_element("#cluster-run").click()
    wait_until(
        lambda: "busy" in dash_duo.find_element("#cluster-run").get_attribute("class"), message="Run busy"
    )
    style = spinner(dash_duo, "#cluster-run")
    assert style["name"] == "busy-grow, busy-spin" and style["delay"] == "0.3s, 0s"
    transition = "return getComputedStyle(document.getElementById('cluster-run')).transitionDelay;"
    assert dash_duo.driver.execute_script(transition) == "0.3s"  # the dimming waits as well
    wait_until(
        lambda: spinner(dash_duo, "#cluster-run")["visibility"] == "visible", message="Run spinner shown"
    )

    slow_network(dash_duo, 0)
    wait_until(
        lambda: "busy" not in dash_duo.find_element("#cluster-run").get_attribute("class"),
        timeout=20,
        message="Run idle",
    )
    wait_until_settled(dash_duo)
    assert spinner(dash_duo, graph)["content"] == "none"
    assert_no_console_errors(dash_duo)
