"""Lazy loading, counted: the graph file is read once per process, start-up and page loads
read no description file, a click reads exactly one, a second click on it reads none.

Callbacks are called through the Flask test client exactly as the browser calls them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from builders import described_rows
from conftest import EXAMPLE_SETTINGS

import attribution_viewer.loaders as loaders
from attribution_viewer.app import create_app
from attribution_viewer.app.controls import VIEW_CONTROLS
from attribution_viewer.app.ids import PANEL_ROUTE
from attribution_viewer.model import NodeKind

# The click path: one request, to the node panel's route (assets/node_panel.js).
CLICK_ROUTE = f"/{PANEL_ROUTE}"


def click(client: Any, key: str, view: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST a click like assets/node_panel.js does: the key and the view's values."""
    response = client.post(CLICK_ROUTE, json={"key": key, "view": {**(view or {}), "selected": key}})
    assert response.status_code == 200, response.data[:500]
    return response.json


def call_callback(client: Any, output: str, values: dict[str, Any], changed: str) -> dict[str, Any]:
    """POST one callback like dash-renderer does; ``values`` maps ``id.prop`` to a value."""
    deps = client.get("/_dash-dependencies").json
    dep = next(d for d in deps if d["output"] == output)

    def fill(items: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output.strip(".").split("...")]
    payload = {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": fill(dep["inputs"]),
        "state": fill(dep["state"]),
        "changedPropIds": [changed] if changed else [],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.data[:500]
    return response.json["response"]


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = loaders.read_regular_file

    def counting(path: Any, max_bytes: int) -> bytes:
        reads.append(str(path))
        return original(path, max_bytes)

    monkeypatch.setattr(loaders, "read_regular_file", counting)
    return reads


def test_r1_graph_read_once_and_descriptions_on_demand(counted_reads: list[str]) -> None:
    app = create_app(dataclasses.replace(EXAMPLE_SETTINGS))
    ctx = app.server.config["attribution_viewer_context"]
    assert counted_reads == [str(EXAMPLE_SETTINGS.graph_path)]
    client = app.server.test_client()
    for _ in range(2):  # two page loads
        assert client.get("/").status_code == 200
        assert client.get("/_dash-layout").status_code == 200
    source = ctx.descriptions
    assert source is not None and source.files_read == 0

    store = ctx.store
    feature = store.keys[store.kind_slices[NodeKind.FEATURE].start]
    other = store.keys[store.kind_slices[NodeKind.FEATURE].start + 1]
    values = {"labels": {}, "pinned": []}
    panel = click(client, feature, values)
    assert feature in str(panel["head"])
    # the node's file and those of the features its connection rows name (their descriptions)
    listed = described_rows(store, feature)
    assert listed and source.files_read == len({feature, *listed})
    click(client, other, values)
    read = len({feature, *listed, other, *described_rows(store, other)})
    assert source.files_read == read
    click(client, feature, values)
    assert source.files_read == read  # cached: the second click on a node reads nothing
    assert counted_reads == [str(EXAMPLE_SETTINGS.graph_path)]


FIGURE = "..attribution-graph.figure...shown-counts.children...edge-layer.data...selection-layer.data@"


def figure_output(client: Any) -> str:
    """The figure callback's output string (its selection output carries a duplicate hash)."""
    deps = client.get("/_dash-dependencies").json
    return next(d["output"] for d in deps if d["output"].startswith(FIGURE))


def test_r2_click_never_touches_the_figure_and_overlays_are_patches() -> None:
    app = create_app(EXAMPLE_SETTINGS)
    client = app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").json
    for dep in deps:
        if "attribution-graph.figure" in dep["output"]:
            assert "selected-node" not in {i["id"] for i in dep["inputs"]}, dep["output"]
    output = figure_output(client)
    base = {
        "prune-value.data": 0.8,
        "frequency-value.data": 0.25,
        "error-toggle.value": [],
        "node-size.value": 10,
        "selected-node.data": None,
        "pinned-nodes.data": [],
        "node-labels.data": {},
        "search-results.data": [],
        "token-focus.data": None,
        "cluster-state.data": None,
    }
    first = call_callback(client, output, base, "prune-value.data")
    figure = first["attribution-graph"]["figure"]
    assert "data" in figure and "layout" in figure
    assert first["edge-layer"]["data"]["batches"]
    store = app.server.config["attribution_viewer_context"].store
    # A click: one answer with the panel and the selection layer (a few KB).
    selected = store.keys[int(store.logit_indices[0])]
    clicked = click(client, selected, {"prune": 0.8, "freq": 0.25, "toggles": [], "size": 10, "pinned": []})
    layer = clicked["selection"]
    assert selected in str(clicked["head"])
    assert layer["selected"] == int(store.logit_indices[0]) and layer["batches"]
    assert len(str(layer)) < 5000
    # A node-size change patches the marker sizes, never resends the figure or the edges.
    second = call_callback(client, output, {**base, "node-size.value": 14}, "node-size.value")
    patch = second["attribution-graph"]["figure"]
    assert patch.get("__dash_patch_update") == "__dash_patch_update"
    assert "edge-layer" not in second
    assert len(str(patch)) < len(str(figure)) / 5


def layout_props(client: Any, query: str = "") -> dict[str, dict[str, Any]]:
    """id -> props of every component with a string id in the page's layout."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and "props" in node:
            props = node["props"]
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            walk(props.get("children"))

    walk(client.get("/_dash-layout" + query).json)
    return found


def browser_controls(props: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The view controls of a page's layout as the browser sends them (1.0 arrives as 1)."""
    values = {}
    for component, prop in VIEW_CONTROLS.values():
        value = props[component][prop]
        whole = isinstance(value, float) and value.is_integer()
        values[f"{component}.{prop}"] = int(value) if whole else value
    return values


def test_r3_page_load_sends_a_full_figure_and_node_size_a_patch() -> None:
    app = create_app(dataclasses.replace(EXAMPLE_SETTINGS, autointerp_dir=None))  # no frequencies: 1.0
    client = app.server.test_client()
    props = layout_props(client)
    values = {
        **browser_controls(props),
        "search-results.data": [],
        "token-focus.data": None,
        "cluster-state.data": None,
    }
    output = figure_output(client)
    first = call_callback(client, output, values, "")  # a page's first call: nothing triggered
    assert first["attribution-graph"]["figure"]["data"] and first["edge-layer"]["data"]["batches"]
    assert "selection-layer" not in first  # the node panel sends it with the panel
    bigger = {**values, "node-size.value": values["node-size.value"] + 2}
    response = call_callback(client, output, bigger, "node-size.value")
    assert response["attribution-graph"]["figure"].get("__dash_patch_update") == "__dash_patch_update"


def test_r4_cluster_trace_patched_when_the_clusters_change() -> None:
    app = create_app(EXAMPLE_SETTINGS)
    client = app.server.test_client()
    props = layout_props(client)
    store = app.server.config["attribution_viewer_context"].store
    deps = client.get("/_dash-dependencies").json
    dep = next(d for d in deps if d["output"].startswith("attribution-graph.figure@"))
    assert {i["id"] for i in dep["inputs"]} == {"cluster-state", "shown-counts"}
    logits = [int(i) for i in store.logit_indices[:3]]  # always visible
    members = [store.keys[i] for i in logits]
    active = {"clusters": [{"id": "c1", "name": "a", "color": "#ff0000", "nodes": members}], "active": ["c1"]}
    values = {**browser_controls(props), "cluster-state.data": active, "shown-counts.children": "x"}
    drawn = call_callback(client, dep["output"], values, "cluster-state.data")
    patch = drawn["attribution-graph"]["figure"]
    assert patch.get("__dash_patch_update") == "__dash_patch_update"
    # the cluster trace and the cluster names (issue #12), nothing else
    assert [op["location"] for op in patch["operations"]] == [["data", 4], ["layout", "annotations"]]
    assert [a["text"] for a in patch["operations"][1]["params"]["value"]] == ["a"]
    # none highlighted: the names are deleted (an empty list would make plotly replot)
    inactive = {**values, "cluster-state.data": {**active, "active": []}}
    cleared = call_callback(client, dep["output"], inactive, "cluster-state.data")["attribution-graph"][
        "figure"
    ]
    assert [(op["operation"], op["location"]) for op in cleared["operations"][1:]] == [
        ("Delete", ["layout", "annotations"])
    ]
    # A new full figure (the counts change with it) was drawn with the clusters of the moment.
    response = client.post(
        "/_dash-update-component",
        json={
            "output": dep["output"],
            "outputs": {"id": "attribution-graph", "property": "figure@" + dep["output"].split("@")[1]},
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["inputs"]],
            "state": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["state"]],
            "changedPropIds": ["shown-counts.children"],
        },
    )
    assert response.status_code == 204 or "attribution-graph" not in response.json["response"], response.json
    # ... and a full figure draws the active clusters itself.
    figure_values = {**browser_controls(props), "search-results.data": [], "token-focus.data": None}
    full = call_callback(
        client, figure_output(client), {**figure_values, "cluster-state.data": active}, "prune-value.data"
    )
    cluster_trace = full["attribution-graph"]["figure"]["data"][4]
    assert sorted(cluster_trace["customdata"]) == logits
    assert [a["text"] for a in full["attribution-graph"]["figure"]["layout"]["annotations"]] == ["a"]
