"""Node panel rendering: content of the components for synthetic records and a tiny graph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from dash import dcc, html
from dash.development.base_component import Component

from attribution_viewer.app import node_details
from attribution_viewer.app.node_panel import neuronpedia_url
from attribution_viewer.autointerp.records import Example, FeatureDetails, LogitEntry, TokenStat
from attribution_viewer.model import Clamp, GraphStore, Intervention, LogitInfo, NodeKind, NodeTable

# Node order: F(1,0,7)=0, F(2,1,9)=1, X(0,1)=2, E0=3, E1=4, L0=5, L1=6.
EDGES = [(3, 0, 0.5), (0, 1, 1.0), (1, 5, 2.0), (4, 5, 0.3), (2, 6, -0.2), (3, 1, 0.1)]


def tiny_store() -> GraphStore:
    kinds = [NodeKind.FEATURE] * 2 + [NodeKind.ERROR] + [NodeKind.EMBEDDING] * 2 + [NodeKind.LOGIT] * 2
    nodes = NodeTable.build(
        kind=[int(k) for k in kinds],
        layer=[1, 2, 0, -1, -1, 3, 3],
        pos=[0, 1, 1, 0, 1, 1, 1],
        feature_idx=[7, 9, -1, -1, -1, -1, -1],
        token_id=[-1, -1, -1, 15496, 995, 318, 373],
        activation=[3.5, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
    )
    src, dst, w = zip(*EDGES, strict=True)
    adjacency = sp.csr_matrix((np.array(w, np.float32), (src, dst)), shape=(7, 7))
    clamps = (
        Clamp(-2.0, (" cat", " dog", "\n"), (0.6, 0.1, 0.05), " cat", 0.4, 0.6, 0.2),
        Clamp(4.0, (" dog",), (0.7,), " cat", 0.4, 0.05, -0.35),
    )
    return GraphStore(
        nodes=nodes,
        adjacency=adjacency,
        weighted=True,
        n_layers=3,
        prompt_tokens=("Hello", " world"),
        logits=(LogitInfo(" is", 318, 0.7, True), LogitInfo(" was", 373, 0.2, False)),
        interventions=(Intervention(1, 0, 7, clamps),),
    )


def details(**overrides: Any) -> FeatureDetails:
    values: dict[str, Any] = {
        "layer": 1,
        "feature_idx": 7,
        "description": "French cities",
        "explanation": "Fires on names of cities in France.",
        "average_activation": 2.5,
        "max_activation": 7.5,
        "top_examples": (
            Example(("I live in ", "Paris", " now"), (False, True, False), None, 7.5),
            Example(("a", " \n", "Lyon"), (False, False, True), (0.0, 0.0, 4.0), 4.0, "Top"),
            Example(("b", "Nice"), (False, True), (0.0, 2.0), 4.0, "Top"),
        ),
        "top_activating_tokens": (TokenStat(" Paris", 12, 6.25),),
        "top_logits": (LogitEntry(" France", 1.5),),
        "bottom_logits": (LogitEntry(" Germany", -0.5),),
        "language_distribution": {"fr": 0.75, "en": 0.25},
        "general_language_distribution": {"en": 0.5, "de": 0.5},
    }
    values.update(overrides)
    return FeatureDetails(**values)


def walk(node: Any) -> Iterator[Any]:
    if isinstance(node, list | tuple):
        for item in node:
            yield from walk(item)
    elif isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))


def kids(node: Component) -> list[Any]:
    return list(getattr(node, "children", None) or [])


def text(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list | tuple):
        return "".join(text(n) for n in node)
    if isinstance(node, Component):
        return text(getattr(node, "children", None))
    return "" if node is None else str(node)


def by_class(node: Any, name: str) -> list[Any]:
    return [c for c in walk(node) if name in (getattr(c, "className", None) or "").split()]


def facts(node: Any) -> dict[str, str]:
    (dl,) = by_class(node, "facts")
    items = dl.children
    return {text(items[i]): text(items[i + 1]) for i in range(0, len(items), 2)}


def render(d: FeatureDetails | None, index: int = 0, **kw: Any) -> list[Component]:
    args: dict[str, Any] = {"label": "my label", "frequency": None, "neuronpedia_url": None, "error": None}
    args.update(kw)
    return node_details.render_feature_details(d, store=tiny_store(), index=index, **args)


def test_neuronpedia_url() -> None:
    url = neuronpedia_url("gpt2-small", "res-jb", 5, 42)
    assert url == "https://www.neuronpedia.org/gpt2-small/5-res-jb/42"
    assert neuronpedia_url("", "res-jb", 5, 42) is None
    assert neuronpedia_url("gpt2-small", "", 5, 42) is None


def test_feature_title_explanation_and_facts() -> None:
    out = render(details(), frequency=0.0125, neuronpedia_url="https://np/x")
    assert text(by_class(out, "feature-description")) == "French cities"
    assert text(by_class(out, "feature-explanation")) == "Fires on names of cities in France."
    assert facts(out) == {
        "Layer": "1",
        "Position": "0 'Hello'",
        "Feature": "7",
        "Activation": "3.5",
        "Frequency": "1.25%",
        "Mean act.": "2.5",
        "Max act.": "7.5",
    }
    (link,) = by_class(out, "neuronpedia-link")
    assert link.href == "https://np/x" and link.target == "_blank"
    assert by_class(out, "panel-error") == [] and by_class(out, "panel-note") == []


def test_examples_highlight_and_whitespace() -> None:
    out = render(details())
    examples = by_class(out, "example")
    assert len(examples) == 3
    assert [text(s) for s in by_class(examples[0], "tok-hi")] == ["Paris"]
    assert text(examples[0]) == "I live in Paris now"
    # Whitespace-only token shown as symbols, flagged tok-ws.
    (blank,) = by_class(examples[1], "tok-ws")
    assert text(blank) == "\u00b7\u23ce"
    # Per-token activations: the peak gets full shading and its value as tooltip.
    (peak,) = by_class(examples[1], "tok-hi")
    assert peak.style == {"backgroundColor": "rgba(255, 140, 0, 1.00)"} and peak.title == "4"
    (half,) = by_class(examples[2], "tok-hi")
    assert half.style == {"backgroundColor": "rgba(255, 140, 0, 0.57)"}
    # Examples of one group get one group header.
    assert [text(g) for g in by_class(out, "example-group")] == ["Top"]


def test_long_example_is_windowed_around_peak() -> None:
    acts = tuple(1.0 if i == 80 else 0.0 for i in range(100))
    ex = Example(tuple(f"t{i} " for i in range(100)), tuple(a > 0 for a in acts), acts, 1.0)
    rendered = node_details.render_example(ex)
    spans = by_class(rendered, "tok")
    assert len(spans) == node_details.MAX_EXAMPLE_TOKENS + 2  # two "…" gap markers
    assert text(spans[0]) == "…" and text(spans[1]) == "t48 " and text(spans[-2]) == "t95 "
    assert [text(s) for s in by_class(rendered, "tok-hi")] == ["t80 "]


def test_tokens_and_logits() -> None:
    out = render(details())
    (top,) = by_class(out, "top-tokens")
    assert [text(c) for c in by_class(top, "chip")] == [" Paris×12"]
    assert text(by_class(out, "logit-pos")) == "Promotes France+1.5"
    assert text(by_class(out, "logit-neg")) == "Suppresses Germany-0.5"
    assert by_class(out, "logit-in") == []


def test_intervention_table_values() -> None:
    out = render(details())
    (table,) = by_class(out, "intervention-table")
    rows = [r for r in walk(table) if isinstance(r, html.Tr)]
    assert [text(c) for c in kids(rows[0])] == ["Clamp", "Top next tokens", "Baseline token p"]
    first = [text(c) for c in kids(rows[1])]
    assert first == ["-2", " cat0.60 dog0.10\u23ce0.05", "'\u00b7cat' 0.400 → 0.600 (+0.200)"]
    assert text(by_class(rows[1], "delta-pos")) == "(+0.200)"
    assert text(by_class(rows[2], "delta-neg")) == "(-0.350)"
    # The other feature has no interventions: no section.
    assert by_class(render(details(layer=2, feature_idx=9), index=1), "intervention-table") == []


def test_language_chart() -> None:
    out = render(details())
    (graph,) = [c for c in walk(out) if isinstance(c, dcc.Graph)]
    fig = graph.to_plotly_json()["props"]["figure"]
    assert [t["name"] for t in fig["data"]] == ["top examples", "all activations"]
    # Ranked by top-example share (then general share), largest drawn at the top.
    assert fig["data"][0]["y"] == ["de", "en", "fr"]
    assert fig["data"][0]["x"] == [0.0, 0.25, 0.75]
    assert fig["data"][1]["x"] == [0.5, 0.5, 0.0]
    no_lang = render(details(language_distribution={}, general_language_distribution={}))
    assert not [c for c in walk(no_lang) if isinstance(c, dcc.Graph)]


def test_no_details_shows_label_and_note() -> None:
    out = render(None, label="a clerp label")
    assert text(by_class(out, "feature-description")) == "a clerp label"
    assert text(by_class(out, "panel-note")) == "No autointerp description for this feature."
    assert facts(out)["Frequency"] == "—"
    assert by_class(out, "example") == []
    # The graph's interventions are shown even without a description.
    assert len(by_class(out, "intervention-table")) == 1


def test_error_message_replaces_note() -> None:
    out = render(None, error="f.json: top_examples: expected a list")
    (err,) = by_class(out, "panel-error")
    assert err.role == "alert" and "f.json: top_examples: expected a list" in text(err)
    assert by_class(out, "panel-note") == []


@pytest.mark.parametrize(
    ("given", "record", "shown"), [(None, 0.002, "0.2%"), (0.5, 0.002, "50%"), (None, None, "—")]
)
def test_frequency_falls_back_to_record(given: float | None, record: float | None, shown: str) -> None:
    assert facts(render(details(frequency=record), frequency=given))["Frequency"] == shown


def test_embedding_error_logit_details() -> None:
    store = tiny_store()
    emb = node_details.render_embedding_details(store, 3)
    assert facts(emb) == {"Token": "'Hello'", "Position": "0", "Token id": "15496", "Feeds": "2 nodes"}
    err = node_details.render_error_details(store, 2)
    assert facts(err) == {"Layer": "0", "Position": "1 '\u00b7world'", "Fed by": "0 nodes", "Feeds": "1 node"}
    logit = node_details.render_logit_details(store, 5)
    assert text(by_class(logit, "target-badge")) == "target"
    assert facts(logit) == {"Probability": "0.700", "Token id": "318", "Fed by": "2 nodes"}
    other = node_details.render_logit_details(store, 6)
    assert by_class(other, "target-badge") == []
    with pytest.raises(ValueError, match="not a logit"):
        node_details.render_logit_details(store, 0)
