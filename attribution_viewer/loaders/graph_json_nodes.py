"""Graph JSON nodes: one ``nodes[i]`` entry -> :class:`JsonNode`, and what the nodes imply.

Part of the ``graph-json`` loader (:mod:`attribution_viewer.loaders.graph_json` holds the
format's contract). A node's kind comes from ``feature_type``; ``layer`` is a string
(``"E"`` for embeddings); numbers are checked here, once (:func:`json_int`,
:func:`json_float`: JSON null is NaN). :func:`node_label` drops the clerps Neuronpedia
generates for non-feature nodes; :func:`n_layers_of` reads the model depth from the logit
layer. Every bad value raises GraphFormatError naming ``nodes[i].field``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.model import EMBEDDING_LAYER, NodeKind

OUTPUT_CLERP = re.compile(r'^Output "(.*)" \(p=[^)]*\)$', re.DOTALL)
AUTO_CLERP_PREFIXES = ("Emb:", "Err:")


@dataclass(frozen=True)
class JsonNode:
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


def node_kind(path: str | Path, i: int, feature_type: Any) -> NodeKind:
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


def json_int(path: str | Path, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GraphFormatError(path, key, "an integer", repr(value))
    try:
        return int(value)
    except ValueError as exc:
        raise GraphFormatError(path, key, "an integer", repr(value)) from exc


def json_float(path: str | Path, key: str, value: Any) -> float:
    """A finite float; JSON null means "no value" (NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise GraphFormatError(path, key, "a finite number or null", repr(value))
    return float(value)


def parse_node(path: str | Path, i: int, raw: Any) -> JsonNode:
    if not isinstance(raw, dict):
        raise GraphFormatError(path, f"nodes[{i}]", "an object", type(raw).__name__)
    for field in ("node_id", "layer", "ctx_idx", "feature_type"):
        if field not in raw:
            raise GraphFormatError(path, f"nodes[{i}].{field}", "this field", "missing")
    kind = node_kind(path, i, raw["feature_type"])
    if not isinstance(raw["node_id"], str):
        raise GraphFormatError(path, f"nodes[{i}].node_id", "a string", repr(raw["node_id"]))
    if kind is NodeKind.EMBEDDING:
        layer = EMBEDDING_LAYER
    else:
        layer = json_int(path, f"nodes[{i}].layer", raw["layer"])
        if layer < 0:
            raise GraphFormatError(path, f"nodes[{i}].layer", "a layer >= 0", repr(raw["layer"]))
    feature = -1
    if kind in (NodeKind.FEATURE, NodeKind.LOGIT):
        feature = json_int(path, f"nodes[{i}].feature", raw.get("feature"))
    clerp = raw.get("clerp") or ""
    if not isinstance(clerp, str):
        raise GraphFormatError(path, f"nodes[{i}].clerp", "a string", repr(clerp))
    return JsonNode(
        index=i,
        kind=kind,
        layer=layer,
        pos=json_int(path, f"nodes[{i}].ctx_idx", raw["ctx_idx"]),
        feature=feature,
        node_id=raw["node_id"],
        clerp=clerp,
        influence=json_float(path, f"nodes[{i}].influence", raw.get("influence")),
        activation=json_float(path, f"nodes[{i}].activation", raw.get("activation")),
        token_prob=json_float(path, f"nodes[{i}].token_prob", raw.get("token_prob", 0.0)),
        is_target=bool(raw.get("is_target_logit", False)),
    )


def n_layers_of(path: str | Path, by_kind: Mapping[NodeKind, list[JsonNode]]) -> int:
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


def string_list(path: str | Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise GraphFormatError(path, key, "a list of strings", type(value).__name__)
    return value


def node_label(node: JsonNode) -> str:
    if node.kind is NodeKind.FEATURE:
        return node.clerp
    if node.clerp.startswith(AUTO_CLERP_PREFIXES) or OUTPUT_CLERP.match(node.clerp):
        return ""
    return node.clerp


def embedding_token_id(node: JsonNode) -> int:
    """Token id from an embedding id ``E_{token_id}_{pos}`` when it reads so, else -1."""
    parts = node.node_id.split("_")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "E" and parts[1].isdigit() else -1
