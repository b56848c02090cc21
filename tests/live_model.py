"""A tiny random circuit-tracer ReplacementModel for tests (real library, no hub, no mocks).

``build_tiny_model(folder)`` writes a character-level tokenizer folder (``<pad>`` = 0,
``<bos>`` = 1: circuit-tracer skips a falsy BOS id) and returns a 2-layer TransformerLens
replacement model with seeded random per-layer ReLU transcoders. ``write_tiny_bundle``
saves such a model as a bundle (``model/``, ``transcoders/``, ``tokenizer/``, a graph
``tiny.pt`` made by ``attribute`` and the ``attribution-viewer.json`` manifest), the
layout :mod:`attribution_viewer.live.bundle` loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

PROMPT = "<bos>37+45="
VOCAB = ["<pad>", "<bos>", *"0123456789+="]
N_LAYERS = 2
D_MODEL = 32
D_TRANSCODER = 64


def write_tokenizer(folder: Path) -> Path:
    """A character-level tokenizer folder readable by ``AutoTokenizer.from_pretrained``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(VOCAB)}, unk_token="<pad>"))
    raw.pre_tokenizer = pre_tokenizers.Split("", "isolated")  # pyright: ignore[reportAttributeAccessIssue]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<bos>", pad_token="<pad>", unk_token="<pad>"
    )
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(folder))
    return folder


def _config(seed: int) -> Any:
    from transformer_lens import HookedTransformerConfig

    return HookedTransformerConfig(
        n_layers=N_LAYERS,
        d_model=D_MODEL,
        d_head=8,
        n_heads=4,
        d_mlp=64,
        d_vocab=len(VOCAB),
        n_ctx=32,
        act_fn="gelu",
        normalization_type="LN",
        default_prepend_bos=False,
        seed=seed,
    )


def _transcoders() -> Any:
    from circuit_tracer.transcoder import SingleLayerTranscoder, TranscoderSet

    transcoders = {}
    for layer in range(N_LAYERS):
        tc = SingleLayerTranscoder(
            D_MODEL, D_TRANSCODER, torch.nn.ReLU(), layer, dtype=torch.float32, device=torch.device("cpu")
        )
        for param in tc.parameters():
            torch.nn.init.normal_(param, std=0.3)
        transcoders[layer] = tc
    return TranscoderSet(transcoders, feature_input_hook="hook_resid_mid", feature_output_hook="hook_mlp_out")


def build_tiny_model(folder: Path, seed: int = 0) -> Any:
    """A seeded random 2-layer replacement model whose tokenizer lives in ``folder``."""
    from circuit_tracer import ReplacementModel
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(write_tokenizer(folder)))
    return ReplacementModel.from_config(
        _config(seed), _transcoders(), backend="transformerlens", tokenizer=tokenizer
    )


def write_tiny_bundle(folder: Path, seed: int = 0) -> Path:
    """A random model bundle with one attributed graph in ``folder``; returns the graph path."""
    from transformer_lens import HookedTransformer

    from attribution_viewer.live.bundle import load_replacement_model, save_model, save_transcoders

    torch.manual_seed(seed)
    save_model(HookedTransformer(_config(seed)), folder / "model")
    save_transcoders(_transcoders(), folder / "transcoders")
    write_tokenizer(folder / "tokenizer")
    model = load_replacement_model(folder / "model", folder / "transcoders", folder / "tokenizer")
    manifest = {"model": "model", "transcoders": "transcoders", "tokenizer": "tokenizer"}
    (folder / "attribution-viewer.json").write_text(json.dumps(manifest), encoding="utf-8")
    return attribute_graph(model, folder / "tiny.pt")


def attribute_graph(model: Any, out: Path, prompt: str = PROMPT) -> Path:
    """Run circuit-tracer's ``attribute`` on ``prompt`` and save the graph to ``out``."""
    from circuit_tracer import attribute

    graph = attribute(prompt, model, max_n_logits=5, desired_logit_prob=0.9, batch_size=64)
    graph.to_pt(str(out))
    return out
