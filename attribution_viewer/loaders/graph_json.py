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
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer import bounded_json
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.model import (
    EMBEDDING_LAYER,
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
_OUTPUT_CLERP = re.compile(r'^Output "(.*)" \(p=[^)]*\)$', re.DOTALL)
_AUTO_CLERP_PREFIXES = ("Emb:", "Err:")
_MAX_DIGITS = 18


@dataclass(frozen=True)
class _Node:
    """One parsed entry of ``nodes`` (before feature indices are decoded)."""

    index: int  # position in the file's node list
    kind: NodeKind
    layer: int  # EMBEDDING_LAYER for embeddings; the raw logit layer for logits
    pos: int
    feature: int
    node_id: str
    clerp: str
    influence: float
    activation: float
    token_prob: float
    is_target: bool


def is_graph_json(doc: Any) -> bool:
    return isinstance(doc, dict) and "nodes" in doc and "links" in doc


def _kind(path: str | Path, i: int, feature_type: Any) -> NodeKind:
    if isinstance(feature_type, str):
        if feature_type == "embedding":
            return NodeKind.EMBEDDING
        if feature_type == "logit":
            return NodeKind.LOGIT
        if "error" in feature_type:
            return NodeKind.ERROR
        if "transcoder" in feature_type:
            return NodeKind.FEATURE
    raise GraphFormatError(
        path,
        f"nodes[{i}].feature_type",
        "'cross layer transcoder' (or another transcoder type), 'mlp reconstruction error', "
        "'embedding' or 'logit'",
        repr(feature_type),
    )


def _int(path: str | Path, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GraphFormatError(path, key, "an integer", repr(value))
    try:
        return int(value)
    except ValueError as exc:
        raise GraphFormatError(path, key, "an integer", repr(value)) from exc


def _float(path: str | Path, key: str, value: Any) -> float:
    """A finite float; JSON null means "no value" (NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise GraphFormatError(path, key, "a finite number or null", repr(value))
    return float(value)


def _parse_node(path: str | Path, i: int, raw: Any) -> _Node:
    if not isinstance(raw, dict):
        raise GraphFormatError(path, f"nodes[{i}]", "an object", type(raw).__name__)
    for field in ("node_id", "layer", "ctx_idx", "feature_type"):
        if field not in raw:
            raise GraphFormatError(path, f"nodes[{i}].{field}", "this field", "missing")
    kind = _kind(path, i, raw["feature_type"])
    if not isinstance(raw["node_id"], str):
        raise GraphFormatError(path, f"nodes[{i}].node_id", "a string", repr(raw["node_id"]))
    if kind is NodeKind.EMBEDDING:
        layer = EMBEDDING_LAYER
    else:
        layer = _int(path, f"nodes[{i}].layer", raw["layer"])
        if layer < 0:
            raise GraphFormatError(path, f"nodes[{i}].layer", "a layer >= 0", repr(raw["layer"]))
    feature = -1
    if kind in (NodeKind.FEATURE, NodeKind.LOGIT):
        feature = _int(path, f"nodes[{i}].feature", raw.get("feature"))
    clerp = raw.get("clerp") or ""
    if not isinstance(clerp, str):
        raise GraphFormatError(path, f"nodes[{i}].clerp", "a string", repr(clerp))
    return _Node(
        index=i,
        kind=kind,
        layer=layer,
        pos=_int(path, f"nodes[{i}].ctx_idx", raw["ctx_idx"]),
        feature=feature,
        node_id=raw["node_id"],
        clerp=clerp,
        influence=_float(path, f"nodes[{i}].influence", raw.get("influence")),
        activation=_float(path, f"nodes[{i}].activation", raw.get("activation")),
        token_prob=_float(path, f"nodes[{i}].token_prob", raw.get("token_prob", 0.0)),
        is_target=bool(raw.get("is_target_logit", False)),
    )


def cantor_unpair(z: int) -> tuple[int, int]:
    """Inverse of the Cantor pairing ``(x + y)(x + y + 1)/2 + y`` -> ``(x, y)``."""
    w = (math.isqrt(8 * z + 1) - 1) // 2
    y = z - w * (w + 1) // 2
    return w - y, y


def _schema0_digits(path: str | Path, feats: list[_Node]) -> int:
    """The ``k`` of ``feature = layer * 10**k + idx`` that fits every feature of layer > 0."""
    upper = [(n.feature, n.layer) for n in feats if n.layer > 0]
    if not upper:
        return 0
    for k in range(1, _MAX_DIGITS + 1):
        if all(f // 10**k == layer for f, layer in upper):
            return k
    raise GraphFormatError(
        path, "nodes[].feature", "layer * 10**k + feature_idx with one k for every feature (schema 0)"
    )


def _feature_indices(path: str | Path, schema: int, feats: list[_Node]) -> tuple[list[int], int]:
    """Decoded feature_idx per feature node, and the schema-0 digit count (0 for schema 1)."""
    digits = _schema0_digits(path, feats) if schema == 0 else 0
    out: list[int] = []
    for n in feats:
        key = f"nodes[{n.index}].feature"
        if n.feature < 0:
            raise GraphFormatError(path, key, "a non-negative encoded feature", str(n.feature))
        if schema == 1:
            layer, idx = cantor_unpair(n.feature)
            if layer != n.layer:
                raise GraphFormatError(
                    path, key, f"the Cantor pair of (layer {n.layer}, feature_idx)", str(n.feature)
                )
        else:
            idx = n.feature - n.layer * 10**digits
        parts = n.node_id.split("_")
        if (
            len(parts) == 3
            and parts[0] == str(n.layer)
            and parts[2] == str(n.pos)
            and parts[1].isdigit()
            and int(parts[1]) != idx
        ):
            raise GraphFormatError(
                path, key, f"feature_idx {parts[1]} as in node_id {n.node_id!r}", f"decodes to {idx}"
            )
        out.append(idx)
    return out, digits


def _n_layers(path: str | Path, by_kind: Mapping[NodeKind, list[_Node]]) -> int:
    logit_layers = {n.layer for n in by_kind[NodeKind.LOGIT]}
    inner = by_kind[NodeKind.FEATURE] + by_kind[NodeKind.ERROR]
    max_inner = max((n.layer for n in inner), default=-1)
    if len(logit_layers) > 1:
        raise GraphFormatError(
            path, "nodes[].layer", "one layer (n_layers + 1) for every logit", str(sorted(logit_layers))
        )
    n_layers = logit_layers.pop() - 1 if logit_layers else max_inner + 1
    if max_inner >= n_layers:
        raise GraphFormatError(
            path,
            "nodes[].layer",
            f"feature / error layers below the logit layer {n_layers + 1}",
            str(max_inner),
        )
    return n_layers


def _string_list(path: str | Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise GraphFormatError(path, key, "a list of strings", type(value).__name__)
    return value


def _label(node: _Node) -> str:
    if node.kind is NodeKind.FEATURE:
        return node.clerp
    if node.clerp.startswith(_AUTO_CLERP_PREFIXES) or _OUTPUT_CLERP.match(node.clerp):
        return ""
    return node.clerp


def _embedding_token_id(node: _Node) -> int:
    """Token id from an embedding id ``E_{token_id}_{pos}`` when it reads so, else -1."""
    parts = node.node_id.split("_")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "E" and parts[1].isdigit() else -1


class _Links(NamedTuple):
    """The adjacency built from ``links`` and what was merged or dropped on the way."""

    adjacency: sp.csr_matrix
    duplicates: int  # links repeating a (source, target) pair: weights summed
    ambiguous: int  # links naming a node id two nodes share: dropped


def _adjacency(
    path: str | Path, links: Any, index_of_id: Mapping[str, int], n: int, ambiguous_ids: set[str]
) -> _Links:
    """CSR ``[source, target]`` float64 from ``links``; links naming ``ambiguous_ids`` dropped."""
    if not isinstance(links, list):
        raise GraphFormatError(path, "links", "a list of {source, target, weight}", type(links).__name__)
    src = np.empty(len(links), np.int64)
    tgt = np.empty(len(links), np.int64)
    weight = np.empty(len(links), np.float64)
    ambiguous = np.zeros(len(links), np.bool_)
    for i, link in enumerate(links):
        if not isinstance(link, dict):
            raise GraphFormatError(
                path, f"links[{i}]", "an object {source, target, weight}", type(link).__name__
            )
        for end, out in (("source", src), ("target", tgt)):
            node_id = link.get(end)
            if isinstance(node_id, str) and node_id in ambiguous_ids:
                ambiguous[i] = True
                out[i] = 0
                continue
            if not isinstance(node_id, str) or node_id not in index_of_id:
                raise GraphFormatError(
                    path, f"links[{i}].{end}", "the node_id of a node in nodes", repr(node_id)
                )
            out[i] = index_of_id[node_id]
        w = link.get("weight")
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
            raise GraphFormatError(path, f"links[{i}].weight", "a finite number", repr(w))
        weight[i] = w
    keep = (weight != 0) & ~ambiguous
    flat = src[keep] * n + tgt[keep]
    duplicates = int(flat.size - np.unique(flat).size)
    adjacency = sp.csr_matrix((weight[keep], (src[keep], tgt[keep])), shape=(n, n))
    adjacency.sum_duplicates()
    adjacency.eliminate_zeros()  # duplicates may cancel
    if duplicates:
        log.warning(
            "%s: %d duplicate links (same source and target); their weights were summed", path, duplicates
        )
    return _Links(adjacency, duplicates, int(ambiguous.sum()))


def _q_params(
    path: str | Path, q: Any, key_of_id: Mapping[str, str]
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]]:
    """(supernodes, pinned) from ``qParams``, node ids mapped to canonical keys."""
    if not isinstance(q, dict):
        return (), ()

    def keys(ids: list[Any], where: str) -> tuple[str, ...]:
        unknown = [i for i in ids if i not in key_of_id]
        if unknown:
            log.warning(
                "%s: %s names %d unknown node ids (ignored): %s", path, where, len(unknown), unknown[:5]
            )
        return tuple(key_of_id[i] for i in ids if i in key_of_id)

    supernodes: list[tuple[str, tuple[str, ...]]] = []
    for j, group in enumerate(q.get("supernodes") or []):
        if not isinstance(group, list) or not group or not isinstance(group[0], str):
            raise GraphFormatError(path, f"qParams.supernodes[{j}]", "[label, node_id, ...]", repr(group))
        supernodes.append((group[0], keys(group[1:], f"qParams.supernodes[{j}]")))
    pinned_raw = q.get("pinnedIds") or []
    if isinstance(pinned_raw, str):
        pinned_raw = [p for p in pinned_raw.split(",") if p]
    if not isinstance(pinned_raw, list):
        raise GraphFormatError(path, "qParams.pinnedIds", "a list of node ids", repr(pinned_raw))
    return tuple(supernodes), keys(pinned_raw, "qParams.pinnedIds")


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
        node_threshold=_float(path, "metadata.node_threshold", node_t) if node_t is not None else None,
        edge_threshold=_float(path, "metadata.pruning_settings.edge_threshold", edge_t)
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
    prompt = _string_list(path, "metadata.prompt_tokens", meta["prompt_tokens"])
    raw_nodes = doc["nodes"]
    if not isinstance(raw_nodes, list):
        raise GraphFormatError(path, "nodes", "a list of node objects", type(raw_nodes).__name__)

    by_kind: dict[NodeKind, list[_Node]] = {k: [] for k in NodeKind}
    for i, raw in enumerate(raw_nodes):
        node = _parse_node(path, i, raw)
        if not 0 <= node.pos < len(prompt):
            raise GraphFormatError(
                path, f"nodes[{i}].ctx_idx", f"a position in 0..{len(prompt) - 1}", str(node.pos)
            )
        by_kind[node.kind].append(node)
    n_layers = _n_layers(path, by_kind)
    by_kind[NodeKind.LOGIT].sort(key=lambda n: -n.token_prob)
    feats = by_kind[NodeKind.FEATURE]
    feature_idx, digits = _feature_indices(path, schema, feats)
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
            token=(m.group(1) if (m := _OUTPUT_CLERP.match(n.clerp)) else ""),
            token_id=n.feature,
            probability=n.token_prob,
            is_target=n.is_target,
        )
        for n in by_kind[NodeKind.LOGIT]
    )
    token_id = [-1] * len(feats) + [-1] * len(by_kind[NodeKind.ERROR])
    token_id += [_embedding_token_id(n) for n in by_kind[NodeKind.EMBEDDING]] + [lg.token_id for lg in logits]
    nodes = NodeTable.build(
        kind=[n.kind for n in ordered],
        layer=[n_layers if n.kind is NodeKind.LOGIT else n.layer for n in ordered],
        pos=[n.pos for n in ordered],
        feature_idx=feature_idx + [-1] * (len(ordered) - len(feats)),
        token_id=token_id,
        activation=[n.activation for n in ordered],
        influence=[n.influence for n in ordered],
        label=[_label(n) for n in ordered],
        source_id=[n.node_id for n in ordered],
    )
    links = _adjacency(path, doc["links"], index_of_id, len(ordered), ambiguous_ids)
    key_of_id = {node_id: keys[idx] for node_id, idx in index_of_id.items()}
    supernodes, pinned = _q_params(path, doc.get("qParams"), key_of_id)
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
