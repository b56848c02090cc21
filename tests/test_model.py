"""GraphStore: keys, edges in both directions, labels, cumulative influence (exact values)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from builders import build_tiny_store

from attribution_viewer.influence import cumulative_influence, influence
from attribution_viewer.model import GraphStore, NodeKind, NodeTable, visible_token


def test_keys_and_slices() -> None:
    store = build_tiny_store()
    assert store.keys == (
        "F:0:0:7",
        "F:1:1:9",
        "X:0:0",
        "X:0:1",
        "X:1:0",
        "X:1:1",
        "E:0",
        "E:1",
        "L:0",
        "L:1",
    )
    assert store.kind_slices[NodeKind.ERROR] == slice(2, 6)
    assert store.count(NodeKind.LOGIT) == 2
    assert store.index_of["E:1"] == 7


def test_in_and_out_edges() -> None:
    store = build_tiny_store()
    targets, weights = store.out_edges(store.index_of["E:1"])
    assert sorted(zip(targets.tolist(), weights.tolist(), strict=True)) == [(1, -0.5), (9, 1.0)]
    sources, weights = store.in_edges(store.index_of["F:1:1:9"])
    assert sorted(zip(sources.tolist(), weights.tolist(), strict=True)) == [(0, 1.0), (3, 0.25), (7, -0.5)]


def test_display_labels_prefer_file_label() -> None:
    store = build_tiny_store()
    assert store.display_labels[0] == "L0/7 @ 'a'"
    assert store.display_labels[1] == "second feature"
    assert store.display_labels[3] == "Error L0 @ '·b'"
    assert store.display_labels[8] == "Logit '·c' (p=0.600)"


def test_cumulative_influence_from_computed_influence() -> None:
    store = build_tiny_store()
    # Influence on the logits: F1 feeds L0 (p=0.6) with all of L0's input: 0.6.
    # F0 supplies |1| of F1's |1|+|0.25|+|0.5| = 1.75 input: 0.6 / 1.75.
    # X:0:1 supplies 0.25 / 1.75 of F1: 0.6 * 0.25 / 1.75. Other errors: 0.
    infl = influence(store)
    assert infl[1] == pytest.approx(0.6)
    assert infl[0] == pytest.approx(0.6 / 1.75)
    assert infl[3] == pytest.approx(0.6 * 0.25 / 1.75)
    total = 0.6 + 0.6 / 1.75 + 0.6 * 0.25 / 1.75
    cum = cumulative_influence(store)
    assert cum[1] == pytest.approx(0.6 / total)
    assert cum[0] == pytest.approx((0.6 + 0.6 / 1.75) / total)
    assert cum[3] == pytest.approx(1.0)
    assert cum[6] == 0.0 and cum[8] == 0.0  # embeddings and logits always kept


def test_carried_cumulative_influence_is_used() -> None:
    store = build_tiny_store()
    nodes = store.nodes
    carried = NodeTable.build(
        kind=nodes.kind,
        layer=nodes.layer,
        pos=nodes.pos,
        feature_idx=nodes.feature_idx,
        influence=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, np.nan, np.nan, np.nan, np.nan],
    )
    store2 = build_tiny_store(nodes=carried)
    assert cumulative_influence(store2).tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0, 0, 0, 0])


def test_shape_mismatch_rejected() -> None:
    store = build_tiny_store()
    with pytest.raises(ValueError, match="adjacency shape"):
        GraphStore(
            nodes=store.nodes,
            adjacency=sp.csr_matrix((3, 3)),
            weighted=True,
            n_layers=2,
            prompt_tokens=store.prompt_tokens,
            logits=store.logits,
        )


def test_nodes_must_be_grouped_by_kind() -> None:
    with pytest.raises(ValueError, match="grouped by kind"):
        NodeTable.build(kind=[NodeKind.LOGIT, NodeKind.FEATURE], layer=[1, 0], pos=[0, 0])


def test_visible_token() -> None:
    assert visible_token(" a\n\tb") == "·a⏎⇥b"
