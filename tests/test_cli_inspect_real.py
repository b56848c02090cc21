"""``inspect --json`` / ``--edges`` on every real graph vs. values computed here from the raw file.

The expected values are derived with plain, direct code over the raw torch tensors / raw
JSON (no loader helpers): node keys from the documented layouts, edges from the raw
matrices, counts from the sizes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attribution_viewer import cli

pytestmark = pytest.mark.real


class Expected:
    """Summary counts and ``{(source_key, target_key): weight}`` computed from the raw file."""

    def __init__(
        self, fmt: str, n_layers: int, n_tokens: int, counts: dict[str, int], edges: dict, weighted: bool
    ):
        self.summary = {"format": fmt, "n_layers": n_layers, "n_tokens": n_tokens, **counts}
        self.summary["n_edges"] = len(edges)
        self.summary["weighted"] = weighted
        self.summary["warnings"] = []  # no real graph needs a repair (no edge is dropped)
        self.edges = edges


def _ct_keys(features: list[tuple[int, int, int]], n_layers: int, n_pos: int, n_logits: int) -> list[str]:
    """Keys in circuit-tracer order: features (layer, pos, idx), errors layer-major, tokens, logits."""
    keys = [f"F:{layer}:{pos}:{idx}" for layer, pos, idx in features]
    keys += [f"X:{e // n_pos}:{e % n_pos}" for e in range(n_layers * n_pos)]
    keys += [f"E:{p}" for p in range(n_pos)]
    keys += [f"L:{r}" for r in range(n_logits)]
    return keys


def _counts(n_features: int, n_errors: int, n_tokens: int, n_logits: int) -> dict[str, int]:
    return {"n_features": n_features, "n_errors": n_errors, "n_embeddings": n_tokens, "n_logits": n_logits}


def _expected_torch(path: Path) -> Expected:
    import torch

    d = torch.load(path, weights_only=True, map_location="cpu")
    fi = d["feature_indices"].tolist()  # (pos, layer, idx)
    features = [(layer, pos, idx) for pos, layer, idx in fi]
    n_pos = len(d["token_string"])
    adj = d["sparse_pruned_adj"]
    if adj.is_sparse:  # A-sparse: rows = sources over [tokens, errors, features], + 1 logit column
        m = adj.shape[0]
        n_layers = (m - len(fi) - n_pos) // n_pos
        keys = [f"E:{p}" for p in range(n_pos)]
        keys += [f"X:{e // n_pos}:{e % n_pos}" for e in range(n_layers * n_pos)]
        keys += [f"F:{layer}:{pos}:{idx}" for layer, pos, idx in features]
        keys.append("L:0")
        coo = adj.coalesce()
        edges = {
            (keys[r], keys[c]): float(v)
            for (r, c), v in zip(coo.indices().T.tolist(), coo.values().tolist(), strict=True)
            if v != 0
        }
        return Expected(
            "clt-a-sparse", n_layers, n_pos, _counts(len(fi), n_layers * n_pos, n_pos, 1), edges, True
        )
    n = adj.shape[0]
    n_logits = len(d["logit_tokens"])
    n_layers = (n - len(fi) - n_pos - n_logits) // n_pos
    assert n_layers >= max(layer for layer, _, _ in features) + 1
    keys = _ct_keys(features, n_layers, n_pos, n_logits)
    mask = adj.numpy()
    full = "adjacency_matrix" in d
    weights = d["adjacency_matrix"].numpy() if full else None
    edges = {}
    for t, s in zip(*np.nonzero(mask), strict=True):  # mask rows are targets
        w = 1.0 if weights is None else float(weights[t, s])
        if w != 0:
            edges[(keys[s], keys[t])] = w
    fmt = "clt-b-full" if full else "clt-b-mask"
    return Expected(fmt, n_layers, n_pos, _counts(len(fi), n_layers * n_pos, n_pos, n_logits), edges, full)


def _expected_json(path: Path) -> Expected:
    doc = json.loads(path.read_text())
    nodes = doc["nodes"]
    logits = sorted((n for n in nodes if n["feature_type"] == "logit"), key=lambda n: -n["token_prob"])
    rank = {n["node_id"]: r for r, n in enumerate(logits)}
    key_of: dict[str, str] = {}
    for n in nodes:
        if n["feature_type"] == "cross layer transcoder":  # node_id reads {layer}_{idx}_{pos}
            key_of[n["node_id"]] = f"F:{n['layer']}:{n['ctx_idx']}:{n['node_id'].split('_')[1]}"
        elif n["feature_type"] == "mlp reconstruction error":
            key_of[n["node_id"]] = f"X:{n['layer']}:{n['ctx_idx']}"
        elif n["feature_type"] == "embedding":
            key_of[n["node_id"]] = f"E:{n['ctx_idx']}"
        else:
            key_of[n["node_id"]] = f"L:{rank[n['node_id']]}"
    edges: dict[tuple[str, str], float] = {}
    for link in doc["links"]:
        pair = (key_of[link["source"]], key_of[link["target"]])
        edges[pair] = edges.get(pair, 0.0) + link["weight"]
    edges = {k: w for k, w in edges.items() if w != 0}
    n_layers = int(logits[0]["layer"]) - 1
    kinds = [n["feature_type"] for n in nodes]
    counts = _counts(
        kinds.count("cross layer transcoder"),
        kinds.count("mlp reconstruction error"),
        kinds.count("embedding"),
        len(logits),
    )
    return Expected("graph-json", n_layers, len(doc["metadata"]["prompt_tokens"]), counts, edges, True)


def _expected(path: Path) -> Expected:
    return _expected_json(path) if path.suffix == ".json" else _expected_torch(path)


@pytest.fixture
def inspect_output(
    real_graph_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], str]:
    """Runs ``inspect <the real graph> <option>``, checks it succeeded and returns what it printed."""
    monkeypatch.setattr(cli, "COMMANDS", ("inspect", "convert"))

    def run(option: str) -> str:
        assert cli.main(["inspect", str(real_graph_path), option]) == 0
        return capsys.readouterr().out

    return run


def test_inspect_json_matches_raw_file(real_graph_path: Path, inspect_output: Callable[[str], str]) -> None:
    expected = _expected(real_graph_path)
    record: dict[str, Any] = json.loads(inspect_output("--json"))
    assert record == {"path": str(real_graph_path), **expected.summary}


def test_inspect_edges_match_raw_file(real_graph_path: Path, inspect_output: Callable[[str], str]) -> None:
    expected = _expected(real_graph_path)
    lines = inspect_output("--edges").splitlines()
    got = {}
    for line in lines:
        source, target, weight = line.split("\t")
        got[(source, target)] = weight
    assert len(got) == len(lines)  # no edge printed twice
    assert got.keys() == expected.edges.keys()
    # exact: the printed text is the shortest repr of exactly the raw value
    bad = [(k, got[k], w) for k, w in expected.edges.items() if got[k] != repr(float(np.float64(w)))]
    assert bad == []
