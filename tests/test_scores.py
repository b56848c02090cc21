"""Graph scores: exact values on a hand-made graph, and circuit-tracer's own function on real graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, LogitInfo, NodeKind, NodeTable
from attribution_viewer.scores import graph_scores

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_GRAPHS = sorted((PROJECT_ROOT / "data" / "tiny-addition").glob("*.pt"))


def small_store() -> GraphStore:
    """f0 -> logit (2), emb -> f0 (1), err -> f0 (1), err -> logit (2); one logit p=1."""
    sources, targets, weights = [2, 1, 0, 1], [0, 0, 3, 3], [1.0, 1.0, 2.0, 2.0]
    return GraphStore(
        nodes=NodeTable.build(
            kind=[0, 1, 2, 3], layer=[0, 0, -1, 1], pos=[0, 0, 0, 0], feature_idx=[5, -1, -1, -1]
        ),
        adjacency=sp.csr_matrix((weights, (sources, targets)), shape=(4, 4)),
        weighted=True,
        n_layers=1,
        prompt_tokens=("a",),
        logits=(LogitInfo("b", 1, 1.0, True),),
    )


def test_s1_scores_by_hand() -> None:
    scores = graph_scores(small_store())
    # Normalised: logit gets 1/2 from f0 and 1/2 from err; f0 gets 1/2 from emb, 1/2 from err.
    # influence: f0 = 0.5, err = 0.5 + 0.25 = 0.75, emb = 0.25.
    assert scores.replacement == pytest.approx(0.25 / (0.25 + 0.75))
    # completeness: (f0: 0.5 * 0.5) + (err: 1 * 0.75) + (emb: 1 * 0.25) + (logit: 0.5 * 1) / 2.5
    assert scores.completeness == pytest.approx((0.25 + 0.75 + 0.25 + 0.5) / 2.5)
    assert scores.n_features == 1


def test_s2_subgraph_of_all_features_is_the_graph_and_empty_subgraph_counts_tokens_only() -> None:
    store = small_store()
    assert graph_scores(store, [0]) == graph_scores(store)
    empty = graph_scores(store, [])
    # f0 merged into the errors: nothing reaches the logit from the embedding.
    assert empty.replacement == 0.0
    assert empty.n_features == 0
    with pytest.raises(ValueError, match="feature nodes"):
        graph_scores(store, [1])


def _circuit_tracer_scores(path: Path) -> tuple[float, float]:
    from circuit_tracer.graph import Graph, compute_graph_scores

    return compute_graph_scores(Graph.from_pt(str(path)))


def test_s3_matches_circuit_tracer_on_an_attribute_graph(tmp_path: Path) -> None:
    from live_model import attribute_graph, build_tiny_model

    path = attribute_graph(build_tiny_model(tmp_path / "tok"), tmp_path / "g.pt")
    ours = graph_scores(open_graph(path))
    expected = _circuit_tracer_scores(path)
    assert ours.replacement == pytest.approx(expected[0], abs=1e-5)
    assert ours.completeness == pytest.approx(expected[1], abs=1e-5)
    # A subgraph of every feature is the whole graph; half of them scores no higher.
    store = open_graph(path)
    feats = np.arange(store.kind_slices[NodeKind.FEATURE].stop)
    assert tuple(graph_scores(store, feats)) == pytest.approx(tuple(ours), abs=1e-12)
    assert graph_scores(store, feats[::2]).replacement < ours.replacement


@pytest.mark.parametrize("path", SHIPPED_GRAPHS, ids=[p.name for p in SHIPPED_GRAPHS])
def test_s4_matches_circuit_tracer_on_the_shipped_graphs(path: Path) -> None:
    ours = graph_scores(open_graph(path))
    expected = _circuit_tracer_scores(path)
    assert ours.replacement == pytest.approx(expected[0], abs=1e-5)
    assert ours.completeness == pytest.approx(expected[1], abs=1e-5)
