"""Feature descriptions of the tiny model, from the transcoders' real activations.

An autointerp folder in the original layout (``layer{L}/feature_{idx}_complete.json`` and
``feature_frequency.json``) computed over the whole corpus: top activating contexts with
the activating token marked ``<<x>>``, and a description naming what those contexts share
(the position, the digits there, the digit that comes next, a carry).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch
from circuit_tracer.transcoder import TranscoderSet
from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder
from transformer_lens import HookedTransformer

from attribution_viewer.live.tiny_model.data import (
    FEATURE_INPUT_HOOK,
    FEATURE_POSITIONS,
    POSITION_ROLES,
    VOCAB,
    TinyConfig,
)


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
    # what the contexts share first (short labels on the graph keep the distinctive part),
    # then where they sit
    description = (", ".join(what[:3]) + f" ({where[0]})") if what else where[0]
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
