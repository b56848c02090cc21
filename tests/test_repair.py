"""The forward-pass rule: impossible edges dropped at load time, counted, reported.

Acceptance (issue 15): a dense all-ones mask and a cyclic graph open, render, export and
report the dropped edges; on every real graph the rule drops nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from builders import graph_json_node

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.app.drawing import full_figure
from attribution_viewer.canvas import base_edge_layer
from attribution_viewer.cli import main
from attribution_viewer.export.exporter import DEFAULT_LIMITS, export_bytes
from attribution_viewer.export.image import find_chromium
from attribution_viewer.export.print_figure import PrintOptions, PrintView
from attribution_viewer.influence import influence
from attribution_viewer.loaders import open_graph, save_native
from attribution_viewer.loaders.repair import drop_impossible_edges, impossible_edges
from attribution_viewer.scene import build_scene
from attribution_viewer.settings import Settings
from attribution_viewer.view import ViewState, default_prune_threshold
from tests.builders import TINY_EDGES, build_tiny_store


def test_rp1_exact_counts_on_a_tiny_graph() -> None:
    backward = [
        ("F:1:1:9", "F:0:0:7", 1.0),  # earlier layer and earlier position
        ("F:0:0:7", "X:0:1", 1.0),  # same layer
        ("X:0:1", "X:1:0", 1.0),  # later layer, earlier position
        ("L:0", "L:1", 1.0),  # logit -> logit (same layer)
    ]
    store = build_tiny_store(edges=TINY_EDGES + backward)
    found = impossible_edges(store)
    assert (int(found.mask.sum()), found.not_later_layer, found.earlier_position) == (4, 3, 2)
    repaired = drop_impossible_edges(store)
    assert repaired.n_edges == len(TINY_EDGES)
    assert abs(repaired.adjacency - build_tiny_store().adjacency).sum() == 0
    assert repaired.warnings == (
        "4 of 10 edges cannot occur in a forward pass and were dropped "
        "(3 into the same or an earlier layer, 2 from a later position to an earlier one)",
    )
    assert drop_impossible_edges(build_tiny_store()) is not None
    assert drop_impossible_edges(repaired) is repaired  # nothing left to drop: unchanged


@pytest.mark.real
def test_rp2_no_real_graph_loses_an_edge(real_graph_path: Path) -> None:
    store = open_graph(real_graph_path)
    assert int(impossible_edges(store).mask.sum()) == 0
    assert store.warnings == ()


def _expected_impossible(store_nodes_layer: np.ndarray, store_nodes_pos: np.ndarray) -> tuple[int, int, int]:
    """(impossible, not-later-layer, earlier-position) among ALL ordered pairs (i, j), i != j or not."""
    layer_s, layer_t = np.meshgrid(store_nodes_layer, store_nodes_layer, indexing="ij")
    pos_s, pos_t = np.meshgrid(store_nodes_pos, store_nodes_pos, indexing="ij")
    not_later, earlier = layer_t <= layer_s, pos_t < pos_s
    return int((not_later | earlier).sum()), int(not_later.sum()), int(earlier.sum())


@pytest.mark.real
def test_rp3_dense_mask_opens_renders_exports_and_reports(dense_mask: Path, tmp_path: Path) -> None:
    store = open_graph(dense_mask)
    n = store.n_nodes
    dropped, not_later, earlier = _expected_impossible(store.nodes.layer, store.nodes.pos)
    assert store.n_edges == n * n - dropped
    assert store.warnings == (
        f"{dropped:,} of {n * n:,} edges cannot occur in a forward pass and were dropped "
        f"({not_later:,} into the same or an earlier layer, "
        f"{earlier:,} from a later position to an earlier one)",
    )
    assert np.isfinite(influence(store)).all() and influence(store).max() > 0  # converges now
    # The app's figure of the default view: nodes drawn, edges on the canvas layer.
    ctx = AppContext(settings=Settings(), store=store)
    figure, scene = full_figure(ctx, ViewControls(toggles=[], pinned=[], labels={}), [], None, None)
    assert int(scene.visible.sum()) > 10 and len(figure.to_plotly_json()["data"]) > 0
    assert int(scene.drawn.sum()) > 0
    assert base_edge_layer(store, scene.layout, scene.drawn, scene.strong) is not None
    # The app's path: converted in a child process, the warning survives the native copy.
    via_child = open_graph(dense_mask, torch_in_subprocess=True)
    assert via_child.warnings == store.warnings and via_child.n_edges == store.n_edges
    native = save_native(store, tmp_path / "dense.npz")
    assert open_graph(native).warnings == store.warnings
    # inspect reports it; export writes a graph JSON that reopens with the same edges.
    assert main(["inspect", str(native), "--json"]) == 0
    out = tmp_path / "dense.json"
    assert main(["export", str(native), "--out", str(out)]) == 0
    assert open_graph(out).n_edges == store.n_edges


@pytest.mark.real
@pytest.mark.skipif(find_chromium() is None, reason="no Chromium for kaleido")
def test_rp4_dense_mask_pdf(dense_mask: Path) -> None:
    store = open_graph(dense_mask)
    scene = build_scene(store, ViewState(prune_threshold=default_prune_threshold(store)), None)
    pdf = export_bytes(
        store,
        scene.layout,
        PrintView(visible=scene.visible),
        PrintOptions.two_column(),
        "pdf",
        limits=DEFAULT_LIMITS,
    )
    assert pdf.startswith(b"%PDF-")


def test_rp5_cyclic_graph_json_opens_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A feature cycle (A -> B -> A in one layer) and a backward link: both dropped, influence converges."""

    node = graph_json_node
    doc = {
        "metadata": {"prompt_tokens": ["a", "b"], "schema_version": 1},
        "nodes": [
            node("0_1_0", "cross layer transcoder", "0", 0, 1),  # Cantor(0, 1) = 2, fixed below
            node("0_2_0", "cross layer transcoder", "0", 0, 2),
            node("1_3_1", "cross layer transcoder", "1", 1, 3),
            node("E_5_0", "embedding", "E", 0),
            node("E_6_1", "embedding", "E", 1),
            node("3_7_1", "logit", "3", 1, 7, token_prob=0.9, is_target_logit=True),
        ],
        "links": [
            {"source": "E_5_0", "target": "0_1_0", "weight": 1.0},
            {"source": "0_1_0", "target": "0_2_0", "weight": 1.0},  # cycle, same layer
            {"source": "0_2_0", "target": "0_1_0", "weight": 1.0},  # cycle, same layer
            {"source": "0_2_0", "target": "1_3_1", "weight": 2.0},
            {"source": "1_3_1", "target": "0_1_0", "weight": 0.5},  # backward in layer and position
            {"source": "1_3_1", "target": "3_7_1", "weight": 3.0},
            {"source": "E_6_1", "target": "3_7_1", "weight": 1.0},
        ],
    }
    for n in doc["nodes"]:
        if n["feature_type"] == "cross layer transcoder":
            layer, idx = int(n["layer"]), int(n["node_id"].split("_")[1])
            n["feature"] = (layer + idx) * (layer + idx + 1) // 2 + idx
    path = tmp_path / "cyclic.json"
    path.write_text(json.dumps(doc))
    store = open_graph(path)
    assert store.n_edges == 4
    assert store.warnings == (
        "3 of 7 edges cannot occur in a forward pass and were dropped "
        "(3 into the same or an earlier layer, 1 from a later position to an earlier one)",
    )
    assert np.isfinite(influence(store)).all()
    assert main(["inspect", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["warnings"] == list(store.warnings) and record["n_edges"] == 4
    assert main(["export", str(path), "--out", str(tmp_path / "out.json")]) == 0
    assert os.path.getsize(tmp_path / "out.json") > 0
