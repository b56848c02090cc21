"""circuit-tracer ``Graph.to_pt`` files (format ``circuit-tracer-pt``).

A dict with ``adjacency_matrix`` (``[target, source]`` over ``[selected features, errors,
tokens, logits]``), ``active_features`` (``layer, pos, feat_idx`` rows),
``selected_features`` (feature node i is ``active_features[selected_features[i]]``),
``activation_values`` (indexed like ``active_features``), ``logit_probabilities``,
``input_tokens``, ``input_string``, ``cfg`` and ``scan_name`` (``scan`` before it was
renamed). Library >= 0.4 stores ``logit_targets`` (``LogitTarget(token_str, vocab_idx)``
records) and ``vocab_size``; older files store ``logit_tokens`` (a tensor of ids).

The file carries no prompt token strings (only ids): prompt tokens, and logit tokens of old
files, are shown as ``#<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders.ct_order import (
    CtGraph,
    FeatureColumns,
    build_store,
    edges_from_target_source,
    infer_n_layers,
    logit_infos,
    n_nodes,
    unknown_token,
)
from attribution_viewer.loaders.torch_io import PickledObject, array, require_keys
from attribution_viewer.model import GraphMetadata, GraphStore

FORMAT_NAME = "circuit-tracer-pt"
_REQUIRED = (
    "adjacency_matrix",
    "active_features",
    "selected_features",
    "logit_probabilities",
    "input_tokens",
)


def is_circuit_tracer(payload: Mapping[str, Any]) -> bool:
    return (
        "adjacency_matrix" in payload and "active_features" in payload and "sparse_pruned_adj" not in payload
    )


def _target_fields(target: Any) -> tuple[Any, Any]:
    """(token_str, vocab_idx) of a LogitTarget stand-in (NamedTuple args or dataclass state)."""
    if isinstance(target, PickledObject):
        if len(target.args) == 2:
            return target.args[0], target.args[1]
        fields = target.fields()
        return fields.get("token_str"), fields.get("vocab_idx")
    if isinstance(target, tuple | list) and len(target) == 2:
        return target[0], target[1]
    return None, None


def _logit_targets(path: str | Path, payload: Mapping[str, Any]) -> tuple[list[str], list[int]]:
    """(token strings, token ids) from ``logit_targets`` (>= 0.4) or ``logit_tokens``."""
    if "logit_targets" not in payload:
        if "logit_tokens" not in payload:
            raise GraphFormatError(
                path, "logit_targets", "logit_targets (list) or logit_tokens (tensor)", "missing"
            )
        ids = array(path, payload, "logit_tokens", ndim=1, kinds="iu").tolist()
        return [unknown_token(i) for i in ids], ids
    raw = payload["logit_targets"]
    if not isinstance(raw, list):  # some 0.4 betas kept the tensor under the new name
        ids = array(path, payload, "logit_targets", ndim=1, kinds="iu").tolist()
        return [unknown_token(i) for i in ids], ids
    tokens: list[str] = []
    ids = []
    for i, target in enumerate(raw):
        token, vocab_idx = _target_fields(target)
        if not isinstance(token, str) or isinstance(vocab_idx, bool) or not isinstance(vocab_idx, int):
            raise GraphFormatError(
                path, f"logit_targets[{i}]", "a LogitTarget(token_str, vocab_idx)", repr(target)
            )
        tokens.append(token)
        ids.append(vocab_idx)
    return tokens, ids


def _cfg_n_layers(cfg: Any) -> int | None:
    fields = cfg.fields() if isinstance(cfg, PickledObject) else cfg if isinstance(cfg, dict) else {}
    value = fields.get("n_layers")
    return value if isinstance(value, int) and value > 0 else None


def _scan(payload: Mapping[str, Any]) -> str:
    scan = payload.get("scan_name", payload.get("scan"))
    if isinstance(scan, list | tuple):
        return "-".join(str(s) for s in scan)
    return scan if isinstance(scan, str) else ""


def load_circuit_tracer(path: str | Path, payload: Mapping[str, Any]) -> GraphStore:
    require_keys(path, payload, _REQUIRED)
    active = array(path, payload, "active_features", ndim=2, kinds="iu", shape=(None, 3)).astype(np.int64)
    selected = array(path, payload, "selected_features", ndim=1, kinds="iu").astype(np.int64)
    if selected.size and (selected.min() < 0 or selected.max() >= active.shape[0]):
        raise GraphFormatError(
            path, "selected_features", f"indices into active_features (0..{active.shape[0] - 1})"
        )
    input_tokens = array(path, payload, "input_tokens", ndim=1, kinds="iu").astype(np.int64)
    tokens, ids = _logit_targets(path, payload)
    probs = array(path, payload, "logit_probabilities", ndim=1, kinds="f", shape=(len(ids),))
    adj = array(path, payload, "adjacency_matrix", ndim=2, kinds="f")
    n, n_pos, n_feat = adj.shape[0], input_tokens.shape[0], selected.shape[0]
    if adj.shape != (n, n):
        raise GraphFormatError(path, "adjacency_matrix", "a square N x N matrix", str(adj.shape))

    rows = active[selected]
    max_layer = int(rows[:, 0].max()) if n_feat else -1
    n_layers = _cfg_n_layers(payload.get("cfg"))
    if n_layers is None:
        n_layers = infer_n_layers(path, "adjacency_matrix", n, n_feat, n_pos, len(ids), max_layer)
    elif n != n_nodes(n_feat, n_layers, n_pos, len(ids)):
        raise GraphFormatError(
            path,
            "adjacency_matrix",
            f"{n_nodes(n_feat, n_layers, n_pos, len(ids))} nodes ({n_feat} features + "
            f"{n_layers} layers x {n_pos} errors + {n_pos} tokens + {len(ids)} logits)",
            f"{n}",
        )
    activation = None
    if "activation_values" in payload:
        values = array(path, payload, "activation_values", ndim=1, kinds="f", shape=(active.shape[0],))
        activation = values[selected]
    extra: dict[str, Any] = {}
    if isinstance(payload.get("input_string"), str):
        extra["prompt"] = payload["input_string"]
    if isinstance(payload.get("vocab_size"), int):
        extra["vocab_size"] = payload["vocab_size"]
    graph = CtGraph(
        features=FeatureColumns(rows[:, 0], rows[:, 1], rows[:, 2], activation),
        n_layers=n_layers,
        prompt_tokens=tuple(unknown_token(t) for t in input_tokens.tolist()),
        logits=logit_infos(tokens, ids, probs.tolist()),
        adjacency=edges_from_target_source(adj),
        weighted=True,
        input_tokens=input_tokens,
    )
    metadata = GraphMetadata(str(path), FORMAT_NAME, scan=_scan(payload), extra=extra)
    return build_store(path, graph, metadata)
