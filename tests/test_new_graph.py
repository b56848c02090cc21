"""New graphs from a prompt (issue #13 item 3), without a browser: NG1-NG11.

The names, folders, bounds and exclusive publishing of :mod:`attribution_viewer.live.new_graph`;
the ``attribute`` job on the shipped tiny model (progress by phase, cancellation, no file
replaced); the menu present with a model and absent without one.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from attribution_viewer.app import create_app, ids
from attribution_viewer.app.new_graph import library_path, saved_text
from attribution_viewer.app.page import build_page
from attribution_viewer.live.backend import AttributeRequest, AttributeResult, JobCancelled, JobHooks
from attribution_viewer.live.jobs import model_spec
from attribution_viewer.live.new_graph import (
    MAX_BATCH_SIZE,
    attribute_request,
    candidate_paths,
    is_new_graph_name,
    new_graph_folder,
    new_graph_path,
    new_graphs_library,
    publish,
)
from attribution_viewer.settings import Settings, resolve_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TINY = PROJECT_ROOT / "data" / "tiny-addition"
TINY_GRAPH = TINY / "sum-37-45-tens.npz"
NOW = datetime(2026, 11, 30, 1, 2, 3)
GOOD = {"prompt": "12+34=", "max_logits": 10, "desired_prob": 0.95, "max_features": 4096, "batch_size": 256}


def component_ids(node: Any) -> set[str]:
    """Every string id in a Dash component tree."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
            continue
        if not hasattr(item, "to_plotly_json"):
            continue
        if isinstance(getattr(item, "id", None), str):
            found.add(item.id)
        stack.append(getattr(item, "children", None))
    return found


def test_ng1_names_say_what_the_graph_is_and_never_collide(tmp_path: Path) -> None:
    first = new_graph_path(tmp_path, "12+34=", NOW)
    assert first == tmp_path / "new-12-34-20261130-010203.pt"
    first.write_bytes(b"x")
    assert new_graph_path(tmp_path, "12+34=", NOW) == tmp_path / "new-12-34-20261130-010203-2.pt"
    assert new_graph_path(tmp_path, "   ", NOW).name == "new-prompt-20261130-010203.pt"
    long = new_graph_path(tmp_path, "The capital of Texas is " * 5, NOW).name
    assert long == "new-The-capital-of-Texas-is-The-capital-of-T-20261130-010203.pt"  # 40 characters
    assert new_graph_path(tmp_path, "../../etc/passwd", NOW).parent == tmp_path
    names = [p.name for p in candidate_paths(tmp_path / "g.pt")]
    assert names[:3] == ["g.pt", "g-2.pt", "g-3.pt"] and len(names) == 1000


def test_ng2_folder_setting_else_beside_the_graph(tmp_path: Path) -> None:
    graph = tmp_path / "sub" / "g.npz"
    assert new_graph_folder(Settings(), graph) == tmp_path / "sub"
    assert new_graph_folder(Settings(new_graphs_dir=tmp_path / "out"), graph) == tmp_path / "out"
    assert new_graph_folder(Settings(), None) is None


def test_ng3_publish_exclusive_never_replaces(tmp_path: Path) -> None:
    out = tmp_path / "g.pt"
    out.write_bytes(b"old")
    (tmp_path / "g-2.pt").write_bytes(b"old 2")
    partial = tmp_path / "g.pt.partial"
    partial.write_bytes(b"new")
    assert publish(partial, out, exclusive=True) == tmp_path / "g-3.pt"
    assert (tmp_path / "g-3.pt").read_bytes() == b"new" and not partial.exists()
    assert out.read_bytes() == b"old" and (tmp_path / "g-2.pt").read_bytes() == b"old 2"
    partial.write_bytes(b"newer")
    assert publish(partial, out, exclusive=False) == out
    assert out.read_bytes() == b"newer"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"prompt": ""}, "prompt: expected some text"),
        ({"prompt": " \n"}, "prompt: expected some text"),
        ({"prompt": None}, "prompt: expected some text"),
        ({"prompt": "1" * 21}, "prompt: expected at most 20 characters, got 21"),
        ({"prompt": "1\x002"}, "prompt: expected text without NUL"),
        ({"max_logits": 0}, "max logits: expected an integer 1..100, got 0"),
        ({"max_logits": 2.5}, "max logits: expected an integer 1..100, got 2.5"),
        ({"max_logits": None}, "max logits: expected an integer 1..100, got None"),
        ({"max_logits": True}, "max logits: expected an integer 1..100, got True"),
        ({"desired_prob": 0}, "desired logit probability: expected a number in (0, 1], got 0"),
        ({"desired_prob": 1.5}, "desired logit probability: expected a number in (0, 1], got 1.5"),
        ({"desired_prob": "nan"}, "desired logit probability: expected a number in (0, 1], got 'nan'"),
        ({"max_features": 101}, "max feature nodes: expected an integer 1..100, got 101"),
        ({"batch_size": MAX_BATCH_SIZE + 1}, f"batch size: expected an integer 1..{MAX_BATCH_SIZE}, got"),
    ],
)
def test_ng4_bad_values_named_with_their_range(change: dict[str, Any], message: str) -> None:
    settings = Settings(attribute_max_prompt_chars=20, attribute_max_feature_nodes=100)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        attribute_request(settings, Path("/tmp/x.pt"), **{**GOOD, "max_features": 50, **change})


def test_ng5_good_values_make_an_exclusive_request() -> None:
    values = {**GOOD, "max_logits": "3", "batch_size": 64.0}  # as the browser may send them
    request = attribute_request(Settings(), Path("/tmp/x.pt"), **values)
    assert request == AttributeRequest("12+34=", "/tmp/x.pt", 3, 0.95, 4096, 64, exclusive=True)
    with pytest.raises(ValueError, match=r"settings\.attribute_max_feature_nodes: expected >= 1, got 0"):
        Settings(attribute_max_feature_nodes=0)
    with pytest.raises(ValueError, match=r"settings\.attribute_max_prompt_chars: expected >= 1, got 0"):
        Settings(attribute_max_prompt_chars=0)


def test_ng6_attribute_job_reports_phases_and_never_replaces(tmp_path: Path) -> None:
    from attribution_viewer.live.circuit_tracer_backend import CircuitTracerBackend

    spec = model_spec(Settings(), TINY_GRAPH)
    assert spec is not None
    backend = CircuitTracerBackend(spec)
    steps: list[tuple[int, int, str]] = []
    hooks = JobHooks(progress=lambda done, total, what: steps.append((done, total, what)))
    out = tmp_path / "g.pt"
    out.write_bytes(b"a graph already there")
    result = backend.attribute(AttributeRequest("12+34=", str(out), exclusive=True), hooks)
    assert result.path == str(tmp_path / "g-2.pt") and out.read_bytes() == b"a graph already there"
    assert (result.n_tokens, sorted(p.name for p in tmp_path.iterdir())) == (7, ["g-2.pt", "g.pt"])
    assert [s[0] for s in steps] == [0, 1, 2, 3, 4, 5, 6, 7] and {s[1] for s in steps} == {7}
    assert steps[1][2] == "precomputing activations and vectors" and steps[-1][2] == "done"
    # Cancelled at the second phase: nothing written.
    phases: list[int] = []
    cancelling = JobHooks(
        progress=lambda done, total, what: phases.append(done), cancelled=lambda: len(phases) >= 2
    )
    with pytest.raises(JobCancelled):
        backend.attribute(AttributeRequest("12+34=", str(tmp_path / "c.pt"), exclusive=True), cancelling)
    assert phases == [0, 1] and sorted(p.name for p in tmp_path.iterdir()) == ["g-2.pt", "g.pt"]


def test_ng7_menu_present_with_a_model_absent_without(tmp_path: Path) -> None:
    with_model = create_app(Settings(graph_path=TINY_GRAPH, conversion_cache_dir=None))
    ctx = with_model.server.config["attribution_viewer_context"]
    assert ctx.live is not None
    present = component_ids(build_page(ctx, ""))
    assert {ids.NEW_GRAPH_MENU, ids.NEW_GRAPH_PROMPT, ids.NEW_GRAPH_RUN} <= present
    lone = tmp_path / "g.npz"
    shutil.copy(TINY_GRAPH, lone)  # no manifest beside it: no model
    without = create_app(Settings(graph_path=lone, conversion_cache_dir=None))
    ctx = without.server.config["attribution_viewer_context"]
    assert ctx.live is None
    absent = component_ids(build_page(ctx, ""))
    assert ids.GRAPH in absent and not {i for i in absent if i.startswith("new-graph")}


def test_ng8_saved_graph_opens_only_inside_the_served_folder(tmp_path: Path) -> None:
    from attribution_viewer.app.folder import build_folder_server
    from attribution_viewer.library import GraphIndex

    shutil.copy(TINY_GRAPH, tmp_path / "g.npz")
    settings = Settings(graphs_dir=tmp_path, conversion_cache_dir=None)
    server = build_folder_server(settings, GraphIndex.scan(tmp_path))
    ctx = server.app_for("g.npz").server.config["attribution_viewer_context"]
    shutil.copy(TINY / "sum-37-45-units.pt", tmp_path / "new.pt")
    assert library_path(ctx, tmp_path / "new.pt") == "new.pt"  # rescanned: now in the index
    assert library_path(ctx, tmp_path.parent / "elsewhere.pt") is None
    single = dataclasses.replace(ctx, library=None)
    assert library_path(single, tmp_path / "new.pt") is None
    result = AttributeResult(str(tmp_path / "new.pt"), 77, 7, 2.5)
    assert saved_text(result, True) == "Saved new.pt (77 features, 7 tokens, 2.5 s); opening it."
    assert saved_text(result, False).endswith(f"open it with python launch.py --graph {tmp_path}")


def test_ng9_new_graphs_dir_from_flag_and_environment(tmp_path: Path) -> None:
    import launch

    args = launch.parse_args(["--new-graphs-dir", str(tmp_path)])
    assert args.new_graphs_dir == tmp_path
    assert resolve_settings({"new_graphs_dir": args.new_graphs_dir}).new_graphs_dir == tmp_path
    env = {"ATTRVIEW_NEW_GRAPHS_DIR": "/data/new", "ATTRVIEW_ATTRIBUTE_MAX_FEATURE_NODES": "512"}
    settings = resolve_settings({}, env)
    assert (settings.new_graphs_dir, settings.attribute_max_feature_nodes) == (Path("/data/new"), 512)


def test_ng10_apps_of_one_model_share_its_worker(tmp_path: Path) -> None:
    """Serving a folder builds one app per graph: they share one model worker (one model in
    memory), each with its own job manager."""
    for name in ("sum-37-45-tens.npz", "sum-37-45-units.pt"):
        shutil.copy(TINY / name, tmp_path / name)
    manifest = {name: str(TINY / name) for name in ("model", "transcoders", "tokenizer")}
    (tmp_path / "attribution-viewer.json").write_text(json.dumps(manifest))
    settings = Settings(graph_path=tmp_path / "sum-37-45-tens.npz", conversion_cache_dir=None)
    first = create_app(settings).server.config["attribution_viewer_context"].live
    other = dataclasses.replace(settings, graph_path=tmp_path / "sum-37-45-units.pt")
    second = create_app(other).server.config["attribution_viewer_context"].live
    assert first is not None and second is not None
    assert first.backend is second.backend and first.manager is not second.manager
    capped = dataclasses.replace(settings, job_memory_gb=2.0)
    third = create_app(capped).server.config["attribution_viewer_context"].live
    assert third is not None and third.backend is not first.backend  # another cap: another worker


def test_ng11_one_graph_file_serves_the_graphs_made_beside_it(tmp_path: Path) -> None:
    """Serving ONE graph file with a model: the file and the graphs made from prompts in its
    folder form the server's library (nothing else of the folder, no sub-folder), so a new
    graph opens on the same server; without a model, or with new graphs going elsewhere,
    the file is served alone."""
    made = new_graph_path(tmp_path, "12+34=", NOW)
    assert is_new_graph_name(made.name) and is_new_graph_name("new-12-34-20261130-010203-2.pt")
    assert not any(
        is_new_graph_name(n)
        for n in ("new.pt", "new-x-20261130-010203.npz", "g.pt", "new-a/b-20261130-010203.pt")
    )
    graph = tmp_path / "g.npz"
    shutil.copy(TINY_GRAPH, graph)
    shutil.copy(TINY / "sum-37-45-units.pt", made)
    shutil.copy(TINY / "sum-37-45-units.pt", tmp_path / "other.pt")  # a graph, not made here
    (tmp_path / "sub").mkdir()
    shutil.copy(TINY / "sum-37-45-units.pt", tmp_path / "sub" / made.name)
    settings = Settings(graph_path=graph, conversion_cache_dir=None)
    assert model_spec(settings, graph) is None and new_graphs_library(settings, False) is None
    manifest = {name: str(TINY / name) for name in ("model", "transcoders", "tokenizer")}
    (tmp_path / "attribution-viewer.json").write_text(json.dumps(manifest))
    assert model_spec(settings, graph) is not None  # the manifest names the model
    found = new_graphs_library(settings, True)
    assert found is not None
    library_settings, index = found
    assert library_settings.graphs_dir == tmp_path and library_settings.graph_path == graph
    assert list(index.entries) == ["g.npz", made.name]
    later = made.with_name("new-5-5-20261130-020304.pt")
    shutil.copy(TINY / "sum-37-45-units.pt", later)
    index.rescan()
    assert list(index.entries) == ["g.npz", made.name, later.name]
    elsewhere = dataclasses.replace(settings, new_graphs_dir=tmp_path / "sub")
    assert new_graphs_library(elsewhere, True) is None
    same = dataclasses.replace(settings, new_graphs_dir=tmp_path)
    assert new_graphs_library(same, True) is not None
