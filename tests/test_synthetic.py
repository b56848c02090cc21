"""Tests of attribution_viewer.testing: determinism, structure, autointerp files, the bundle."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import EXAMPLE_DIR, PROJECT_ROOT

from attribution_viewer.influence import influence
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.testing.autointerp import write_synthetic_autointerp
from attribution_viewer.testing.content import (
    DENSE_DESCRIPTIONS,
    THEMES,
    dense_features,
    feature_theme,
    tokenize,
)
from attribution_viewer.testing.synthetic import SYNTHETIC_SCAN, SYNTHETIC_SLUG, make_synthetic_graph


def build_small(*, seed: int = 3, weighted: bool = True) -> GraphStore:
    """6 layers, 7 tokens, 150 features, 2,500 edges, 4 logits, 512-wide transcoder."""
    return make_synthetic_graph(
        n_layers=6,
        n_tokens=7,
        n_features=150,
        n_edges=2500,
        n_logits=4,
        d_transcoder=512,
        seed=seed,
        weighted=weighted,
    )


@pytest.fixture(scope="module")
def small() -> GraphStore:
    return build_small()


def _same_graph(a: GraphStore, b: GraphStore) -> bool:
    return (
        a.keys == b.keys
        and all(
            np.array_equal(getattr(a.adjacency, name), getattr(b.adjacency, name))
            for name in ("indptr", "indices", "data")
        )
        and np.array_equal(a.nodes.activation, b.nodes.activation, equal_nan=True)
        and a.logits == b.logits
        and a.interventions == b.interventions
    )


def test_sy01_same_seed_same_graph_other_seed_differs(small: GraphStore) -> None:
    assert _same_graph(small, build_small(seed=3))
    assert not _same_graph(small, build_small(seed=4))


def test_sy02_sizes_as_requested(small: GraphStore) -> None:
    assert small.summary() == {
        "format": "synthetic",
        "n_layers": 6,
        "n_tokens": 7,
        "n_features": 150,
        "n_errors": 6 * 7,
        "n_embeddings": 7,
        "n_logits": 4,
        "n_edges": 2500,
        "weighted": True,
        "warnings": [],
    }
    assert small.nodes.feature_idx[small.kind_slices[NodeKind.FEATURE]].max() < 512


def test_sy03_kinds_grouped_and_keys_unique(small: GraphStore) -> None:
    assert (np.diff(small.nodes.kind) >= 0).all()
    assert len(set(small.keys)) == small.n_nodes
    errors = small.kind_slices[NodeKind.ERROR]
    # Errors are layer-major: index layer * n_pos + pos.
    assert small.nodes.layer[errors].tolist() == np.repeat(np.arange(6), 7).tolist()
    assert small.nodes.pos[errors].tolist() == np.tile(np.arange(7), 6).tolist()


def test_sy04_edges_go_up_in_layer_and_forward_in_position(small: GraphStore) -> None:
    a = small.adjacency.tocoo()
    layer, pos, kind = small.nodes.layer, small.nodes.pos, small.nodes.kind
    assert (layer[a.row] < layer[a.col]).all()
    assert (pos[a.row] <= pos[a.col]).all()
    assert not np.isin(kind[a.col], [NodeKind.ERROR, NodeKind.EMBEDDING]).any()  # they only send
    assert not (kind[a.row] == NodeKind.LOGIT).any()
    into_logits = kind[a.col] == NodeKind.LOGIT
    assert into_logits.any()
    assert (pos[a.row[into_logits]] == small.n_pos - 1).all()
    assert (a.data != 0).all()
    assert (a.data < 0).any() and (a.data > 0).any()


def test_sy05_logits_descending_target_first(small: GraphStore) -> None:
    probs = [lg.probability for lg in small.logits]
    assert all(p > q for p, q in itertools.pairwise(probs))
    assert 0 < sum(probs) < 1
    assert [lg.is_target for lg in small.logits] == [True, False, False, False]


def test_sy06_marked_synthetic_with_made_up_prompt(small: GraphStore) -> None:
    assert small.metadata.slug == SYNTHETIC_SLUG == "synthetic-example"
    assert small.metadata.scan == SYNTHETIC_SCAN == "synthetic"
    assert small.prompt_tokens[:3] == ("<bos>", "In", " Veloria")


def test_sy07_interventions_point_at_graph_features(small: GraphStore) -> None:
    assert len(small.interventions) == 5
    for iv in small.interventions:
        assert iv.key in small.index_of
        for clamp in iv.clamps:
            assert sorted(clamp.tokens) == sorted(lg.token for lg in small.logits)
            assert list(clamp.probabilities) == sorted(clamp.probabilities, reverse=True)
            assert clamp.baseline_prob_change == pytest.approx(
                clamp.baseline_prob_after - clamp.baseline_prob_original, abs=2e-6
            )


def test_sy08_edges_mostly_stay_inside_a_theme(small: GraphStore) -> None:
    features = small.kind_slices[NodeKind.FEATURE]
    theme = feature_theme(small.nodes.layer[features], small.nodes.feature_idx[features])
    a = small.adjacency.tocoo()
    ff = (a.row < features.stop) & (a.col < features.stop)
    same = float((theme[a.row[ff]] == theme[a.col[ff]]).mean())
    assert same > 0.5  # about 1 / len(THEMES) = 0.2 if edges ignored themes


def test_sy09_unweighted_is_a_mask() -> None:
    store = build_small(weighted=False)
    assert not store.weighted
    assert (store.adjacency.data == 1).all()
    assert store.n_edges == 2500


def test_sy10_custom_prompt_and_bad_sizes() -> None:
    prompt = "The comet hums over Zandor."
    assert tokenize(prompt) == ("The", " comet", " hums", " over", " Zandor", ".")
    store = make_synthetic_graph(n_layers=3, n_tokens=7, n_features=20, n_edges=60, prompt=prompt)
    assert store.prompt_tokens == ("<bos>", *tokenize(prompt))
    with pytest.raises(ValueError, match="n_tokens=5"):
        make_synthetic_graph(n_tokens=5, prompt=prompt)
    with pytest.raises(ValueError, match="n_layers"):
        make_synthetic_graph(n_layers=0)
    with pytest.raises(ValueError, match="distinct edges"):
        make_synthetic_graph(n_layers=2, n_tokens=2, n_features=4, n_edges=500)


def test_sy11_hundred_thousand_edges_quickly() -> None:
    store = make_synthetic_graph(n_features=2000, n_edges=100_000, n_tokens=20)
    assert store.n_edges == 100_000
    assert np.isfinite(influence(store)).all()


# -- autointerp -------------------------------------------------------------------------

REQUIRED_FIELDS = {
    "layer": int,
    "feature_index": int,
    "description": str,
    "explanation": str,
    "average_activation": float,
    "top_examples": list,
    "top_examples_tks": list,
    "top_activating_tokens": list,
}


def _records(root: Path) -> dict[tuple[int, int], dict[str, object]]:
    out: dict[tuple[int, int], dict[str, object]] = {}
    for path in root.glob("features/layer*/feature_*_complete.json"):
        layer = int(path.parent.name.removeprefix("layer"))
        idx = int(path.name.removeprefix("feature_").removesuffix("_complete.json"))
        out[layer, idx] = json.loads(path.read_text(encoding="utf-8"))
    return out


def test_sy12_autointerp_files_for_every_graph_feature(small: GraphStore, tmp_path: Path) -> None:
    write_synthetic_autointerp(small, tmp_path, seed=1)
    records = _records(tmp_path)
    features = small.kind_slices[NodeKind.FEATURE]
    expected = set(
        zip(small.nodes.layer[features].tolist(), small.nodes.feature_idx[features].tolist(), strict=True)
    )
    assert set(records) == expected
    for (layer, idx), rec in records.items():
        for name, kind in REQUIRED_FIELDS.items():
            assert isinstance(rec[name], kind), (name, rec[name])
        assert (rec["layer"], rec["feature_index"]) == (layer, idx)
        assert 1 <= len(str(rec["description"]).split()) <= 3
        explanation = str(rec["explanation"])
        assert explanation.endswith(".") and ". " not in explanation
        theme = THEMES[int(feature_theme(layer, idx))]
        dense = bool(dense_features(layer, idx))
        assert rec["description"] in (DENSE_DESCRIPTIONS if dense else theme.descriptions)
        examples, tks = rec["top_examples"], rec["top_examples_tks"]
        assert isinstance(examples, list) and isinstance(tks, list) and len(examples) == len(tks) == 5
        for text, ex in zip(examples, tks, strict=True):
            assert text.count("<<") == text.count(">>") == 1
            assert len(ex["tokens"]) == len(ex["activations"])
            assert ex["max_val"] == max(ex["activations"])
        tokens = rec["top_activating_tokens"]
        assert isinstance(tokens, list)
        assert {"token", "token_id", "frequency", "average_activation"} <= set(tokens[0])


def test_sy13_descriptions_vary_within_a_theme(small: GraphStore, tmp_path: Path) -> None:
    write_synthetic_autointerp(small, tmp_path)
    by_theme: dict[int, set[str]] = {}
    for (layer, idx), rec in _records(tmp_path).items():
        by_theme.setdefault(int(feature_theme(layer, idx)), set()).add(str(rec["description"]))
    assert len(by_theme) == len(THEMES)
    assert all(len(texts) >= 3 for texts in by_theme.values())


def test_sy14_some_language_distributions(small: GraphStore, tmp_path: Path) -> None:
    write_synthetic_autointerp(small, tmp_path)
    with_lang = [rec for rec in _records(tmp_path).values() if "language_distribution" in rec]
    assert 0 < len(with_lang) < small.count(NodeKind.FEATURE)
    for rec in with_lang:
        dist = rec["language_distribution"]
        assert isinstance(dist, dict)
        assert sum(dist.values()) == pytest.approx(1.0, abs=0.01)


def test_sy15_frequency_file_shape_and_dense_features(tmp_path: Path) -> None:
    write_synthetic_autointerp(np.array([[0, 1], [1, 5]]), tmp_path, d_transcoder=3000, n_layers=2)
    freq = json.loads((tmp_path / "feature_frequency.json").read_text(encoding="utf-8"))
    assert list(freq) == ["0", "1"]
    for layer, values in freq.items():
        arr = np.array(values)
        assert arr.shape == (3000,)
        dense = dense_features(int(layer), np.arange(3000))
        assert dense.any()
        assert (arr[dense] > 0.5).all() and (arr[~dense] < 0.5).all() and (arr > 0).all()
    assert set(_records(tmp_path)) == {(0, 1), (1, 5)}


def test_sy16_all_features_and_determinism(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_synthetic_autointerp(
            [], tmp_path / name, all_features=True, d_transcoder=40, n_layers=2, seed=5
        )
    records = _records(tmp_path / "a")
    assert set(records) == {(layer, idx) for layer in range(2) for idx in range(40)}
    assert records == _records(tmp_path / "b")


def test_sy17_autointerp_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="required"):
        write_synthetic_autointerp([(0, 1)], tmp_path)
    with pytest.raises(ValueError, match="indices"):
        write_synthetic_autointerp([(0, 99)], tmp_path, d_transcoder=10, n_layers=1)


# -- the bundled example ------------------------------------------------------------------


def _make_example_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_example", PROJECT_ROOT / "scripts" / "make_example.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sy18_bundled_example_is_current_and_small() -> None:
    path = EXAMPLE_DIR / "graph.npz"
    if not path.exists():
        pytest.skip("data/example not generated (run scripts/make_example.py)")
    bundled = open_graph(path)
    fresh = _make_example_module().make_example_graph(seed=0)
    assert _same_graph(bundled, fresh)
    assert bundled.metadata.slug == SYNTHETIC_SLUG
    size = sum(p.stat().st_size for p in EXAMPLE_DIR.rglob("*") if p.is_file())
    assert size < 3_000_000
    assert set(_records(EXAMPLE_DIR / "autointerp")) == set(
        zip(
            bundled.nodes.layer[bundled.kind_slices[NodeKind.FEATURE]].tolist(),
            bundled.nodes.feature_idx[bundled.kind_slices[NodeKind.FEATURE]].tolist(),
            strict=True,
        )
    )
