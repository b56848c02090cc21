"""Transcoders for the tiny model: one ReLU transcoder per layer, trained and measured.

Each reads ``hook_resid_mid`` and writes ``hook_mlp_out``; trained with MSE + L1 on
activations weighted by decoder norms (seeded Adam). :func:`transcoder_quality` and
:func:`replacement_agreement` give the numbers the bundle's README reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F
from circuit_tracer.transcoder import TranscoderSet
from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder
from transformer_lens import HookedTransformer
from transformer_lens.hook_points import HookPoint

from attribution_viewer.live.tiny_model.data import (
    FEATURE_INPUT_HOOK,
    FEATURE_OUTPUT_HOOK,
    PROMPT_LEN,
    SEQ_LEN,
    TinyConfig,
)

log = logging.getLogger(__name__)


# -- transcoders ----------------------------------------------------------------------
@torch.no_grad()
def mlp_io(model: HookedTransformer, tokens: torch.Tensor, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(resid_mid, mlp_out) of ``layer`` at every non-<bos> position, flattened [N, d_model]."""
    names = (f"blocks.{layer}.{FEATURE_INPUT_HOOK}", f"blocks.{layer}.{FEATURE_OUTPUT_HOOK}")
    _, cache = model.run_with_cache(tokens, names_filter=lambda name: name in names)
    x, y = (cache[name][:, 1:].reshape(-1, model.cfg.d_model) for name in names)
    return x, y


def train_transcoder(cfg: TinyConfig, x: torch.Tensor, y: torch.Tensor, layer: int) -> SingleLayerTranscoder:
    """A ReLU transcoder for one layer: MSE(y) + l1 * sum(act * |W_dec row|), Adam, seeded."""
    generator = torch.Generator().manual_seed(cfg.seed + 100 + layer)
    d_model = x.shape[1]
    transcoder = SingleLayerTranscoder(
        d_model, cfg.d_transcoder, F.relu, layer, device=torch.device("cpu"), dtype=torch.float32
    )
    with torch.no_grad():
        transcoder.W_enc.copy_(torch.randn(cfg.d_transcoder, d_model, generator=generator) / d_model**0.5)
        transcoder.W_dec.copy_(transcoder.W_enc.data.clone() * 0.1)
        transcoder.b_dec.copy_(y.mean(0))
    optimizer = torch.optim.Adam(transcoder.parameters(), lr=cfg.transcoder_lr)
    scale = y.pow(2).sum(-1).mean()
    for step in range(cfg.transcoder_steps):
        idx = torch.randint(len(x), (cfg.transcoder_batch,), generator=generator)
        acts = transcoder.encode(x[idx])
        recon = acts @ transcoder.W_dec + transcoder.b_dec
        mse = (recon - y[idx]).pow(2).sum(-1).mean() / scale
        sparsity = (acts * transcoder.W_dec.norm(dim=-1)).sum(-1).mean()
        loss = mse + cfg.l1_coefficient * sparsity
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 500 == 0:
            log.info("transcoder %d step %d mse %.4f l1 %.3f", layer, step, mse.item(), sparsity.item())
    transcoder.requires_grad_(False)
    return transcoder


@torch.no_grad()
def transcoder_quality(
    transcoder: SingleLayerTranscoder, x: torch.Tensor, y: torch.Tensor
) -> dict[str, float]:
    """Variance explained and mean L0 on ``x`` / ``y``."""
    acts = transcoder.encode(x)
    recon = transcoder.decode(acts)
    residual = (recon - y).pow(2).sum()
    total = (y - y.mean(0)).pow(2).sum()
    return {
        "variance_explained": float(1 - residual / total),
        "l0": float((acts > 0).float().sum(-1).mean()),
        "alive": float((acts > 0).any(0).float().sum()),
    }


@torch.no_grad()
def replacement_agreement(
    model: HookedTransformer, transcoders: TranscoderSet, tokens: torch.Tensor
) -> float:
    """Fraction of rows whose three predicted answer digits stay the same when every MLP's
    output is replaced by its transcoder's reconstruction (no error terms)."""
    inputs: dict[int, torch.Tensor] = {}

    def keep(acts: torch.Tensor, hook: HookPoint) -> None:
        inputs[hook.layer()] = acts

    def swap(acts: torch.Tensor, hook: HookPoint) -> torch.Tensor:
        return transcoders.transcoders[hook.layer()](inputs[hook.layer()])

    hooks: list[tuple[str | Callable[..., bool], Callable[..., torch.Tensor | None]]] = []
    for layer in range(model.cfg.n_layers):
        hooks.append((f"blocks.{layer}.{FEATURE_INPUT_HOOK}", keep))
        hooks.append((f"blocks.{layer}.{FEATURE_OUTPUT_HOOK}", swap))
    answers = slice(PROMPT_LEN - 1, SEQ_LEN - 1)
    original = model(tokens)[:, answers].argmax(-1)
    replaced = model.run_with_hooks(tokens, fwd_hooks=hooks)[:, answers].argmax(-1)
    return float((original == replaced).all(-1).float().mean())
