"""Node search: every query form, on the tiny graph."""

from __future__ import annotations

import numpy as np
from builders import build_tiny_store

from attribution_viewer.search import search_nodes, search_status


def found(query: str, **kwargs) -> list[str]:
    store = build_tiny_store()
    return [store.keys[i] for i in search_nodes(store, query, **kwargs)]


def test_layer_query() -> None:
    assert found("L1") == ["F:1:1:9", "X:1:0", "X:1:1"]


def test_layer_feature_query() -> None:
    assert found("l0 / 7") == ["F:0:0:7"]
    assert found("L0/9") == []


def test_canonical_key_query() -> None:
    assert found("E:1") == ["E:1"]


def test_token_query_matches_column_and_logits() -> None:
    assert found("'b'") == ["F:1:1:9", "X:0:1", "X:1:1", "E:1"]
    assert found('"c"') == ["L:0"]


def test_token_query_accepts_the_displayed_form() -> None:
    assert found("'\u00b7b'") == found("'b'") == ["F:1:1:9", "X:0:1", "X:1:1", "E:1"]


def test_label_substring_query_uses_user_labels() -> None:
    assert found("second") == ["F:1:1:9"]
    assert found("moon", labels={"F:0:0:7": "Moon landing"}) == ["F:0:0:7"]


def test_candidates_restrict_matches() -> None:
    store = build_tiny_store()
    candidates = np.zeros(store.n_nodes, dtype=bool)
    candidates[1] = True
    assert search_nodes(store, "L1", candidates=candidates).tolist() == [1]


def test_empty_query() -> None:
    assert found("   ") == []


def test_description_text_is_searched() -> None:
    assert found("lunar") == []
    assert found("LUNAR", descriptions={"F:1:1:9": "Lunar phases and tides"}) == ["F:1:1:9"]


def test_status_counts_shown_and_hidden_matches() -> None:
    visible = np.array([True, False, True, False])
    assert search_status(np.array([0, 1, 3]), visible) == "1 shown / 2 hidden"
    assert search_status(np.zeros(0, dtype=np.int64), visible) == "0 shown / 0 hidden"
