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
  recover the themes; :func:`.autointerp.write_synthetic_autointerp` writes descriptions
  that follow the same themes, worded with variety (themes, prompt, logits and
  interventions are in :mod:`.content`);
* a few "always on" (dense) features (:func:`dense_features`) that the frequency file
  marks above 0.5, and a handful of precomputed interventions.

Everything is seeded and vectorised: 10k features / 1M edges build in about a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from attribution_viewer.loaders.ct_order import CtGraph, FeatureColumns, build_store, logit_infos
from attribution_viewer.model import GraphMetadata, GraphStore
from attribution_viewer.testing.content import (
    _LOGIT_TOKENS,
    THEMES,
    _interventions,
    _Layout,
    _logit_probabilities,
    _prompt_tokens,
    _theme_anchors,
    dense_features,
    feature_theme,
    token_id,
)

logger = logging.getLogger(__name__)

SYNTHETIC_SLUG = "synthetic-example"
SYNTHETIC_SCAN = "synthetic"
SOURCE_FORMAT = "synthetic"


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
