"""Write a graph as Neuronpedia / circuit-tracer graph JSON (``schema_version`` 1).

The output validates against Neuronpedia's published graph schema and reads back through
:func:`attribution_viewer.loaders.open_graph` to the same nodes, keys, edges, weights,
labels, logits, supernodes and pinned nodes. Node ids follow Neuronpedia:

========== ============================ ===================== ======================
kind       ``node_id``                  ``feature``           ``jsNodeId``
========== ============================ ===================== ======================
feature    ``{layer}_{idx}_{pos}``      Cantor(layer, idx)    ``{layer}_{idx}-0``
error      ``0_{layer}_{pos}``          -1                    ``{layer}_{pos}-0``
embedding  ``E_{token_id}_{pos}``       pos                   ``E_{token_id}-{pos}``
logit      ``{n_layers+1}_{tok}_{pos}`` token id              ``L_{tok}-{pos}``
========== ============================ ===================== ======================

(an id that would repeat another, e.g. an error id equal to a layer-0 feature id, gets a
``~n`` suffix). Feature labels travel in ``clerp``; a logit's ``clerp`` must be Neuronpedia's
``Output "token" (p=...)`` (it carries the token text), so custom logit labels are not
written. Mask-only graphs are written with weight 1 on every link (they read back as
weighted).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attribution_viewer.edges import edge_sources
from attribution_viewer.model import GraphStore, NodeKind

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
GENERATOR = {"name": "attribution-viewer"}


def cantor_pair(a: int, b: int) -> int:
    """The Cantor pairing ``(a + b)(a + b + 1)/2 + b`` (Neuronpedia schema 1 ``feature``)."""
    return (a + b) * (a + b + 1) // 2 + b


def _optional(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def node_ids(store: GraphStore) -> list[str]:
    """The Neuronpedia ``node_id`` of every node (see the module docstring), all distinct."""
    nodes = store.nodes
    logit_layer = store.n_layers + 1
    out: list[str] = []
    seen: dict[str, int] = {}
    for i in range(store.n_nodes):
        kind = store.kind_of(i)
        layer, pos = int(nodes.layer[i]), int(nodes.pos[i])
        if kind is NodeKind.FEATURE:
            node_id = f"{layer}_{int(nodes.feature_idx[i])}_{pos}"
        elif kind is NodeKind.ERROR:
            node_id = f"0_{layer}_{pos}"
        elif kind is NodeKind.EMBEDDING:
            node_id = f"E_{int(nodes.token_id[i])}_{pos}"
        else:
            node_id = f"{logit_layer}_{store.logit_info(i).token_id}_{_logit_pos(store, i)}"
        count = seen.get(node_id, 0)
        seen[node_id] = count + 1
        out.append(node_id if count == 0 else f"{node_id}~{count}")
    return out


def _logit_pos(store: GraphStore, index: int) -> int:
    return int(np.clip(store.nodes.pos[index], 0, max(store.n_pos - 1, 0)))


def _node_record(store: GraphStore, i: int, node_id: str, clerp: str) -> dict[str, Any]:
    nodes = store.nodes
    kind = store.kind_of(i)
    layer, pos = int(nodes.layer[i]), int(nodes.pos[i])
    record: dict[str, Any] = {
        "node_id": node_id,
        "feature": -1,
        "layer": str(layer),
        "ctx_idx": pos,
        "feature_type": "",
        "token_prob": 0.0,
        "is_target_logit": False,
        "run_idx": 0,
        "reverse_ctx_idx": 0,
        "jsNodeId": "",
        "clerp": clerp,
        "influence": _optional(float(nodes.influence[i])),
        "activation": _optional(float(nodes.activation[i])),
    }
    if kind is NodeKind.FEATURE:
        idx = int(nodes.feature_idx[i])
        if idx < 0:
            raise ValueError(f"feature node {store.keys[i]} has no feature index; Neuronpedia needs one")
        record |= {"feature": cantor_pair(layer, idx), "feature_type": "cross layer transcoder"}
        record["jsNodeId"] = f"{layer}_{idx}-0"
    elif kind is NodeKind.ERROR:
        record |= {"feature_type": "mlp reconstruction error", "jsNodeId": f"{layer}_{pos}-0"}
    elif kind is NodeKind.EMBEDDING:
        token_id = int(nodes.token_id[i])
        record |= {
            "feature": pos,
            "layer": "E",
            "feature_type": "embedding",
            "jsNodeId": f"E_{token_id}-{pos}",
        }
    else:
        info = store.logit_info(i)
        pos = _logit_pos(store, i)
        record |= {
            "feature": info.token_id,
            "layer": str(store.n_layers + 1),
            "ctx_idx": pos,
            "feature_type": "logit",
            "token_prob": float(info.probability),
            "is_target_logit": bool(info.is_target),
            "jsNodeId": f"L_{info.token_id}-{pos}",
            "clerp": f'Output "{info.token}" (p={info.probability:.3f})',
        }
    return record


def _known(store: GraphStore, keys: Sequence[str], where: str) -> list[int]:
    index_of = store.index_of
    unknown = [k for k in keys if k not in index_of]
    if unknown:
        log.warning("%s: %d keys not in the graph were left out: %s", where, len(unknown), unknown[:5])
    return [index_of[k] for k in keys if k in index_of]


def to_neuronpedia_json(
    store: GraphStore,
    *,
    labels: Mapping[str, str] | None = None,
    pinned: Sequence[str] | None = None,
    supernodes: Sequence[tuple[str, Sequence[str]]] | None = None,
) -> dict[str, Any]:
    """The graph as a Neuronpedia graph JSON document (a dict ready for ``json.dumps``).

    ``labels`` (canonical key -> label) override the graph's own labels; ``pinned`` and
    ``supernodes`` (name, keys) default to the ones the graph was loaded with. Keys not in
    the graph are left out (and logged).
    """
    labels = labels or {}
    pinned = store.pinned if pinned is None else pinned
    supernodes = store.supernodes if supernodes is None else supernodes
    ids = node_ids(store)
    keys = store.keys
    nodes = [
        _node_record(store, i, ids[i], labels.get(keys[i]) or store.nodes.label[i])
        for i in range(store.n_nodes)
    ]

    a = store.adjacency
    sources = edge_sources(store).tolist()
    targets = a.indices.tolist()
    weights = a.data.astype(np.float64).tolist() if store.weighted else [1.0] * a.nnz
    links = [
        {"source": ids[s], "target": ids[t], "weight": w}
        for s, t, w in zip(sources, targets, weights, strict=True)
    ]

    meta = store.metadata
    metadata: dict[str, Any] = {
        "slug": meta.slug or "graph",
        "scan": meta.scan,
        "prompt_tokens": list(store.prompt_tokens),
        "prompt": str(meta.extra.get("prompt", "".join(store.prompt_tokens))),
        "schema_version": SCHEMA_VERSION,
        "info": {"generator": dict(GENERATOR)},
    }
    if meta.node_threshold is not None:
        metadata["node_threshold"] = float(meta.node_threshold)
    pruning = {
        name: float(value)
        for name, value in (("node_threshold", meta.node_threshold), ("edge_threshold", meta.edge_threshold))
        if value is not None
    }
    if pruning:
        metadata["pruning_settings"] = pruning
    q_params = {
        "pinnedIds": [ids[i] for i in _known(store, pinned, "pinned")],
        "supernodes": [
            [name, *(ids[i] for i in _known(store, group, f"supernode {name!r}"))]
            for name, group in supernodes
        ],
        "linkType": "both",
        "clickedId": "",
        "sg_pos": "",
    }
    return {"metadata": metadata, "qParams": q_params, "nodes": nodes, "links": links}
