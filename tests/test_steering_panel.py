"""Pure parts of the steering panel and the graph-side requests (no model, no browser): SP1-SP3."""

from __future__ import annotations

import pytest
from builders import build_tiny_store

from attribution_viewer.app.steering_requests import chosen_features, is_open, scores_text
from attribution_viewer.live.backend import from_json, to_json
from attribution_viewer.live.graph_requests import edge_spec, steer_features, strongest_input_edges
from attribution_viewer.scores import graph_scores


def test_sp1_features_come_from_the_chosen_source_and_are_features_only() -> None:
    store = build_tiny_store()
    pinned = ["F:1:1:9", "E:0", "F:0:0:7", "F:1:1:9", "nope"]
    assert chosen_features(store, "selection", "F:0:0:7", pinned, []) == ["F:0:0:7"]
    assert chosen_features(store, "selection", "E:0", pinned, []) == []
    assert chosen_features(store, "pinned", None, pinned, []) == ["F:1:1:9", "F:0:0:7"]
    assert chosen_features(store, "cluster", None, pinned, ["F:0:0:7", "L:0"]) == ["F:0:0:7"]
    assert [is_open(n) for n in (None, 0, 1, 2, 3)] == [False, False, True, False, True]


def test_sp2_edge_checks_take_feature_inputs_strongest_first() -> None:
    store = build_tiny_store()
    # F:1:1:9's inputs: F:0:0:7 (1.0), E:1 (-0.5), X:0:1 (0.25): only the feature can be ablated.
    edges = strongest_input_edges(store, "F:1:1:9", 20)
    assert [(e.source_key, e.graph_weight) for e in edges] == [("F:0:0:7", 1.0)]
    assert edges[0].target.kind == "feature" and edges[0].target.feature is not None
    assert edges[0].target.feature.feature_idx == 9
    into_logit = edge_spec(store, "F:1:1:9", "L:0")
    assert into_logit.graph_weight == 3.0 and into_logit.target.token_id == store.logits[0].token_id
    with pytest.raises(ValueError, match="not in the graph"):
        edge_spec(store, "F:0:0:7", "L:0")
    with pytest.raises(ValueError, match="only feature and logit targets"):
        strongest_input_edges(store, "E:0")
    steer = steer_features(store, ["F:0:0:7", "E:0"], "multiply", 2.0)
    assert len(steer) == 1 and from_json(type(steer[0]), to_json(steer[0])) == steer[0]


def test_sp3_scores_text() -> None:
    store = build_tiny_store()
    text = scores_text(graph_scores(store))
    assert text.startswith("repl 0.") and " · compl " in text
