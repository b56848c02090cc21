"""The bundle pipeline: train, transcoders, autointerp, graphs, manifest (``build_bundle``).

:func:`build_bundle` is the whole seeded CPU pipeline that ``scripts/train_tiny_model.py``
runs; :func:`make_graph` is circuit-tracer's ``attribute`` on one prompt, the three
likeliest next tokens as targets (also what the tests use to check the shipped graphs).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from circuit_tracer import attribute
from circuit_tracer.transcoder import TranscoderSet
from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder

from attribution_viewer.companions import MANIFEST_NAME
from attribution_viewer.live.bundle import (
    load_replacement_model,
    save_model,
    save_transcoders,
)
from attribution_viewer.live.tiny_model.autointerp import write_autointerp
from attribution_viewer.live.tiny_model.data import (
    DEFAULT_GRAPH,
    FEATURE_INPUT_HOOK,
    FEATURE_OUTPUT_HOOK,
    GRAPH_PROMPTS,
    TinyConfig,
    build_tokenizer,
    corpus_tokens,
    split_corpus,
)
from attribution_viewer.live.tiny_model.model import answer_accuracy, new_model, train_model
from attribution_viewer.live.tiny_model.transcoders import (
    mlp_io,
    replacement_agreement,
    train_transcoder,
    transcoder_quality,
)
from attribution_viewer.loaders import open_graph, save_native


# -- graphs ---------------------------------------------------------------------------
def attribution_targets(model: torch.nn.Module, prompt_ids: torch.Tensor, k: int = 3) -> torch.Tensor:
    """The ``k`` most likely next tokens after ``prompt_ids`` (the answer digit first)."""
    with torch.no_grad():
        logits = model(prompt_ids.unsqueeze(0))[0, -1]
    return logits.topk(k).indices


def make_graph(model: torch.nn.Module, prompt: str, cfg: TinyConfig) -> object:
    """circuit-tracer's graph of ``prompt`` (with <bos>), targets = the 3 likeliest next tokens."""
    ids = model.ensure_tokenized(prompt)  # type: ignore[operator]
    return attribute(
        ids,
        model,  # type: ignore[arg-type]
        attribution_targets=attribution_targets(model, ids),
        max_feature_nodes=cfg.max_feature_nodes,
        batch_size=256,
    )


# -- the pipeline ---------------------------------------------------------------------
def build_bundle(out_dir: Path, cfg: TinyConfig | None = None) -> dict[str, object]:
    """Train and write the whole bundle into ``out_dir``; return the measured numbers."""
    cfg = cfg or TinyConfig()
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    started = time.perf_counter()
    report: dict[str, object] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(out_dir / "tokenizer")
    tokens = corpus_tokens()
    train, test = split_corpus(len(tokens), cfg.test_fraction, cfg.seed)

    model = new_model(cfg, tokenizer)
    t0 = time.perf_counter()
    train_model(cfg, model, tokens, train)
    report["model_seconds"] = round(time.perf_counter() - t0, 1)
    report["train_accuracy"] = answer_accuracy(model, tokens[train])
    report["test_accuracy"] = answer_accuracy(model, tokens[test])
    save_model(model, out_dir / "model")

    layers: dict[int, SingleLayerTranscoder] = {}
    quality: list[dict[str, float]] = []
    t0 = time.perf_counter()
    for layer in range(cfg.n_layers):
        x, y = mlp_io(model, tokens, layer)
        layers[layer] = train_transcoder(cfg, x, y, layer)
        quality.append(transcoder_quality(layers[layer], x, y))
    report["transcoder_seconds"] = round(time.perf_counter() - t0, 1)
    report["transcoders"] = quality
    transcoders = TranscoderSet(
        layers,
        feature_input_hook=FEATURE_INPUT_HOOK,
        feature_output_hook=FEATURE_OUTPUT_HOOK,
        scan="tiny-addition",
    )
    save_transcoders(transcoders, out_dir / "transcoders")
    report["replacement_agreement"] = replacement_agreement(model, transcoders, tokens)

    write_autointerp(cfg, model, transcoders, tokens, out_dir / "autointerp")

    replacement = load_replacement_model(out_dir / "model", out_dir / "transcoders", out_dir / "tokenizer")
    t0 = time.perf_counter()
    for stem, prompt in GRAPH_PROMPTS:
        graph = make_graph(replacement, prompt, cfg)
        graph.to_pt(str(out_dir / f"{stem}.pt"))  # type: ignore[attr-defined]
    report["attribution_seconds"] = round(time.perf_counter() - t0, 2)
    # The default graph also in the native format (token strings decoded), so that the
    # viewer opens it without torch; the .pt files stay circuit-tracer's own output.
    default = out_dir / f"{DEFAULT_GRAPH}.pt"
    save_native(open_graph(default, tokenizer=out_dir / "tokenizer"), default.with_suffix(".npz"))
    manifest = {
        "autointerp": "autointerp/features",
        "frequencies": "autointerp/feature_frequency.json",
        "model": "model",
        "transcoders": "transcoders",
        "tokenizer": "tokenizer",
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    return report
