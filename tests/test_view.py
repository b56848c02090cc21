"""View state: visible mask rules, connections, URL round trip (exact values on a tiny graph)."""

from __future__ import annotations

import numpy as np
import pytest
from builders import build_tiny_store

from attribution_viewer.view import (
    ViewState,
    connections,
    decode_blob,
    default_prune_threshold,
    encode_blob,
    state_from_query,
    state_to_query,
    visible_edges,
    visible_mask,
)


def keys_of(store, mask) -> list[str]:
    return [store.keys[i] for i in np.flatnonzero(mask)]


def test_visible_mask_hides_errors_and_unconnected_nodes() -> None:
    store = build_tiny_store()
    mask = visible_mask(store, ViewState(prune_threshold=1.0))
    assert keys_of(store, mask) == ["F:0:0:7", "F:1:1:9", "E:0", "E:1", "L:0", "L:1"]
    with_errors = visible_mask(store, ViewState(prune_threshold=1.0, show_errors=True))
    # Only X:0:1 has an edge; the other error nodes are unconnected.
    assert keys_of(store, with_errors) == ["F:0:0:7", "F:1:1:9", "X:0:1", "E:0", "E:1", "L:0", "L:1"]


def test_prune_threshold_keeps_most_influential_first() -> None:
    store = build_tiny_store()
    # cumulative influence: F1 0.6/total ~ 0.568, F0 ~ 0.892, X:0:1 1.0
    mask = visible_mask(store, ViewState(prune_threshold=0.6, show_errors=True))
    assert keys_of(store, mask) == ["F:1:1:9", "E:0", "E:1", "L:0", "L:1"]


def test_pinned_nodes_survive_filters() -> None:
    store = build_tiny_store()
    mask = visible_mask(store, ViewState(prune_threshold=0.1, pinned=("F:0:0:7",)))
    assert "F:0:0:7" in keys_of(store, mask)


def test_frequency_filter_only_hits_features_above_threshold() -> None:
    store = build_tiny_store()
    freqs = np.full(store.n_nodes, np.nan)
    freqs[0], freqs[1] = 0.9, 0.01
    mask = visible_mask(store, ViewState(prune_threshold=1.0, frequency_threshold=0.25), freqs)
    assert keys_of(store, mask) == ["F:1:1:9", "E:0", "E:1", "L:0", "L:1"]


def test_visible_edges_need_both_ends() -> None:
    store = build_tiny_store()
    mask = visible_mask(store, ViewState(prune_threshold=1.0))
    edges = visible_edges(store, mask)
    assert int(edges.sum()) == 5  # all but X:0:1 -> F1


def test_connections_split_and_sorted() -> None:
    store = build_tiny_store()
    conns = connections(store, store.index_of["F:1:1:9"], labels={"F:0:0:7": "renamed"})
    assert [(c.key, c.weight) for c in conns.inputs_positive] == [("F:0:0:7", 1.0), ("X:0:1", 0.25)]
    assert conns.inputs_positive[0].label == "renamed"
    assert [(c.key, c.weight) for c in conns.inputs_negative] == [("E:1", -0.5)]
    assert [(c.key, c.weight) for c in conns.outputs_positive] == [("L:0", 3.0)]
    assert conns.outputs_negative == []


def test_default_prune_threshold() -> None:
    store = build_tiny_store()
    assert default_prune_threshold(store) == 0.8


def test_url_round_trip() -> None:
    store = build_tiny_store()
    state = ViewState(
        prune_threshold=0.55,
        frequency_threshold=0.3,
        show_errors=True,
        node_size=14,
        selected="F:1:1:9",
        pinned=("F:0:0:7", "E:1"),
        labels={"F:0:0:7": "café ☕"},
        show_labels=True,
    )
    clusters = {
        "clusters": [{"id": "a", "name": "n", "color": "#123456", "nodes": ["F:0:0:7"]}],
        "active": ["a"],
    }
    query = state_to_query(state, "tiny", clusters)
    restored = state_from_query(query, store, "tiny", ViewState())
    assert restored.problems == []
    assert restored.state == state
    assert restored.clusters == clusters
    assert "show_labels=1" in query and "show_labels" not in state_to_query(ViewState(), "tiny")


def test_url_with_bad_values_reports_problems() -> None:
    store = build_tiny_store()
    restored = state_from_query(
        "?graph=tiny&prune=abc&node=F:9:9:9&pinned=E:0,nope&labels=%%%", store, "tiny", ViewState()
    )
    assert restored.state.selected is None
    assert restored.state.pinned == ("E:0",)
    assert len(restored.problems) == 4


def test_url_for_another_graph_is_ignored() -> None:
    store = build_tiny_store()
    restored = state_from_query("?graph=other&node=E:0", store, "tiny", ViewState())
    assert restored.state == ViewState()
    assert "other" in restored.problems[0]


def test_blob_round_trip_and_errors() -> None:
    assert decode_blob(encode_blob({"a": [1, "é"]})) == {"a": [1, "é"]}
    with pytest.raises(ValueError, match="malformed"):
        decode_blob("not-base64!")


def test_connections_limit_and_totals() -> None:
    store = build_tiny_store()
    conns = connections(store, store.index_of["F:1:1:9"], limit=1)
    assert [c.key for c in conns.inputs_positive] == ["F:0:0:7"]
    assert conns.totals == (2, 1, 1, 0)


def test_large_cluster_states_stay_out_of_the_url() -> None:
    many = {
        "clusters": [
            {
                "id": f"c{i}",
                "name": f"cluster number {i} " * 4,
                "color": "#123456",
                "nodes": [f"F:{i}:{i}:{i * 7919}"],
            }
            for i in range(400)
        ],
        "active": [],
    }
    assert "clusters=" not in state_to_query(ViewState(), "tiny", many)
    few = {"clusters": many["clusters"][:2], "active": []}
    assert "clusters=" in state_to_query(ViewState(), "tiny", few)
