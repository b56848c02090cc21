"""Adapters: each record format -> FeatureDetails, and clear errors on malformed records."""

from __future__ import annotations

import math
from typing import Any

import pytest

from attribution_viewer.autointerp.parsers import (
    CIRCUIT_TRACER,
    NEURONPEDIA,
    ORIGINAL,
    example_from_marked_text,
    parse_feature_record,
)
from attribution_viewer.autointerp.records import Example, LogitEntry, TokenStat, model_mismatch
from attribution_viewer.errors import GraphFormatError


def original_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "layer": 3,
        "feature_index": 17,
        "description": "French cities",
        "explanation": "Fires on names of cities in France.",
        "average_activation": 2.5,
        "top_examples": ["I live in <<Paris>> now", "<<Lyon>> and <<Nice>>"],
        "top_examples_tks": [
            {"tokens": [40, 2107], "activations": [0.0, 7.5], "max_val": 7.5},
            {"tokens": [1, 2], "activations": [6.0, 0.0], "max_val": 6.0},
        ],
        "top_activating_tokens": [
            {"token": " Paris", "token_id": 6342, "frequency": 12, "average_activation": 6.25},
            {"token": " Lyon", "token_id": 9, "frequency": 3, "average_activation": 5.0},
        ],
        "language_distribution": {"fr": 0.75, "en": 0.25},
        "general_language_distribution": {"en": 0.5, "fr": 0.5},
    }
    record.update(overrides)
    return record


def circuit_tracer_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "index": 123,
        "examples_quantiles": [
            {
                "quantile_name": "Top activations",
                "examples": [
                    {"tokens": ["the", " cat", " sat"], "tokens_acts_list": [0.0, 3.0, 1.0]},
                    {"tokens": ["a", " cat"], "tokens_acts_list": [0.0, 2.0]},
                ],
            },
            {
                "quantile_name": "Subsample 1",
                "examples": [{"tokens": ["dog", "!"], "tokens_acts_list": [0.5, 0.0]}],
            },
        ],
        "top_logits": [" meow", " purr"],
        "bottom_logits": [" bark"],
        "act_min": 0.0,
        "act_max": 3.0,
        "activation_frequency": 0.002,
    }
    record.update(overrides)
    return record


def neuronpedia_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "modelId": "gpt2-small",
        "layer": "5-res-jb",
        "index": "42",
        "explanations": [{"description": "numbers in dates"}, {"description": "years"}],
        "activations": [
            {
                "tokens": ["In", " 1999", ","],
                "values": [0.0, 4.0, 0.0],
                "maxValue": 4.0,
                "maxValueTokenIndex": 1,
            },
            {"tokens": [" 2001"], "values": [3.0], "maxValue": 3.0, "maxValueTokenIndex": 0},
        ],
        "pos_str": [" AD", " BC"],
        "pos_values": [0.9, 0.8],
        "neg_str": [" the"],
        "neg_values": [-0.7],
        "frac_nonzero": 0.0125,
        "maxActApprox": 4.5,
    }
    record.update(overrides)
    return record


# -- original ------------------------------------------------------------------------
def test_original_record_fields() -> None:
    d = parse_feature_record(original_record(), "f.json", 3, 17)
    assert (d.layer, d.feature_idx, d.source_format, d.source_path) == (3, 17, ORIGINAL, "f.json")
    assert d.description == "French cities"
    assert d.explanation == "Fires on names of cities in France."
    assert d.average_activation == 2.5
    assert d.max_activation == 7.5
    assert d.top_examples[0] == Example(("I live in ", "Paris", " now"), (False, True, False), None, 7.5)
    assert d.top_examples[1].tokens == ("Lyon", " and ", "Nice")
    assert d.top_examples[1].highlighted == (True, False, True)
    assert d.top_examples[1].highlighted_text == "Lyon … Nice"
    assert d.top_activating_tokens == (TokenStat(" Paris", 12, 6.25), TokenStat(" Lyon", 3, 5.0))
    assert dict(d.language_distribution) == {"fr": 0.75, "en": 0.25}
    assert dict(d.general_language_distribution) == {"en": 0.5, "fr": 0.5}
    assert d.top_logits == () and d.frequency is None


def test_original_optional_logits_in_three_shapes() -> None:
    rec = original_record(
        top_logits=[" a", {"token": " b", "value": 1.5}, [" c", -2]],
        input_logits=[{"token": " in", "logit": 0.25}],
    )
    d = parse_feature_record(rec, "f.json", 3, 17)
    assert d.top_logits == (LogitEntry(" a"), LogitEntry(" b", 1.5), LogitEntry(" c", -2.0))
    assert d.input_logits == (LogitEntry(" in", 0.25),)


def test_marked_text_edge_cases() -> None:
    assert example_from_marked_text("no span").tokens == ("no span",)
    assert example_from_marked_text("no span").highlighted == (False,)
    ex = example_from_marked_text("<<all>>")
    assert (ex.tokens, ex.highlighted) == (("all",), (True,))
    ex = example_from_marked_text("a <<b\nc>> d <<unclosed")
    assert ex.tokens == ("a ", "b\nc", " d <<unclosed")
    assert ex.highlighted == (False, True, False)
    assert example_from_marked_text("").tokens == ("",)


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        ({"description": 5}, "description", "a string"),
        ({"top_examples": "text"}, "top_examples", "a list"),
        ({"top_examples": ["ok", 3]}, "top_examples[1]", "a string"),
        ({"average_activation": "high"}, "average_activation", "a number"),
        ({"feature_index": 18}, "feature_index", "17 (the feature this file is stored as)"),
        ({"top_activating_tokens": [{"token": 5}]}, "top_activating_tokens[0].token", "a string"),
        ({"language_distribution": {"fr": "most"}}, "language_distribution.fr", "a number"),
        ({"top_examples_tks": [{"max_val": "x"}]}, "top_examples_tks[0].max_val", "a number"),
        ({"top_logits": [7]}, "top_logits[0]", "a token string, {token, value} or [token, value]"),
    ],
)
def test_original_malformed_names_key(overrides: dict[str, Any], key: str, expected: str) -> None:
    with pytest.raises(GraphFormatError) as info:
        parse_feature_record(original_record(**overrides), "bad.json", 3, 17)
    assert (info.value.path, info.value.key, info.value.expected) == ("bad.json", key, expected)


# -- circuit-tracer ------------------------------------------------------------------
def test_circuit_tracer_record_fields() -> None:
    d = parse_feature_record(circuit_tracer_record(), "ct.json", 2, 9)
    assert (d.layer, d.feature_idx, d.source_format) == (2, 9, CIRCUIT_TRACER)
    assert d.description == ""
    assert d.max_activation == 3.0 and d.frequency == 0.002
    assert len(d.top_examples) == 3
    first = d.top_examples[0]
    assert first.tokens == ("the", " cat", " sat")
    assert first.activations == (0.0, 3.0, 1.0)
    assert first.highlighted == (False, True, True)
    assert first.max_activation == 3.0 and first.label == "Top activations"
    assert d.top_examples[2].label == "Subsample 1"
    # " cat" peaks twice (3.0 and 2.0), "dog" once.
    assert d.top_activating_tokens == (TokenStat(" cat", 2, 2.5), TokenStat("dog", 1, 0.5))
    assert d.top_logits == (LogitEntry(" meow"), LogitEntry(" purr"))
    assert d.bottom_logits == (LogitEntry(" bark"),)


def test_circuit_tracer_length_mismatch() -> None:
    rec = circuit_tracer_record(
        examples_quantiles=[
            {"quantile_name": "q", "examples": [{"tokens": ["a", "b"], "tokens_acts_list": [1.0]}]}
        ]
    )
    with pytest.raises(GraphFormatError) as info:
        parse_feature_record(rec, "ct.json", 0, 0)
    assert info.value.key == "examples_quantiles[0].examples[0].tokens_acts_list"
    assert info.value.expected == "2 values (one per token)"
    assert info.value.got == "1"


def test_circuit_tracer_examples_must_be_objects() -> None:
    with pytest.raises(GraphFormatError) as info:
        parse_feature_record(circuit_tracer_record(examples_quantiles=[1]), "ct.json", 0, 0)
    assert (info.value.key, info.value.expected, info.value.got) == (
        "examples_quantiles[0]",
        "an object",
        "an integer",
    )


# -- Neuronpedia ---------------------------------------------------------------------
def test_neuronpedia_record_fields() -> None:
    d = parse_feature_record(neuronpedia_record(), "np.json", 5, 42)
    assert d.source_format == NEURONPEDIA
    assert d.description == "numbers in dates"
    assert d.explanation == "years"
    assert d.frequency == 0.0125 and d.max_activation == 4.5
    assert d.top_examples[0].highlighted == (False, True, False)
    assert d.top_examples[0].highlighted_text == " 1999"
    assert d.top_examples[1].max_activation == 3.0
    assert d.top_logits == (LogitEntry(" AD", 0.9), LogitEntry(" BC", 0.8))
    assert d.bottom_logits == (LogitEntry(" the", -0.7),)
    assert d.top_activating_tokens == (TokenStat(" 1999", 1, 4.0), TokenStat(" 2001", 1, 3.0))
    assert d.model == "gpt2-small"


def test_model_mismatch_is_said_only_when_both_sides_name_different_models() -> None:
    d = parse_feature_record(neuronpedia_record(), "np.json", 5, 42)
    assert model_mismatch("GPT2-small", d) == ""
    assert model_mismatch("", d) == ""
    assert model_mismatch("gemma-2-2b", d) == (
        "This description was made for model 'gpt2-small', but the graph was made with "
        "'gemma-2-2b': it may describe another feature."
    )
    unnamed = parse_feature_record(neuronpedia_record(modelId=None), "np.json", 5, 42)
    assert model_mismatch("gemma-2-2b", unnamed) == ""


def test_neuronpedia_logit_values_mismatch() -> None:
    with pytest.raises(GraphFormatError) as info:
        parse_feature_record(neuronpedia_record(pos_values=[1.0]), "np.json", 5, 42)
    assert info.value.key == "pos_values"


def test_neuronpedia_without_values_keeps_tokens() -> None:
    d = parse_feature_record(neuronpedia_record(pos_values=None), "np.json", 5, 42)
    assert d.top_logits == (LogitEntry(" AD"), LogitEntry(" BC"))


# -- dispatch ------------------------------------------------------------------------
def test_unknown_record_and_non_object() -> None:
    with pytest.raises(GraphFormatError) as info:
        parse_feature_record({"foo": 1}, "x.json", 0, 0)
    assert "feature record" in info.value.expected and info.value.got == "foo"
    with pytest.raises(GraphFormatError) as info:
        parse_feature_record([1, 2], "x.json", 0, 0)
    assert (info.value.expected, info.value.got) == ("a JSON object", "a list")


def test_nan_average_is_kept_as_float() -> None:
    d = parse_feature_record(original_record(average_activation=float("nan")), "f.json", 3, 17)
    assert d.average_activation is not None and math.isnan(d.average_activation)
