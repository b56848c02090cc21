"""Legacy CLT dicts (the original Dash app's input): B-mask, B-full and A-sparse.

* B-mask (``clt-b-mask``): ``sparse_pruned_adj`` is a dense 0/1 ``[target, source]`` mask in
  circuit-tracer order; no weights, so the store is unweighted (weight 1 per edge).
* B-full (``clt-b-full``): the same mask plus real weights (``adjacency_matrix`` or
  ``full_adjacency_matrix``); an edge is kept where the mask is set and the weight is
  not exactly 0.
* A-sparse (``clt-a-sparse``): ``sparse_pruned_adj`` is a sparse COO tensor whose ROWS
  ARE SOURCES in the order ``[tokens, errors, features]``, columns the same plus one last
  column for the single top logit; reordered here into the store's order.

``feature_indices`` rows are ``(pos, layer, feature_idx)``; ``n_layers`` is not stored
and is inferred from the node count.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders.ct_order import (
    CtGraph,
    FeatureColumns,
    build_store,
    edges_from_target_source,
    infer_n_layers,
    logit_infos,
)
from attribution_viewer.loaders.torch_io import array, require_keys, require_torch, string_list
from attribution_viewer.model import Clamp, GraphMetadata, GraphStore, Intervention

log = logging.getLogger(__name__)

B_MASK = "clt-b-mask"
B_FULL = "clt-b-full"
A_SPARSE = "clt-a-sparse"
_WEIGHT_KEYS = ("adjacency_matrix", "full_adjacency_matrix")


def legacy_format(payload: Mapping[str, Any]) -> str | None:
    """Which legacy variant ``payload`` is, or None when it is none of them."""
    if "sparse_pruned_adj" not in payload:
        return None
    adj = payload["sparse_pruned_adj"]
    if getattr(adj, "is_sparse", False):
        return A_SPARSE
    return B_FULL if any(k in payload for k in _WEIGHT_KEYS) else B_MASK


def _features(path: str | Path, payload: Mapping[str, Any]) -> FeatureColumns:
    fi = array(path, payload, "feature_indices", ndim=2, kinds="iu", shape=(None, 3)).astype(np.int64)
    if fi.shape[0] and fi.min() < 0:
        raise GraphFormatError(path, "feature_indices", "non-negative (pos, layer, feature_idx) rows")
    return FeatureColumns(layer=fi[:, 1], pos=fi[:, 0], feature_idx=fi[:, 2])


def _as_int(value: Any) -> int:
    """An int from an int or a 0-d tensor / array."""
    return int(value.item()) if hasattr(value, "item") else int(value)


def _interventions(path: str | Path, raw: Any, token_of_id: Mapping[int, str]) -> tuple[Intervention, ...]:
    """Parse ``intervention_top_tokens``; tensor baseline tokens become their strings."""
    key = "intervention_top_tokens"
    if not isinstance(raw, list):
        raise GraphFormatError(path, key, "a list of {feature_info, interventions}", type(raw).__name__)
    out: list[Intervention] = []
    for i, entry in enumerate(raw):
        try:
            info = entry["feature_info"]
            clamps = []
            for c in entry["interventions"]:
                base = c["baseline_token"]
                if not isinstance(base, str):
                    base_id = _as_int(base)
                    base = token_of_id.get(base_id, str(base_id))
                clamps.append(
                    Clamp(
                        value=float(c["intervention_value"]),
                        tokens=tuple(str(t) for t in c["tokens"]),
                        probabilities=tuple(float(p) for p in c["probabilities"]),
                        baseline_token=base,
                        baseline_prob_original=float(c["baseline_prob_original"]),
                        baseline_prob_after=float(c["baseline_prob_after_intervention"]),
                        baseline_prob_change=float(c["baseline_prob_change"]),
                    )
                )
            out.append(
                Intervention(
                    layer=_as_int(info["layer"]),
                    pos=_as_int(info["position"]),
                    feature_idx=_as_int(info["feature_idx"]),
                    clamps=tuple(clamps),
                )
            )
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise GraphFormatError(
                path,
                f"{key}[{i}]",
                "{feature_info: {layer, position, feature_idx}, interventions: [{intervention_value, tokens, "
                "probabilities, baseline_token, baseline_prob_original, baseline_prob_after_intervention, "
                "baseline_prob_change}]}",
                repr(exc),
            ) from exc
    return tuple(out)


def _highlighted(path: str | Path, raw: Any, feats: FeatureColumns, n: int) -> np.ndarray | None:
    """``feature_list_intersection`` (feature row indices or (layer, pos, idx) rows) as a node mask.

    The field is optional and informal: anything unreadable is logged and ignored.
    """
    try:
        items = np.asarray(raw.tolist() if hasattr(raw, "tolist") else raw, dtype=np.int64)
    except (TypeError, ValueError):
        log.warning("%s: feature_list_intersection is not a list of ints or triples; ignored", path)
        return None
    mask = np.zeros(n, dtype=bool)
    if items.ndim == 1 and items.size and items.min() >= 0 and items.max() < len(feats):
        mask[items] = True
        return mask
    if items.ndim == 2 and items.shape[1] == 3:
        where = {
            (int(a), int(b), int(c)): i
            for i, (a, b, c) in enumerate(zip(feats.layer, feats.pos, feats.feature_idx, strict=True))
        }
        hits = [where[t] for t in map(tuple, items.tolist()) if t in where]
        if len(hits) < items.shape[0]:
            log.warning("%s: %d highlighted features are not in the graph", path, items.shape[0] - len(hits))
        mask[hits] = True
        return mask
    if items.size:
        log.warning("%s: feature_list_intersection has shape %s; ignored", path, items.shape)
    return None


def _common(
    path: str | Path, payload: Mapping[str, Any]
) -> tuple[list[str], np.ndarray | None, dict[str, Any]]:
    tokens = string_list(path, payload, "token_string")
    input_tokens = None
    if "input_tokens" in payload:
        input_tokens = array(path, payload, "input_tokens", ndim=1, kinds="iu", shape=(len(tokens),))
    extra: dict[str, Any] = {}
    if isinstance(payload.get("input_string"), str):
        extra["prompt"] = payload["input_string"]
    return tokens, input_tokens, extra


def load_b(path: str | Path, payload: Mapping[str, Any], source_format: str) -> GraphStore:
    """B-mask or B-full (``source_format`` says which)."""
    require_keys(path, payload, ("sparse_pruned_adj", "feature_indices", "token_string", "logit_tokens"))
    tokens, input_tokens, extra = _common(path, payload)
    feats = _features(path, payload)
    logit_ids = array(path, payload, "logit_tokens", ndim=1, kinds="iu")
    n_logits = logit_ids.shape[0]
    logit_strings = string_list(path, payload, "logit_token_strings", n_logits)
    probs = array(path, payload, "logit_probabilities", ndim=1, kinds="f", shape=(n_logits,))
    mask = array(path, payload, "sparse_pruned_adj", ndim=2)
    n = mask.shape[0]
    if mask.shape != (n, n):
        raise GraphFormatError(path, "sparse_pruned_adj", "a square N x N matrix", str(mask.shape))
    max_layer = int(feats.layer.max()) if len(feats) else -1
    n_layers = infer_n_layers(path, "sparse_pruned_adj", n, len(feats), len(tokens), n_logits, max_layer)

    weighted = source_format == B_FULL
    if weighted:
        weight_key = next(k for k in _WEIGHT_KEYS if k in payload)
        weights = array(path, payload, weight_key, ndim=2, kinds="f", shape=(n, n))
        adjacency = edges_from_target_source(weights, mask)
        feats = FeatureColumns(
            feats.layer, feats.pos, feats.feature_idx, _b_full_activation(path, payload, feats)
        )
    else:
        adjacency = edges_from_target_source((mask != 0).astype(np.float32))

    node_mask = None
    if "feature_mask" in payload:
        node_mask = array(path, payload, "feature_mask", ndim=1, shape=(n,)).astype(bool)
    highlighted = None
    if "feature_list_intersection" in payload:
        highlighted = _highlighted(path, payload["feature_list_intersection"], feats, n)
    graph = CtGraph(
        features=feats,
        n_layers=n_layers,
        prompt_tokens=tuple(tokens),
        logits=logit_infos(logit_strings, logit_ids.tolist(), probs.tolist()),
        adjacency=adjacency,
        weighted=weighted,
        input_tokens=input_tokens,
        highlighted=highlighted,
        node_mask=node_mask,
    )
    token_of_id = dict(zip(logit_ids.tolist(), logit_strings, strict=True))
    return _finish(path, source_format, payload, graph, token_of_id, extra)


def _finish(
    path: str | Path,
    source_format: str,
    payload: Mapping[str, Any],
    graph: CtGraph,
    token_of_id: Mapping[int, str],
    extra: dict[str, Any],
) -> GraphStore:
    """Add the interventions (when present) and the metadata; build the store."""
    if "intervention_top_tokens" in payload:
        graph = replace(
            graph, interventions=_interventions(path, payload["intervention_top_tokens"], token_of_id)
        )
    return build_store(path, graph, GraphMetadata(str(path), source_format, extra=extra))


def _b_full_activation(
    path: str | Path, payload: Mapping[str, Any], feats: FeatureColumns
) -> np.ndarray | None:
    """Activation per feature node: ``activation_values`` indexed like ``active_features``."""
    if "activation_values" not in payload:
        return None
    values = array(path, payload, "activation_values", ndim=1, kinds="f")
    if "selected_features" in payload:
        sel = array(path, payload, "selected_features", ndim=1, kinds="iu", shape=(len(feats),))
        if sel.size and (sel.min() < 0 or sel.max() >= values.shape[0]):
            raise GraphFormatError(
                path, "selected_features", f"indices into activation_values (0..{values.shape[0] - 1})"
            )
        return values[sel]
    if values.shape[0] != len(feats):
        raise GraphFormatError(
            path, "activation_values", f"{len(feats)} values (one per feature)", str(values.shape[0])
        )
    return values


def _a_sparse_edges(
    path: str | Path, payload: Mapping[str, Any], n_tok: int, n_err: int, n_feat: int
) -> sp.csr_matrix:
    """COO ``[source, target]`` over ``[tokens, errors, features] (+ logit column)`` -> store order."""
    torch = require_torch()
    key = "sparse_pruned_adj"
    coo = payload[key].detach().coalesce()
    m = n_tok + n_err + n_feat
    if tuple(coo.shape) != (m, m + 1):
        raise GraphFormatError(
            path,
            key,
            f"shape ({m}, {m + 1}) = tokens + errors + features (+1 logit column)",
            str(tuple(coo.shape)),
        )
    if coo.dtype in (torch.bfloat16, torch.float16):
        coo = coo.float()
    rows, cols = coo.indices().numpy()
    values = coo.values().numpy()
    if not np.all(np.isfinite(values)):
        raise GraphFormatError(path, key, "finite values", "NaN or inf")
    # file index -> store index: tokens after features+errors, errors after features, features first
    order = np.concatenate(
        [np.arange(n_tok) + n_feat + n_err, np.arange(n_err) + n_feat, np.arange(n_feat), [m]]
    )
    keep = values != 0
    return sp.csr_matrix((values[keep], (order[rows[keep]], order[cols[keep]])), shape=(m + 1, m + 1))


def load_a_sparse(path: str | Path, payload: Mapping[str, Any]) -> GraphStore:
    """A-sparse: one logit node (the top logit)."""
    require_keys(
        path,
        payload,
        ("sparse_pruned_adj", "feature_indices", "token_string", "top_logit_idx", "top_logit_prob"),
    )
    tokens, input_tokens, extra = _common(path, payload)
    feats = _features(path, payload)
    shape = tuple(payload["sparse_pruned_adj"].shape)
    max_layer = int(feats.layer.max()) if len(feats) else -1
    n_layers = infer_n_layers(
        path, "sparse_pruned_adj", int(shape[0]) + 1, len(feats), len(tokens), 1, max_layer
    )
    adjacency = _a_sparse_edges(path, payload, len(tokens), n_layers * len(tokens), len(feats))
    top_id = _as_int(array(path, payload, "top_logit_idx", ndim=0, kinds="iu"))
    top_prob = float(array(path, payload, "top_logit_prob", ndim=0, kinds="f"))
    top_token = payload.get("top_logit_token")
    logits = logit_infos([top_token if isinstance(top_token, str) else str(top_id)], [top_id], [top_prob])

    node_mask = None
    if "feature_mask" in payload:
        m = int(shape[0])
        raw = array(path, payload, "feature_mask", ndim=1, shape=(m,)).astype(bool)
        n_tok, n_err = len(tokens), n_layers * len(tokens)
        node_mask = np.concatenate([raw[n_tok + n_err :], raw[n_tok : n_tok + n_err], raw[:n_tok], [True]])
    graph = CtGraph(
        features=feats,
        n_layers=n_layers,
        prompt_tokens=tuple(tokens),
        logits=logits,
        adjacency=adjacency,
        weighted=True,
        input_tokens=input_tokens,
        node_mask=node_mask,
    )
    return _finish(path, A_SPARSE, payload, graph, _top5_tokens(payload), extra)


def _top5_tokens(payload: Mapping[str, Any]) -> dict[int, str]:
    """Token id -> string from the optional ``top5_logit_*`` keys (for baseline tokens)."""
    ids, strings = payload.get("top5_logit_indices"), payload.get("top5_logit_tokens")
    if ids is None or not isinstance(strings, Sequence):
        return {}
    id_list = ids.tolist() if hasattr(ids, "tolist") else list(ids)
    return {int(i): str(s) for i, s in zip(id_list, strings, strict=False)}
