"""Lazy loading, counted: the graph file is read once per process, start-up and page loads
read no description file, a click reads exactly one, a second click on it reads none.

Callbacks are called through the Flask test client exactly as the browser calls them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from conftest import EXAMPLE_SETTINGS

import attribution_viewer.loaders as loaders
from attribution_viewer.app import create_app
from attribution_viewer.app.controls import VIEW_CONTROLS
from attribution_viewer.model import NodeKind


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
        "changedPropIds": [changed],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.data[:500]
    return response.json["response"]


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = loaders._read

    def counting(path: Any) -> bytes:
        reads.append(str(path))
        return original(path)

    monkeypatch.setattr(loaders, "_read", counting)
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
    values = {"selected-node.data": feature, "node-labels.data": {}, "pinned-nodes.data": []}
    panel = call_callback(client, "node-panel.children", values, "selected-node.data")
    assert feature in str(panel)
    assert source.files_read == 1
    call_callback(
        client, "node-panel.children", {**values, "selected-node.data": other}, "selected-node.data"
    )
    assert source.files_read == 2
    call_callback(client, "node-panel.children", values, "selected-node.data")
    assert source.files_read == 2  # cached: the second click on a node reads nothing
    assert counted_reads == [str(EXAMPLE_SETTINGS.graph_path)]


def test_r2_click_never_touches_the_figure_and_overlays_are_patches() -> None:
    app = create_app(EXAMPLE_SETTINGS)
    client = app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").json
    selection_ids = {"selected-node", "panel-node"}
    for dep in deps:
        if "attribution-graph.figure" in dep["output"]:
            assert not {i["id"] for i in dep["inputs"]} & selection_ids, dep["output"]
    output = "..attribution-graph.figure...shown-counts.children...figure-signature.data...edge-layer.data.."
    base = {
        "prune-slider.value": 0.8,
        "frequency-slider.value": 0.25,
        "error-toggle.value": [],
        "node-size.value": 10,
        "selected-node.data": None,
        "pinned-nodes.data": [],
        "node-labels.data": {},
        "search-results.data": [],
        "token-focus.data": None,
        "figure-signature.data": None,
    }
    first = call_callback(client, output, base, "prune-slider.value")
    figure = first["attribution-graph"]["figure"]
    assert "data" in figure and "layout" in figure
    assert first["edge-layer"]["data"]["batches"]
    signature = first["figure-signature"]["data"]
    store = app.server.config["attribution_viewer_context"].store
    # A click: only the selection layer is computed (a few KB), after the panel.
    selected = store.keys[int(store.logit_indices[0])]
    layer = call_callback(
        client, "selection-layer.data", {**base, "panel-node.data": selected}, "panel-node.data"
    )["selection-layer"]["data"]
    assert layer["selected"] == int(store.logit_indices[0]) and layer["batches"]
    assert len(str(layer)) < 5000
    # A node-size change patches the marker sizes, never resends the figure or the edges.
    second = call_callback(
        client,
        output,
        {**base, "node-size.value": 14, "figure-signature.data": signature},
        "node-size.value",
    )
    patch = second["attribution-graph"]["figure"]
    assert patch.get("__dash_patch_update") == "__dash_patch_update"
    assert "figure-signature" not in second and "edge-layer" not in second
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


def browser_controls(
    props: dict[str, dict[str, Any]], selected_from: str = "selected-node"
) -> dict[str, Any]:
    """The view controls of a page's layout as the browser sends them (1.0 arrives as 1)."""
    values = {}
    for component, prop in VIEW_CONTROLS:
        value = props[component][prop]
        name = selected_from if component == "selected-node" else component
        values[f"{name}.{prop}"] = int(value) if isinstance(value, float) and value.is_integer() else value
    return values


def test_r3_first_figure_signature_matches_the_controls_the_browser_sends() -> None:
    app = create_app(dataclasses.replace(EXAMPLE_SETTINGS, autointerp_dir=None))  # no frequencies: 1.0
    client = app.server.test_client()
    props = layout_props(client)
    values = {
        **browser_controls(props),
        "search-results.data": [],
        "token-focus.data": None,
        "figure-signature.data": None,
    }
    output = "..attribution-graph.figure...shown-counts.children...figure-signature.data...edge-layer.data.."
    first = call_callback(client, output, values, "prune-slider.value")
    assert first["attribution-graph"]["figure"]["data"] and first["edge-layer"]["data"]["batches"]
    bigger = {
        **values,
        "node-size.value": values["node-size.value"] + 2,
        "figure-signature.data": first["figure-signature"]["data"],
    }
    response = call_callback(client, output, bigger, "node-size.value")
    assert response["attribution-graph"]["figure"].get("__dash_patch_update") == "__dash_patch_update"


def test_r4_cluster_trace_redrawn_only_when_it_changes() -> None:
    app = create_app(EXAMPLE_SETTINGS)
    client = app.server.test_client()
    props = layout_props(client)
    store = app.server.config["attribution_viewer_context"].store
    output = "..attribution-graph.figure@"
    dep = next(d for d in client.get("/_dash-dependencies").json if d["output"].startswith(output))
    members = list(store.keys[:3])
    inactive = {"clusters": [{"id": "c1", "name": "a", "color": "#ff0000", "nodes": members}], "active": []}
    active = {**inactive, "active": ["c1"]}
    values = {
        **browser_controls(props, selected_from="panel-node"),
        "figure-signature.data": "a figure is drawn",
        "drawn-clusters.data": props["drawn-clusters"]["data"],
    }
    nothing = call_callback(
        client, dep["output"], {**values, "cluster-state.data": inactive}, "cluster-state.data"
    )
    assert "attribution-graph" not in nothing  # no active cluster, none drawn: no redraw
    drawn = call_callback(
        client, dep["output"], {**values, "cluster-state.data": active}, "cluster-state.data"
    )
    assert drawn["attribution-graph"]["figure"].get("__dash_patch_update") == "__dash_patch_update"
    key = drawn["drawn-clusters"]["data"]
    again = call_callback(
        client,
        dep["output"],
        {**values, "cluster-state.data": active, "drawn-clusters.data": key},
        "cluster-state.data",
    )
    assert "attribution-graph" not in again  # already drawn
    # A new full figure has no clusters: they are drawn again.
    refigured = call_callback(
        client,
        dep["output"],
        {**values, "cluster-state.data": active, "drawn-clusters.data": key},
        "figure-signature.data",
    )
    assert "attribution-graph" in refigured
