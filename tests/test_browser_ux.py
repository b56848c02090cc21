"""Browser tests of issue 11 (the graph reads at a glance): search over descriptions,
slider values, the node panel.
"""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import context_of, text_of, visible_nodes, wait_for_graph, wait_until
from conftest import EXAMPLE_SETTINGS
from selenium.webdriver.common.keys import Keys

from attribution_viewer.app import create_app
from attribution_viewer.figures import SEARCH_TRACE
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
