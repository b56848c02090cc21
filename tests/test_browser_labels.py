"""Browser test of the "labels" toggle (issue 11): labels drawn beside nodes on a real graph
with Neuronpedia clerps, never overlapping, the selected node labelled, more labels when
zoomed in, none (and no request) when off."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest
from browser_helpers import (
    click_node,
    context_of,
    first_visible,
    wait_for_graph,
    wait_until,
    wait_until_settled,
)
from conftest import EXAMPLE_SETTINGS, real_graph

from attribution_viewer.app import create_app
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.app.node_labels import MAX_CHARS
from attribution_viewer.app.page import base_view
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.labels import first_line, shorten
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import NodeKind

pytestmark = pytest.mark.browser

# Each drawn label: its node key, text, and its box on the page.
_LABELS = """
const layer = document.querySelector('#attribution-graph div.label-layer');
if (!layer) { return null; }
const rows = Array.from(layer.querySelectorAll('div.node-label')).map(function (div) {
  const r = div.getBoundingClientRect();
  return [div.dataset.key, div.textContent, r.left, r.top, r.right, r.bottom];
});
return {serial: layer.dataset.serial || '', requested: layer.dataset.requested || '',
        range: (layer.dataset.requestedRange || '').split(',').map(Number), rows: rows};
"""

# Counts the label requests (outputs label-layer) the page sends.
_COUNT_LABEL_REQUESTS = """
window.labelRequests = 0;
const original = window.fetch;
window.fetch = function (resource, init) {
  if (String(resource).indexOf('_dash-update-component') >= 0 && init && init.body
      && JSON.parse(init.body).output.indexOf('label-layer.data') >= 0) {
    window.labelRequests += 1;
  }
  return original.call(this, resource, init);
};
"""

_ZOOM = """
const gd = document.querySelector('#attribution-graph .js-plotly-plot');
const xa = gd._fullLayout.xaxis.range, ya = gd._fullLayout.yaxis.range;
const cx = arguments[0], cy = arguments[1], f = arguments[2];
const x = [cx - (xa[1] - xa[0]) * f / 2, cx + (xa[1] - xa[0]) * f / 2];
const y = [cy - (ya[1] - ya[0]) * f / 2, cy + (ya[1] - ya[0]) * f / 2];
Plotly.relayout(gd, {'xaxis.range': x, 'yaxis.range': y});
return [x, y];
"""


def drawn_labels(dash_duo: Any) -> dict[str, Any] | None:
    return dash_duo.driver.execute_script(_LABELS)


def wait_for_labels(dash_duo: Any, ranges: list[float] | None = None) -> dict[str, Any]:
    """The labels once the placement last asked for (for these axis ``ranges``: x0, x1, y0,
    y1, when given) is drawn."""
    state: dict[str, Any] = {}

    def ready() -> bool:
        got = drawn_labels(dash_duo)
        asked = ranges is None or (got and np.allclose(got["range"], ranges))
        if got and asked and got["serial"] and got["serial"] == got["requested"]:
            state.update(got)
            return True
        return False

    wait_until(ready, timeout=20, message=f"labels for {ranges}")
    return state


def assert_apart(rows: list[list[Any]]) -> None:
    for a, b in itertools.combinations(rows, 2):
        overlap = a[2] < b[4] - 0.5 and b[2] < a[4] - 0.5 and a[3] < b[5] - 0.5 and b[3] < a[5] - 0.5
        assert not overlap, f"labels {a[:2]} and {b[:2]} overlap"


def test_l1_labels_toggle_real_graph_apart_selected_and_zoom(dash_duo) -> None:
    path = real_graph("np_schema1__meow-clt.json")
    store = open_graph(path)
    app = create_app(dataclasses.replace(EXAMPLE_SETTINGS, graph_path=path, autointerp_dir=None), store)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo, timeout=40)
    store = context_of(app).store
    dash_duo.driver.execute_script(_COUNT_LABEL_REQUESTS)
    node = first_visible(app, NodeKind.FEATURE)
    click_node(dash_duo, node)
    wait_until(lambda: store.keys[node] in dash_duo.driver.current_url, message="selection in the URL")
    wait_until_settled(dash_duo)
    assert not (drawn_labels(dash_duo) or {"rows": []})["rows"]  # off by default
    assert dash_duo.driver.execute_script("return window.labelRequests;") == 0  # and not asked for

    dash_duo.find_element("#label-toggle input").click()
    first = wait_for_labels(dash_duo)
    assert dash_duo.driver.execute_script("return window.labelRequests;") >= 1  # (the count counts)
    rows = first["rows"]
    assert len(rows) >= 5
    assert_apart(rows)
    keys = [r[0] for r in rows]
    assert store.keys[node] in keys  # the selected node is always labelled
    own = {store.keys[i]: str(store.nodes.label[i]) for i in range(store.n_nodes) if store.nodes.label[i]}
    clerps = [r for r in rows if r[0] in own]
    assert len(clerps) >= 5  # the graph's own labels (Neuronpedia clerps) are written
    assert all(t == shorten(first_line(own[k]), MAX_CHARS) for k, t, *_ in clerps)
    wait_until(lambda: "show_labels=1" in dash_duo.driver.current_url, message="show_labels in the URL")

    # zoom in (x4) on the most influential visible feature that had no room
    scene = context_of(app).scene(ViewControls(**{}).view(base_view(context_of(app))))
    unlabelled = [
        i
        for i in np.flatnonzero(scene.visible)
        if store.kind_of(int(i)) is NodeKind.FEATURE and store.keys[int(i)] not in keys
    ]
    assert unlabelled
    target = min(unlabelled, key=lambda i: cumulative_influence(store)[i])
    x, y = dash_duo.driver.execute_script(
        _ZOOM, float(scene.layout.x[target]), float(scene.layout.y[target]), 0.25
    )
    zoomed = wait_for_labels(dash_duo, [*x, *y])
    assert_apart(zoomed["rows"])
    new = {r[0] for r in zoomed["rows"]} - set(keys)
    assert store.keys[int(target)] in new, "zooming in labels nodes that had no room before"
    assert "show_labels=1" in dash_duo.driver.current_url

    dash_duo.find_element("#label-toggle input").click()
    wait_until(lambda: not (drawn_labels(dash_duo) or {"rows": [1]})["rows"], message="labels cleared")
    wait_until_settled(dash_duo)
    assert dash_duo.get_logs() == []
