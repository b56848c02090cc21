"""The tiny model itself: a 2-layer TransformerLens transformer, its loss and its training.

The loss covers the three answer digits only (predicted at positions 6, 7, 8); training is
seeded AdamW with a one-cycle schedule over the train rows of the corpus.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from transformer_lens import HookedTransformer, HookedTransformerConfig
from transformers import PreTrainedTokenizerFast

from attribution_viewer.live.tiny_model.data import (
    PROMPT_LEN,
    SEQ_LEN,
    VOCAB,
    TinyConfig,
)

log = logging.getLogger(__name__)


# -- model ----------------------------------------------------------------------------
def new_model(cfg: TinyConfig, tokenizer: PreTrainedTokenizerFast) -> HookedTransformer:
    config = HookedTransformerConfig(
        model_name="tiny-addition",
        n_layers=cfg.n_layers,
        d_model=cfg.d_model,
        n_heads=cfg.n_heads,
        d_head=cfg.d_model // cfg.n_heads,
        d_mlp=cfg.d_mlp,
        d_vocab=len(VOCAB),
        n_ctx=SEQ_LEN + 2,
        act_fn="relu",
        normalization_type="LN",
        positional_embedding_type="standard",
        attn_only=False,
        seed=cfg.seed,
        device="cpu",
    )
    return HookedTransformer(config, tokenizer=tokenizer)


def answer_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the three answer digits (predicted at positions 6, 7, 8)."""
    pred = logits[:, PROMPT_LEN - 1 : SEQ_LEN - 1]
    return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), tokens[:, PROMPT_LEN:].reshape(-1))


@torch.no_grad()
def answer_accuracy(model: HookedTransformer, tokens: torch.Tensor) -> float:
    """Fraction of rows whose three answer digits are all predicted right (teacher forcing)."""
    logits = model(tokens)
    pred = logits[:, PROMPT_LEN - 1 : SEQ_LEN - 1].argmax(-1)
    return float((pred == tokens[:, PROMPT_LEN:]).all(-1).float().mean())


def train_model(cfg: TinyConfig, model: HookedTransformer, tokens: torch.Tensor, train: torch.Tensor) -> None:
    generator = torch.Generator().manual_seed(cfg.seed + 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=cfg.train_steps)
    model.train()
    for step in range(cfg.train_steps):
        batch = tokens[train[torch.randint(len(train), (cfg.batch_size,), generator=generator)]]
        loss = answer_loss(model(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 500 == 0:
            log.info("model step %d loss %.4f", step, loss.item())
    model.eval()
