"""Deterministic SYNTHETIC attribution graphs and autointerp folders, for examples and benchmarks.

Nothing here comes from a model: the prompt is a made-up sentence, and the graph metadata
says so (slug ``synthetic-example``, scan ``synthetic``). The structure imitates a
circuit-tracer graph closely enough to exercise every part of the viewer:

* all node kinds in store order ``[features, errors, embeddings, logits]``; features at
  every (layer, position), more of them at later positions and at the last position in
  late layers; ``n_layers * n_tokens`` errors; one embedding per token; logits with
  descending probabilities summing to less than 1, rank 0 the target;
* edges go strictly up in layer (embeddings, layer -1, up to logits, layer ``n_layers``)
  and never backwards in position; logits are fed from the last position only; errors and
  embeddings only send (as in circuit-tracer, where their input rows are empty);
* signed, heavy-tailed weights (log-normal magnitudes) and log-normal activations;
* themed sub-circuits: every feature belongs to one of :data:`THEMES`, given by
  :func:`feature_theme` from its (layer, feature index) alone. Most edges stay inside a
  theme and each theme shares an input token and an output logit, so clustering can
  recover the themes; :func:`write_synthetic_autointerp` writes descriptions that follow
  the same themes, worded with variety;
* a few "always on" (dense) features (:func:`dense_features`) that the frequency file
  marks above 0.5, and a handful of precomputed interventions.

Everything is seeded and vectorised: 10k features / 1M edges build in about a second.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from attribution_viewer.loaders.ct_order import CtGraph, FeatureColumns, build_store, logit_infos
from attribution_viewer.model import Clamp, GraphMetadata, GraphStore, Intervention, NodeKind

logger = logging.getLogger(__name__)

SYNTHETIC_SLUG = "synthetic-example"
SYNTHETIC_SCAN = "synthetic"
SOURCE_FORMAT = "synthetic"
VOCAB_SIZE = 50257
BOS = "<bos>"


@dataclass(frozen=True)
class Theme:
    """A family of features: how autointerp describes them and the tokens they fire on."""

    name: str
    descriptions: tuple[str, ...]  # each <= 3 words
    subject: str  # noun phrase used in explanations
    words: tuple[str, ...]  # tokens the theme's features fire on


THEMES: tuple[Theme, ...] = (
    Theme(
        "places",
        ("fictional places", "place names", "country names", "invented realms", "map locations"),
        "names of invented countries and regions",
        (" Veloria", " Zandor", " Quellmarsh", " Orvane", " Tessaly", " Brindle"),
    ),
    Theme(
        "creatures",
        ("small creatures", "moth mentions", "insect names", "winged animals", "tiny beasts"),
        "small animals and insects",
        (" moth", " beetle", " wren", " firefly", " cricket", " newt"),
    ),
    Theme(
        "sounds",
        ("singing verbs", "sound verbs", "music actions", "vocal sounds", "song words"),
        "verbs of singing and making sounds",
        (" sings", " hums", " chirps", " whistles", " chants", " calls"),
    ),
    Theme(
        "sky",
        ("night sky", "moon and stars", "celestial words", "starlight", "lunar terms"),
        "the moon, the stars and the night sky",
        (" moon", " stars", " night", " dusk", " comet", " sky"),
    ),
    Theme(
        "syntax",
        ("function words", "prepositions", "article 'the'", "phrase connectors", "determiners"),
        "short function words that join phrases",
        (" the", " to", " of", ",", " in", " a"),
    ),
)
DENSE_DESCRIPTIONS = ("frequent tokens", "position marker", "generic context", "always active")
_EXPLANATIONS = (
    "Activates on {subject}, most strongly on '{w0}'.",
    "Fires when the text mentions {subject}, such as '{w0}' or '{w1}'.",
    "Responds to {subject}; top tokens include '{w0}' and '{w1}'.",
    "Tracks {subject}, peaking on '{w0}'.",
)
_DENSE_EXPLANATION = "Fires on most tokens regardless of content, like a bias direction."
# Example sentences for autointerp; "{}" is where the feature's theme word goes.
_TEMPLATES = (
    "Long ago,{} was all the old sailors talked about.",
    "She wrote that{} appeared again near the river.",
    "Nobody in the village had heard of{} before.",
    "Then the children pointed at{} and laughed.",
    "The map showed{} in faded green ink.",
    "Every evening,{} returned as if on cue.",
    "He said{} would not last the winter.",
    "Under the bridge,{} waited quietly.",
)
_LANGUAGES = ("en", "fr", "de", "es", "ar")

# The made-up prompt: "In Veloria, the glimmer moth sings to the" and its continuation,
# cycled when more tokens are asked for.
_DEFAULT_TEXT = (
    "In",
    " Veloria",
    ",",
    " the",
    " glimmer",
    " moth",
    " sings",
    " to",
    " the",
    " moon",
    " and",
    " the",
    " beetle",
    " hums",
    " in",
    " Zandor",
    " at",
    " dusk",
    " while",
    " a",
)
_LOGIT_TOKENS = (" moon", " stars", " night", " river", " king", " sky", " dawn", " sea", " wind", " song")
_DENSE_PERIOD = 400  # about one feature in 400 is dense ("always on")
_MAX_LEN = 16  # longest example sentence, in tokens


def token_id(token: str) -> int:
    """A stable made-up vocabulary id for a token string."""
    return zlib.crc32(token.encode("utf-8")) % VOCAB_SIZE


def _mix(layer: np.ndarray, feature_idx: np.ndarray) -> np.ndarray:
    """A well-mixed uint64 hash of (layer, feature index), element-wise (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = np.asarray(layer, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x = x + np.asarray(feature_idx, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(31))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(29))


def _hash_theme(h: np.ndarray | np.uint64) -> np.ndarray:
    return np.asarray((h >> np.uint64(8)) % np.uint64(len(THEMES))).astype(np.int64)


def _hash_dense(h: np.ndarray | np.uint64) -> np.ndarray:
    return np.asarray((h >> np.uint64(32)) % np.uint64(_DENSE_PERIOD) == 0)


def feature_theme(layer: np.ndarray | int, feature_idx: np.ndarray | int) -> np.ndarray:
    """Index into :data:`THEMES` of each (layer, feature index); independent of any seed."""
    return _hash_theme(_mix(np.asarray(layer), np.asarray(feature_idx)))


def dense_features(layer: np.ndarray | int, feature_idx: np.ndarray | int) -> np.ndarray:
    """True for the synthetic "always on" features (about 1 in 400); independent of any seed."""
    return _hash_dense(_mix(np.asarray(layer), np.asarray(feature_idx)))


def tokenize(text: str) -> tuple[str, ...]:
    """Split text into GPT-2-like tokens (a word with its leading space, or punctuation)."""
    return tuple(re.findall(r"\s?\w+|\s?[^\w\s]+", text))


def _prompt_tokens(n_tokens: int, prompt: str | None) -> tuple[str, ...]:
    if prompt is None:
        return (BOS, *(_DEFAULT_TEXT[i % len(_DEFAULT_TEXT)] for i in range(n_tokens - 1)))
    tokens = (BOS, *tokenize(prompt))
    if len(tokens) != n_tokens:
        raise ValueError(f"prompt gives {len(tokens)} tokens (with {BOS}), but n_tokens={n_tokens}")
    return tokens


def _theme_anchors(tokens: tuple[str, ...]) -> np.ndarray:
    """Per theme, the prompt position whose token belongs to it (else one spread evenly)."""
    n = len(tokens)
    anchors = np.linspace(0, n - 1, len(THEMES) + 2)[1:-1].round().astype(np.int64)
    for t, theme in enumerate(THEMES):
        hits = [p for p, tok in enumerate(tokens) if tok in theme.words]
        if hits:
            anchors[t] = hits[0]
    return anchors


def _feature_columns(
    rng: np.random.Generator, n_features: int, n_layers: int, n_tokens: int, d_transcoder: int
) -> FeatureColumns:
    """Unique (layer, pos, feature index) triples, sorted, with activations."""
    if n_features > n_layers * n_tokens * d_transcoder:
        raise ValueError(f"n_features={n_features} exceeds n_layers * n_tokens * d_transcoder")
    layer = rng.integers(0, n_layers, n_features)
    pos_weight = np.arange(1, n_tokens + 1, dtype=np.float64)
    pos = rng.choice(n_tokens, n_features, p=pos_weight / pos_weight.sum())
    # Late layers crowd the last position, where the logits read.
    late = rng.random(n_features) < 0.6 * layer / max(n_layers - 1, 1)
    pos = np.where(late, n_tokens - 1, pos)

    all_idx = np.arange(d_transcoder)
    dense_pool = [all_idx[dense_features(layer_, all_idx)] for layer_ in range(n_layers)]
    want_dense = rng.random(n_features) < 0.02
    idx = rng.integers(0, d_transcoder, n_features)
    for layer_ in range(n_layers):
        pool = dense_pool[layer_]
        pick = want_dense & (layer == layer_)
        if pool.size and pick.any():
            idx[pick] = pool[rng.integers(0, pool.size, int(pick.sum()))]
    for _ in range(1000):
        key = (layer * n_tokens + pos) * d_transcoder + idx
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n_features, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        idx[dup] = rng.integers(0, d_transcoder, int(dup.sum()))
    else:
        raise ValueError("could not draw unique feature keys; raise d_transcoder")
    order = np.lexsort((idx, pos, layer))
    activation = rng.lognormal(0.8, 0.7, n_features).astype(np.float32)
    return FeatureColumns(
        layer=layer[order].astype(np.int64),
        pos=pos[order].astype(np.int64),
        feature_idx=idx[order].astype(np.int64),
        activation=activation,
    )


@dataclass(frozen=True)
class _Layout:
    """Node index arithmetic and per-node columns of the graph under construction."""

    n_features: int
    n_layers: int
    n_tokens: int
    n_logits: int
    layer: np.ndarray
    pos: np.ndarray
    theme: np.ndarray  # per node: a feature's theme, a logit's own theme (rank % themes), else 0

    @property
    def error_start(self) -> int:
        return self.n_features

    @property
    def embedding_start(self) -> int:
        return self.n_features + self.n_layers * self.n_tokens

    @property
    def logit_start(self) -> int:
        return self.embedding_start + self.n_tokens

    @property
    def n_nodes(self) -> int:
        return self.logit_start + self.n_logits


# Source categories of an edge.
_SAME_THEME, _ANY_FEATURE, _ERROR, _EMBEDDING = 0, 1, 2, 3
_LOGIT_EDGE_SHARE = 0.04


def _table(nodes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``nodes`` repeated about in proportion to ``weights``: uniform draws from it are weighted.

    Much faster than ``Generator.choice(p=...)`` for millions of draws; weights are
    quantised to multiples of 1/8 of their mean (every node appears at least once).
    """
    if nodes.size == 0:
        return nodes
    w = weights[nodes]
    return np.repeat(nodes, np.maximum(1, np.rint(8.0 * w / w.mean())).astype(np.int64))


@dataclass(frozen=True)
class _SourceTable:
    """A weighted table of source features sorted by layer: ``below[L]`` entries lie under layer L."""

    nodes: np.ndarray
    below: np.ndarray


def _source_tables(lay: _Layout, out_w: np.ndarray) -> list[_SourceTable]:
    """Weighted source tables: theme t, theme t at the last position, all features, all at last."""
    n_themes, nf = len(THEMES), lay.n_features
    feats = np.arange(nf)  # features are sorted by layer, and so is every table
    at_last = lay.pos[:nf] == lay.n_tokens - 1
    theme = lay.theme[:nf]
    pools = [feats[theme == t] for t in range(n_themes)]
    pools += [feats[(theme == t) & at_last] for t in range(n_themes)]
    pools += [feats, feats[at_last]]
    tables: list[_SourceTable] = []
    for pool in pools:
        nodes = _table(pool, out_w)
        tables.append(_SourceTable(nodes, np.searchsorted(lay.layer[nodes], np.arange(lay.n_layers + 1))))
    return tables


def _pick(
    rng: np.random.Generator, tables: list[_SourceTable], which: np.ndarray, below_layer: np.ndarray
) -> np.ndarray:
    """For each entry, a node of ``tables[which]`` under ``below_layer`` (-1 when there is none)."""
    out = np.full(which.shape[0], -1, dtype=np.int64)
    for g in np.unique(which):
        table = tables[int(g)]
        if table.nodes.size == 0:
            continue
        sel = np.flatnonzero(which == g)
        n_valid = table.below[below_layer[sel]]
        draw = (rng.random(sel.size) * n_valid).astype(np.int64)
        out[sel] = np.where(n_valid > 0, table.nodes[np.minimum(draw, table.nodes.size - 1)], -1)
    return out


def _edge_batch(
    rng: np.random.Generator,
    lay: _Layout,
    anchors: np.ndarray,
    m: int,
    category_p: np.ndarray,
    target_table: np.ndarray,
    source_tables: list[_SourceTable],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``m`` candidate edges (source, target, category); invalid ones have source -1."""
    nf, n_themes, last = lay.n_features, len(THEMES), lay.n_tokens - 1
    to_logit = rng.random(m) < _LOGIT_EDGE_SHARE if nf else np.ones(m, dtype=bool)
    target = np.where(
        to_logit,
        lay.logit_start + rng.integers(0, lay.n_logits, m),
        target_table[rng.integers(0, max(target_table.size, 1), m)] if nf else 0,
    )
    category = rng.choice(4, m, p=category_p)
    t_layer, t_pos = lay.layer[target], lay.pos[target]
    t_theme = lay.theme[target]

    source = np.full(m, -1, dtype=np.int64)
    is_feat = (category == _SAME_THEME) | (category == _ANY_FEATURE)
    pool_id = np.where(category == _SAME_THEME, t_theme, 2 * n_themes) + np.where(
        category == _SAME_THEME, n_themes * to_logit, to_logit
    )
    if nf and is_feat.any():
        source[is_feat] = _pick(rng, source_tables, pool_id[is_feat], t_layer[is_feat])

    err = category == _ERROR
    err_layer = (rng.random(m) * t_layer).astype(np.int64)
    err_pos = np.where((rng.random(m) < 0.7) | to_logit, t_pos, rng.integers(0, t_pos + 1))
    source = np.where(err & (t_layer > 0), lay.error_start + err_layer * lay.n_tokens + err_pos, source)

    emb = category == _EMBEDDING
    anchor = anchors[t_theme]
    u = rng.random(m)
    emb_pos = np.where(
        u < 0.4, t_pos, np.where((u < 0.8) & (anchor <= t_pos), anchor, rng.integers(0, t_pos + 1))
    )
    emb_pos = np.where(to_logit, last, emb_pos)
    source = np.where(emb, lay.embedding_start + emb_pos, source)

    s = np.maximum(source, 0)
    valid = (source >= 0) & (lay.layer[s] < t_layer) & (lay.pos[s] <= t_pos)
    valid &= ~to_logit | (lay.pos[s] == last)
    return np.where(valid, source, -1), target, category


def _category_p(n_edges: int, lay: _Layout) -> np.ndarray:
    """Source-category shares. A feature can take input from only a few error and embedding
    nodes (lower layers, mostly its own position), so their share shrinks as the mean
    in-degree grows; the rest goes to features."""
    degree = n_edges / max(lay.n_features, 1)
    error = min(0.2, 0.3 * lay.n_layers / max(degree, 1.0))
    embedding = min(0.13, 2.0 / max(degree, 1.0))
    other = 0.1
    return np.array([1.0 - error - embedding - other, other, error, embedding])


def _edges(
    rng: np.random.Generator, lay: _Layout, anchors: np.ndarray, n_edges: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exactly ``n_edges`` distinct valid edges (sources, targets, categories), sorted by source."""
    n = lay.n_nodes
    target_table = _table(np.arange(lay.n_features), rng.lognormal(0.0, 1.0, lay.n_features))
    source_tables = _source_tables(lay, rng.lognormal(0.0, 1.0, lay.n_features))
    category_p = _category_p(n_edges, lay)
    # One int64 per edge: (source * n + target) * 4 + category; unique pairs only.
    keys = np.zeros(0, np.int64)
    gain = 0.5  # distinct new edges per candidate, re-estimated every round
    rounds = 0
    while keys.size < n_edges:
        m = min(int((n_edges - keys.size) / gain * 1.2) + 64, 8 * n_edges + 64)
        s, t, c = _edge_batch(rng, lay, anchors, m, category_p, target_table, source_tables)
        ok = s >= 0
        before = keys.size
        merged = np.sort(np.concatenate([keys, (s[ok] * n + t[ok]) * 4 + c[ok]]))
        pair = merged >> 2  # equal pairs are now adjacent: keep the first of each
        first = np.ones(merged.size, dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        keys = merged[first]
        gain = max((keys.size - before) / m, 1e-3)
        rounds += 1
        if rounds >= 30:
            raise ValueError(
                f"could only place {keys.size} distinct edges of n_edges={n_edges}; ask for fewer"
            )
    logger.debug("placed %d edges in %d rounds (last gain %.2f)", n_edges, rounds, gain)
    if keys.size > n_edges:
        keys = keys[np.sort(rng.choice(keys.size, n_edges, replace=False))]
    pair, cat = np.divmod(keys, 4)
    src, tgt = np.divmod(pair, n)
    return src, tgt, cat


def _weights(
    rng: np.random.Generator, lay: _Layout, src: np.ndarray, tgt: np.ndarray, cat: np.ndarray
) -> np.ndarray:
    """Signed heavy-tailed weights: stronger and mostly positive inside a theme."""
    magnitude = rng.lognormal(-0.7, 1.1, src.size)
    magnitude *= np.where(cat == _EMBEDDING, 2.0, 1.0) * np.where(cat == _SAME_THEME, 1.5, 1.0)
    magnitude *= np.where(tgt >= lay.logit_start, 0.6, 1.0)
    positive = rng.random(src.size) < np.where(cat == _SAME_THEME, 0.8, 0.55)
    return np.where(positive, magnitude, -magnitude).astype(np.float32)


def _logit_probabilities(rng: np.random.Generator, n_logits: int) -> np.ndarray:
    """Strictly descending probabilities summing to 0.75..0.95."""
    raw = np.exp(-0.9 * np.arange(n_logits) + 0.25 * rng.standard_normal(n_logits))
    raw = np.sort(raw)[::-1] * (1.0 - 1e-3 * np.arange(n_logits))
    return raw / raw.sum() * rng.uniform(0.75, 0.95)


def _interventions(
    rng: np.random.Generator,
    adjacency: sp.csr_matrix,
    lay: _Layout,
    features: FeatureColumns,
    tokens: tuple[str, ...],
    probs: np.ndarray,
    count: int,
) -> tuple[Intervention, ...]:
    """Clamp effects of the features with the most direct weight into the logits."""
    nf = lay.n_features
    to_logits = adjacency[:nf, lay.logit_start :].toarray()
    chosen = np.argsort(-np.abs(to_logits).sum(axis=1), kind="stable")[:count]
    rest = max(1.0 - float(probs.sum()), 1e-6)
    base = np.log(np.append(probs, rest))
    out: list[Intervention] = []
    for f in chosen:
        act = float(features.activation[f]) if features.activation is not None else 1.0
        effect = to_logits[f] + 0.2 * rng.standard_normal(lay.n_logits)
        effect /= max(float(np.abs(effect).max()), 1e-6)
        clamps: list[Clamp] = []
        for value in (-2.0 * act, 0.0, 2.0 * act, 4.0 * act):
            shifted = base.copy()
            shifted[:-1] += 0.5 * (value - act) / max(act, 1e-3) * effect
            after = np.exp(shifted - shifted.max())
            after /= after.sum()
            order = np.argsort(-after[:-1], kind="stable")
            clamps.append(
                Clamp(
                    value=round(value, 3),
                    tokens=tuple(tokens[i] for i in order),
                    probabilities=tuple(round(float(after[i]), 6) for i in order),
                    baseline_token=tokens[0],
                    baseline_prob_original=round(float(probs[0]), 6),
                    baseline_prob_after=round(float(after[0]), 6),
                    baseline_prob_change=round(float(after[0] - probs[0]), 6),
                )
            )
        out.append(
            Intervention(
                layer=int(features.layer[f]),
                pos=int(features.pos[f]),
                feature_idx=int(features.feature_idx[f]),
                clamps=tuple(clamps),
            )
        )
    return tuple(out)


def make_synthetic_graph(
    *,
    n_layers: int = 12,
    n_tokens: int = 10,
    n_features: int = 400,
    n_edges: int = 8000,
    n_logits: int = 5,
    d_transcoder: int = 24576,
    weighted: bool = True,
    seed: int = 0,
    prompt: str | None = None,
    n_interventions: int = 5,
) -> GraphStore:
    """A deterministic synthetic graph (same arguments, same graph); see the module docstring.

    ``prompt`` (optional) is split with :func:`tokenize` and must give ``n_tokens`` tokens
    once ``<bos>`` is prepended; by default a made-up sentence is used. ``weighted=False``
    gives a 0/1 mask graph. Raises ``ValueError`` on impossible sizes.
    """
    for name, value, low in (
        ("n_layers", n_layers, 1),
        ("n_tokens", n_tokens, 1),
        ("n_features", n_features, 0),
        ("n_edges", n_edges, 0),
        ("n_logits", n_logits, 1),
        ("d_transcoder", d_transcoder, 1),
        ("n_interventions", n_interventions, 0),
    ):
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    rng = np.random.default_rng(seed)
    tokens = _prompt_tokens(n_tokens, prompt)
    features = _feature_columns(rng, n_features, n_layers, n_tokens, d_transcoder)
    n_err = n_layers * n_tokens
    lay = _Layout(
        n_features=n_features,
        n_layers=n_layers,
        n_tokens=n_tokens,
        n_logits=n_logits,
        layer=np.concatenate(
            [
                features.layer,
                np.repeat(np.arange(n_layers), n_tokens),
                np.full(n_tokens, -1),
                np.full(n_logits, n_layers),
            ]
        ),
        pos=np.concatenate(
            [
                features.pos,
                np.tile(np.arange(n_tokens), n_layers),
                np.arange(n_tokens),
                np.full(n_logits, n_tokens - 1),
            ]
        ),
        theme=np.concatenate(
            [
                feature_theme(features.layer, features.feature_idx),
                np.zeros(n_err + n_tokens, np.int64),
                np.arange(n_logits) % len(THEMES),
            ]
        ),
    )
    src, tgt, cat = _edges(rng, lay, _theme_anchors(tokens), n_edges)
    data = _weights(rng, lay, src, tgt, cat) if weighted else np.ones(src.size, dtype=np.float32)
    n = lay.n_nodes
    adjacency = sp.csr_matrix((data, (src, tgt)), shape=(n, n))
    adjacency.sort_indices()

    logit_tokens = tuple(
        _LOGIT_TOKENS[k] if k < len(_LOGIT_TOKENS) else f" token{k}" for k in range(n_logits)
    )
    probs = _logit_probabilities(rng, n_logits)
    interventions = _interventions(
        rng, adjacency, lay, features, logit_tokens, probs, min(n_interventions, n_features)
    )
    graph = CtGraph(
        features=features,
        n_layers=n_layers,
        prompt_tokens=tokens,
        logits=logit_infos(logit_tokens, [token_id(t) for t in logit_tokens], probs.tolist()),
        adjacency=adjacency,
        weighted=weighted,
        input_tokens=np.array([token_id(t) for t in tokens], dtype=np.int64),
        interventions=interventions,
    )
    metadata = GraphMetadata(
        source_path="",
        source_format=SOURCE_FORMAT,
        slug=SYNTHETIC_SLUG,
        scan=SYNTHETIC_SCAN,
        node_threshold=0.8,
        edge_threshold=0.98,
        extra={
            "synthetic": True,
            "seed": seed,
            "d_transcoder": d_transcoder,
            "prompt": "".join(tokens[1:]),
            "themes": [theme.name for theme in THEMES],
        },
    )
    return build_store("<synthetic>", graph, metadata)


# -- autointerp ------------------------------------------------------------------------


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
