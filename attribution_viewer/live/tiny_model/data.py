"""The tiny model's task and settings: vocabulary, positions, prompts, tokenizer, corpus.

Every ``<bos>AB+CD=SSS`` (two-digit addition, the sum zero-padded to three digits) as
token ids of a char-level vocabulary (``<pad>`` 0, ``<bos>`` 1, digits, ``+``, ``=``);
what each position holds; the prompts attributed into the shipped graphs; the sizes and
training settings (:class:`TinyConfig`). Seeded; imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from attribution_viewer.live.bundle import load_tokenizer

BOS = "<bos>"
PAD = "<pad>"
VOCAB = (PAD, BOS, *"0123456789", "+", "=")
PROMPT_LEN = 7  # <bos> A B + C D =
SEQ_LEN = PROMPT_LEN + 3
# What each position holds (the model's output there predicts the next position's token).
POSITION_ROLES = (
    "<bos>",
    "the tens digit of the first number",
    "the units digit of the first number",
    "'+'",
    "the tens digit of the second number",
    "the units digit of the second number",
    "'='",
    "the hundreds digit of the sum",
    "the tens digit of the sum",
    "the units digit of the sum",
)
# Positions whose features the descriptions and frequencies cover (see feature_activations).
FEATURE_POSITIONS = slice(1, SEQ_LEN - 1)
FEATURE_INPUT_HOOK = "hook_resid_mid"
FEATURE_OUTPUT_HOOK = "hook_mlp_out"
# The prompts attributed into the shipped graphs: (file stem, prompt without <bos>).
GRAPH_PROMPTS = (
    ("sum-37-45-tens", "37+45=0"),
    ("sum-37-45-units", "37+45=08"),
    ("sum-26-53-tens", "26+53=0"),
    ("sum-68-57-hundreds", "68+57="),
)
# The graph the viewer opens by default (written as .npz as well, see run_pipeline).
DEFAULT_GRAPH = "sum-37-45-tens"


@dataclass(frozen=True)
class TinyConfig:
    """Sizes and training settings of the tiny model (the defaults are the shipped bundle's)."""

    seed: int = 0
    n_layers: int = 2
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 256
    train_steps: int = 800
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.1
    test_fraction: float = 0.1
    d_transcoder: int = 512
    transcoder_steps: int = 1500
    transcoder_batch: int = 1024
    transcoder_lr: float = 3e-3
    l1_coefficient: float = 0.03
    top_examples: int = 10
    max_feature_nodes: int = 512


# -- tokenizer and data ---------------------------------------------------------------
def build_tokenizer(tokenizer_dir: Path) -> PreTrainedTokenizerFast:
    """Write the char-level tokenizer to ``tokenizer_dir`` and return it loaded from there."""
    vocab = {token: i for i, token in enumerate(VOCAB)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=PAD))
    core.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    core.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(tokenizer_object=core, bos_token=BOS, pad_token=PAD, unk_token=PAD)
    fast.save_pretrained(str(tokenizer_dir))
    loaded = load_tokenizer(tokenizer_dir)
    assert isinstance(loaded, PreTrainedTokenizerFast)
    return loaded


def addition_text(a: int, b: int) -> str:
    """``"37+45=082"``: the sum zero-padded to three digits."""
    return f"{a:02d}+{b:02d}={a + b:03d}"


def corpus_tokens() -> torch.Tensor:
    """Every two-digit addition as token ids, [10000, SEQ_LEN], row ``100 * a + b``."""
    index = {token: i for i, token in enumerate(VOCAB)}
    rows = [[index[BOS], *(index[ch] for ch in addition_text(a, b))] for a in range(100) for b in range(100)]
    return torch.tensor(rows, dtype=torch.long)


def split_corpus(n: int, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded train / test row indices."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = int(n * test_fraction)
    return order[n_test:], order[:n_test]
