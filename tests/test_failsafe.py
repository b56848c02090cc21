"""Guarded callbacks, bounded JSON and uploads: a failure is a message, never an exception."""

from __future__ import annotations

import base64
import logging

import pytest
from builders import build_tiny_store
from dash.exceptions import PreventUpdate
from test_app_reads import call_callback, figure_output
from test_clustering_core import two_circuits

from attribution_viewer import bounded_json
from attribution_viewer.app import create_app
from attribution_viewer.app.cluster_panel import ActionInputs, apply_action
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.failsafe import error_figure, error_panel, guard
from attribution_viewer.clustering import ClusterState
from attribution_viewer.settings import Settings


def test_fs1_failure_shown_cached_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def draw(x: int) -> str:
        calls.append(x)
        if x < 0:
            raise RuntimeError("influence did not converge\nafter 1000 products")
        return f"figure {x}"

    guarded = guard(draw, "draw the graph", lambda message: ("fallback", message))
    with caplog.at_level(logging.ERROR, logger="attribution_viewer.app.failsafe"):
        first = guarded(-1)
        again = guarded(-1)
        other = guarded(-2)
    message = "Could not draw the graph: RuntimeError: influence did not converge after 1000 products"
    assert first == again == other == ("fallback", message)
    assert calls == [-1, -2]  # the same arguments again: the failure is remembered, not recomputed
    assert [r.getMessage() for r in caplog.records] == [f"{message} (shown in the page; logged once)"]
    assert guarded(3) == "figure 3"


def test_fs2_prevent_update_passes_through() -> None:
    def skip() -> None:
        raise PreventUpdate

    with pytest.raises(PreventUpdate):
        guard(skip, "x", lambda m: m)()


def test_fs3_error_outputs_carry_the_message() -> None:
    figure = error_figure("Could not draw")
    assert figure["layout"]["annotations"][0]["text"] == "Could not draw"
    assert figure["layout"]["xaxis"] == {"visible": False}
    assert error_panel("bad")[0].children == "bad"


def test_fs4_json_depth() -> None:
    assert bounded_json.json_depth(b'[1, {"a": "[[[[ {{"}, [[]]]') == 3
    assert bounded_json.json_depth(b'"\\"[[[["') == 0
    assert bounded_json.json_depth(b"  17 ") == 0
    assert bounded_json.loads(b"[" * 64 + b"]" * 64) is not None
    with pytest.raises(ValueError, match="JSON nested 65 levels deep"):
        bounded_json.loads("[" * 65 + "]" * 65)
    with pytest.raises(ValueError, match="JSON nested 100000 levels deep"):
        bounded_json.loads(b"{" * 100_000)


def test_fs5_deeply_nested_cluster_upload_is_a_status_line() -> None:
    """An uploaded cluster file nested 100,000 levels deep: a message, never an exception."""
    ctx = AppContext(settings=Settings(autointerp_dir=None), store=two_circuits())
    nested = base64.b64encode(b'{"clusters": ' + b"[" * 100_000 + b"]" * 100_000 + b"}").decode()
    upload = ActionInputs(
        "auto", None, None, None, None, None, None, None, [], f"data:;base64,{nested}", "deep.json"
    )
    result = apply_action(ctx, "cluster-upload", ClusterState(), upload)
    assert result.state is None
    expected = "deep.json: expected a complete JSON document, got JSON nested 100001 levels deep"
    assert result.message == expected + " (at most 64 accepted)"


def test_fs6_a_failing_figure_callback_answers_with_a_message(caplog: pytest.LogCaptureFixture) -> None:
    """A graph built by hand with a cycle (no loader repaired it): influence cannot converge.
    The figure callback answers 200 with a figure that says so, twice, logging it once."""
    cycle = [("F:0:0:7", "F:1:1:9", 1.0), ("F:1:1:9", "F:0:0:7", 1.0), ("F:1:1:9", "L:0", 3.0)]
    cyclic = build_tiny_store(edges=cycle)
    client = create_app(Settings(autointerp_dir=None), cyclic).server.test_client()
    output = figure_output(client)
    values = {"prune-value.data": 0.8, "node-size.value": 10, "error-toggle.value": []}
    with caplog.at_level(logging.ERROR, logger="attribution_viewer.app.failsafe"):
        answers = [call_callback(client, output, values, "prune-value.data") for _ in range(2)]
    assert answers[0] == answers[1]
    figure = answers[0]["attribution-graph"]["figure"]
    message = figure["layout"]["annotations"][0]["text"]
    assert message.startswith("Could not draw the graph: RuntimeError: influence did not converge")
    assert answers[0]["shown-counts"]["children"] == message
    assert len(caplog.records) == 1
