"""Legacy CLT dicts (B-mask, B-full, A-sparse) built by hand, and malformed ``.pt`` files."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.loaders import detect_format, open_graph

torch = pytest.importorskip("torch")

# 2 tokens, 2 layers, 3 features, 2 logits: N = 3 + 2 * 2 + 2 + 2 = 11
# store / circuit-tracer order: F0 F1 F2 | X:0:0 X:0:1 X:1:0 X:1:1 | E:0 E:1 | L:0 L:1
FEATURE_INDICES = [[0, 0, 5], [1, 0, 6], [1, 1, 7]]  # (pos, layer, idx)
KEYS = ["F:0:0:5", "F:0:1:6", "F:1:1:7", "X:0:0", "X:0:1", "X:1:0", "X:1:1", "E:0", "E:1", "L:0", "L:1"]
N = len(KEYS)
# (source, target) -> weight; the mask holds these plus one masked edge of weight 0
EDGES = {(7, 0): 0.5, (0, 2): -1.25, (4, 2): 0.75, (2, 9): 3.0, (8, 10): 0.0625}
MASKED_ZERO_WEIGHT = (1, 2)
UNMASKED_WEIGHT = (0, 1)


def _intervention(baseline: Any) -> list[dict[str, Any]]:
    clamp = {
        "intervention_value": -5.0,
        "tokens": [" x", " y"],
        "probabilities": [0.5, 0.25],
        "baseline_token": baseline,
        "baseline_prob_original": 0.75,
        "baseline_prob_after_intervention": 0.5,
        "baseline_prob_change": -0.25,
    }
    return [{"feature_info": {"layer": 1, "position": 1, "feature_idx": 7}, "interventions": [clamp]}]


def b_payload(full: bool = False, **overrides: Any) -> dict[str, Any]:
    mask = torch.zeros(N, N)
    for s, t in [*EDGES, MASKED_ZERO_WEIGHT]:
        mask[t, s] = 1.0
    d: dict[str, Any] = {
        "sparse_pruned_adj": mask,
        "edge_mask": mask.bool(),
        "feature_indices": torch.tensor(FEATURE_INDICES),
        "feature_mask": torch.tensor([True] * 5 + [False] + [True] * 5),
        "input_string": "a b",
        "input_tokens": torch.tensor([101, 102]),
        "token_string": ["a", " b"],
        "logit_tokens": torch.tensor([40, 41]),
        "logit_probabilities": torch.tensor([0.75, 0.125]),
        "logit_token_strings": [" x", " y"],
        "intervention_top_tokens": _intervention(torch.tensor(41)),
    }
    if full:
        weights = torch.zeros(N, N)
        for (s, t), w in EDGES.items():
            weights[t, s] = w
        weights[UNMASKED_WEIGHT[1], UNMASKED_WEIGHT[0]] = 9.0  # weight without mask: no edge
        d.update(
            adjacency_matrix=weights,
            full_adjacency_matrix=weights.clone(),
            active_features=torch.tensor([[layer, pos, idx] for pos, layer, idx in FEATURE_INDICES]),
            selected_features=torch.tensor([0, 1, 2]),
            activation_values=torch.tensor([1.0, 2.0, 4.0]),
        )
    return {**d, **overrides}


def a_payload(**overrides: Any) -> dict[str, Any]:
    """A-sparse over [tokens, errors, features] (+ logit column), same graph minus logit 1."""
    to_file = {7: 0, 8: 1, 3: 2, 4: 3, 5: 4, 6: 5, 0: 6, 1: 7, 2: 8, 9: 9}  # store index -> file index
    rows, cols, vals = [], [], []
    for (s, t), w in EDGES.items():
        if t == 10:
            continue
        rows.append(to_file[s])
        cols.append(to_file[t])
        vals.append(w)
    adj = torch.sparse_coo_tensor(torch.tensor([rows, cols]), torch.tensor(vals), (9, 10))
    d: dict[str, Any] = {
        "sparse_pruned_adj": adj,
        "adjacency_sparse": adj,
        "feature_indices": torch.tensor(FEATURE_INDICES),
        "feature_mask": torch.tensor([True, False] + [True] * 7),
        "token_string": ["a", " b"],
        "input_tokens": torch.tensor([101, 102]),
        "input_string": "a b",
        "top_logit_idx": torch.tensor(40),
        "top_logit_prob": torch.tensor(0.75),
        "top_logit_token": " x",
        "top5_logit_indices": torch.tensor([40, 41]),
        "top5_logit_tokens": [" x", " y"],
        "intervention_top_tokens": _intervention(" y"),
    }
    return {**d, **overrides}


def save(tmp_path: Path, payload: Any, name: str = "g.pt") -> Path:
    path = tmp_path / name
    torch.save(payload, path)
    return path


def edges_of(g: Any) -> dict[tuple[str, str], float]:
    coo = g.adjacency.tocoo()
    return {(g.keys[s], g.keys[t]): float(w) for s, t, w in zip(coo.row, coo.col, coo.data, strict=True)}


def test_b_mask(tmp_path: Path) -> None:
    path = save(tmp_path, b_payload())
    assert detect_format(path) == "clt-b-mask"
    g = open_graph(path)
    assert g.keys == tuple(KEYS)
    assert g.n_layers == 2 and not g.weighted
    expected = {(KEYS[s], KEYS[t]): 1.0 for s, t in [*EDGES, MASKED_ZERO_WEIGHT]}
    assert edges_of(g) == expected
    assert g.node_mask is not None and g.node_mask.tolist() == [True] * 5 + [False] + [True] * 5
    assert [(lg.token, lg.token_id, lg.probability, lg.is_target) for lg in g.logits] == [
        (" x", 40, 0.75, True),
        (" y", 41, 0.125, False),
    ]
    assert g.nodes.token_id[7:].tolist() == [101, 102, 40, 41]
    assert g.prompt_tokens == ("a", " b")
    (iv,) = g.interventions
    assert iv.key == "F:1:1:7"
    (clamp,) = iv.clamps
    assert clamp.baseline_token == " y"  # tensor id 41 mapped through logit_tokens
    assert (clamp.value, clamp.tokens, clamp.probabilities) == (-5.0, (" x", " y"), (0.5, 0.25))
    assert (clamp.baseline_prob_original, clamp.baseline_prob_after, clamp.baseline_prob_change) == (
        0.75,
        0.5,
        -0.25,
    )
    assert g.metadata.source_format == "clt-b-mask" and g.metadata.source_path == str(path)


def test_b_full_edges_are_mask_and_weight(tmp_path: Path) -> None:
    path = save(tmp_path, b_payload(full=True))
    assert detect_format(path) == "clt-b-full"
    g = open_graph(path)
    assert g.weighted
    # masked edge with weight 0 and weighted entry without mask are both absent
    assert edges_of(g) == {(KEYS[s], KEYS[t]): w for (s, t), w in EDGES.items()}
    assert g.nodes.activation[:3].tolist() == [1.0, 2.0, 4.0]
    assert np.isnan(g.nodes.activation[3:]).all()


def test_a_sparse_reordered_into_store_order(tmp_path: Path) -> None:
    path = save(tmp_path, a_payload())
    assert detect_format(path) == "clt-a-sparse"
    g = open_graph(path)
    assert g.keys == tuple(KEYS[:10])
    assert g.weighted and g.n_layers == 2
    assert edges_of(g) == {(KEYS[s], KEYS[t]): w for (s, t), w in EDGES.items() if t != 10}
    assert [(lg.token, lg.token_id, lg.probability) for lg in g.logits] == [(" x", 40, 0.75)]
    # file mask [E:0, E:1, X..., F...] -> store order; logit kept
    assert g.node_mask is not None
    assert g.node_mask.tolist() == [True, True, True, True, True, True, True, True, False, True]
    assert g.interventions[0].clamps[0].baseline_token == " y"


@pytest.mark.parametrize(
    ("highlight", "expected"),
    [([1], [1]), ([[1, 1, 7], [0, 0, 5], [9, 9, 9]], [0, 2]), ("junk", None)],
)
def test_feature_list_intersection(tmp_path: Path, highlight: Any, expected: list[int] | None) -> None:
    g = open_graph(save(tmp_path, b_payload(feature_list_intersection=highlight)))
    if expected is None:
        assert g.highlighted is None
    else:
        assert g.highlighted is not None and np.flatnonzero(g.highlighted).tolist() == expected


# -- malformed input ------------------------------------------------------------------


def _bad(path: Path, key: str, match: str = "") -> None:
    with pytest.raises(GraphFormatError) as info:
        open_graph(path)
    assert info.value.path == str(path)
    assert info.value.key == key
    prefix = f"{path}: {key}: " if key else f"{path}: "
    assert str(info.value).startswith(prefix + "expected ")
    assert match in str(info.value)


@pytest.mark.parametrize("builder", [b_payload, a_payload])
def test_truncated_pt(tmp_path: Path, builder: Any) -> None:
    path = save(tmp_path, builder())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _bad(path, "")


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (b_payload(feature_indices=None), "feature_indices"),
        (b_payload(token_string=None), "token_string"),
        (a_payload(top_logit_prob=None), "top_logit_prob"),
        (b_payload(full=True, selected_features=None, activation_values=torch.ones(5)), "activation_values"),
    ],
    ids=["b-feature_indices", "b-token_string", "a-top_logit_prob", "b-full-activations"],
)
def test_missing_or_wrong_keys(tmp_path: Path, payload: dict[str, Any], key: str) -> None:
    payload = {k: v for k, v in payload.items() if v is not None}
    _bad(save(tmp_path, payload), key)


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (b_payload(sparse_pruned_adj=torch.zeros(N, N - 1)), "sparse_pruned_adj"),
        (b_payload(feature_indices=torch.zeros(3, 2, dtype=torch.long)), "feature_indices"),
        (b_payload(feature_mask=torch.ones(N - 1, dtype=torch.bool)), "feature_mask"),
        (b_payload(full=True, adjacency_matrix=torch.zeros(N, N + 1)), "adjacency_matrix"),
        (
            a_payload(sparse_pruned_adj=torch.sparse_coo_tensor(torch.zeros(2, 0), torch.zeros(0), (9, 9))),
            "sparse_pruned_adj",
        ),
    ],
    ids=["b-mask-not-square", "feature-indices-cols", "feature-mask-len", "b-full-weights", "a-sparse-shape"],
)
def test_wrong_shapes(tmp_path: Path, payload: dict[str, Any], key: str) -> None:
    _bad(save(tmp_path, payload), key)


def test_feature_list_and_adjacency_size_mismatch(tmp_path: Path) -> None:
    four = torch.tensor([*FEATURE_INDICES, [0, 1, 8]])
    _bad(save(tmp_path, b_payload(feature_indices=four)), "sparse_pruned_adj", "n_features (4)")


def test_layer_beyond_inferred_layers(tmp_path: Path) -> None:
    deep = torch.tensor([[0, 0, 5], [1, 0, 6], [1, 5, 7]])  # layer 5 but only 2 layers of errors
    _bad(save(tmp_path, b_payload(feature_indices=deep)), "sparse_pruned_adj", "room for 6 layers")


def test_nan_weights(tmp_path: Path) -> None:
    payload = b_payload(full=True)
    payload["adjacency_matrix"][2, 0] = math.nan
    _bad(save(tmp_path, payload), "adjacency_matrix", "NaN")


def test_nan_weights_a_sparse(tmp_path: Path) -> None:
    adj = torch.sparse_coo_tensor(torch.tensor([[0], [6]]), torch.tensor([math.nan]), (9, 10))
    _bad(save(tmp_path, a_payload(sparse_pruned_adj=adj)), "sparse_pruned_adj", "NaN")


def test_bad_intervention_entry(tmp_path: Path) -> None:
    _bad(
        save(tmp_path, b_payload(intervention_top_tokens=[{"feature_info": {}}])),
        "intervention_top_tokens[0]",
    )


def test_unknown_dict(tmp_path: Path) -> None:
    _bad(save(tmp_path, {"weights": torch.zeros(3)}), "", "keys weights")


def test_non_dict_payload(tmp_path: Path) -> None:
    _bad(save(tmp_path, [torch.zeros(3)]), "", "a dict")


def test_unknown_bytes(tmp_path: Path) -> None:
    path = tmp_path / "graph.pt"
    path.write_bytes(b"GIF89a not a graph")
    _bad(path, "", "content starting")


def test_missing_file(tmp_path: Path) -> None:
    _bad(tmp_path / "absent.pt", "", "a readable file")


def test_torch_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(tmp_path, b_payload())
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'attribution-viewer\[torch\]'"):
        open_graph(path)
