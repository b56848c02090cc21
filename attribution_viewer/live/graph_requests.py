"""Live requests built from a graph: its prompt, its features and its edges (no torch).

The graph says which token ids were attributed (the embedding nodes carry them), where a
feature sits (layer, position, index) and how active it was, and how strong each edge
is. These functions turn node keys into the requests of
:mod:`attribution_viewer.live.backend`, raising ValueError with one clear line for a key
that cannot be used (not in the graph, not a feature, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attribution_viewer.live.backend import EdgeSpec, EdgeTarget, FeatureRef, FeatureSteer, SteerMode
from attribution_viewer.model import GraphStore, NodeKind

DEFAULT_EDGE_CHECKS = 20


def prompt_token_ids(store: GraphStore) -> tuple[int, ...]:
    """The attributed token ids, in order (from the embedding nodes)."""
    emb = store.kind_slices[NodeKind.EMBEDDING]
    ids = store.nodes.token_id[emb]
    pos = store.nodes.pos[emb]
    if ids.size != store.n_pos or (ids < 0).any() or not np.array_equal(np.sort(pos), np.arange(store.n_pos)):
        raise ValueError(
            f"{store.metadata.source_path}: the graph does not carry its prompt's token ids "
            "(a circuit-tracer .pt graph does): it cannot be run on a model"
        )
    return tuple(int(t) for t in ids[np.argsort(pos)])


def _index(store: GraphStore, key: str) -> int:
    index = store.index_of.get(key)
    if index is None:
        raise ValueError(f"node {key!r}: not in the graph")
    return index


def feature_ref(store: GraphStore, index: int) -> FeatureRef:
    """The feature at node ``index`` (ValueError when it is not a feature)."""
    if store.kind_of(index) is not NodeKind.FEATURE:
        raise ValueError(f"node {store.keys[index]!r}: expected a feature node")
    nodes = store.nodes
    return FeatureRef(int(nodes.layer[index]), int(nodes.pos[index]), int(nodes.feature_idx[index]))


def steer_features(
    store: GraphStore, keys: Sequence[str], mode: SteerMode = "multiply", amount: float = -1.0
) -> tuple[FeatureSteer, ...]:
    """One :class:`FeatureSteer` per feature key (non-feature keys are left out)."""
    out: list[FeatureSteer] = []
    for key in dict.fromkeys(keys):
        index = _index(store, key)
        if store.kind_of(index) is not NodeKind.FEATURE:
            continue
        activation = float(store.nodes.activation[index])
        out.append(
            FeatureSteer(feature_ref(store, index), 0.0 if np.isnan(activation) else activation, mode, amount)
        )
    return tuple(out)


def _target(store: GraphStore, index: int) -> EdgeTarget | None:
    kind = store.kind_of(index)
    if kind is NodeKind.FEATURE:
        return EdgeTarget("feature", feature=feature_ref(store, index))
    if kind is NodeKind.LOGIT:
        return EdgeTarget("logit", token_id=store.logit_info(index).token_id)
    return None


def edge_spec(store: GraphStore, source_key: str, target_key: str) -> EdgeSpec:
    """The edge ``source -> target`` (a feature into a feature or a logit) and its graph weight."""
    source, target = _index(store, source_key), _index(store, target_key)
    sources, weights = store.in_edges(target)
    hit = np.flatnonzero(sources == source)
    if not hit.size:
        raise ValueError(f"edge {source_key} -> {target_key}: not in the graph")
    where = _target(store, target)
    if where is None:
        raise ValueError(f"node {target_key!r}: only feature and logit targets can be checked")
    return EdgeSpec(source_key, target_key, feature_ref(store, source), where, float(weights[hit[0]]))


def strongest_input_edges(
    store: GraphStore, target_key: str, top: int = DEFAULT_EDGE_CHECKS
) -> tuple[EdgeSpec, ...]:
    """The ``top`` strongest (by |weight|) feature inputs of ``target_key`` as edge checks.

    Inputs from errors and embeddings are left out: only a feature can be ablated.
    """
    target = _index(store, target_key)
    where = _target(store, target)
    if where is None:
        raise ValueError(f"node {target_key!r}: only feature and logit targets can be checked")
    sources, weights = store.in_edges(target)
    is_feature = store.nodes.kind[sources] == NodeKind.FEATURE
    sources, weights = sources[is_feature], weights[is_feature]
    order = np.argsort(-np.abs(weights), kind="stable")[:top]
    keys = store.keys
    return tuple(
        EdgeSpec(keys[int(s)], target_key, feature_ref(store, int(s)), where, float(w))
        for s, w in zip(sources[order], weights[order], strict=True)
    )
