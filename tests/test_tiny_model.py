"""The shipped tiny real model (data/tiny-addition): graphs, bundle, descriptions, token names.

The graph, bundle and description tests run the model (torch, circuit-tracer); the token
tests only read files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_DIR

from attribution_viewer.autointerp.frequencies import load_frequencies
from attribution_viewer.autointerp.source import DescriptionSource
from attribution_viewer.companions import find_companions, graph_tokenizer
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import open_graph
from attribution_viewer.loaders.token_names import resolve_tokenizer
from attribution_viewer.model import NodeKind
from attribution_viewer.settings import Settings
from config.settings import DEFAULTS

GRAPH = TINY_DIR / "sum-37-45-tens.pt"
PROMPT_TOKENS = ("<bos>", "3", "7", "+", "4", "5", "=", "0")


def shipped_graphs() -> list[Path]:
    return sorted(TINY_DIR.glob("*.pt"))


# -- the bundle as the app sees it (no torch in this process) ---------------------------
def test_t1_default_graph_is_the_tiny_model() -> None:
    assert DEFAULTS.graph_path == GRAPH.with_suffix(".npz")
    found = find_companions(GRAPH)
    assert found.autointerp == TINY_DIR / "autointerp" / "features"
    assert found.frequencies == TINY_DIR / "autointerp" / "feature_frequency.json"
    assert (found.model, found.transcoders, found.tokenizer) == (
        TINY_DIR / "model",
        TINY_DIR / "transcoders",
        TINY_DIR / "tokenizer",
    )
    assert len(shipped_graphs()) >= 3
    total = sum(p.stat().st_size for p in TINY_DIR.rglob("*") if p.is_file())
    assert total < 5_000_000, f"the shipped bundle is {total} bytes"


def test_t2_tokens_decode_with_the_manifest_tokenizer(tmp_path: Path) -> None:
    tokenizer = graph_tokenizer(Settings(), GRAPH)
    assert tokenizer == TINY_DIR / "tokenizer"
    bare = open_graph(GRAPH)
    assert bare.prompt_tokens == ("#1", "#5", "#9", "#12", "#6", "#7", "#13", "#2")
    named = open_graph(GRAPH, tokenizer=tokenizer)
    assert named.prompt_tokens == PROMPT_TOKENS
    assert [lg.token for lg in named.logits] == [lg.token for lg in bare.logits]
    assert named.logits[0].token == "8"
    # The conversion child names them too, and the cache keeps named and bare apart.
    child = open_graph(GRAPH, torch_in_subprocess=True, cache_dir=tmp_path, tokenizer=tokenizer)
    assert child.prompt_tokens == PROMPT_TOKENS
    again = open_graph(GRAPH, torch_in_subprocess=True, cache_dir=tmp_path)
    assert again.prompt_tokens == bare.prompt_tokens
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_t3_tokenizer_setting_wins_and_bad_ones_are_named(tmp_path: Path) -> None:
    assert graph_tokenizer(Settings(tokenizer="my/model"), GRAPH) == "my/model"
    assert resolve_tokenizer(TINY_DIR / "tokenizer") == TINY_DIR / "tokenizer" / "tokenizer.json"
    with pytest.raises(GraphFormatError, match=r"tokenizer\.json"):
        resolve_tokenizer(tmp_path)
    for missing in ("no-such-org/no-such-model-xyz", str(tmp_path / "absent" / "folder")):
        with pytest.raises(GraphFormatError, match="Hugging Face cache"):
            resolve_tokenizer(missing)
    broken = tmp_path / "tokenizer.json"
    broken.write_text("{}", encoding="utf-8")
    with pytest.raises(GraphFormatError, match=r"tokenizer\.json"):
        open_graph(GRAPH, tokenizer=tmp_path)


def test_t4_descriptions_are_readable_for_every_feature_of_every_graph() -> None:
    source = DescriptionSource(TINY_DIR / "autointerp" / "features")
    frequencies = load_frequencies(TINY_DIR / "autointerp" / "feature_frequency.json")
    for path in shipped_graphs():
        store = open_graph(path)
        features = np.flatnonzero(store.nodes.kind == NodeKind.FEATURE)
        assert features.size > 0
        for i in features:
            layer, idx = int(store.nodes.layer[i]), int(store.nodes.feature_idx[i])
            details = source.get(layer, idx)
            assert details is not None, f"{path.name}: no description for L{layer}/{idx}"
            # the shared facts, then where they sit: "next digit 0, ... (at the tens digit of the sum)"
            assert details.description.startswith("at ") or details.description.endswith(")")
            assert "at " in details.description
            assert details.top_examples and any(details.top_examples[0].highlighted)
            assert details.max_activation is not None and details.max_activation > 0
            freq = frequencies.get(layer, idx)
            assert freq is not None and 0 < freq <= 1


# -- against the model itself ---------------------------------------------------------
@pytest.fixture(scope="module")
def replacement():
    from attribution_viewer.live.bundle import load_replacement_model

    return load_replacement_model(TINY_DIR / "model", TINY_DIR / "transcoders", TINY_DIR / "tokenizer")


def test_t5_bundle_loads_offline_and_adds(replacement, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from attribution_viewer.live.tiny_model.data import PROMPT_LEN, corpus_tokens

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokens = corpus_tokens()[::37]
    with torch.no_grad():
        logits = replacement(tokens)
    predicted = logits[:, PROMPT_LEN - 1 : -1].argmax(-1)
    accuracy = float((predicted == tokens[:, PROMPT_LEN:]).all(-1).float().mean())
    assert accuracy > 0.98


@pytest.mark.parametrize("stem", ["sum-37-45-tens", "sum-68-57-hundreds"])
def test_t6_shipped_graph_is_what_attribute_produces(replacement, stem: str, tmp_path: Path) -> None:
    from attribution_viewer.live.tiny_model.data import GRAPH_PROMPTS, TinyConfig
    from attribution_viewer.live.tiny_model.pipeline import make_graph

    prompt = dict(GRAPH_PROMPTS)[stem]
    fresh = tmp_path / f"{stem}.pt"
    make_graph(replacement, prompt, TinyConfig()).to_pt(str(fresh))  # pyright: ignore[reportAttributeAccessIssue]
    shipped, recomputed = open_graph(TINY_DIR / f"{stem}.pt"), open_graph(fresh)
    assert shipped.keys == recomputed.keys
    assert [lg.token_id for lg in shipped.logits] == [lg.token_id for lg in recomputed.logits]
    a, b = shipped.adjacency.toarray(), recomputed.adjacency.toarray()
    scale = np.abs(a).max()
    assert scale > 0
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(recomputed.nodes.activation, shipped.nodes.activation, rtol=1e-5, atol=1e-6)


def test_t6b_shipped_native_default_is_the_converted_pt() -> None:
    """The default .npz is the default .pt converted (with token strings): nothing else."""
    native = open_graph(TINY_DIR / "sum-37-45-tens.npz")
    converted = open_graph(TINY_DIR / "sum-37-45-tens.pt", tokenizer=TINY_DIR / "tokenizer")
    assert native.keys == converted.keys
    assert native.prompt_tokens == converted.prompt_tokens == ("<bos>", "3", "7", "+", "4", "5", "=", "0")
    np.testing.assert_array_equal(native.adjacency.toarray(), converted.adjacency.toarray())
    np.testing.assert_array_equal(native.nodes.activation, converted.nodes.activation)


def test_t7_descriptions_match_real_activations(replacement) -> None:
    import torch

    from attribution_viewer.live.tiny_model.data import corpus_tokens

    store = open_graph(GRAPH)
    strongest = max(
        np.flatnonzero(store.nodes.kind == NodeKind.FEATURE), key=lambda i: store.nodes.activation[i]
    )
    layer, idx = int(store.nodes.layer[strongest]), int(store.nodes.feature_idx[strongest])
    record = json.loads(
        (TINY_DIR / "autointerp" / "features" / f"layer{layer}" / f"feature_{idx}_complete.json").read_text()
    )
    tokens = corpus_tokens()
    hook = f"blocks.{layer}.hook_resid_mid"
    _, cache = replacement.run_with_cache(tokens, names_filter=hook)
    with torch.no_grad():  # every position but <bos> and the last character
        acts = replacement.transcoders[layer].encode(cache[hook][:, 1:-1])[..., idx]
    peak = float(acts.max())
    assert record["top_examples_tks"][0]["max_val"] == pytest.approx(peak, rel=1e-4)
    top_row = int(acts.max(dim=1).values.argmax())
    assert record["top_examples_tks"][0]["tokens"] == tokens[top_row].tolist()
    fired = float((acts > 0).float().mean())
    assert load_frequencies(TINY_DIR / "autointerp" / "feature_frequency.json").get(layer, idx) == (
        pytest.approx(fired, abs=1e-5)
    )
