"""The node panel on the bundled example: connection rows carry descriptions, a node the
filters hide says so, a description made for another model says so."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from builders import TINY_EDGES, build_tiny_store, example_context
from conftest import EXAMPLE_SETTINGS
from dash.development.base_component import Component

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.app.node_panel import HIDDEN_TEXT, connection_groups, panel_parts
from attribution_viewer.autointerp import model_mismatch
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import NodeKind
from attribution_viewer.scene import build_scene
from attribution_viewer.settings import Settings
from attribution_viewer.view import ViewState, connections


def walk(node: Any) -> list[Component]:
    if isinstance(node, list | tuple):
        return [c for item in node for c in walk(item)]
    if isinstance(node, Component):
        return [node, *walk(getattr(node, "children", None))]
    return []


def text(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list | tuple):
        return "".join(text(n) for n in node)
    return text(getattr(node, "children", None)) if isinstance(node, Component) else ""


def by_class(node: Any, name: str) -> list[Component]:
    return [c for c in walk(node) if name in (getattr(c, "className", None) or "").split()]


def connection_rows(panel: Any) -> list[list[str]]:
    """The panel's connection rows ([key, text, weight text]) as assets/app.js builds them:
    from the one ``div.conn-groups`` element's ``data-groups`` JSON."""
    (box,) = by_class(panel, "conn-groups")
    return [row for group in json.loads(getattr(box, "data-groups")) for row in group["rows"]]


def test_connection_rows_show_descriptions_before_codes() -> None:
    ctx = example_context()
    store, source = ctx.store, ctx.descriptions
    assert source is not None
    feature = int(store.kind_slices[NodeKind.FEATURE].start)
    panel = panel_parts(ctx, ViewControls(selected=store.keys[feature]))
    rows = {key: row_text for key, row_text, _ in connection_rows(panel)}
    conns = connections(store, feature)
    listed = [
        *conns.inputs_positive,
        *conns.inputs_negative,
        *conns.outputs_positive,
        *conns.outputs_negative,
    ]
    assert set(rows) == {row.key for row in listed}
    described = 0
    for row in listed:
        details = source.get(int(store.nodes.layer[row.node]), int(store.nodes.feature_idx[row.node]))
        if store.kind_of(row.node) is NodeKind.FEATURE and details is not None and details.description:
            assert rows[row.key] == f"{details.description} · {store.display_labels[row.node]}"
            described += 1
        else:
            assert rows[row.key] == store.display_labels[row.node]
    assert described > 0
    # a user's label wins over the description
    first = listed[0].key
    labelled = panel_parts(ctx, ViewControls(selected=store.keys[feature], labels={first: "mine"}))
    assert [row_text for key, row_text, _ in connection_rows(labelled) if key == first] == ["mine"]


def test_a_node_hidden_by_the_filters_says_so() -> None:
    ctx = example_context()
    store = ctx.store
    view = ViewState(prune_threshold=0.3)
    visible = build_scene(store, view, ctx.frequencies.values).visible
    feature = store.kind_slices[NodeKind.FEATURE]
    hidden = int(np.flatnonzero(~visible[feature])[0]) + feature.start
    shown = int(np.flatnonzero(visible[feature])[0]) + feature.start
    for index, expected in ((hidden, [HIDDEN_TEXT]), (shown, [])):
        panel = panel_parts(ctx, ViewControls(prune=0.3, selected=store.keys[index]))
        assert [text(n) for n in by_class(panel, "hidden-note")] == expected
    # pinned, it is on the graph again
    pinned = panel_parts(
        ctx, ViewControls(prune=0.3, selected=store.keys[hidden], pinned=[store.keys[hidden]])
    )
    assert by_class(pinned, "hidden-note") == []


def test_a_description_made_for_another_model_says_so(tmp_path: Path) -> None:
    store = open_graph(EXAMPLE_SETTINGS.graph_path or Path())
    feature = int(store.kind_slices[NodeKind.FEATURE].start)
    layer, idx = int(store.nodes.layer[feature]), int(store.nodes.feature_idx[feature])
    original = EXAMPLE_SETTINGS.graph_path.parent / "autointerp" / "features"  # type: ignore[union-attr]
    folder = tmp_path / "features"
    shutil.copytree(original, folder)
    record_path = folder / f"layer{layer}" / f"feature_{idx}_complete.json"
    record = json.loads(record_path.read_text())
    record["model"] = "gemma-2-2b"
    record_path.write_text(json.dumps(record))
    ctx = AppContext(settings=dataclasses.replace(EXAMPLE_SETTINGS, autointerp_dir=folder), store=store)
    details = ctx.feature_details(feature).details
    assert details is not None and details.model == "gemma-2-2b" and store.metadata.scan == "synthetic"
    panel = panel_parts(ctx, ViewControls(selected=store.keys[feature]))
    (warning,) = by_class(panel, "model-mismatch")
    assert text(warning) == model_mismatch("synthetic", details) != ""
    assert "gemma-2-2b" in text(warning) and "'synthetic'" in text(warning)
    # a record that names no model: nothing to warn about
    other = panel_parts(ctx, ViewControls(selected=store.keys[feature + 1]))
    assert by_class(other, "model-mismatch") == []


def test_connection_groups_are_the_rows_app_js_builds() -> None:
    """``connection_groups`` on the tiny graph, exact: titles with counts, rows strongest
    first with the user's label, weights as shown; a mask-only graph has no weights."""
    store = build_tiny_store()
    ctx = AppContext(settings=Settings(autointerp_dir=None), store=store)
    second = store.index_of["F:1:1:9"]
    labels = {"E:1": "mine"}
    assert connection_groups(ctx, second, labels) == [
        {
            "title": "Inputs + (2)",
            "sign": "pos",
            "rows": [
                ["F:0:0:7", store.display_labels[0], "+1"],
                ["X:0:1", store.display_labels[3], "+0.25"],
            ],
        },
        {"title": "Inputs − (1)", "sign": "neg", "rows": [["E:1", "mine", "-0.5"]]},
        {"title": "Outputs + (1)", "sign": "pos", "rows": [["L:0", store.display_labels[8], "+3"]]},
    ]
    mask = build_tiny_store(weighted=False, edges=[(s, t, 1.0) for s, t, _ in TINY_EDGES])
    mask_ctx = AppContext(settings=Settings(autointerp_dir=None), store=mask)
    groups = connection_groups(mask_ctx, second, {})
    assert [(g["title"], g["sign"]) for g in groups] == [("Inputs (3)", "mask"), ("Outputs (1)", "mask")]
    assert {row[2] for g in groups for row in g["rows"]} == {""}
    # the panel carries them as one JSON attribute, nothing else
    panel = panel_parts(ctx, ViewControls(selected="F:1:1:9", labels=labels))
    expected = [row for group in connection_groups(ctx, second, labels) for row in group["rows"]]
    assert connection_rows(panel) == expected
    assert by_class(panel, "conn-row") == []
