"""Graph JSON (Neuronpedia / circuit-tracer ``create_graph_files``): small hand-made documents."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import detect_format, open_graph
from attribution_viewer.loaders.graph_json_schema import cantor_unpair
from attribution_viewer.model import NodeKind


def cantor(x: int, y: int) -> int:
    return (x + y) * (x + y + 1) // 2 + y


def node(
    node_id: str, feature_type: str, layer: str, pos: int, feature: int = -1, **extra: Any
) -> dict[str, Any]:
    base = {
        "node_id": node_id,
        "feature": feature,
        "layer": layer,
        "ctx_idx": pos,
        "feature_type": feature_type,
        "token_prob": 0.0,
        "is_target_logit": False,
        "clerp": "",
        "influence": None,
        "activation": None,
    }
    return {**base, **extra}


def build_doc(schema: int | None = 1, **overrides: Any) -> dict[str, Any]:
    """3 tokens, 4 layers; features (1, 0, 7) and (2, 2, 123456); one error; 3 embeddings; 2 logits."""
    f1 = cantor(1, 7) if schema == 1 else 1 * 10**6 + 7
    f2 = cantor(2, 123456) if schema == 1 else 2 * 10**6 + 123456
    nodes = [
        node("1_7_0", "cross layer transcoder", "1", 0, f1, clerp="dogs", influence=0.25, activation=3.0),
        node("2_123456_2", "cross layer transcoder", "2", 2, f2, influence=0.5, activation=1.0),
        node("0_1_2", "mlp reconstruction error", "1", 2, clerp='Err: mlp " c"', influence=0.75),
        node("E_9_0", "embedding", "E", 0, 0, clerp='Emb: " a"'),
        node("E_8_1", "embedding", "E", 1, 0),
        node("E_7_2", "embedding", "E", 2, 0),
        node("5_50_2", "logit", "5", 2, 50, token_prob=0.125, clerp='Output " low" (p=0.125)'),
        node(
            "5_60_2",
            "logit",
            "5",
            2,
            60,
            token_prob=0.5,
            is_target_logit=True,
            clerp='Output " "hi"" (p=0.500)',
        ),
    ]
    links = [
        {"source": "E_9_0", "target": "1_7_0", "weight": 1.5},
        {"source": "1_7_0", "target": "2_123456_2", "weight": -0.25},
        {"source": "1_7_0", "target": "2_123456_2", "weight": 0.125},  # duplicate: summed
        {"source": "0_1_2", "target": "5_60_2", "weight": 0.0},  # zero: no edge
        {"source": "2_123456_2", "target": "5_60_2", "weight": 2.0},
        {"source": "2_123456_2", "target": "5_50_2", "weight": 0.1},
    ]
    metadata: dict[str, Any] = {
        "slug": "tiny",
        "scan": "model-x",
        "prompt_tokens": ["a", " b", " c"],
        "prompt": "a b c",
        "pruning_settings": {"node_threshold": 0.6, "edge_threshold": 0.9},
    }
    if schema is not None:
        metadata["schema_version"] = schema
    doc = {
        "metadata": metadata,
        "qParams": {
            "pinnedIds": ["2_123456_2", "E_9_0"],
            "supernodes": [["group", "1_7_0", "0_1_2", "missing"]],
        },
        "nodes": nodes,
        "links": links,
    }
    return {**doc, **overrides}


def write(tmp_path: Path, doc: Any, name: str = "g.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("schema", [1, None])
def test_small_graph_fields(tmp_path: Path, schema: int | None) -> None:
    path = write(tmp_path, build_doc(schema))
    assert detect_format(path) == "graph-json"
    g = open_graph(path)
    assert g.keys == ("F:1:0:7", "F:2:2:123456", "X:1:2", "E:0", "E:1", "E:2", "L:0", "L:1")
    assert g.n_layers == 4
    assert g.metadata.extra["schema_version"] == (1 if schema == 1 else 0)
    assert g.metadata.extra.get("feature_digits") == (None if schema == 1 else 6)
    assert (g.metadata.slug, g.metadata.scan) == ("tiny", "model-x")
    assert (g.metadata.node_threshold, g.metadata.edge_threshold) == (0.6, 0.9)
    # logits by descending probability; token text from the clerp
    assert [(lg.token, lg.token_id, lg.probability, lg.is_target) for lg in g.logits] == [
        (' "hi"', 60, 0.5, True),
        (" low", 50, 0.125, False),
    ]
    # feature clerps kept, generated Err/Emb/Output clerps dropped
    assert g.nodes.label == ("dogs", "", "", "", "", "", "", "")
    assert g.nodes.source_id[:3] == ("1_7_0", "2_123456_2", "0_1_2")
    assert g.nodes.token_id.tolist() == [-1, -1, -1, 9, 8, 7, 60, 50]
    assert g.nodes.layer.tolist() == [1, 2, 1, -1, -1, -1, 4, 4]
    assert np.array_equal(g.nodes.activation[:3], [3.0, 1.0, np.nan], equal_nan=True)
    assert np.array_equal(g.nodes.influence[:4], [0.25, 0.5, 0.75, np.nan], equal_nan=True)
    coo = g.adjacency.tocoo()
    edges = {(g.keys[s], g.keys[t]): w for s, t, w in zip(coo.row, coo.col, coo.data, strict=True)}
    assert edges == {
        ("E:0", "F:1:0:7"): 1.5,
        ("F:1:0:7", "F:2:2:123456"): -0.125,
        ("F:2:2:123456", "L:0"): 2.0,
        ("F:2:2:123456", "L:1"): 0.1,
    }
    assert g.adjacency.dtype == np.float64
    assert g.metadata.extra["duplicate_links"] == 1
    assert g.pinned == ("F:2:2:123456", "E:0")
    assert g.supernodes == (("group", ("F:1:0:7", "X:1:2")),)


@pytest.mark.parametrize(
    ("z", "pair"),
    [(0, (0, 0)), (1, (1, 0)), (2, (0, 1)), (13, (1, 3)), (12, (2, 2)), (1228171140, (0, 49560))],
)
def test_cantor_unpair(z: int, pair: tuple[int, int]) -> None:
    assert cantor_unpair(z) == pair


def test_cantor_unpair_large_values_are_exact() -> None:
    x, y = 25, 2**40 + 12345
    assert cantor_unpair(cantor(x, y)) == (x, y)


def test_without_logits_layers_come_from_features(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"] = [n for n in doc["nodes"] if n["feature_type"] != "logit"]
    doc["links"] = [lk for lk in doc["links"] if not lk["target"].startswith("5_")]
    g = open_graph(write(tmp_path, doc))
    assert g.n_layers == 3 and g.count(NodeKind.LOGIT) == 0


def test_graph_without_error_nodes(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"] = [n for n in doc["nodes"] if n["feature_type"] != "mlp reconstruction error"]
    doc["links"] = [lk for lk in doc["links"] if lk["source"] != "0_1_2"]
    g = open_graph(write(tmp_path, doc))
    assert g.count(NodeKind.ERROR) == 0
    assert g.supernodes == (("group", ("F:1:0:7",)),)


def test_other_transcoder_types_are_features(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"][0]["feature_type"] = "per layer transcoder"
    assert open_graph(write(tmp_path, doc)).keys[0] == "F:1:0:7"


def _bad(tmp_path: Path, doc: Any, key: str) -> None:
    path = write(tmp_path, doc, "bad.json")
    with pytest.raises(GraphFormatError) as info:
        open_graph(path)
    assert info.value.path == str(path) and info.value.key == key
    prefix = f"{path}: {key}: " if key else f"{path}: "
    assert str(info.value).startswith(prefix + "expected ")


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(build_doc())[:300])
    with pytest.raises(GraphFormatError, match=r"cut\.json: expected a complete JSON document"):
        open_graph(path)


def test_nan_link_weight(tmp_path: Path) -> None:
    doc = build_doc()
    doc["links"][1]["weight"] = math.nan
    _bad(tmp_path, doc, "links[1].weight")


def test_link_to_unknown_node(tmp_path: Path) -> None:
    doc = build_doc()
    doc["links"][0]["target"] = "nope"
    _bad(tmp_path, doc, "links[0].target")


def test_missing_prompt_tokens(tmp_path: Path) -> None:
    doc = build_doc()
    del doc["metadata"]["prompt_tokens"]
    _bad(tmp_path, doc, "metadata.prompt_tokens")


def test_missing_node_field(tmp_path: Path) -> None:
    doc = build_doc()
    del doc["nodes"][2]["ctx_idx"]
    _bad(tmp_path, doc, "nodes[2].ctx_idx")


def test_unknown_feature_type(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"][1]["feature_type"] = "attention head"
    _bad(tmp_path, doc, "nodes[1].feature_type")


def test_position_outside_prompt(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"][0]["ctx_idx"] = 3
    _bad(tmp_path, doc, "nodes[0].ctx_idx")


def test_unknown_schema_version(tmp_path: Path) -> None:
    doc = build_doc()
    doc["metadata"]["schema_version"] = 2
    _bad(tmp_path, doc, "metadata.schema_version")


def test_cantor_layer_mismatch(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"][0]["feature"] = cantor(3, 7)
    _bad(tmp_path, doc, "nodes[0].feature")


def test_feature_disagreeing_with_node_id(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"][0]["node_id"] = "1_8_0"
    doc["links"][0]["target"] = doc["links"][1]["source"] = doc["links"][2]["source"] = "1_8_0"
    _bad(tmp_path, doc, "nodes[0].feature")


def test_schema0_without_consistent_digits(tmp_path: Path) -> None:
    doc = build_doc(None)
    doc["nodes"][1]["feature"] = 2 * 10**4 + 5  # layer 2 with k = 4, layer 1 with k = 6
    _bad(tmp_path, doc, "nodes[].feature")


def test_logit_layer_below_features(tmp_path: Path) -> None:
    doc = build_doc()
    for n in doc["nodes"]:
        if n["feature_type"] == "logit":
            n["layer"] = "2"
    _bad(tmp_path, doc, "nodes[].layer")


def test_colliding_node_ids_keep_both_nodes_and_drop_the_ambiguous_links(tmp_path: Path) -> None:
    doc = build_doc()
    doc["nodes"][2]["node_id"] = "1_7_0"  # the error node takes the feature's id (old id scheme)
    doc["links"] = [link for link in doc["links"] if link["source"] != "0_1_2"]
    g = open_graph(write(tmp_path, doc))
    assert (g.count(NodeKind.FEATURE), g.count(NodeKind.ERROR)) == (2, 1)
    assert g.nodes.source_id.count("1_7_0") == 2
    a = g.adjacency.tocoo()
    assert sorted((g.keys[s], g.keys[t]) for s, t in zip(a.row, a.col, strict=True)) == [
        ("F:2:2:123456", "L:0"),
        ("F:2:2:123456", "L:1"),
    ]
    assert g.warnings == (
        "2 nodes share 1 node id(s) ('1_7_0'): all kept, 3 of 5 links naming them dropped (ambiguous)",
    )
    assert g.supernodes == (("group", ()),)  # "1_7_0" is ambiguous, "0_1_2" gone, "missing" unknown


def test_json_without_nodes_is_unknown(tmp_path: Path) -> None:
    _bad(tmp_path, {"version": "2.0", "clusters": {}}, "")


def test_non_object_json(tmp_path: Path) -> None:
    _bad(tmp_path, [1, 2, 3], "")
