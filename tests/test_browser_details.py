"""Browser tests of the node details panel (headless Chromium via dash_duo): D1, D2, D3.

D1 opens the example with an (empty) cluster state in the link, so that the first-visit
automatic clustering -- which reads every feature's description -- does not run, and the
description source's read counter measures the clicks alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_helpers import (
    assert_no_console_errors,
    click_node,
    context_of,
    first_visible,
    text_of,
    visible_nodes,
    wait_for_graph,
    wait_until,
    wait_until_settled,
)
from builders import described_rows
from conftest import EXAMPLE_DIR, EXAMPLE_SETTINGS
from plotly.io.json import to_json_plotly

from attribution_viewer.app import create_app
from attribution_viewer.app.node_panel import panel_response
from attribution_viewer.model import GraphStore, NodeKind

pytestmark = pytest.mark.browser

MARKED = re.compile(r"<<(.*?)>>", re.DOTALL)


def description_file(store: GraphStore, index: int) -> Path:
    layer, idx = int(store.nodes.layer[index]), int(store.nodes.feature_idx[index])
    return EXAMPLE_DIR / "autointerp" / "features" / f"layer{layer}" / f"feature_{idx}_complete.json"


def highlighted_texts(dash_duo) -> list[str]:
    """Text of every highlighted token span of the panel's examples, in page order."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#node-panel .example .tok-hi'), e => e.textContent);"
    )


def selected_key(dash_duo) -> str:
    return text_of(dash_duo, "#node-panel .node-key")


def test_d1_feature_description_examples_rename_and_reload(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    ctx = context_of(app)
    store = ctx.store
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    # The first visit clusters automatically, from the graph alone.
    wait_until(lambda: "clusters" in text_of(dash_duo, "#cluster-status"), message="first-visit clustering")
    assert ctx.descriptions is not None
    # the page load read the descriptions of the drawn features (their hover text) only
    read = {
        store.keys[int(i)]
        for i in np.flatnonzero(visible_nodes(app))
        if store.kind_of(int(i)) is NodeKind.FEATURE
    }
    assert ctx.descriptions.files_read == len(read)

    features = range(store.kind_slices[NodeKind.FEATURE].start, store.kind_slices[NodeKind.FEATURE].stop)
    described = [i for i in features if description_file(store, i).is_file()]
    feature = first_visible(app, NodeKind.FEATURE, among=described)
    record = json.loads(description_file(store, feature).read_text())
    key = store.keys[feature]

    click_node(dash_duo, feature)
    wait_until(lambda: selected_key(dash_duo) == key, message="feature panel")
    wait_until(
        lambda: text_of(dash_duo, "#node-panel .feature-description") == record["description"],
        message="description from the JSON file",
    )
    shown_examples = min(len(record["top_examples"]), 8)
    expected_spans = [s.strip() for ex in record["top_examples"][:shown_examples] for s in MARKED.findall(ex)]
    assert expected_spans
    assert [t.strip() for t in highlighted_texts(dash_duo)] == expected_spans
    # its file, and those of the features its connection rows describe
    read |= {key, *described_rows(store, key)}
    assert ctx.descriptions.files_read == len(read)

    # Another feature reads its own files; coming back to the first reads nothing.
    other = first_visible(app, NodeKind.FEATURE, among=[i for i in described if i != feature])
    click_node(dash_duo, other)
    wait_until(lambda: selected_key(dash_duo) == store.keys[other], message="second feature panel")
    read |= {store.keys[other], *described_rows(store, store.keys[other])}
    assert ctx.descriptions.files_read == len(read)
    click_node(dash_duo, feature)
    wait_until(lambda: selected_key(dash_duo) == key, message="first feature again")
    wait_until(
        lambda: text_of(dash_duo, "#node-panel .feature-description") == record["description"],
        message="description again",
    )
    assert ctx.descriptions.files_read == len(read)

    # Rename: the title shows the label, and the label survives a reload of the URL.
    label = "moth singing detector"
    assert text_of(dash_duo, "#node-title") != label
    dash_duo.find_element("#label-input").send_keys(label)
    dash_duo.find_element("#label-save").click()
    wait_until(lambda: text_of(dash_duo, "#node-title") == label, timeout=15, message="renamed title")
    wait_until(lambda: "labels=" in dash_duo.driver.current_url, message="label in the URL")
    url = dash_duo.driver.current_url
    assert f"node={key}" in url

    dash_duo.driver.get(url)
    wait_for_graph(dash_duo)
    wait_until(lambda: selected_key(dash_duo) == key, timeout=15, message="selection after reload")
    wait_until(lambda: text_of(dash_duo, "#node-title") == label, message="label after reload")
    assert dash_duo.find_element("#label-input").get_attribute("value") == label
    assert text_of(dash_duo, "#node-panel .feature-description") == record["description"]
    wait_until_settled(dash_duo)
    assert_no_console_errors(dash_duo)


def test_d2_intervention_table_shows_clamp_values(dash_duo) -> None:
    app = create_app(EXAMPLE_SETTINGS)
    store = context_of(app).store
    with_interventions = [store.index_of[k] for k, iv in store.interventions_by_key.items() if iv.clamps]
    assert with_interventions, "the example graph has precomputed interventions"
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)

    feature = first_visible(app, NodeKind.FEATURE, among=with_interventions)
    key = store.keys[feature]
    click_node(dash_duo, feature)
    wait_until(lambda: selected_key(dash_duo) == key, message="feature panel")
    dash_duo.wait_for_element("#node-panel .intervention-table", timeout=10)
    clamps = store.interventions_by_key[key].clamps
    values = [e.text for e in dash_duo.find_elements("#node-panel .intervention-table .clamp-value")]
    assert values == [f"{c.value:g}" for c in clamps]
    baselines = [e.text for e in dash_duo.find_elements("#node-panel .intervention-table .clamp-baseline")]
    assert [f"{c.baseline_prob_after:.3f}" in b for c, b in zip(clamps, baselines, strict=True)] == [
        True
    ] * len(clamps)

    # A feature without an intervention shows no table.
    plain = first_visible(
        app,
        NodeKind.FEATURE,
        among=[i for i in range(store.n_nodes) if store.keys[i] not in store.interventions_by_key],
    )
    click_node(dash_duo, plain)
    wait_until(lambda: selected_key(dash_duo) == store.keys[plain], message="plain feature panel")
    assert dash_duo.find_elements("#node-panel .intervention-table") == []
    assert_no_console_errors(dash_duo)


# Records the node panel route's requests and answers from now on (assets/node_panel.js).
RECORD_PANEL = """
window.__avPanel = [];
const original = window.fetch;
window.fetch = function (resource, init) {
  const promise = original.apply(this, arguments);
  if (String(resource).indexOf('_attrview/node-panel') >= 0) {
    promise.then(r => r.clone().text()).then(text => window.__avPanel.push([init.body, text]));
  }
  return promise;
};
"""

# The built panel parts as [tag, class, {id, href, title, data-*}, children] trees (text
# nodes as strings); the language chart's and the connection rows' insides left out.
PANEL_TREE = """
function tree(el) {
  return [...el.childNodes].map(n => {
    if (n.nodeType === 3) { return n.textContent; }
    const cls = n.getAttribute('class') || '', attrs = {};
    for (const a of n.attributes) {
      if (a.name.startsWith('data-') || ['id', 'href', 'title'].includes(a.name)) { attrs[a.name] = a.value; }
    }
    const skip = cls === 'language-chart' || cls.split(' ').includes('conn-groups');
    return [n.tagName.toLowerCase(), cls, attrs, skip ? [] : tree(n)];
  });
}
return [tree(document.getElementById('node-panel-head')), tree(document.getElementById('node-panel-body'))];
"""


def expected_tree(node: Any) -> list[Any]:
    """What assets/node_panel.js builds from the route's component JSON, as PANEL_TREE reads it."""
    if node is None or node is False:
        return []
    if isinstance(node, list):
        return [item for child in node for item in expected_tree(child)]
    if isinstance(node, float) and node.is_integer():
        return [str(int(node))]
    if not isinstance(node, dict):
        return [str(node)]
    props = node["props"]
    cls = props.get("className") or ""
    attrs = {
        k: str(v)
        for k, v in props.items()
        if v is not None and (k.startswith("data-") or k in ("id", "href", "title"))
    }
    skip = cls == "language-chart" or "conn-groups" in cls.split()
    tag = "div" if node["type"] == "Graph" else node["type"].lower()
    return [[tag, cls, attrs, [] if skip else expected_tree(props.get("children"))]]


def test_d3_the_panel_built_in_the_browser_is_the_routes_answer(dash_duo) -> None:
    """A click asks the panel route once; the server answers exactly what ``panel_response``
    computes for that request, and the panel built from it has exactly its elements, texts,
    ids and data attributes (the rows: test_browser_graph G6)."""
    app = create_app(EXAMPLE_SETTINGS)
    ctx = context_of(app)
    store = ctx.store
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    features = range(store.kind_slices[NodeKind.FEATURE].start, store.kind_slices[NodeKind.FEATURE].stop)
    described = [
        i for i in features if (d := ctx.feature_details(i).details) and d.description and d.top_examples
    ]
    feature = first_visible(app, NodeKind.FEATURE, among=described[:40])
    key = store.keys[feature]
    dash_duo.driver.execute_script(RECORD_PANEL)
    click_node(dash_duo, feature)
    wait_until(lambda: selected_key(dash_duo) == key, message="the panel shows the feature")
    wait_until_settled(dash_duo)
    ((body, answer),) = dash_duo.driver.execute_script("return window.__avPanel;")
    payload, status = panel_response(ctx, body.encode())
    computed = to_json_plotly(payload)
    assert status == 200 and computed is not None and json.loads(answer) == json.loads(computed)
    assert json.loads(body)["key"] == key == payload["key"]
    head, rest = dash_duo.driver.execute_script(PANEL_TREE)
    assert head == expected_tree(json.loads(answer)["head"]) and head
    assert rest == expected_tree(json.loads(answer)["body"]) and rest
    description = ctx.feature_details(feature).details
    assert (
        description is not None
        and text_of(dash_duo, "#node-panel .feature-description") == description.description
    )
    # the Dash-owned actions follow the selection
    assert dash_duo.find_element("#node-actions").is_displayed()
    assert dash_duo.find_element("#pin-button").text == "Pin"
    assert_no_console_errors(dash_duo)
