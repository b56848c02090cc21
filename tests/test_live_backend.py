"""The live backend on a real (tiny, random) circuit-tracer model: L1-L8.

The bundle (model, transcoders, tokenizer, a graph made by ``attribute``) is written once
per module by :func:`live_model.write_tiny_bundle`; nothing is mocked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from live_model import write_tiny_bundle

from attribution_viewer.app import create_app
from attribution_viewer.live.backend import (
    EdgeCheckRequest,
    FeatureRef,
    FeatureSteer,
    GenerateRequest,
    JobCancelled,
    JobHooks,
    ModelSpec,
    SteerRequest,
    SteerResult,
    from_json,
    to_json,
)
from attribution_viewer.live.circuit_tracer_backend import CircuitTracerBackend
from attribution_viewer.live.graph_requests import (
    edge_spec,
    prompt_token_ids,
    steer_features,
    strongest_input_edges,
)
from attribution_viewer.live.jobs import NO_MODEL_MESSAGE, live_setup, model_spec, run_job
from attribution_viewer.live.worker import WorkerClient
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_GRAPH = PROJECT_ROOT / "data" / "example" / "graph.npz"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle's graph (its manifest names the model beside it)."""
    return write_tiny_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def store(bundle: Path) -> GraphStore:
    return open_graph(bundle)


@pytest.fixture(scope="module")
def spec(bundle: Path) -> ModelSpec:
    found = model_spec(Settings(), bundle)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def backend(spec: ModelSpec) -> CircuitTracerBackend:
    return CircuitTracerBackend(spec)


def twenty_edges(store: GraphStore) -> list:
    """The 10 strongest feature inputs of the top logit and of the strongest feature feeding it."""
    into_logit = strongest_input_edges(store, "L:0", 10)
    into_feature = strongest_input_edges(store, into_logit[0].source_key, 10)
    assert len(into_logit) == 10 and len(into_feature) == 10
    return [*into_logit, *into_feature]


def test_l1_edge_check_reproduces_twenty_graph_edges(
    store: GraphStore, backend: CircuitTracerBackend
) -> None:
    edges = twenty_edges(store)
    result = backend.check_edges(EdgeCheckRequest(prompt_token_ids(store), tuple(edges)), JobHooks())
    assert len(result.edges) == 20
    assert {e.target for e in result.edges} == {"L:0", edges[10].target_key}
    for measure in result.edges:
        assert measure.measured == pytest.approx(measure.graph_weight, abs=1e-4), measure
        assert abs(measure.graph_weight) > 1e-3  # real edges, not zeros agreeing with zeros
    assert "every layer frozen" in result.freeze_mode


def test_l2_steering_follows_the_graph(store: GraphStore, backend: CircuitTracerBackend) -> None:
    ids = prompt_token_ids(store)
    edge = strongest_input_edges(store, "L:0", 1)[0]
    unchanged = backend.steer(
        SteerRequest(
            GenerateRequest(ids, n_tokens=2), steer_features(store, [edge.source_key], "multiply", 1.0)
        ),
        JobHooks(),
    )
    # Multiplying by 1 sets the feature to its own activation: nothing changes.
    assert [c.after for c in unchanged.changes] == pytest.approx(
        [c.before for c in unchanged.changes], abs=1e-9
    )
    assert unchanged.steered.text == unchanged.baseline.text
    ablated = backend.steer(
        SteerRequest(GenerateRequest(ids, n_tokens=2), steer_features(store, [edge.source_key], "ablate")),
        JobHooks(),
    )
    target_id = store.logits[0].token_id
    change = next(c for c in ablated.changes if c.token_id == target_id)
    # The edge into the top logit is its direct effect: ablating the source moves the
    # logit's probability in the opposite direction of the edge's sign.
    assert (change.after - change.before) * edge.graph_weight < 0
    assert change.before == pytest.approx(store.logits[0].probability, abs=1e-5)
    assert "attention patterns frozen" in ablated.freeze_mode
    # Generation stops at the model's context length (32 positions, 7 in the prompt).
    long = backend.generate(GenerateRequest(ids, n_tokens=100), JobHooks())
    assert len(long.tokens) == 32 - len(ids)
    # Results cross process boundaries as JSON.
    assert from_json(SteerResult, json.loads(json.dumps(to_json(ablated)))) == ablated


def test_l3_requests_validate_and_decode_with_clear_errors(store: GraphStore) -> None:
    ref = FeatureRef(0, 1, 2)
    with pytest.raises(ValueError, match=r"multiplier: expected -5\.\.5"):
        FeatureSteer(ref, 1.0, "multiply", 7.0)
    assert FeatureSteer(ref, 2.0, "multiply", -1.5).value == -3.0
    assert FeatureSteer(ref, 2.0, "set", 0.5).value == 0.5
    assert FeatureSteer(ref, 2.0, "ablate").value == 0.0
    with pytest.raises(ValueError, match="unknown field 'bogus'"):
        from_json(GenerateRequest, {"token_ids": [1], "bogus": 1})
    with pytest.raises(ValueError, match="not in the graph"):
        edge_spec(store, "F:9:9:9", "L:0")
    outcome = run_job(None, "nope", {}, JobHooks())  # pyright: ignore[reportArgumentType]
    assert not outcome.ok and "job kind" in (outcome.error or "")
    no_ids = dataclasses.replace(
        store, nodes=dataclasses.replace(store.nodes, token_id=np.full(store.n_nodes, -1))
    )
    with pytest.raises(ValueError, match="does not carry its prompt's token ids"):
        prompt_token_ids(no_ids)


def test_l4_model_worker_answers_like_the_model_and_stops_a_cancelled_job(
    store: GraphStore, spec: ModelSpec, backend: CircuitTracerBackend, tmp_path: Path
) -> None:
    client = WorkerClient(spec, tmp_path, secrets.token_bytes(32), os.getpid(), 8.0)
    ids = prompt_token_ids(store)
    request = SteerRequest(GenerateRequest(ids, n_tokens=3), steer_features(store, [store.keys[0]], "ablate"))
    progress: list[tuple[int, int, str]] = []
    remote = client.steer(request, JobHooks(progress=lambda *a: progress.append(a)))
    local = backend.steer(request, JobHooks())
    assert dataclasses.replace(remote, seconds=0) == dataclasses.replace(local, seconds=0)
    assert progress[-1][:2] == (2, 2)

    # 400 edge checks take tens of seconds; cancelled after the first, the job stops at once
    # and the worker is free for the next request.
    many = EdgeCheckRequest(ids, tuple(twenty_edges(store)) * 20)
    seen: list[int] = []
    start = time.perf_counter()
    with pytest.raises(JobCancelled):
        client.check_edges(
            many, JobHooks(progress=lambda d, t, w: seen.append(d), cancelled=lambda: bool(seen))
        )
    one = EdgeCheckRequest(ids, tuple(twenty_edges(store)[:1]))
    assert len(client.check_edges(one, JobHooks()).edges) == 1
    assert time.perf_counter() - start < 10.0

    # A wrong key is refused (the worker's key is this server's secret).
    with pytest.raises(Exception, match=r"digest|authentication|AuthenticationError"):
        dataclasses.replace(client, authkey=b"wrong").steer(request, JobHooks())


def test_l5_no_model_is_a_clear_message_and_the_app_works() -> None:
    settings = Settings(graph_path=EXAMPLE_GRAPH)
    assert live_setup(settings, EXAMPLE_GRAPH) is None
    app = create_app(settings)
    page = str(app.layout())  # pyright: ignore[reportCallIssue]
    assert NO_MODEL_MESSAGE in page
    assert "graph-scores" in page and "graph repl 0." in page
    assert "steer-run" not in page


def test_l6_live_settings_and_manifest(bundle: Path) -> None:
    spec = model_spec(Settings(), bundle)
    assert spec is not None and spec.model == str(bundle.parent / "model")
    assert spec.tokenizer == str(bundle.parent / "tokenizer")
    explicit = model_spec(Settings(model="google/gemma-2-2b", transcoders="gemma"), bundle)
    assert explicit == ModelSpec("google/gemma-2-2b", "gemma", None, "transformerlens")
    with pytest.raises(ValueError, match=r"model / settings\.transcoders"):
        Settings(model="m")
    with pytest.raises(ValueError, match=r"settings\.jobs"):
        Settings(jobs="threads")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "attribution_viewer", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_l7_cli_steer_check_edges_scores_attribute(bundle: Path, store: GraphStore, tmp_path: Path) -> None:
    key = strongest_input_edges(store, "L:0", 1)[0].source_key
    steer = _cli("steer", str(bundle), "--set", f"{key}=0", "--tokens", "2", "--json")
    assert steer.returncode == 0, steer.stderr
    doc = json.loads(steer.stdout)
    assert set(doc) == {"baseline", "steered"}
    assert set(doc["steered"]) == {"top", "text"} and set(doc["steered"]["top"][0]) == {"token", "prob"}
    assert len(doc["baseline"]["text"]) == 2

    edges = _cli("check-edges", str(bundle), "--node", "L:0", "--top", "3", "--json")
    assert edges.returncode == 0, edges.stderr
    rows = [json.loads(line) for line in edges.stdout.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"source", "target", "graph_weight", "measured"}
    assert all(abs(r["graph_weight"] - r["measured"]) < 1e-4 for r in rows)

    scores = _cli("scores", str(bundle), "--json")
    assert scores.returncode == 0 and set(json.loads(scores.stdout)) == {"replacement", "completeness"}
    sub = _cli("scores", str(bundle), "--nodes", key, "--json")
    assert json.loads(sub.stdout)["replacement"] < json.loads(scores.stdout)["replacement"]

    out = bundle.parent / "from_cli.pt"
    made = _cli("attribute", "--prompt", "<bos>12+34=", "--out", str(out), "--max-features", "64")
    assert made.returncode == 0, made.stderr
    new = open_graph(out)
    assert new.count(NodeKind.FEATURE) <= 64 and new.n_pos == 7


def test_l8_cli_bad_input_exits_2_with_one_line(bundle: Path, tmp_path: Path) -> None:
    no_model = _cli("steer", str(EXAMPLE_GRAPH), "--set", "F:0:1:2=0")
    assert no_model.returncode == 2 and "not in the graph" in no_model.stderr
    nowhere = _cli("attribute", "--prompt", "x", "--out", str(tmp_path / "g.pt"))
    assert nowhere.returncode == 2 and "No model configured" in nowhere.stderr
    bad = _cli("scores", str(bundle), "--nodes", "E:0", "--json")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_l9_the_server_never_imports_torch(bundle: Path) -> None:
    """With a model configured, building the app and answering a page leaves torch out."""
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from attribution_viewer.app import create_app\n"
        "from attribution_viewer.settings import Settings\n"
        f"app = create_app(Settings(graph_path=Path({str(bundle)!r}), conversion_cache_dir=None))\n"
        "assert app.server.config['attribution_viewer_context'].live is not None\n"
        "client = app.server.test_client()\n"
        "assert client.get('/_dash-layout').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'circuit_tracer'}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


SHIPPED = PROJECT_ROOT / "data" / "tiny-addition" / "sum-37-45-tens.pt"


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped tiny model is not in data/")
def test_l10_shipped_model_edges_match_its_graph() -> None:
    """The shipped graph's 20 strongest feature inputs of its top logit, measured on its model."""
    store = open_graph(SHIPPED)
    spec = model_spec(Settings(), SHIPPED)
    assert spec is not None
    edges = strongest_input_edges(store, "L:0", 20)
    assert len(edges) == 20
    result = CircuitTracerBackend(spec).check_edges(
        EdgeCheckRequest(prompt_token_ids(store), edges), JobHooks()
    )
    for measure in result.edges:
        assert measure.measured == pytest.approx(measure.graph_weight, abs=1e-4), measure
