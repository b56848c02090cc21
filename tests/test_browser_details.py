"""Browser tests of the node details panel (headless Chromium via dash_duo): D1, D2.

D1 opens the example with an (empty) cluster state in the link, so that the first-visit
automatic clustering -- which reads every feature's description -- does not run, and the
description source's read counter measures the clicks alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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

from attribution_viewer.app import create_app
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
