"""Neuronpedia graph JSON export: exact ids, schema validation, and exact round trips
through our own loader (EN-*)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SCHEMAS_DIR
from test_layout import TINY_FEAT, tiny_nodes, tiny_store

from attribution_viewer.export.neuronpedia import cantor_pair, node_ids, to_neuronpedia_json
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore
from attribution_viewer.testing.synthetic import make_synthetic_graph

SCHEMA_PATH = SCHEMAS_DIR / "neuronpedia-graph-schema.json"


def validate(doc: dict[str, Any]) -> None:
    """Validate against Neuronpedia's schema (read from ../shared; skipped when absent)."""
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA_PATH.exists():
        pytest.skip(f"schema {SCHEMA_PATH} not available")
    jsonschema.validate(doc, json.loads(SCHEMA_PATH.read_text()))


def round_trip(doc: dict[str, Any], tmp_path: Path) -> GraphStore:
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(doc, allow_nan=False))
    return open_graph(path)


def assert_same_graph(original: GraphStore, back: GraphStore, labels: dict[str, str]) -> None:
    assert back.keys == original.keys
    for column in ("kind", "layer", "pos", "feature_idx", "token_id"):
        np.testing.assert_array_equal(
            getattr(back.nodes, column), getattr(original.nodes, column), err_msg=column
        )
    for column in ("activation", "influence"):
        np.testing.assert_array_equal(
            getattr(back.nodes, column), getattr(original.nodes, column), err_msg=column
        )
    expected_labels = tuple(
        labels.get(k) or lab for k, lab in zip(original.keys, original.nodes.label, strict=True)
    )
    assert back.nodes.label == expected_labels
    assert back.n_edges == original.n_edges
    np.testing.assert_array_equal(back.adjacency.toarray(), original.adjacency.toarray())
    assert back.logits == original.logits
    assert back.prompt_tokens == original.prompt_tokens
    assert back.n_layers == original.n_layers


def test_en1_cantor_and_ids() -> None:
    assert [cantor_pair(0, 5), cantor_pair(0, 49560), cantor_pair(1, 3)] == [20, 1228171140, 13]
    assert node_ids(tiny_store()) == [
        "0_5_0", "0_7_0", "1_3_2", "0_1_0", "0_0_0", "0_1_2",
        "E_-1_0", "E_-1_1", "E_-1_2", "3_10_2", "3_11_2",
    ]  # fmt: skip


def test_en2_colliding_ids_get_a_suffix() -> None:
    store = tiny_store()
    feat = list(TINY_FEAT)
    feat[3] = 0  # F:0:0:0 -> "0_0_0", the id of error X:0:0
    nodes = tiny_nodes(feat)
    ids = node_ids(dataclasses.replace(store, nodes=nodes))
    assert ids[3] == "0_0_0" and ids[4] == "0_0_0~1"


def test_en3_tiny_exact_document_and_round_trip(tmp_path: Path) -> None:
    store = tiny_store()
    labels = {"F:0:0:5": "cat feature", "E:1": "first b"}
    doc = to_neuronpedia_json(
        store,
        labels=labels,
        pinned=["F:1:2:3", "L:0", "nope"],
        supernodes=[("group", ["F:0:0:5", "F:0:0:7"])],
    )
    validate(doc)
    assert doc["qParams"]["pinnedIds"] == ["1_3_2", "3_10_2"]  # unknown key left out
    assert doc["qParams"]["supernodes"] == [["group", "0_5_0", "0_7_0"]]
    assert doc["nodes"][0] == {
        "node_id": "0_5_0", "feature": 20, "layer": "0", "ctx_idx": 0,
        "feature_type": "cross layer transcoder", "token_prob": 0.0, "is_target_logit": False,
        "run_idx": 0, "reverse_ctx_idx": 0, "jsNodeId": "0_5-0",
        "clerp": "cat feature", "influence": 0.5, "activation": None,
    }  # fmt: skip
    logit = doc["nodes"][9]
    fields = ("layer", "feature", "jsNodeId", "clerp", "is_target_logit")
    assert [logit[f] for f in fields] == ["3", 10, "L_10-2", 'Output " d" (p=0.600)', True]
    assert doc["links"][0] == {"source": "0_7_0", "target": "1_3_2", "weight": -1.0}
    assert doc["metadata"]["prompt"] == "a b c" and doc["metadata"]["schema_version"] == 1

    back = round_trip(doc, tmp_path)
    assert_same_graph(store, back, labels)
    assert back.pinned == ("F:1:2:3", "L:0")
    assert back.supernodes == (("group", ("F:0:0:5", "F:0:0:7")),)


def test_en4_defaults_keep_the_graphs_own_groups(tmp_path: Path) -> None:
    store = dataclasses.replace(tiny_store(), pinned=("E:0",), supernodes=(("s", ("F:1:2:3",)),))
    back = round_trip(to_neuronpedia_json(store), tmp_path)
    assert back.pinned == ("E:0",) and back.supernodes == (("s", ("F:1:2:3",)),)


def test_en5_mask_graph_exports_unit_weights(tmp_path: Path) -> None:
    store = tiny_store(weighted=False)
    doc = to_neuronpedia_json(store)
    validate(doc)
    assert {link["weight"] for link in doc["links"]} == {1.0}
    back = round_trip(doc, tmp_path)
    assert_same_graph(store, back, {})


@pytest.mark.parametrize("weighted", [True, False])
def test_en6_synthetic_round_trip(tmp_path: Path, weighted: bool) -> None:
    store = make_synthetic_graph(n_features=300, n_edges=3000, weighted=weighted)
    keys = store.keys
    labels = {keys[0]: "first", keys[5]: "sixth"}
    doc = to_neuronpedia_json(store, labels=labels, pinned=[keys[1]], supernodes=[("g", [keys[2], keys[3]])])
    validate(doc)
    back = round_trip(doc, tmp_path)
    assert_same_graph(store, back, labels)
    assert back.pinned == (keys[1],) and back.supernodes == (("g", (keys[2], keys[3])),)


@pytest.mark.real
def test_en7_real_graphs_validate_and_round_trip(real_graph_path: Path, tmp_path: Path) -> None:
    store = open_graph(real_graph_path)
    keys = store.keys
    labels = {keys[0]: "renamed"}
    doc = to_neuronpedia_json(
        store, labels=labels, pinned=list(keys[:2]), supernodes=[("grp", list(keys[2:5]))]
    )
    validate(doc)
    back = round_trip(doc, tmp_path)
    assert_same_graph(store, back, labels)
    assert back.pinned == keys[:2]
    assert back.supernodes == (("grp", keys[2:5]),)
