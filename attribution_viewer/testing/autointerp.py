"""Synthetic autointerp folders for synthetic graphs: one description file per feature in
the original layout (``layer{L}/feature_{idx}_complete.json``) and a frequency file, worded
from the features' themes (:mod:`.content`)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.testing.content import (
    _DENSE_EXPLANATION,
    _EXPLANATIONS,
    _LANGUAGES,
    _MAX_LEN,
    _TEMPLATES,
    DENSE_DESCRIPTIONS,
    THEMES,
    _hash_dense,
    _hash_theme,
    _mix,
    dense_features,
    token_id,
    tokenize,
)

logger = logging.getLogger(__name__)


def _store_features(store: GraphStore) -> np.ndarray:
    s = store.kind_slices[NodeKind.FEATURE]
    pairs = np.stack([store.nodes.layer[s], store.nodes.feature_idx[s]], axis=1).astype(np.int64)
    return np.unique(pairs, axis=0) if pairs.size else pairs.reshape(0, 2)


@dataclass(frozen=True)
class _Examples:
    """Per theme, example sentences: token strings, token ids, and where the theme word sits."""

    tokens: tuple[tuple[tuple[str, ...], ...], ...]
    ids: tuple[tuple[tuple[int, ...], ...], ...]
    hot: tuple[tuple[int, ...], ...]


def _example_pools() -> _Examples:
    """Every template filled with every theme word, per theme."""
    tokens: list[tuple[tuple[str, ...], ...]] = []
    hot: list[tuple[int, ...]] = []
    for theme in THEMES:
        sentences: list[tuple[str, ...]] = []
        slots: list[int] = []
        for template in _TEMPLATES:
            head, tail = template.split("{}")
            for word in theme.words:
                left = tokenize(head)
                sentences.append((*left, word, *tokenize(tail)))
                slots.append(len(left))
        tokens.append(tuple(sentences))
        hot.append(tuple(slots))
    ids = tuple(tuple(tuple(token_id(t) for t in s) for s in pool) for pool in tokens)
    if max(len(s) for pool in tokens for s in pool) > _MAX_LEN:
        raise AssertionError("an example template is longer than _MAX_LEN tokens")
    return _Examples(tuple(tokens), ids, tuple(hot))


def _feature_record(
    layer: int, idx: int, h: int, draws: np.ndarray, ex: _Examples, n_examples: int
) -> dict[str, object]:
    """One ``feature_{idx}_complete.json`` document.

    ``h`` is the feature's :func:`_mix` hash (it fixes theme, wording and density);
    ``draws`` are this feature's uniform random numbers (see :func:`_n_draws`).
    """
    theme = int(_hash_theme(np.uint64(h)))
    t = THEMES[theme]
    if bool(_hash_dense(np.uint64(h))):
        description, explanation = DENSE_DESCRIPTIONS[h % len(DENSE_DESCRIPTIONS)], _DENSE_EXPLANATION
    else:
        description = t.descriptions[h % len(t.descriptions)]
        w0, w1 = t.words[(h >> 4) % len(t.words)], t.words[(h >> 40) % len(t.words)]
        explanation = _EXPLANATIONS[(h >> 12) % len(_EXPLANATIONS)].format(
            subject=t.subject, w0=w0.strip(), w1=w1.strip()
        )
    scale = 1.0 + 9.0 * float(draws[0])
    languages = draws[1 : 1 + 2 * len(_LANGUAGES)]
    picks = np.sort((draws[11 : 11 + n_examples] * len(ex.tokens[theme])).astype(np.int64))
    noise = draws[11 + n_examples :]
    examples: list[str] = []
    examples_tks: list[dict[str, object]] = []
    peaks = np.round(scale * (1.0 - 0.08 * np.arange(n_examples)), 3)
    for k, p in enumerate(picks.tolist()):
        sentence, slot = ex.tokens[theme][p], ex.hot[theme][p]
        offset = k * _MAX_LEN
        acts = np.where(noise[offset : offset + len(sentence)] > 0.85, round(0.1 * scale, 3), 0.0)
        acts[slot] = peaks[k]
        examples.append(
            "".join(sentence[:slot]) + "<<" + sentence[slot] + ">>" + "".join(sentence[slot + 1 :])
        )
        examples_tks.append(
            {"tokens": list(ex.ids[theme][p]), "activations": acts.tolist(), "max_val": peaks[k]}
        )
    top_tokens = [
        {
            "token": w,
            "token_id": token_id(w),
            "frequency": int(40 * (1 + draws[0]) / (r + 1)),
            "average_activation": round(scale * (0.9 - 0.1 * r), 3),
        }
        for r, w in enumerate(t.words[: 3 + h % 3])
    ]
    record: dict[str, object] = {
        "layer": layer,
        "feature_index": idx,
        "description": description,
        "explanation": explanation,
        "average_activation": round(float(peaks.mean()) * 0.6, 4),
        "top_examples": examples,
        "top_examples_tks": examples_tks,
        "top_activating_tokens": top_tokens,
    }
    if (h >> 20) % 4 == 0:  # a quarter of the features carry language distributions
        for key, raw in (
            ("language_distribution", languages[: len(_LANGUAGES)] ** 3),
            ("general_language_distribution", 0.5 + languages[len(_LANGUAGES) :]),
        ):
            record[key] = dict(zip(_LANGUAGES, np.round(raw / raw.sum(), 3).tolist(), strict=True))
    return record


def _n_draws(n_examples: int) -> int:
    """Random numbers one feature record uses: scale, 10 language, picks, per-token noise."""
    return 11 + n_examples + n_examples * _MAX_LEN


def _write(path: Path, text: str) -> None:
    """Write a small file with plain OS calls (several times faster than ``open`` for 100k files)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def _frequency_json(rng: np.random.Generator, n_layers: int, d_transcoder: int) -> str:
    """``{"<layer>": [freq, ...]}`` with dense features above 0.5 (written compactly)."""
    idx = np.arange(d_transcoder)
    parts: list[str] = []
    for layer in range(n_layers):
        freq = 10.0 ** rng.uniform(-4.5, -1.5, d_transcoder)
        dense = dense_features(layer, idx)
        freq[dense] = rng.uniform(0.55, 0.95, int(dense.sum()))
        parts.append(f'"{layer}": [' + ", ".join(f"{x:.3g}" for x in freq) + "]")
    return "{" + ", ".join(parts) + "}\n"


def write_synthetic_autointerp(
    store_or_features: GraphStore | Iterable[tuple[int, int]] | np.ndarray,
    out_dir: Path,
    *,
    all_features: bool = False,
    d_transcoder: int | None = None,
    n_layers: int | None = None,
    seed: int = 0,
    n_examples: int = 5,
) -> None:
    """Write a synthetic autointerp folder in the original app's layout.

    Files: ``<out_dir>/features/layer{L}/feature_{idx}_complete.json`` for the features of
    the store (or the given ``(layer, feature_idx)`` pairs), or for every
    ``(layer, idx)`` of ``n_layers x d_transcoder`` when ``all_features``; and
    ``<out_dir>/feature_frequency.json``. ``d_transcoder`` / ``n_layers`` default to the
    store's (``metadata.extra["d_transcoder"]``, ``n_layers``) and are required otherwise.
    Descriptions follow :func:`feature_theme`; dense features read as always-on.
    """
    if isinstance(store_or_features, GraphStore):
        pairs = _store_features(store_or_features)
        extra_d = store_or_features.metadata.extra.get("d_transcoder")
        d_transcoder = d_transcoder or (int(extra_d) if extra_d else int(pairs[:, 1].max(initial=0)) + 1)
        n_layers = n_layers or store_or_features.n_layers
    else:
        pairs = np.asarray(
            list(store_or_features) if not isinstance(store_or_features, np.ndarray) else store_or_features
        )
        pairs = np.unique(pairs.astype(np.int64).reshape(-1, 2), axis=0)
    if d_transcoder is None or n_layers is None:
        raise ValueError("d_transcoder and n_layers are required when no GraphStore is given")
    if all_features:
        grid = np.meshgrid(np.arange(n_layers), np.arange(d_transcoder), indexing="ij")
        pairs = np.stack([g.ravel() for g in grid], axis=1)
    if pairs.size and (pairs[:, 0].min() < 0 or pairs[:, 0].max() >= n_layers):
        raise ValueError(f"feature layers must lie in 0..{n_layers - 1}")
    if pairs.size and (pairs[:, 1].min() < 0 or pairs[:, 1].max() >= d_transcoder):
        raise ValueError(f"feature indices must lie in 0..{d_transcoder - 1}")

    rng = np.random.default_rng(seed)
    examples = _example_pools()
    out_dir = Path(out_dir)
    features_dir = out_dir / "features"
    hashes = _mix(pairs[:, 0], pairs[:, 1]) if pairs.size else np.zeros(0, np.uint64)
    for layer in np.unique(pairs[:, 0]) if pairs.size else []:
        layer_dir = features_dir / f"layer{int(layer)}"
        layer_dir.mkdir(parents=True, exist_ok=True)
        rows = np.flatnonzero(pairs[:, 0] == layer)
        draws = rng.random((rows.size, _n_draws(n_examples)))
        for row, d in zip(rows.tolist(), draws, strict=True):
            idx = int(pairs[row, 1])
            record = _feature_record(int(layer), idx, int(hashes[row]), d, examples, n_examples)
            _write(layer_dir / f"feature_{idx}_complete.json", json.dumps(record))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "feature_frequency.json", _frequency_json(rng, n_layers, d_transcoder))
    logger.info("wrote %d synthetic autointerp files under %s", pairs.shape[0], features_dir)
