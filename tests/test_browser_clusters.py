"""Browser tests of the cluster panel (headless Chromium via dash_duo): C1, C2.

The clusters the browser holds are read from the page's URL (``clusters=`` carries the
whole cluster state); the highlights are read from the drawn figure's cluster trace.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    assert_no_console_errors,
    context_of,
    text_of,
    trace_points,
    visible_nodes,
    wait_for_graph,
    wait_until,
)
from conftest import EXAMPLE_SETTINGS, real_graph
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from attribution_viewer.app import create_app
from attribution_viewer.app.cluster_panel import MAX_LISTED
from attribution_viewer.clustering.labels import short_label
from attribution_viewer.figures import CLUSTER_TRACE
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import escape_markup
from attribution_viewer.view import decode_blob

pytestmark = pytest.mark.browser


def url_clusters(dash_duo) -> dict[str, Any] | None:
    """The cluster state carried by the page's URL (None when it has none)."""
    params = parse_qs(urlparse(dash_duo.driver.current_url).query)
    return decode_blob(params["clusters"][-1]) if "clusters" in params else None


def cluster_rows(dash_duo) -> list[tuple[str, str, str]]:
    """(cluster id, name, class) of each row of the cluster list ([] while re-rendering)."""
    try:
        return [
            (
                json.loads(row.get_attribute("id"))["id"],
                row.find_element(By.CSS_SELECTOR, ".cluster-name").text,
                row.get_attribute("class"),
            )
            for row in dash_duo.find_elements("#cluster-list .cluster-item")
        ]
    except StaleElementReferenceException:
        return []


def active_rows(dash_duo) -> list[str]:
    """Ids of the rows drawn as active, sorted."""
    return sorted(cid for cid, _, classes in cluster_rows(dash_duo) if "active" in classes.split())


def click_row(dash_duo, cluster_id: str) -> None:
    """Click the row of ``cluster_id`` (found again if the list re-renders meanwhile)."""

    def clicked() -> bool:
        try:
            for row in dash_duo.find_elements("#cluster-list .cluster-item"):
                if json.loads(row.get_attribute("id"))["id"] == cluster_id:
                    row.click()
                    return True
        except StaleElementReferenceException:
            pass
        return False

    wait_until(clicked, message=f"click on the row of {cluster_id}")


def pick_option(dash_duo, dropdown: str, label: str) -> None:
    """Choose ``label`` in a dcc.Dropdown by typing it into the dropdown's search box."""
    dash_duo.find_element(dropdown).click()
    dash_duo.find_element(".dash-dropdown-search").send_keys(label)
    wait_until(
        lambda: [o.text for o in dash_duo.find_elements(".dash-dropdown-option")].count(label) == 1,
        message=f"option {label!r}",
    )
    next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == label).click()
    wait_until(lambda: label in text_of(dash_duo, dropdown), message=f"{label!r} chosen")


def figure_names(dash_duo, graph_id: str) -> list[str]:
    """Texts of the annotations (names; arrows have none) of a drawn figure."""
    script = (
        f"const g = document.querySelector('#{graph_id} .js-plotly-plot');"
        "return g && g.layout ? (g.layout.annotations || []).map(a => a.text).filter(t => t) : [];"
    )
    return list(dash_duo.driver.execute_script(script) or [])


def expected_highlights(app, state: dict[str, Any], ids: list[str]) -> dict[int, str]:
    """Node index -> colour of the visible members of clusters ``ids``."""
    store = context_of(app).store
    visible = visible_nodes(app)
    by_id = {c["id"]: c for c in state["clusters"]}
    return {
        store.index_of[k]: by_id[cid]["color"]
        for cid in ids
        for k in by_id[cid]["nodes"]
        if visible[store.index_of[k]]
    }


def test_c1_run_activate_two_clusters_rename_and_reload(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    # The first visit clusters automatically; run it by hand when it did not.
    try:
        wait_until(lambda: cluster_rows(dash_duo), timeout=20, message="automatic clustering")
    except AssertionError:
        dash_duo.find_element("#cluster-run").click()
    wait_until(lambda: url_clusters(dash_duo), timeout=30, message="clusters in the URL")
    state = url_clusters(dash_duo)
    assert state is not None and state["active"] == []
    assert [r[0] for r in cluster_rows(dash_duo)] == [c["id"] for c in state["clusters"]]

    # The two clusters with the most members on screen.
    visible = visible_nodes(app)
    index_of = context_of(app).store.index_of
    shown = {c["id"]: sum(bool(visible[index_of[k]]) for k in c["nodes"]) for c in state["clusters"]}
    first, second = sorted(shown, key=lambda cid: -shown[cid])[:2]
    assert shown[second] > 0
    colors = {c["id"]: c["color"] for c in state["clusters"]}
    assert colors[first] != colors[second]
    assert trace_points(dash_duo, CLUSTER_TRACE) == {}

    click_row(dash_duo, first)
    wait_until(lambda: (url_clusters(dash_duo) or {}).get("active") == [first], message="first active")
    wait_until(lambda: active_rows(dash_duo) == [first], message="first row active")
    click_row(dash_duo, second)
    wait_until(
        lambda: sorted((url_clusters(dash_duo) or {}).get("active", [])) == sorted([first, second]),
        message="both active",
    )
    expected = expected_highlights(app, state, [first, second])
    wait_until(lambda: trace_points(dash_duo, CLUSTER_TRACE) == expected, timeout=15, message="highlights")
    wait_until(lambda: active_rows(dash_duo) == sorted([first, second]), message="active rows")
    # issue #12: the highlighted clusters are named in the main graph, every cluster in the cluster graph
    names = {c["id"]: escape_markup(short_label(c["name"])) for c in state["clusters"]}
    wait_until(
        lambda: sorted(figure_names(dash_duo, "attribution-graph")) == sorted([names[first], names[second]]),
        message="names beside the highlighted clusters",
    )
    listed = state["clusters"][:MAX_LISTED]
    assert len(figure_names(dash_duo, "cluster-graph")) == len(listed)

    # Rename the first cluster (targeted in the edit section).
    dash_duo.find_element("#cluster-panel .cluster-summary").click()
    old_name = next(c["name"] for c in state["clusters"] if c["id"] == first)
    pick_option(dash_duo, "#cluster-target", old_name)
    new_name = "moth song circuit"
    dash_duo.find_element("#cluster-name-input").send_keys(new_name + Keys.ENTER)
    dash_duo.find_element("#cluster-rename").click()
    wait_until(lambda: (first, new_name) in [r[:2] for r in cluster_rows(dash_duo)], message="renamed row")
    wait_until(
        lambda: new_name in figure_names(dash_duo, "attribution-graph"), message="new name in the graph"
    )
    renamed = url_clusters(dash_duo)
    assert renamed is not None
    assert {c["id"]: c["name"] for c in renamed["clusters"]}[first] == new_name
    assert sorted(renamed["active"]) == sorted([first, second])

    # Reload the link: name, active rows and highlights are intact.
    dash_duo.driver.get(dash_duo.driver.current_url)
    wait_for_graph(dash_duo)
    wait_until(
        lambda: (first, new_name) in [r[:2] for r in cluster_rows(dash_duo)], message="name after reload"
    )
    wait_until(
        lambda: trace_points(dash_duo, CLUSTER_TRACE) == expected,
        timeout=15,
        message="highlights after reload",
    )
    wait_until(lambda: active_rows(dash_duo) == sorted([first, second]), message="active rows")
    # the full figure of a page load names them too; switching both off removes the names
    wait_until(lambda: new_name in figure_names(dash_duo, "attribution-graph"), message="names after reload")
    click_row(dash_duo, first)
    wait_until(lambda: active_rows(dash_duo) == [second], message="first switched off")
    wait_until(
        lambda: figure_names(dash_duo, "attribution-graph") == [names[second]], message="one name left"
    )
    click_row(dash_duo, second)
    wait_until(lambda: figure_names(dash_duo, "attribution-graph") == [], message="names removed")
    assert_no_console_errors(dash_duo)


@pytest.mark.real
def test_c2_upload_original_v2_cluster_file(dash_duo) -> None:
    graph = real_graph("clt_b_mask__category_20_de.pt")
    upload = real_graph("clusters_v2__category_20_de.json")
    settings = dataclasses.replace(EXAMPLE_SETTINGS, graph_path=graph, autointerp_dir=None)
    app = create_app(settings, open_graph(graph))
    dash_duo.start_server(app)
    wait_for_graph(dash_duo, timeout=40)
    wait_until(lambda: text_of(dash_duo, "#cluster-status"), timeout=30, message="first cluster action")

    dash_duo.find_element("#cluster-panel .cluster-summary").click()
    dash_duo.find_element("#cluster-upload input[type=file]").send_keys(str(upload))
    wait_until(
        lambda: f"from {upload.name}" in text_of(dash_duo, "#cluster-status"), timeout=20, message="upload"
    )
    original = json.loads(upload.read_text())["clusters"]
    assert len(original) == 15
    assert f"loaded {len(original)} clusters" in text_of(dash_duo, "#cluster-status")
    wait_until(lambda: len(cluster_rows(dash_duo)) == len(original), message="15 rows")
    assert [r[1] for r in cluster_rows(dash_duo)] == [c["name"] for c in original.values()]
    sizes = [e.get_attribute("data-size") for e in dash_duo.find_elements("#cluster-list .cluster-name")]
    assert sizes == [str(len(c["nodes"])) for c in original.values()]
    assert_no_console_errors(dash_duo)
