"""Pure parts of the steering panel and the graph-side requests (no model, no browser): SP1-SP7."""

from __future__ import annotations

import json
import random
import string
from typing import Any

import pytest
from builders import build_tiny_store, example_context
from dash.development.base_component import Component

from attribution_viewer.app.page import build_page
from attribution_viewer.app.steering_history import HISTORY_MAX, history_from_url, rerun_job, with_run
from attribution_viewer.app.steering_requests import (
    chosen_features,
    edge_check_job,
    is_open,
    scores_text,
    steer_job,
)
from attribution_viewer.live.backend import SteerRequest, from_json, to_json
from attribution_viewer.live.graph_requests import edge_spec, steer_features, strongest_input_edges
from attribution_viewer.scores import graph_scores
from attribution_viewer.view import MAX_URL_HISTORY, ViewState, encode_blob, state_from_query, state_to_query


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


def test_sp4_jobs_from_the_controls_and_what_refuses_them() -> None:
    store = build_tiny_store()
    rows = [("F:0:0:7", ["ablate"], -1), ("F:1:1:9", [], "2.5"), ("F:9:9:9", [], 3)]
    job = steer_job(store, (1, 2), ["F:0:0:7", "F:1:1:9"], rows, "all", (99, "x", -4), True, 7.0)
    assert (job["kind"], job["label"], job["id"]) == ("steer", "0/7@0 ablated, 1/9@1 x2.5", 7.0)
    request = from_json(SteerRequest, job["request"])
    assert request.generation.token_ids == (1, 2) and request.where == "all" and request.freeze_attention
    # Control values clamped: 99 tokens -> 64, a temperature that is no number -> 0, seed -4 -> 0.
    assert (request.generation.n_tokens, request.generation.temperature, request.generation.seed) == (
        64,
        0.0,
        0,
    )
    with pytest.raises(ValueError, match="Choose at least one feature"):
        steer_job(store, (1, 2), [], rows, "own", (5, 0, 0), False, 1.0)
    edges = edge_check_job(store, (1, 2), "F:1:1:9", None, False, 2.0)
    assert edges["label"] == "edge check into F:1:1:9 (1 edges)"
    with pytest.raises(ValueError, match="Select a node first"):
        edge_check_job(store, (1, 2), None, None, False, 1.0)
    with pytest.raises(ValueError, match="Choose an input"):
        edge_check_job(store, (1, 2), "F:1:1:9", None, True, 1.0)


def test_sp5_history_keeps_runs_newest_first_once_each() -> None:
    store = build_tiny_store()
    one = steer_job(store, (1, 2), ["F:0:0:7"], [("F:0:0:7", ["ablate"], -1)], "own", (5, 0, 0), True, 1.0)
    two = edge_check_job(store, (1, 2), "F:1:1:9", None, False, 2.0)
    history = with_run(with_run(with_run(None, one), two), {**one, "id": 3.0})
    assert [h["job"]["kind"] for h in history] == ["steer", "check_edges"]  # one moved back to the top
    assert rerun_job(history, 1, 9.0) == {**{k: two[k] for k in ("kind", "request", "label")}, "id": 9.0}
    assert len(with_run([{"job": {"n": i}} for i in range(HISTORY_MAX)], one)) == HISTORY_MAX


def test_sp6_the_history_travels_in_the_url_and_bad_runs_are_dropped() -> None:
    store = build_tiny_store()
    jobs = [
        edge_check_job(store, (1, 2), "F:1:1:9", None, False, float(i)) | {"label": f"run {i}"}
        for i in range(3)
    ]
    # As the browser's store holds it (JSON: lists, not tuples).
    history = json.loads(json.dumps(with_run(with_run(with_run(None, jobs[0]), jobs[1]), jobs[2])))
    query = state_to_query(ViewState(), "g", None, history)
    restored = state_from_query(query, store, "g", ViewState())
    assert restored.history == history and restored.problems == []
    assert history_from_url(restored.history) == (history, [])
    # Only the newest runs that fit are put in the link: 201 runs of distinct labels do not.
    rng = random.Random(0)
    big = [{**h, "label": "".join(rng.choices(string.ascii_letters, k=24))} for h in history * 67]
    assert len(encode_blob(big)) > MAX_URL_HISTORY
    kept = state_from_query(state_to_query(ViewState(), "g", None, big), store, "g", ViewState()).history
    assert kept is not None and 0 < len(kept) < len(big) and kept == big[: len(kept)]
    # A link's runs are checked: a job of another kind and a bad request are dropped, and said.
    bad = [
        history[0],
        {"job": {"kind": "attribute", "request": {}, "label": "x"}},
        {"job": {**history[1]["job"], "request": {"token_ids": []}}},
    ]
    good, problems = history_from_url(bad)
    assert good == [history[0]] and len(problems) == 1 and "2 run(s)" in problems[0]
    assert state_from_query("?graph=g&steer=" + encode_blob({"a": 1}), store, "g", ViewState()).problems == [
        "steer: expected a JSON list"
    ]


def component(node: Any, wanted: str) -> Any:
    """The component with id ``wanted`` in a Dash layout tree, or None."""
    if isinstance(node, list | tuple):
        return next((found for item in node if (found := component(item, wanted)) is not None), None)
    if isinstance(node, Component):
        return (
            node
            if getattr(node, "id", None) == wanted
            else component(getattr(node, "children", None), wanted)
        )
    return None


def test_sp7_a_link_restores_the_steering_history_in_a_new_tab() -> None:
    ctx = example_context()
    key = ctx.store.keys[0]  # a feature
    fake = steer_job(ctx.store, (1, 2), [key], [(key, [], 2)], "own", (5, 0, 0), True, 1.0)
    history = json.loads(json.dumps(with_run(None, fake)))
    page = build_page(ctx, state_to_query(ViewState(), ctx.graph_id, None, history))
    assert component(page, "steer-history").data == history
    broken = [history[0], {"job": {"kind": "steer", "request": {}, "label": "x"}}]
    page = build_page(ctx, state_to_query(ViewState(), ctx.graph_id, None, broken))
    assert component(page, "steer-history").data == history
    assert "steer: 1 run(s) of the link's history dropped" in str(component(page, "notices").children)
