"""Browser tests of a folder of graphs (FolderServer on waitress): switching graphs in the
picker, a shared feature selected in the compare table highlighted in both graphs, and one
hovered / clicked in one half of the comparison ringed / selected in the other (BF3), the
twin ring cleared when the pointer leaves the plot and pinned by a click until a click
elsewhere (BF4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import assert_no_console_errors, wait_for_graph, wait_until
from conftest import serving
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from attribution_viewer.app import compare_view
from attribution_viewer.app.folder import FolderServer, build_folder_server
from attribution_viewer.compare import compare_graphs
from attribution_viewer.export.compare_figure import build_compare_print_figure
from attribution_viewer.library import GraphIndex
from attribution_viewer.loaders import save_native
from attribution_viewer.server import make_server
from attribution_viewer.settings import Settings
from attribution_viewer.testing.synthetic import make_synthetic_graph

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FolderServer, str]]:
    """A folder (a.npz, sub/b.npz: features drawn from 20 per layer, so many are shared) on waitress."""
    root = tmp_path / "graphs"
    (root / "sub").mkdir(parents=True)
    for seed, path in enumerate((root / "a.npz", root / "sub" / "b.npz")):
        store = make_synthetic_graph(
            n_layers=4,
            n_tokens=5,
            n_features=60,
            n_edges=1000,
            d_transcoder=20,
            seed=seed,
            prompt=f"the cat {seed} sat",
        )
        save_native(store, path)
    settings = Settings(graphs_dir=root, conversion_cache_dir=None, allowed_hosts=("127.0.0.1", "localhost"))
    folder = build_folder_server(settings, GraphIndex.scan(root))
    with serving(make_server(folder, settings, port=0)) as port:
        yield folder, f"http://127.0.0.1:{port}/"


def cell_text(cell: Any) -> str:
    return str(cell.get_attribute("textContent")).strip()


def page_graph(dash_duo: Any) -> str | None:
    return parse_qs(urlparse(dash_duo.driver.current_url).query).get("graph", [None])[0]


def picker_text(dash_duo: Any) -> str:
    return dash_duo.find_element("#graph-picker").text


def open_page_comparing_b(dash_duo: Any, url: str) -> None:
    """Open the page of a.npz and choose sub/b.npz in the compare picker."""
    dash_duo.driver.get(url)
    wait_for_graph(dash_duo)
    dash_duo.find_element("#compare-picker").click()
    dash_duo.wait_for_element(".dash-dropdown-options")
    next(
        o
        for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
        if "b.npz" in o.text
    ).click()


def test_bf1_switch_graphs_in_the_picker(dash_duo: Any, served: tuple[FolderServer, str]) -> None:
    _, url = served
    dash_duo.driver.get(url)
    wait_for_graph(dash_duo)
    assert "a.npz" in picker_text(dash_duo)
    dash_duo.find_element("#graph-picker").click()
    search = dash_duo.wait_for_element(
        ".dash-dropdown-options input, .dash-dropdown-search input, input.dash-dropdown-search"
    )
    search.send_keys("cat 1")  # the prompt of sub/b.npz
    wait_until(
        lambda: (
            [
                o.text
                for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
                if "b.npz" in o.text and "a.npz" not in o.text
            ]
            != []
        ),
        message="search by prompt finds b.npz",
    )
    options = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
    assert not [o for o in options if "a.npz" in o.text]  # filtered out: its prompt is "the cat 0 sat"
    next(o for o in options if "b.npz" in o.text).click()
    wait_until(lambda: page_graph(dash_duo) == "sub/b.npz", message="navigated to b")
    wait_for_graph(dash_duo)
    wait_until(lambda: "b.npz" in picker_text(dash_duo), message="picker shows b")
    assert "sub/b.npz" in dash_duo.driver.title


def test_bf2_shared_feature_highlighted_in_both_graphs(
    dash_duo: Any, served: tuple[FolderServer, str]
) -> None:
    folder, url = served
    left, right = folder.cache.open("a.npz"), folder.cache.open("sub/b.npz")
    comparison = compare_graphs(left, right)
    assert comparison.counts.shared > 0
    open_page_comparing_b(dash_duo, url)
    dash_duo.wait_for_element("#compare-table td.dash-cell")
    # A shared feature drawn in both graphs at their default pruning.
    drawn = compare_view.open_comparison(
        folder.app_for("a.npz").server.config["attribution_viewer_context"], "sub/b.npz"
    )
    layer, feature = next(
        (r.layer, r.feature_idx)
        for r in comparison.rows
        if r.status == "shared"
        and all(
            p.view.selected is not None for p in compare_view.selected_panels(drawn, (r.layer, r.feature_idx))
        )
    )
    # Find it with the table's filter row (status, layer, feature), then click its row.
    for column, text in ((0, "both"), (1, f"= {layer}"), (2, f"= {feature}")):
        dash_duo.find_element(f"#compare-table th.dash-filter.column-{column} input").send_keys(
            text + Keys.ENTER
        )
    wait_until(
        lambda: (
            [cell_text(c) for c in dash_duo.find_elements("#compare-table td.dash-cell.column-2")]
            == [str(feature)]
        ),
        message="table filtered to the feature",
    )
    assert cell_text(dash_duo.find_element("#compare-table td.dash-cell.column-1")) == str(layer)
    dash_duo.find_element("#compare-table td.dash-cell.column-1").click()
    # What the server draws for that feature: a node of it in each graph, as "Selected".
    left_panel, right_panel = compare_view.selected_panels(drawn, (layer, feature))
    assert left_panel.view.selected in comparison.feature_nodes("left", (layer, feature)).tolist()
    assert right_panel.view.selected in comparison.feature_nodes("right", (layer, feature)).tolist()
    figure: Any = build_compare_print_figure(left_panel, right_panel, drawn.features, compare_view.SCREEN)
    expected = sorted(
        [t.xaxis or "x", round(float(t.x[0]), 2), round(float(t.y[0]), 2)]
        for t in figure.data
        if t.name == "Selected"
    )
    assert [axis for axis, *_ in expected] == ["x", "x2"]
    selected_js = (
        "const gd=document.querySelector('#compare-figure .js-plotly-plot');"
        "if(!gd||!gd._fullData){return [];}"
        "return gd._fullData.filter(t=>t.name==='Selected')"
        ".map(t=>[t.xaxis||'x', Number(t.x[0]), Number(t.y[0])]);"
    )
    wait_until(lambda: len(dash_duo.driver.execute_script(selected_js)) == 2, message="both halves selected")
    shown = sorted([a, round(x, 2), round(y, 2)] for a, x, y in dash_duo.driver.execute_script(selected_js))
    assert shown == expected


# The page position of the marker with id `key` of the trace `name` on x axis `axis`.
_POINT_XY = """
const [name, axis, key] = arguments;
const gd = document.querySelector('#compare-figure .js-plotly-plot');
if (!gd || !gd._fullLayout) { return null; }
const trace = gd._fullData.find(t => t.name === name && (t.xaxis || 'x') === axis);
if (!trace) { return null; }
const k = Array.from(trace.customdata || []).indexOf(key);
if (k < 0) { return null; }
const xa = gd._fullLayout[axis === 'x' ? 'xaxis' : 'xaxis2'];
const ya = gd._fullLayout[axis === 'x' ? 'yaxis' : 'yaxis2'];
const box = gd.getBoundingClientRect();
return [box.left + xa._offset + xa.l2p(trace.x[k]), box.top + ya._offset + ya.l2p(trace.y[k])];
"""
_TRACE_XY = """
const gd = document.querySelector('#compare-figure .js-plotly-plot');
if (!gd || !gd._fullData) { return []; }
return gd._fullData.filter(t => t.name === arguments[0])
  .map(t => [t.xaxis || 'x', Array.from(t.x || [], Number), Array.from(t.y || [], Number)]);
"""


def _comparing_a_shared_feature(
    dash_duo: Any, served: tuple[FolderServer, str]
) -> tuple[compare_view.Comparison, Any, str]:
    """The page of a.npz comparing sub/b.npz, drawn: the comparison, its screen figure as
    the server draws it, and a shared feature drawn in both halves."""
    from attribution_viewer.export.compare_figure import SHARED_NAME, build_compare_screen_figure

    folder, url = served
    open_page_comparing_b(dash_duo, url)
    drawn = compare_view.open_comparison(
        folder.app_for("a.npz").server.config["attribution_viewer_context"], "sub/b.npz"
    )
    figure: Any = build_compare_screen_figure(drawn.left, drawn.right, drawn.features, compare_view.SCREEN)
    marks = {t.xaxis: t for t in figure.data if t.name == SHARED_NAME}
    key = next(k for k in marks["x"].customdata if k in set(marks["x2"].customdata))
    wait_until(
        lambda: dash_duo.driver.execute_script(_POINT_XY, SHARED_NAME, "x", key) is not None,
        timeout=20,
        message="the comparison drawn",
    )
    return drawn, figure, key


def _rounded(points: Any) -> list[Any]:
    return sorted([a, [round(v, 2) for v in xs], [round(v, 2) for v in ys]] for a, xs, ys in points)


def test_bf3_hover_and_click_a_shared_feature_rings_its_twin(
    dash_duo: Any, served: tuple[FolderServer, str]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    from attribution_viewer.export.compare_figure import SHARED_NAME, TWIN_NAME, build_compare_screen_figure

    drawn, figure, key = _comparing_a_shared_feature(dash_duo, served)
    marks = {t.xaxis: t for t in figure.data if t.name == SHARED_NAME}
    # Its twins are the right half's markers with its id.
    right = [i for i, k in enumerate(marks["x2"].customdata) if k == key]
    twins = [["x2", [float(marks["x2"].x[i]) for i in right], [float(marks["x2"].y[i]) for i in right]]]
    xy = dash_duo.driver.execute_script(_POINT_XY, SHARED_NAME, "x", key)
    hover = ActionChains(dash_duo.driver)
    hover.w3c_actions.pointer_action.move_to_location(round(xy[0]), round(xy[1]))
    hover.perform()
    wait_until(
        lambda: [t for t in dash_duo.driver.execute_script(_TRACE_XY, TWIN_NAME) if t[1]] != [],
        message="the twin ringed on hover",
    )
    shown = [t for t in dash_duo.driver.execute_script(_TRACE_XY, TWIN_NAME) if t[1]]
    assert _rounded(shown) == _rounded(twins)  # in the other half only, where its markers are
    # A click selects the feature in both halves (its strongest drawn node in each).
    click = ActionChains(dash_duo.driver)
    click.w3c_actions.pointer_action.move_to_location(round(xy[0]), round(xy[1]))
    click.w3c_actions.pointer_action.click()
    click.perform()
    left_panel, right_panel = compare_view.selected_panels(drawn, compare_view.parse_feature(key))
    assert left_panel.view.selected is not None and right_panel.view.selected is not None
    selected: Any = build_compare_screen_figure(left_panel, right_panel, drawn.features, compare_view.SCREEN)
    expected = [[t.xaxis, list(t.x), list(t.y)] for t in selected.data if t.name == "Selected"]
    wait_until(
        lambda: len(dash_duo.driver.execute_script(_TRACE_XY, "Selected")) == 2,
        timeout=20,
        message="selected in both halves",
    )
    assert _rounded(dash_duo.driver.execute_script(_TRACE_XY, "Selected")) == _rounded(expected)
    assert_no_console_errors(dash_duo)


# A store's data, read from the Dash renderer's layout (the stores have no DOM of their own).
_STORE_DATA = """
const state = window.store && window.store.getState();
const path = state && state.paths && state.paths.strs && state.paths.strs[arguments[0]];
if (!path) { return null; }
const node = path.reduce((at, key) => (at == null ? at : at[key]), state.layout);
return node && node.props && node.props.data !== undefined ? node.props.data : null;
"""
# A point outside the plot (the page's top-left corner, over the top bar's padding).
_OUTSIDE_XY = "return [3, 3];"
# Empty space inside the left half's plot area: its top-left corner, 4 px in.
_EMPTY_XY = """
const gd = document.querySelector('#compare-figure .js-plotly-plot');
const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
return [box.left + xa._offset + 4, box.top + ya._offset + 4];
"""


def test_bf4_twin_ring_cleared_on_leave_and_pinned_by_a_click(
    dash_duo: Any, served: tuple[FolderServer, str]
) -> None:
    """Hover rings the twins until the pointer leaves the plot; a click pins the feature (its
    markers ringed in both halves) through leaving and hovering, until a click elsewhere,
    which also clears the feature's selection in the server's figure."""
    from selenium.webdriver.common.action_chains import ActionChains

    from attribution_viewer.export.compare_figure import SHARED_NAME, TWIN_NAME, ring_feature

    _, figure, key = _comparing_a_shared_feature(dash_duo, served)
    both = ring_feature(figure, key)
    pinned_rings = [[t.xaxis, list(t.x), list(t.y)] for t in figure.data if t.name == TWIN_NAME]
    assert both >= 2 and all(r[1] for r in pinned_rings)  # in both halves

    def rings() -> list[Any]:
        return [t for t in dash_duo.driver.execute_script(_TRACE_XY, TWIN_NAME) if t[1]]

    def twin_state() -> dict[str, Any]:
        return dash_duo.driver.execute_script(_STORE_DATA, "compare-twin") or {}

    def move_to(x: float, y: float, click: bool = False) -> None:
        chain = ActionChains(dash_duo.driver)
        chain.w3c_actions.pointer_action.move_to_location(round(x), round(y))
        if click:
            chain.w3c_actions.pointer_action.click()
        chain.perform()

    xy = dash_duo.driver.execute_script(_POINT_XY, SHARED_NAME, "x", key)
    outside = dash_duo.driver.execute_script(_OUTSIDE_XY)
    move_to(*xy)
    wait_until(lambda: twin_state().get("hover") == key and rings() != [], message="the twin ringed on hover")
    assert [r[0] for r in rings()] == ["x2"] and not twin_state()["pinned"]
    move_to(*outside)  # the pointer leaves the plot: the ring goes
    wait_until(lambda: twin_state().get("hover") is None, message="the hover cleared")
    wait_until(lambda: rings() == [], timeout=5, message="the ring cleared on leaving")
    assert twin_state()["twins"] == 0
    # A click pins the feature: its markers ringed in both halves, also in the server's figure.
    move_to(*xy, click=True)
    wait_until(
        lambda: len(dash_duo.driver.execute_script(_TRACE_XY, "Selected")) == 2,
        timeout=20,
        message="selected in both halves",
    )
    wait_until(lambda: twin_state().get("pinned") is True, message="pinned")
    assert twin_state()["twins"] == both
    assert _rounded(rings()) == _rounded(pinned_rings)
    move_to(*outside)  # leaving changes nothing while pinned
    wait_until(lambda: twin_state().get("hover") is None, message="the hover cleared while pinned")
    assert twin_state()["pinned"] is True and _rounded(rings()) == _rounded(pinned_rings)
    # A click elsewhere in the plot (empty space) unpins: the rings go.
    empty = dash_duo.driver.execute_script(_EMPTY_XY)
    move_to(*empty, click=True)
    wait_until(lambda: twin_state().get("pinned") is False, message="unpinned by a click elsewhere")
    wait_until(lambda: rings() == [], timeout=5, message="the rings cleared")
    # ... and the server's figure selects nothing any more (in neither half).
    wait_until(
        lambda: [t for t in dash_duo.driver.execute_script(_TRACE_XY, "Selected") if t[1]] == [],
        timeout=20,
        message="the selection cleared in both halves",
    )
    assert twin_state().get("pinned") is False
    assert_no_console_errors(dash_duo)
