"""Neuronpedia / circuit-tracer graph JSON (``create_graph_files`` output), format ``graph-json``.

``{metadata, qParams, nodes, links}``. A node's kind comes from ``feature_type`` (never from
parsing ``node_id``): any ``... transcoder`` type is a feature, ``mlp reconstruction
error`` an error, ``embedding`` and ``logit`` themselves. ``layer`` is a string (``"E"``
for embeddings; logits sit at ``n_layers + 1``), ``ctx_idx`` the position.

A feature's ``feature`` field encodes (layer, feature_idx):

* schema 1 (``metadata.schema_version == 1``): the Cantor pair
  ``(layer + idx) * (layer + idx + 1) / 2 + idx``;
* schema 0 (no ``schema_version``): ``layer * 10**k + idx``, with the one ``k`` that fits
  every feature (``metadata.extra["feature_digits"]``).

Where ``node_id`` reads ``{layer}_{idx}_{pos}`` the decoded index must agree with it.
Labels: a feature's ``clerp``; the clerps Neuronpedia generates for other nodes
(``Emb: ...``, ``Err: ...``, ``Output "tok" (p=...)``) are dropped, the logit's token text
is taken from the latter. Logits are stored by descending probability (ties keep file
order). Links of weight 0 are no edge; duplicate links are summed (and logged). Edge
weights keep the file's float64 precision.

Colliding node ids: older files may give two nodes one ``node_id`` (a feature and an error
node can both read ``0_2_1``). Both nodes are kept; the links and ``qParams`` entries naming
that id cannot be told apart and are dropped, counted in ``GraphStore.warnings``.

This module assembles the store (:func:`load_graph_json`); the parts live beside it:
``graph_json_nodes`` (one node entry, kinds, labels), ``graph_json_schema`` (the two
feature encodings) and ``graph_json_links`` (links -> adjacency, ``qParams``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attribution_viewer import bounded_json
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders.graph_json_links import link_adjacency, q_params
from attribution_viewer.loaders.graph_json_nodes import (
    OUTPUT_CLERP,
    JsonNode,
    embedding_token_id,
    json_float,
    n_layers_of,
    node_label,
    parse_node,
    string_list,
)
from attribution_viewer.loaders.graph_json_schema import feature_indices
from attribution_viewer.model import (
    GraphMetadata,
    GraphStore,
    LogitInfo,
    NodeKind,
    NodeTable,
    embedding_key,
    error_key,
    feature_key,
    logit_key,
)

log = logging.getLogger(__name__)

FORMAT_NAME = "graph-json"


def is_graph_json(doc: Any) -> bool:
    """Whether a parsed document has the shape of graph JSON (``nodes`` and ``links``)."""
    return isinstance(doc, dict) and "nodes" in doc and "links" in doc


def _metadata(
    path: str | Path, meta: Mapping[str, Any], schema: int, digits: int, duplicates: int
) -> GraphMetadata:
    pruning = meta.get("pruning_settings")
    if not isinstance(pruning, dict):
        pruning = {}
    node_t = meta.get("node_threshold", pruning.get("node_threshold"))
    edge_t = pruning.get("edge_threshold", meta.get("edge_threshold"))
    extra: dict[str, Any] = {"schema_version": schema}
    if isinstance(meta.get("prompt"), str):
        extra["prompt"] = meta["prompt"]
    if schema == 0:
        extra["feature_digits"] = digits
    if duplicates:
        extra["duplicate_links"] = duplicates
    return GraphMetadata(
        source_path=str(path),
        source_format=FORMAT_NAME,
        slug=str(meta.get("slug") or ""),
        scan=str(meta.get("scan") or ""),
        node_threshold=json_float(path, "metadata.node_threshold", node_t) if node_t is not None else None,
        edge_threshold=json_float(path, "metadata.pruning_settings.edge_threshold", edge_t)
        if edge_t is not None
        else None,
        extra=extra,
    )


def load_graph_json(path: str | Path, doc: Any) -> GraphStore:
    """Build the store from a parsed graph JSON document."""
    if not is_graph_json(doc):
        raise GraphFormatError(path, "", "a graph JSON object with nodes and links", type(doc).__name__)
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise GraphFormatError(path, "metadata", "an object", type(meta).__name__)
    schema = meta.get("schema_version", 0)
    if schema not in (0, 1) or isinstance(schema, bool):
        raise GraphFormatError(path, "metadata.schema_version", "0 (absent) or 1", repr(schema))
    if "prompt_tokens" not in meta:
        raise GraphFormatError(path, "metadata.prompt_tokens", "the prompt's tokens", "missing")
    prompt = string_list(path, "metadata.prompt_tokens", meta["prompt_tokens"])
    raw_nodes = doc["nodes"]
    if not isinstance(raw_nodes, list):
        raise GraphFormatError(path, "nodes", "a list of node objects", type(raw_nodes).__name__)

    by_kind: dict[NodeKind, list[JsonNode]] = {k: [] for k in NodeKind}
    for i, raw in enumerate(raw_nodes):
        node = parse_node(path, i, raw)
        if not 0 <= node.pos < len(prompt):
            raise GraphFormatError(
                path, f"nodes[{i}].ctx_idx", f"a position in 0..{len(prompt) - 1}", str(node.pos)
            )
        by_kind[node.kind].append(node)
    n_layers = n_layers_of(path, by_kind)
    by_kind[NodeKind.LOGIT].sort(key=lambda n: -n.token_prob)
    feats = by_kind[NodeKind.FEATURE]
    feature_idx, digits = feature_indices(path, schema, feats)
    ordered = [n for k in NodeKind for n in by_kind[k]]

    keys = [feature_key(n.layer, n.pos, idx) for n, idx in zip(feats, feature_idx, strict=True)]
    keys += [error_key(n.layer, n.pos) for n in by_kind[NodeKind.ERROR]]
    keys += [embedding_key(n.pos) for n in by_kind[NodeKind.EMBEDDING]]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise GraphFormatError(
            path, "nodes", "one node per (kind, layer, position, feature)", f"two nodes {dup}"
        )
    keys += [logit_key(rank) for rank in range(len(by_kind[NodeKind.LOGIT]))]
    id_counts = Counter(n.node_id for n in ordered)
    ambiguous_ids = {node_id for node_id, count in id_counts.items() if count > 1}
    index_of_id = {n.node_id: idx for idx, n in enumerate(ordered) if n.node_id not in ambiguous_ids}

    logits = tuple(
        LogitInfo(
            token=(m.group(1) if (m := OUTPUT_CLERP.match(n.clerp)) else ""),
            token_id=n.feature,
            probability=n.token_prob,
            is_target=n.is_target,
        )
        for n in by_kind[NodeKind.LOGIT]
    )
    token_id = [-1] * len(feats) + [-1] * len(by_kind[NodeKind.ERROR])
    token_id += [embedding_token_id(n) for n in by_kind[NodeKind.EMBEDDING]] + [lg.token_id for lg in logits]
    nodes = NodeTable.build(
        kind=[n.kind for n in ordered],
        layer=[n_layers if n.kind is NodeKind.LOGIT else n.layer for n in ordered],
        pos=[n.pos for n in ordered],
        feature_idx=feature_idx + [-1] * (len(ordered) - len(feats)),
        token_id=token_id,
        activation=[n.activation for n in ordered],
        influence=[n.influence for n in ordered],
        label=[node_label(n) for n in ordered],
        source_id=[n.node_id for n in ordered],
    )
    links = link_adjacency(path, doc["links"], index_of_id, len(ordered), ambiguous_ids)
    key_of_id = {node_id: keys[idx] for node_id, idx in index_of_id.items()}
    supernodes, pinned = q_params(path, doc.get("qParams"), key_of_id)
    warnings: tuple[str, ...] = ()
    if ambiguous_ids:
        shared = sorted(ambiguous_ids)
        warnings = (
            f"{sum(id_counts[i] for i in shared)} nodes share {len(shared)} node id(s) "
            f"({', '.join(repr(i) for i in shared[:3])}{', ...' if len(shared) > 3 else ''}): all kept, "
            f"{links.ambiguous:,} of {len(doc['links']):,} links naming them dropped (ambiguous)",
        )
        log.warning("%s: %s", path, warnings[0])
    return GraphStore(
        nodes=nodes,
        adjacency=links.adjacency,
        weighted=True,
        n_layers=n_layers,
        prompt_tokens=tuple(prompt),
        logits=logits,
        metadata=_metadata(path, meta, schema, digits, links.duplicates),
        supernodes=supernodes,
        pinned=pinned,
        warnings=warnings,
    )


def parse_json(path: str | Path, data: bytes) -> Any:
    """JSON text parsed with a nesting limit; GraphFormatError for bad, truncated or deep text."""
    try:
        return bounded_json.loads(data)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too deep
        raise GraphFormatError(path, "", "a complete JSON document", str(exc)) from exc
