"""Browser tests of the hardening (headless Chromium via dash_duo): RB1, RB2.

RB1: a dense all-ones mask (every node pair an edge, cycles included) in the hardened app
(CSP and all security headers): the figure draws, the repair notice is visible, a click
shows a panel, and the browser logs nothing (no CSP violation). RB2: each tab keeps its
own cluster state (session storage): a Run in one tab leaves the other tab's clusters.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    assert_no_console_errors,
    click_node,
    first_visible,
    text_of,
    wait_for_graph,
    wait_until,
    wait_until_settled,
)
from conftest import EXAMPLE_DIR

from attribution_viewer.app import create_app
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import NodeKind
from attribution_viewer.server import harden
from attribution_viewer.settings import Settings

pytestmark = pytest.mark.browser


def test_rb1_dense_mask_in_the_hardened_app(dash_duo: Any, dense_mask: Path) -> None:
    settings = Settings(graph_path=dense_mask, autointerp_dir=None, conversion_cache_dir=None)
    store = open_graph(dense_mask, torch_in_subprocess=True)
    app = harden(create_app(settings, store), settings)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    wait_until(
        lambda: "cannot occur in a forward pass and were dropped" in text_of(dash_duo, "#notices"),
        message="the repair notice",
    )
    feature = first_visible(app, NodeKind.FEATURE)
    click_node(dash_duo, feature)
    key = store.keys[feature]
    wait_until(lambda: key in text_of(dash_duo, "#node-panel"), message="the clicked node's panel")
    wait_until_settled(dash_duo)
    assert_no_console_errors(dash_duo)


def _session_clusters(dash_duo: Any) -> list[str]:
    raw = dash_duo.driver.execute_script("return window.sessionStorage.getItem('cluster-state');")
    state = json.loads(raw) if raw else None
    return sorted(c["id"] + ":" + ",".join(c["nodes"]) for c in state["clusters"]) if state else []


def test_rb2_each_tab_keeps_its_own_clusters(dash_duo: Any) -> None:
    settings = Settings(graph_path=EXAMPLE_DIR / "graph.npz", autointerp_dir=None)
    app = create_app(dataclasses.replace(settings))
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    wait_until(lambda: _session_clusters(dash_duo) != [], message="first-visit clusters in tab 1")
    first_tab = dash_duo.driver.current_window_handle
    tab_one = _session_clusters(dash_duo)

    dash_duo.driver.switch_to.new_window("tab")
    dash_duo.driver.get(dash_duo.server_url)
    wait_for_graph(dash_duo)
    wait_until(lambda: _session_clusters(dash_duo) != [], message="first-visit clusters in tab 2")
    size = dash_duo.find_element("#cluster-max-size")
    size.clear()
    size.send_keys("3")
    dash_duo.find_element("#cluster-run").click()
    wait_until(
        lambda: _session_clusters(dash_duo) not in ([], tab_one), timeout=20, message="tab 2's new clusters"
    )
    wait_until_settled(dash_duo)

    dash_duo.driver.switch_to.window(first_tab)
    wait_until_settled(dash_duo)
    assert _session_clusters(dash_duo) == tab_one
    assert_no_console_errors(dash_duo)
