"""The bundled tiny model: two-digit addition, its transcoders, graphs and feature descriptions.

Imports torch and circuit-tracer (scripts and worker processes only, never the web
server). :func:`build_bundle` is the whole seeded CPU pipeline that
``scripts/train_tiny_model.py`` runs:

1. a char-level tokenizer (``<pad>`` 0, ``<bos>`` 1, digits, ``+``, ``=``), saved with
   ``save_pretrained``;
2. a 2-layer TransformerLens model trained on every ``<bos>AB+CD=SSS`` (the sum zero-padded
   to three digits; loss on the three answer digits; a seeded 10% of the pairs held out);
3. one ReLU transcoder per layer (``hook_resid_mid`` -> ``hook_mlp_out``, MSE + L1 on
   activations weighted by decoder norms) trained on the model's activations over the corpus;
4. circuit-tracer's ``attribute`` on a few prompts -> ``Graph.to_pt`` files;
5. an autointerp folder in the original layout (``layer{L}/feature_{idx}_complete.json``
   and ``feature_frequency.json``) computed from the transcoders' activations over the
   whole corpus: top activating contexts with the activating token marked ``<<x>>``, and a
   description naming what those contexts share (the position, the digits there, the
   digit that comes next, a carry).

Every step is seeded and runs on one thread, so the same code gives the same files.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from circuit_tracer import attribute
from circuit_tracer.transcoder import TranscoderSet
from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformer_lens import HookedTransformer, HookedTransformerConfig
from transformer_lens.hook_points import HookPoint
from transformers import PreTrainedTokenizerFast

from attribution_viewer.companions import MANIFEST_NAME
from attribution_viewer.live.bundle import (
    load_replacement_model,
    load_tokenizer,
    save_model,
    save_transcoders,
)
from attribution_viewer.loaders import open_graph, save_native

log = logging.getLogger(__name__)

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


# -- autointerp -----------------------------------------------------------------------
def _marked_text(row: Sequence[int], pos: int) -> str:
    """The example as text without <bos>, the token at ``pos`` wrapped in ``<< >>``."""
    chars = [VOCAB[t] for t in row]
    return "".join(f"<<{ch}>>" if i == pos else ch for i, ch in enumerate(chars) if i > 0)


def _pair(x: int, y: int) -> str:
    return f"{min(x, y)} and {max(x, y)}"


def _context_facts(a: int, b: int, pos: int) -> list[str]:
    """Facts about one (example, position) a description may name when the top contexts share
    them, most telling first."""
    total = f"{a + b:03d}"
    facts = [f"at {POSITION_ROLES[pos]}"]
    if 6 <= pos <= 8:
        facts.append(f"next digit {total[pos - 6]}")
    if pos >= 5:
        facts.append("units digits carry" if a % 10 + b % 10 >= 10 else "units digits do not carry")
        facts.append(f"units digits {_pair(a % 10, b % 10)}")
    if pos >= 4:
        facts.append(f"tens digits {_pair(a // 10, b // 10)}")
    if pos >= 5:
        facts.append(f"tens digits sum to {a // 10 + b // 10}")
    if pos >= 1:
        facts.append(f"first number's tens digit {a // 10}")
    if pos >= 2:
        facts.append(f"first number's units digit {a % 10}")
    if pos >= 4:
        facts.append(f"second number's tens digit {b // 10}")
    if pos >= 5:
        facts.append(f"second number's units digit {b % 10}")
    return facts


@torch.no_grad()
def feature_activations(
    model: HookedTransformer, transcoder: SingleLayerTranscoder, tokens: torch.Tensor
) -> torch.Tensor:
    """Transcoder activations [rows, position, feature] at :data:`FEATURE_POSITIONS`: every
    position but <bos> (zeroed by circuit-tracer) and the last character (no trained output
    reads it)."""
    hook = f"blocks.{transcoder.layer_idx}.{FEATURE_INPUT_HOOK}"
    _, cache = model.run_with_cache(tokens, names_filter=hook)
    return transcoder.encode(cache[hook][:, FEATURE_POSITIONS])


def describe(contexts: Sequence[tuple[int, int, int]], share: float = 0.8) -> tuple[str, str]:
    """(description, explanation) from the top contexts ``(a, b, pos)``: the facts most of them share."""
    counts: Counter[str] = Counter()
    for a, b, pos in contexts:
        counts.update(_context_facts(a, b, pos))
    shared = [fact for fact, n in counts.items() if n >= share * len(contexts)]
    where = [f for f in shared if f.startswith("at ")]
    what = [f for f in shared if not f.startswith("at ")]
    if not where:
        top_pos = Counter(pos for _, _, pos in contexts).most_common(2)
        where = ["at " + " / ".join(POSITION_ROLES[p] for p, _ in top_pos)]
    description = where[0] + (": " + ", ".join(what[:3]) if what else "")
    explanation = (
        f"Derived from the {len(contexts)} strongest activations over all 10,000 sums "
        "(one per sum, any position but <bos> and the last): "
        f"facts shared by at least {share:.0%} of them: " + ("; ".join(shared) if shared else "none")
    )
    return description, explanation


@torch.no_grad()
def write_autointerp(
    cfg: TinyConfig,
    model: HookedTransformer,
    transcoders: TranscoderSet,
    tokens: torch.Tensor,
    out_dir: Path,
) -> dict[str, list[float]]:
    """Write ``out_dir/features/layer{L}/feature_{idx}_complete.json`` for every live feature and
    ``out_dir/feature_frequency.json``; return the frequencies."""
    frequencies: dict[str, list[float]] = {}
    unembed = model.W_U  # [d_model, vocab]
    for layer, transcoder in enumerate(transcoders.transcoders):
        assert isinstance(transcoder, SingleLayerTranscoder)
        acts = feature_activations(model, transcoder, tokens)
        fired = acts > 0
        frequencies[str(layer)] = [round(float(f), 6) for f in fired.float().mean((0, 1))]
        direct = transcoder.W_dec @ unembed  # [d_tc, vocab]: direct effect on the logits
        layer_dir = out_dir / "features" / f"layer{layer}"
        layer_dir.mkdir(parents=True, exist_ok=True)
        best, best_pos = acts.max(dim=1)  # per row: peak activation and its position
        for idx in range(acts.shape[-1]):
            if not fired[..., idx].any():
                continue
            order = torch.argsort(best[:, idx], descending=True, stable=True)
            rows = [int(r) for r in order[: cfg.top_examples * 2] if best[r, idx] > 0]
            contexts = [(r // 100, r % 100, int(best_pos[r, idx]) + 1) for r in rows]
            description, explanation = describe(contexts)
            shown = rows[: cfg.top_examples]
            positive = acts[..., idx][fired[..., idx]]
            token_stats: dict[str, list[float]] = {}
            for r in rows:
                pos = int(best_pos[r, idx]) + 1
                token_stats.setdefault(VOCAB[int(tokens[r, pos])], []).append(float(best[r, idx]))
            record = {
                "layer": layer,
                "feature_index": idx,
                "description": description,
                "explanation": explanation,
                "average_activation": round(float(positive.mean()), 5),
                "top_examples": [_marked_text(tokens[r].tolist(), int(best_pos[r, idx]) + 1) for r in shown],
                "top_examples_tks": [
                    {"tokens": tokens[r].tolist(), "max_val": round(float(best[r, idx]), 5)} for r in shown
                ],
                "top_activating_tokens": [
                    {
                        "token": tok,
                        "frequency": len(vals),
                        "average_activation": round(sum(vals) / len(vals), 5),
                    }
                    for tok, vals in sorted(token_stats.items(), key=lambda kv: -len(kv[1]))
                ],
                "top_logits": [
                    [VOCAB[int(i)], round(float(direct[idx, i]), 4)]
                    for i in direct[idx].argsort(descending=True)[:5]
                ],
                "bottom_logits": [
                    [VOCAB[int(i)], round(float(direct[idx, i]), 4)] for i in direct[idx].argsort()[:5]
                ],
            }
            path = layer_dir / f"feature_{idx}_complete.json"
            path.write_text(json.dumps(record, separators=(",", ":")), encoding="utf-8")
    (out_dir / "feature_frequency.json").write_text(
        json.dumps(frequencies, separators=(",", ":")), encoding="utf-8"
    )
    return frequencies


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
