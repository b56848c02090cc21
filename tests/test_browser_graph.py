"""Browser tests of the graph view (headless Chromium via dash_duo): G1..G7.

Nodes are clicked with real pointer actions at their marker's pixel position.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import (
    assert_no_console_errors,
    click_node,
    context_of,
    first_visible,
    marker_size,
    node_xy,
    text_of,
    visible_nodes,
    wait_for_graph,
    wait_until,
    wait_until_settled,
)
from conftest import EXAMPLE_SETTINGS, REAL_GRAPH_FILES, real_graph
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from attribution_viewer.app import create_app
from attribution_viewer.app.node_panel import connection_groups
from attribution_viewer.app.page import base_view
from attribution_viewer.canvas import selection_layer
from attribution_viewer.edges import edge_sources
from attribution_viewer.figures import NODE_TRACES
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import NodeKind
from attribution_viewer.scene import build_scene
from attribution_viewer.search import search_nodes, search_status
from config.settings import EXAMPLE_DIR

pytestmark = pytest.mark.browser


def example_settings(**overrides):
    return dataclasses.replace(EXAMPLE_SETTINGS, **overrides)


def panel_text(dash_duo) -> str:
    return text_of(dash_duo, "#node-panel")


def test_g1_example_click_every_kind_size_search_and_reload(dash_duo) -> None:
    settings = example_settings()
    store = open_graph(EXAMPLE_DIR / "graph.npz")
    app = create_app(settings, store)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)

    feature = first_visible(app, NodeKind.FEATURE)
    click_node(dash_duo, feature)
    wait_until(lambda: store.keys[feature] in panel_text(dash_duo), message="feature panel")
    assert "Connections" in panel_text(dash_duo)

    embedding = first_visible(app, NodeKind.EMBEDDING)
    click_node(dash_duo, embedding)
    wait_until(lambda: "Input token embedding" in panel_text(dash_duo), message="embedding panel")

    logit = store.logit_indices[0]
    click_node(dash_duo, int(logit))
    wait_until(lambda: store.keys[int(logit)] in panel_text(dash_duo), message="logit panel")
    assert "Probability" in panel_text(dash_duo)

    # Error nodes appear with the toggle.
    dash_duo.find_element("#error-toggle input[value='errors']").click()
    error = first_visible(app, NodeKind.ERROR, show_errors=True)
    wait_until(
        lambda: dash_duo.driver.execute_script(
            "const gd=document.querySelector('#attribution-graph .js-plotly-plot');"
            f"return Array.from(gd._fullData[{NODE_TRACES.start + 1}].customdata||[]).includes({error});"
        ),
        message="error nodes drawn",
    )
    click_node(dash_duo, error)
    wait_until(lambda: store.keys[error] in panel_text(dash_duo), message="error panel")

    # Node size: the slider changes the markers live.
    before = marker_size(dash_duo, NODE_TRACES.start)
    thumb = dash_duo.find_element("#node-size [role='slider']")
    thumb.send_keys(Keys.ARROW_RIGHT * 4)
    wait_until(lambda: marker_size(dash_duo, NODE_TRACES.start) == before + 4, message="bigger markers")

    # Search by layer highlights all matches; a unique match (a node key) selects it.
    search = dash_duo.find_element("#node-search")
    search.send_keys("L3" + Keys.ENTER)
    layer3 = search_status(search_nodes(store, "L3"), visible_nodes(app, show_errors=True))
    wait_until(lambda: text_of(dash_duo, "#search-status") == layer3, message="L3 matches")
    key = store.keys[feature]
    search.clear()
    search.send_keys(key + Keys.ENTER)
    wait_until(lambda: text_of(dash_duo, "#search-status") == "1 shown / 0 hidden", message="search status")
    wait_until(lambda: key in panel_text(dash_duo), message="search selects")

    # Reloading the URL restores the selection and the size (the node parameter is
    # written once the panel's response is in).
    wait_until(lambda: f"node={key}" in dash_duo.driver.current_url, message="node in the URL")
    url = dash_duo.driver.current_url
    dash_duo.driver.get(url)
    wait_for_graph(dash_duo)
    wait_until(lambda: key in panel_text(dash_duo), message="selection after reload")
    wait_until(lambda: marker_size(dash_duo, NODE_TRACES.start) == before + 4, message="size after reload")
    # Esc clears the selection.
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    wait_until(lambda: "Click a node" in panel_text(dash_duo), message="cleared")
    assert_no_console_errors(dash_duo)


@pytest.mark.real
@pytest.mark.parametrize("name", REAL_GRAPH_FILES or ["<none>"])
def test_g2_real_graph_click_feature_embedding_logit_error(dash_duo, name: str) -> None:
    path: Path = real_graph(name)
    settings = example_settings(graph_path=path, autointerp_dir=None, show_errors=True)
    store = open_graph(path)
    app = create_app(settings, store)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo, timeout=40)
    kinds = [NodeKind.FEATURE, NodeKind.EMBEDDING, NodeKind.LOGIT]
    if store.count(NodeKind.ERROR):
        kinds.append(NodeKind.ERROR)
    for kind in kinds:
        index = first_visible(app, kind)
        # Under load the page may still be answering the last click (or the first figure's
        # followers): click once it is idle, then wait on the panel (the server's answer).
        wait_until_settled(dash_duo, timeout=60)
        click_node(dash_duo, index)
        wait_until(
            lambda index=index: store.keys[index] in panel_text(dash_duo),
            timeout=60,
            message=f"{kind.name} panel",
        )
    assert_no_console_errors(dash_duo)


def test_g3_connection_row_click_selects_that_node(dash_duo) -> None:
    settings = example_settings()
    store = open_graph(EXAMPLE_DIR / "graph.npz")
    dash_duo.start_server(create_app(settings, store))
    wait_for_graph(dash_duo)
    logit = int(store.logit_indices[0])
    click_node(dash_duo, logit)
    wait_until(lambda: store.keys[logit] in panel_text(dash_duo), message="logit panel")
    row = dash_duo.find_element(".conn-row")
    target = row.get_attribute("data-key")
    ActionChains(dash_duo.driver).move_to_element(row).perform()
    wait_until(lambda: row.get_attribute("title") == target, message="hover shows the key as tooltip")
    row.click()
    wait_until(lambda: target in text_of(dash_duo, ".node-key"), message="row selects its node")


def test_g4_prompt_token_click_focuses_column(dash_duo) -> None:
    settings = example_settings()
    dash_duo.start_server(create_app(settings))
    wait_for_graph(dash_duo)
    dash_duo.find_element(".prompt-token").click()
    wait_until(
        lambda: dash_duo.driver.find_elements("css selector", ".prompt-token.focused"),
        message="token focused",
    )
    focused_bands = (
        "return document.querySelector('#attribution-graph .js-plotly-plot').layout.shapes"
        ".filter(s => s.fillcolor.indexOf('255, 200') >= 0).length"
    )
    wait_until(lambda: dash_duo.driver.execute_script(focused_bands) == 1, message="column band drawn")
    # Clicking the token again removes the band.
    dash_duo.find_element(".prompt-token").click()
    wait_until(lambda: dash_duo.driver.execute_script(focused_bands) == 0, message="column band removed")


EDGE_CANVAS = "document.querySelector('#attribution-graph canvas.edge-layer')"
GRAPH_DIV = "document.querySelector('#attribution-graph .js-plotly-plot')"
PAINTED_NEAR = """
const [x, y] = arguments;
const gd = document.querySelector('#attribution-graph .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const canvas = document.querySelector('#attribution-graph canvas.edge-layer');
const ratio = canvas.width / xa._length;  // the canvas covers the plot area
const px = Math.round(xa.l2p(x) * ratio), py = Math.round(ya.l2p(y) * ratio);
const pixels = canvas.getContext('2d').getImageData(px - 2, py - 2, 5, 5).data;
for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { return true; } }
return false;
"""


def test_g5_edges_and_selection_drawn_on_canvas_and_follow_zoom(dash_duo) -> None:
    settings = example_settings()
    app = create_app(settings)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    ctx = context_of(app)
    scene = build_scene(ctx.store, base_view(ctx), ctx.frequencies.values, settings.max_drawn_edges)
    n_drawn = int(scene.drawn.sum())
    wait_until(
        lambda: (
            dash_duo.driver.execute_script(f"const c = {EDGE_CANVAS}; return c && c.dataset.edges;")
            == str(n_drawn)
        ),
        message="canvas holds the drawn edges",
    )
    # The edges that are not strong are drawn faded (nearly transparent at this zoom).
    n_faded = n_drawn - int(scene.strong.sum())
    assert n_faded > 0
    assert dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.fadedEdges;") == str(n_faded)
    assert dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.fadedOpacity;") == "0.03"
    # The midpoint of the strongest drawn edge is painted; a blank spot of the plot is not.
    edge = int(np.flatnonzero(scene.drawn)[np.argmax(np.abs(ctx.store.adjacency.data[scene.drawn]))])
    src, tgt = int(edge_sources(ctx.store)[edge]), int(ctx.store.adjacency.indices[edge])
    mid = ((scene.layout.x[src] + scene.layout.x[tgt]) / 2, (scene.layout.y[src] + scene.layout.y[tgt]) / 2)
    assert dash_duo.driver.execute_script(PAINTED_NEAR, *mid)
    assert not dash_duo.driver.execute_script(PAINTED_NEAR, -1.2, float(scene.layout.layer_ticks[-1]) + 0.7)
    # A click draws the node's edges and rings on the canvas; the figure is not redrawn.
    logit = int(ctx.store.logit_indices[0])
    expected = selection_layer(ctx.store, scene.layout, logit, scene.edge_mask, base_view(ctx).node_size)
    assert expected is not None
    n_selected = sum(b["count"] for b in expected["batches"])
    dash_duo.driver.execute_script(f"{GRAPH_DIV}._avFigure = {GRAPH_DIV}.data;")
    click_node(dash_duo, logit)
    wait_until(
        lambda: (
            dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.selectedEdges;") == str(n_selected)
        ),
        message="selection drawn",
    )
    assert dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.selected;") == str(logit)
    assert dash_duo.driver.execute_script(f"return {GRAPH_DIV}._avFigure === {GRAPH_DIV}.data;")
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    wait_until(
        lambda: dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.selected;") == "",
        message="selection cleared",
    )
    # Zoom in around the midpoint: the canvas is redrawn in the new coordinates.
    dash_duo.driver.execute_script(
        "const gd = document.querySelector('#attribution-graph .js-plotly-plot');"
        "return Plotly.relayout(gd, {'xaxis.range': [arguments[0] - 3, arguments[0] + 3],"
        " 'yaxis.range': [arguments[1] - 1, arguments[1] + 1]});",
        *mid,
    )
    wait_until(lambda: dash_duo.driver.execute_script(PAINTED_NEAR, *mid), message="midpoint after zoom")
    # ... and the faded edges are more visible when zoomed in (up to 0.3).
    faded_opacity = float(dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.fadedOpacity;"))
    assert 0.03 < faded_opacity <= 0.3
    # Dragging moves the drawn bitmap (a CSS transform); releasing redraws it in place.
    transform = f"return {EDGE_CANVAS}.style.transform;"
    drag = ActionChains(dash_duo.driver)
    drag.move_to_element(dash_duo.find_element("#attribution-graph .nsewdrag")).click_and_hold()
    drag.move_by_offset(60, 30).pause(0.3).perform()
    assert dash_duo.driver.execute_script(transform).startswith("matrix(")
    ActionChains(dash_duo.driver).release().perform()
    wait_until(lambda: dash_duo.driver.execute_script(transform) == "", message="redrawn after the drag")
    # A new view (errors shown) sends a new layer with its own count.
    dash_duo.find_element("#error-toggle input[value='errors']").click()
    with_errors = build_scene(
        ctx.store,
        dataclasses.replace(base_view(ctx), show_errors=True),
        ctx.frequencies.values,
        settings.max_drawn_edges,
    )
    assert int(with_errors.drawn.sum()) != n_drawn
    wait_until(
        lambda: (
            dash_duo.driver.execute_script(f"return {EDGE_CANVAS}.dataset.edges;")
            == str(int(with_errors.drawn.sum()))
        ),
        message="new layer after the error toggle",
    )
    # "others faint" unticked: only the strong edges are drawn.
    dash_duo.find_element("#edges-faded input").click()
    n_strong = int(with_errors.strong.sum())
    wait_until(
        lambda: (
            dash_duo.driver.execute_script(
                f"return [{EDGE_CANVAS}.dataset.edges, {EDGE_CANVAS}.dataset.fadedEdges];"
            )
            == [str(n_strong), "0"]
        ),
        message="only the strong edges drawn",
    )
    assert_no_console_errors(dash_duo)


# Records the outputs of every callback request from now on (dash-renderer calls window.fetch)
# and the node panel's route requests (assets/node_panel.js).
RECORD_REQUESTS = """
window.__avOutputs = [];
const original = window.fetch;
window.fetch = function (resource, init) {
  if (String(resource).indexOf('_dash-update-component') >= 0) {
    try { window.__avOutputs.push(JSON.parse(init.body).output); } catch (e) { window.__avOutputs.push('?'); }
  }
  if (String(resource).indexOf('_attrview/node-panel') >= 0) { window.__avOutputs.push('node-panel route'); }
  return original.apply(this, arguments);
};
"""


def test_g6_a_click_is_one_request_and_the_selection_follows_the_filters(dash_duo) -> None:
    settings = example_settings()
    app = create_app(settings)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    ctx = context_of(app)
    view = base_view(ctx)
    scene = build_scene(ctx.store, view, ctx.frequencies.values, settings.max_drawn_edges)
    logit = int(ctx.store.logit_indices[0])
    expected = selection_layer(ctx.store, scene.layout, logit, scene.edge_mask, view.node_size)
    assert expected is not None
    dash_duo.driver.execute_script(RECORD_REQUESTS)
    click_node(dash_duo, logit)
    wait_until(lambda: ctx.store.keys[logit] in panel_text(dash_duo), message="panel shows the logit")
    selected_edges = f"return {EDGE_CANVAS}.dataset.selectedEdges;"
    count = str(sum(b["count"] for b in expected["batches"]))
    wait_until(lambda: dash_duo.driver.execute_script(selected_edges) == count, message="selection drawn")
    # The URL's node parameter is written in the browser once the response is in.
    key = ctx.store.keys[logit]
    wait_until(lambda: f"node={key}" in dash_duo.driver.current_url, message="node in the URL")
    outputs = dash_duo.driver.execute_script("return window.__avOutputs;")
    assert outputs == ["node-panel route"], outputs  # one round trip (the panel's route), no other
    # The connection rows assets/app.js built are the panel's data, in order (issue #10).
    rows = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#node-panel .conn-group')].map(g => ["
        "g.querySelector('.conn-title').textContent, [...g.querySelectorAll('button.conn-row')].map("
        "b => [b.dataset.key, b.textContent, b.dataset.weight])]);"
    )
    groups = connection_groups(ctx, logit, {})
    assert rows == [[g["title"], g["rows"]] for g in groups] and rows
    # A filter change redraws the selection in the new scene (it comes with the new figure).
    shown = dataclasses.replace(view, show_errors=True)
    with_errors = build_scene(ctx.store, shown, ctx.frequencies.values, settings.max_drawn_edges)
    after = selection_layer(ctx.store, with_errors.layout, logit, with_errors.edge_mask, view.node_size)
    assert after is not None
    new_count = str(sum(b["count"] for b in after["batches"]))
    assert new_count != count  # error nodes feed the logit
    dash_duo.find_element("#error-toggle input[value='errors']").click()
    wait_until(
        lambda: dash_duo.driver.execute_script(selected_edges) == new_count, message="selection in new scene"
    )
    assert_no_console_errors(dash_duo)


# Counts the node panel's route answers whose body has been read and whose readers' own
# promise callbacks have run (a task after the body: every microtask of it is done).
COUNT_PANEL_ANSWERS = """
window.__avAnswers = 0;
const inner = window.fetch;
window.fetch = function (resource, init) {
  const answer = inner.apply(this, arguments);
  if (String(resource).indexOf('_attrview/node-panel') >= 0) {
    answer.then(r => r.clone().text()).then(() => setTimeout(() => { window.__avAnswers += 1; }, 0));
  }
  return answer;
};
"""


def test_g7_a_press_on_a_marker_asks_at_once_and_the_release_shows_it(dash_duo) -> None:
    """The panel's route is asked at mousedown on a marker (issue #10): the answer waits,
    unseen, for the release, which shows it without a second request (and without
    plotly's click event); a drag that starts on a marker shows nothing."""
    app = create_app(example_settings())
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    store = context_of(app).store
    logit = int(store.logit_indices[0])
    feature = first_visible(app, NodeKind.FEATURE)
    click_node(dash_duo, logit)  # the view is known to the panel from here on
    wait_until(lambda: store.keys[logit] in panel_text(dash_duo), message="logit panel")
    wait_until(lambda: f"node={store.keys[logit]}" in dash_duo.driver.current_url, message="logit in the URL")
    wait_until_settled(dash_duo)
    dash_duo.driver.execute_script(RECORD_REQUESTS)
    dash_duo.driver.execute_script(COUNT_PANEL_ANSWERS)
    answers = "return window.__avAnswers;"

    press = ActionChains(dash_duo.driver)
    press.w3c_actions.pointer_action.move_to_location(*node_xy(dash_duo, feature))
    press.w3c_actions.pointer_action.pointer_down()
    press.perform()
    wait_until(lambda: dash_duo.driver.execute_script(answers) == 1, message="the route answered the press")
    assert dash_duo.driver.execute_script("return window.__avOutputs;") == ["node-panel route"]
    assert store.keys[logit] in panel_text(dash_duo) and store.keys[feature] not in panel_text(dash_duo)
    release = ActionChains(dash_duo.driver)
    release.w3c_actions.pointer_action.pointer_up()
    release.perform()
    wait_until(lambda: store.keys[feature] in panel_text(dash_duo), message="the release shows the feature")
    in_url = f"node={store.keys[feature]}"
    wait_until(lambda: in_url in dash_duo.driver.current_url, message="feature in the URL")
    assert dash_duo.driver.execute_script("return window.__avOutputs;") == ["node-panel route"]

    # The release selects the pressed node by itself: with plotly's click events gone
    # (as when a redraw swallows them), a click on the logit still shows it.
    wait_until_settled(dash_duo)
    dash_duo.driver.execute_script(
        "document.querySelector('#attribution-graph .js-plotly-plot').removeAllListeners('plotly_click');"
    )
    click_node(dash_duo, logit)
    wait_until(lambda: store.keys[logit] in panel_text(dash_duo), message="the release shows the logit")
    click_node(dash_duo, feature)
    wait_until(lambda: store.keys[feature] in panel_text(dash_duo), message="and the feature again")
    wait_until(lambda: in_url in dash_duo.driver.current_url, message="feature in the URL again")
    wait_until_settled(dash_duo)
    dash_duo.driver.execute_script("window.__avOutputs = []; window.__avAnswers = 0;")  # recorders kept

    x, y = node_xy(dash_duo, logit)
    drag = ActionChains(dash_duo.driver)
    drag.w3c_actions.pointer_action.move_to_location(x, y)
    drag.w3c_actions.pointer_action.pointer_down()
    drag.w3c_actions.pointer_action.move_to_location(x - 60, y - 40)
    drag.w3c_actions.pointer_action.pointer_up()
    drag.perform()
    wait_until(lambda: dash_duo.driver.execute_script(answers) == 1, message="the route answered the drag")
    wait_until_settled(dash_duo)
    assert store.keys[feature] in panel_text(dash_duo) and store.keys[logit] not in panel_text(dash_duo)
    assert in_url in dash_duo.driver.current_url
    assert dash_duo.driver.execute_script("return window.__avOutputs;")[:1] == ["node-panel route"]
    assert_no_console_errors(dash_duo)
