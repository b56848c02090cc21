"""Build a GraphStore from a graph in circuit-tracer node order (every ``.pt`` format).

circuit-tracer and the legacy CLT tools keep every error and embedding node, in the order
``[features, errors (layer * n_pos + pos), embeddings, logits]`` -- the store's order -- so
one builder serves them all; each format loader only extracts the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.model import (
    EMBEDDING_LAYER,
    GraphMetadata,
    GraphStore,
    Intervention,
    LogitInfo,
    NodeKind,
    NodeTable,
)


@dataclass(frozen=True)
class FeatureColumns:
    """One entry per feature node, in adjacency order."""

    layer: np.ndarray
    pos: np.ndarray
    feature_idx: np.ndarray
    activation: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.layer.shape[0])


@dataclass(frozen=True)
class CtGraph:
    """Everything a circuit-tracer-ordered file says about a graph, already validated."""

    features: FeatureColumns
    n_layers: int
    prompt_tokens: tuple[str, ...]
    logits: tuple[LogitInfo, ...]
    adjacency: sp.csr_matrix  # [source, target], store order
    weighted: bool
    input_tokens: np.ndarray | None = None
    interventions: tuple[Intervention, ...] = ()
    highlighted: np.ndarray | None = None
    node_mask: np.ndarray | None = None


def n_nodes(n_features: int, n_layers: int, n_pos: int, n_logits: int) -> int:
    return n_features + n_layers * n_pos + n_pos + n_logits


def infer_n_layers(
    path: str | Path, key: str, n_total: int, n_features: int, n_pos: int, n_logits: int, max_layer: int
) -> int:
    """``(N - n_features - n_pos - n_logits) / n_pos``, checked to be whole and > max layer."""
    rest = n_total - n_features - n_pos - n_logits
    if n_pos <= 0 or rest < 0 or rest % n_pos:
        raise GraphFormatError(
            path,
            key,
            f"a node count n_features ({n_features}) + (n_layers + 1) * n_pos ({n_pos}) "
            f"+ n_logits ({n_logits})",
            str(n_total),
        )
    n_layers = rest // n_pos
    if n_layers < max_layer + 1:
        raise GraphFormatError(
            path, key, f"room for {max_layer + 1} layers of error nodes", f"{n_layers} layers"
        )
    return n_layers


def edges_from_target_source(matrix: np.ndarray, mask: np.ndarray | None = None) -> sp.csr_matrix:
    """Dense ``[target, source]`` weights (optionally AND a mask) -> CSR ``[source, target]``.

    Entries where the mask is 0 or the weight is exactly 0 are no edge.
    """
    values = matrix if mask is None else np.where(mask != 0, matrix, 0).astype(matrix.dtype, copy=False)
    targets, sources = np.nonzero(values)
    n = matrix.shape[0]
    return sp.csr_matrix((values[targets, sources], (sources, targets)), shape=(n, n))


def build_store(path: str | Path, graph: CtGraph, metadata: GraphMetadata) -> GraphStore:
    """Assemble the store; checks node ranges against ``n_layers`` and the prompt."""
    feats, n_layers, n_pos = graph.features, graph.n_layers, len(graph.prompt_tokens)
    n_f, n_l = len(feats), len(graph.logits)
    n = n_nodes(n_f, n_layers, n_pos, n_l)
    if graph.adjacency.shape != (n, n):
        raise GraphFormatError(path, "adjacency", f"{n} x {n} nodes", f"{graph.adjacency.shape}")
    if n_f and (feats.layer.min() < 0 or feats.layer.max() >= n_layers):
        raise GraphFormatError(path, "features.layer", f"layers in 0..{n_layers - 1}")
    if n_f and (feats.pos.min() < 0 or feats.pos.max() >= n_pos):
        raise GraphFormatError(path, "features.pos", f"positions in 0..{n_pos - 1}")

    err_layer, err_pos = np.divmod(np.arange(n_layers * n_pos), max(n_pos, 1))
    positions = np.arange(n_pos)
    kind = np.repeat(
        np.array([NodeKind.FEATURE, NodeKind.ERROR, NodeKind.EMBEDDING, NodeKind.LOGIT], dtype=np.int8),
        [n_f, n_layers * n_pos, n_pos, n_l],
    )
    nan = np.full(n - n_f, np.nan, np.float32)
    activation = feats.activation if feats.activation is not None else np.full(n_f, np.nan, np.float32)
    token_ids = np.full(n, -1, np.int64)
    if graph.input_tokens is not None:
        token_ids[n - n_l - n_pos : n - n_l] = graph.input_tokens
    token_ids[n - n_l :] = [lg.token_id for lg in graph.logits]
    nodes = NodeTable.build(
        kind=kind,
        layer=np.concatenate(
            [feats.layer, err_layer, np.full(n_pos, EMBEDDING_LAYER), np.full(n_l, n_layers)]
        ),
        pos=np.concatenate([feats.pos, err_pos, positions, np.full(n_l, n_pos - 1)]),
        feature_idx=np.concatenate([feats.feature_idx, np.full(n - n_f, -1, np.int64)]),
        token_id=token_ids,
        activation=np.concatenate([activation.astype(np.float32), nan]),
    )
    return GraphStore(
        nodes=nodes,
        adjacency=graph.adjacency,
        weighted=graph.weighted,
        n_layers=n_layers,
        prompt_tokens=graph.prompt_tokens,
        logits=graph.logits,
        metadata=metadata,
        interventions=graph.interventions,
        highlighted=graph.highlighted,
        node_mask=graph.node_mask,
    )


def logit_infos(
    tokens: Sequence[str], token_ids: Sequence[int], probabilities: Sequence[float]
) -> tuple[LogitInfo, ...]:
    """LogitInfo per logit node in file order; the first one is the target."""
    return tuple(
        LogitInfo(token=t, token_id=int(i), probability=float(p), is_target=rank == 0)
        for rank, (t, i, p) in enumerate(zip(tokens, token_ids, probabilities, strict=True))
    )


def unknown_token(token_id: int) -> str:
    """Text shown for a token whose string the file does not carry."""
    return f"#{token_id}"
