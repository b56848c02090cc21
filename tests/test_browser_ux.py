"""Browser tests of issue 11 (the graph reads at a glance): search over descriptions,
slider values and coalesced updates, hover titles from descriptions.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from browser_helpers import (
    context_of,
    text_of,
    visible_nodes,
    wait_for_graph,
    wait_until,
    wait_until_settled,
)
from conftest import EXAMPLE_SETTINGS
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from attribution_viewer.app import create_app
from attribution_viewer.app.page import base_view
from attribution_viewer.app.top_bar import slider_text
from attribution_viewer.figures import HOVER_CHARS, SEARCH_TRACE
from attribution_viewer.labels import shorten
from attribution_viewer.model import NodeKind, escape_markup
from attribution_viewer.scene import build_scene, counts_text
from attribution_viewer.search import search_nodes, search_status

pytestmark = pytest.mark.browser


def trace_nodes(dash_duo, trace_index: int) -> list[int]:
    return dash_duo.driver.execute_script(
        "const gd=document.querySelector('#attribution-graph .js-plotly-plot');"
        f"return Array.from(gd._fullData[{trace_index}].customdata||[]).map(Number);"
    )


def test_u1_search_finds_a_description_word(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    ctx = context_of(app)
    described = [k for k, text in ctx.search_texts.items() if "lunar" in text.lower()]
    assert described and not search_nodes(ctx.store, "lunar").size  # only descriptions say it
    found = search_nodes(ctx.store, "lunar", descriptions=ctx.search_texts)
    visible = visible_nodes(app)
    shown = sorted(int(i) for i in found if visible[i])
    assert shown  # the start-up view shows at least one of them

    dash_duo.find_element("#node-search").send_keys("lunar" + Keys.ENTER)
    expected = search_status(found, visible)
    wait_until(lambda: text_of(dash_duo, "#search-status") == expected, message=expected)
    wait_until(lambda: sorted(trace_nodes(dash_duo, SEARCH_TRACE)) == shown, message="search rings")
    assert np.isin([ctx.store.index_of[k] for k in described], found).all()


# Counts the figure requests (update_figure writes the top bar's counts) the page sends.
_COUNT_FIGURE_REQUESTS = """
window.figureRequests = 0;
const original = window.fetch;
window.fetch = function (resource, init) {
  if (String(resource).indexOf('_dash-update-component') >= 0 && init && init.body
      && JSON.parse(init.body).output.indexOf('shown-counts.children') >= 0) {
    window.figureRequests += 1;
  }
  return original.call(this, resource, init);
};
"""


def test_u2_slider_values_are_written_and_a_burst_computes_once(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    ctx = context_of(app)
    start = base_view(ctx)
    assert text_of(dash_duo, "#prune-text") == slider_text(start.prune_threshold)
    assert text_of(dash_duo, "#node-size-text") == slider_text(start.node_size)
    wait_until_settled(dash_duo)
    dash_duo.driver.execute_script(_COUNT_FIGURE_REQUESTS)

    # Ten arrow presses 50 ms apart (a held key repeats every 30-50 ms): the text follows
    # each, the view is computed for the last (ungated, each press is a request: 10).
    thumb = dash_duo.find_element("#prune-slider [role='slider']")
    actions = ActionChains(dash_duo.driver).click(thumb)
    for _ in range(10):
        actions.send_keys(Keys.ARROW_LEFT).pause(0.05)
    actions.perform()
    target = round(start.prune_threshold - 0.10, 2)
    wait_until(lambda: text_of(dash_duo, "#prune-text") == slider_text(target), message="prune text")
    scene = build_scene(ctx.store, dataclasses.replace(start, prune_threshold=target), ctx.frequencies.values)
    expected = counts_text(ctx.store, scene)
    wait_until(lambda: text_of(dash_duo, "#shown-counts") == expected, message=expected)
    wait_until_settled(dash_duo)
    # one, or two when a loaded machine stalled the burst for longer than the settle delay
    assert dash_duo.driver.execute_script("return window.figureRequests;") in (1, 2)


def test_u3_hover_text_is_the_description_first_line(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    ctx = context_of(app)
    store = ctx.store
    drawn = [int(i) for i in np.flatnonzero(visible_nodes(app)) if store.kind_of(int(i)) is NodeKind.FEATURE]
    described = ctx.descriptions_of(drawn)
    assert described
    hover = dash_duo.driver.execute_script(
        "const gd=document.querySelector('#attribution-graph .js-plotly-plot'); const out={};"
        "for (const t of gd._fullData) { if (!t.hovertext || !t.customdata) continue;"
        "  Array.from(t.customdata).forEach((c, k) => { out[c] = t.hovertext[k]; }); }"
        "return out;"
    )
    for key, description in described.items():
        title = hover[str(store.index_of[key])].split("<br>")[0]
        assert title == f"<b>{escape_markup(shorten(description.split(chr(10))[0], HOVER_CHARS))}</b>"


def test_u4_esc_closes_the_export_menu_and_run_is_busy_while_clustering(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    wait_until_settled(dash_duo)
    is_open = "return document.getElementById('export-menu').open;"
    dash_duo.find_element("#export-button").click()
    wait_until(lambda: dash_duo.driver.execute_script(is_open), message="menu open")
    dash_duo.find_element("#export-title").send_keys(Keys.ESCAPE)  # from a field inside it
    wait_until(lambda: not dash_duo.driver.execute_script(is_open), message="menu closed by Esc")

    # Run: the button is disabled and marked busy from the click until the clusters arrive
    # (recorded by an observer, so a fast run is seen too).
    dash_duo.driver.execute_script(
        "window.runStates = []; const b = document.getElementById('cluster-run');"
        "new MutationObserver(() => window.runStates.push([b.disabled, b.className]))"
        ".observe(b, {attributes: true});"
    )
    dash_duo.find_element("#cluster-run").click()
    wait_until(
        lambda: (
            dash_duo.driver.execute_script("return window.runStates;")[-1:] == [[False, "small-button"]]
            and [True, "small-button busy"] in dash_duo.driver.execute_script("return window.runStates;")
        ),
        message="busy then idle",
    )
