"""Tiny hand-built graphs for unit tests: ``build_tiny_store(**overrides)``; what a graph's
node panel lists (``described_rows``); the example's app context (``example_context``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.sparse as sp
from conftest import EXAMPLE_SETTINGS

from attribution_viewer.app.context import AppContext
from attribution_viewer.companions import bind_companions
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphMetadata, GraphStore, LogitInfo, NodeKind, NodeTable
from attribution_viewer.view import connections

# Node order: F:0:0:7, F:1:1:9, X:0:0, X:0:1, X:1:0, X:1:1, E:0, E:1, L:0, L:1
TINY_EDGES = [
    ("E:0", "F:0:0:7", 2.0),
    ("F:0:0:7", "F:1:1:9", 1.0),
    ("E:1", "F:1:1:9", -0.5),
    ("F:1:1:9", "L:0", 3.0),
    ("E:1", "L:1", 1.0),
    ("X:0:1", "F:1:1:9", 0.25),
]


def build_tiny_store(**overrides: Any) -> GraphStore:
    """Two layers, two tokens, two features, four errors, two logits, six edges."""
    kinds = [NodeKind.FEATURE] * 2 + [NodeKind.ERROR] * 4 + [NodeKind.EMBEDDING] * 2 + [NodeKind.LOGIT] * 2
    nodes = NodeTable.build(
        kind=kinds,
        layer=[0, 1, 0, 0, 1, 1, -1, -1, 2, 2],
        pos=[0, 1, 0, 1, 0, 1, 0, 1, 1, 1],
        feature_idx=[7, 9, -1, -1, -1, -1, -1, -1, -1, -1],
        activation=[1.5, 2.5, *[np.nan] * 8],
        label=["", "second feature", *[""] * 8],
    )
    keys = ["F:0:0:7", "F:1:1:9", "X:0:0", "X:0:1", "X:1:0", "X:1:1", "E:0", "E:1", "L:0", "L:1"]
    index = {k: i for i, k in enumerate(keys)}
    edges = overrides.pop("edges", TINY_EDGES)
    rows = [index[s] for s, _, _ in edges]
    cols = [index[t] for _, t, _ in edges]
    data = [w for _, _, w in edges]
    adjacency = sp.csr_matrix((data, (rows, cols)), shape=(10, 10), dtype=np.float32)
    fields: dict[str, Any] = {
        "nodes": nodes,
        "adjacency": adjacency,
        "weighted": True,
        "n_layers": 2,
        "prompt_tokens": ("a", " b"),
        "logits": (LogitInfo(" c", 11, 0.6, True), LogitInfo(" d", 12, 0.3, False)),
        "metadata": GraphMetadata(source_format="test", slug="tiny"),
    }
    fields.update(overrides)
    return GraphStore(**fields)


def described_rows(store: GraphStore, key: str) -> list[str]:
    """Keys of the features listed in the connection rows of node ``key``."""
    conns = connections(store, store.index_of[key])
    rows = [*conns.inputs_positive, *conns.inputs_negative, *conns.outputs_positive, *conns.outputs_negative]
    return [row.key for row in rows if store.kind_of(row.node) is NodeKind.FEATURE]


def example_context(**overrides: Any) -> AppContext:
    """The bundled example's AppContext, its companions bound (settings ``overrides``)."""
    graph = EXAMPLE_SETTINGS.graph_path
    assert graph is not None
    settings = bind_companions(dataclasses.replace(EXAMPLE_SETTINGS, **overrides), graph)
    return AppContext(settings=settings, store=open_graph(graph))


def graph_json_node(node_id: str, kind: str, layer: str, pos: int, feature: int = 0, **extra: object) -> dict:
    """One ``nodes[]`` entry of a graph JSON document (``extra``: further fields, as stored)."""
    return {
        "node_id": node_id,
        "feature": feature,
        "layer": layer,
        "ctx_idx": pos,
        "feature_type": kind,
        **extra,
    }
