"""Adapters: one decoded JSON feature file -> :class:`FeatureDetails`.

Three record formats are recognised by their keys (see ``docs/data-formats.md`` §4):

``original``
    the CLT autointerp files ``feature_{idx}_complete.json``: ``layer, feature_index,
    description, explanation, average_activation, top_examples`` (strings whose
    activating span is wrapped in ``<< >>``), ``top_examples_tks`` (token ids and
    activations; only ``max_val`` is used: ids cannot be shown without the tokenizer),
    ``top_activating_tokens``, optional ``language_distribution`` /
    ``general_language_distribution`` and optional ``top_logits`` / ``bottom_logits`` /
    ``input_logits``.
``circuit-tracer``
    ``{index, examples_quantiles: [{quantile_name, examples: [{tokens,
    tokens_acts_list}]}], top_logits, bottom_logits, act_min, act_max,
    activation_frequency}``.
``neuronpedia``
    ``explanations[].description``, ``activations[]: {tokens, values, maxValue,
    maxValueTokenIndex}``, ``pos_str / pos_values``, ``neg_str / neg_values``,
    ``frac_nonzero``, ``maxActApprox``.

Every problem raises :class:`GraphFormatError` naming the file, the key and what was
expected. Formats without their own top-activating-token list get one derived from
their examples (the token at each example's maximum).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attribution_viewer.autointerp.records import Example, FeatureDetails, LogitEntry, TokenStat
from attribution_viewer.errors import GraphFormatError

ORIGINAL = "original"
CIRCUIT_TRACER = "circuit-tracer"
NEURONPEDIA = "neuronpedia"

_NEURONPEDIA_KEYS = ("explanations", "activations", "pos_str", "neg_str", "frac_nonzero")
_ORIGINAL_KEYS = ("top_examples", "feature_index", "description", "explanation")
_MARKED_SPAN = re.compile(r"<<(.*?)>>", re.DOTALL)
TOP_TOKENS_DERIVED = 10


def _describe(value: Any) -> str:
    """Short human description of a JSON value's type, for error messages."""
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    names |= {list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Fields:
    """Typed access to one JSON object; every failure names the file and the key path."""

    def __init__(self, data: Mapping[str, Any], path: str, prefix: str = "") -> None:
        self.data = data
        self.path = path
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, expected: str, value: Any) -> GraphFormatError:
        return GraphFormatError(self.path, self.key(name), expected, _describe(value))

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(name, "a string", value)
        return value

    def number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not _is_number(value):
            raise self.fail(name, "a number", value)
        return float(value)

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(name, "an integer", value)
        return value

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, "a list", value)
        return value

    def objects(self, name: str) -> list[_Fields]:
        out: list[_Fields] = []
        for i, item in enumerate(self.items(name)):
            if not isinstance(item, dict):
                raise self.fail(f"{name}[{i}]", "an object", item)
            out.append(_Fields(item, self.path, f"{self.key(name)}[{i}]."))
        return out

    def strings(self, name: str) -> list[str]:
        values = self.items(name)
        for i, item in enumerate(values):
            if not isinstance(item, str):
                raise self.fail(f"{name}[{i}]", "a string", item)
        return values

    def numbers(self, name: str) -> list[float]:
        values = self.items(name)
        for i, item in enumerate(values):
            if not _is_number(item):
                raise self.fail(f"{name}[{i}]", "a number", item)
        return [float(v) for v in values]

    def fractions(self, name: str) -> dict[str, float]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(name, "an object {language: fraction}", value)
        for lang, frac in value.items():
            if not _is_number(frac):
                raise self.fail(f"{name}.{lang}", "a number", frac)
        return {str(lang): float(frac) for lang, frac in value.items()}


# -- shared normalisation -------------------------------------------------------------
def example_from_marked_text(text: str, max_activation: float | None = None) -> Example:
    """Split ``"a <<b>> c"`` into segments ``("a ", "b", " c")`` with ``b`` highlighted."""
    tokens: list[str] = []
    flags: list[bool] = []
    cursor = 0
    for match in _MARKED_SPAN.finditer(text):
        if match.start() > cursor:
            tokens.append(text[cursor : match.start()])
            flags.append(False)
        if match.group(1):
            tokens.append(match.group(1))
            flags.append(True)
        cursor = match.end()
    if cursor < len(text) or not tokens:
        tokens.append(text[cursor:])
        flags.append(False)
    return Example(tokens=tuple(tokens), highlighted=tuple(flags), max_activation=max_activation)


def example_from_activations(
    fields: _Fields, tokens_key: str, values_key: str, *, label: str = "", max_activation: float | None = None
) -> Example:
    """An example from per-token strings and activations; tokens with activation > 0 are highlighted."""
    tokens = fields.strings(tokens_key)
    acts = fields.numbers(values_key)
    if len(acts) != len(tokens):
        raise GraphFormatError(
            fields.path, fields.key(values_key), f"{len(tokens)} values (one per token)", f"{len(acts)}"
        )
    peak = max_activation if max_activation is not None else (max(acts) if acts else None)
    return Example(
        tokens=tuple(tokens),
        highlighted=tuple(a > 0 for a in acts),
        activations=tuple(acts),
        max_activation=peak,
        label=label,
    )


def top_tokens_from_examples(
    examples: Sequence[Example], limit: int = TOP_TOKENS_DERIVED
) -> tuple[TokenStat, ...]:
    """Tokens at each example's maximum activation: count and mean peak, most frequent first."""
    totals: dict[str, tuple[int, float]] = {}
    for ex in examples:
        if not ex.activations:
            continue
        peak_at = max(range(len(ex.activations)), key=ex.activations.__getitem__)
        count, total = totals.get(ex.tokens[peak_at], (0, 0.0))
        totals[ex.tokens[peak_at]] = (count + 1, total + ex.activations[peak_at])
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1] / kv[1][0], kv[0]))
    return tuple(TokenStat(tok, count, total / count) for tok, (count, total) in ranked[:limit])


def _logit_entries(fields: _Fields, name: str) -> tuple[LogitEntry, ...]:
    """A logit list given as strings, ``{token, value}`` objects or ``[token, value]`` pairs."""
    out: list[LogitEntry] = []
    for i, item in enumerate(fields.items(name)):
        if isinstance(item, str):
            out.append(LogitEntry(item))
        elif isinstance(item, dict) and isinstance(item.get("token"), str):
            entry = _Fields(item, fields.path, f"{fields.key(name)}[{i}].")
            value = entry.number("value")
            out.append(LogitEntry(item["token"], entry.number("logit") if value is None else value))
        elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and _is_number(item[1]):
            out.append(LogitEntry(item[0], float(item[1])))
        else:
            raise fields.fail(f"{name}[{i}]", "a token string, {token, value} or [token, value]", item)
    return tuple(out)


def _paired_logits(fields: _Fields, tokens_key: str, values_key: str) -> tuple[LogitEntry, ...]:
    tokens = fields.strings(tokens_key)
    values = fields.numbers(values_key)
    if values and len(values) != len(tokens):
        raise GraphFormatError(
            fields.path,
            fields.key(values_key),
            f"{len(tokens)} values (one per {tokens_key})",
            f"{len(values)}",
        )
    if not values:
        return tuple(LogitEntry(t) for t in tokens)
    return tuple(LogitEntry(t, v) for t, v in zip(tokens, values, strict=True))


def _check_identity(fields: _Fields, name: str, expected: int) -> None:
    found = fields.integer(name)
    if found is not None and found != expected:
        raise GraphFormatError(
            fields.path, name, f"{expected} (the feature this file is stored as)", str(found)
        )


# -- the three adapters ---------------------------------------------------------------
def _model_name(fields: _Fields, name: str) -> str:
    """The record's model id when it carries one as text (other values are ignored)."""
    value = fields.data.get(name)
    return value if isinstance(value, str) else ""


def parse_original(fields: _Fields, layer: int, feature_idx: int) -> FeatureDetails:
    """The CLT autointerp record (``feature_{idx}_complete.json``)."""
    _check_identity(fields, "layer", layer)
    _check_identity(fields, "feature_index", feature_idx)
    peaks = [tk.number("max_val") for tk in fields.objects("top_examples_tks")]
    texts = fields.strings("top_examples")
    examples = tuple(
        example_from_marked_text(text, peaks[i] if i < len(peaks) else None) for i, text in enumerate(texts)
    )
    tokens: list[TokenStat] = []
    for item in fields.objects("top_activating_tokens"):
        token = item.data.get("token")
        if not isinstance(token, str):
            raise item.fail("token", "a string", token)
        count = item.number("frequency")
        tokens.append(TokenStat(token, int(count or 0), item.number("average_activation")))
    return FeatureDetails(
        layer=layer,
        feature_idx=feature_idx,
        description=fields.text("description"),
        explanation=fields.text("explanation"),
        average_activation=fields.number("average_activation"),
        max_activation=max((p for p in peaks if p is not None), default=None),
        top_examples=examples,
        top_activating_tokens=tuple(tokens),
        top_logits=_logit_entries(fields, "top_logits"),
        bottom_logits=_logit_entries(fields, "bottom_logits"),
        input_logits=_logit_entries(fields, "input_logits"),
        language_distribution=fields.fractions("language_distribution"),
        general_language_distribution=fields.fractions("general_language_distribution"),
        model=_model_name(fields, "model"),
        source_format=ORIGINAL,
        source_path=fields.path,
    )


def parse_circuit_tracer(fields: _Fields, layer: int, feature_idx: int) -> FeatureDetails:
    """A circuit-tracer frontend feature file (``examples_quantiles``)."""
    examples: list[Example] = []
    for quantile in fields.objects("examples_quantiles"):
        name = quantile.text("quantile_name")
        for ex in quantile.objects("examples"):
            examples.append(example_from_activations(ex, "tokens", "tokens_acts_list", label=name))
    return FeatureDetails(
        layer=layer,
        feature_idx=feature_idx,
        description=fields.text("description"),
        explanation=fields.text("explanation"),
        max_activation=fields.number("act_max"),
        frequency=fields.number("activation_frequency"),
        top_examples=tuple(examples),
        top_activating_tokens=top_tokens_from_examples(examples),
        top_logits=_logit_entries(fields, "top_logits"),
        bottom_logits=_logit_entries(fields, "bottom_logits"),
        model=_model_name(fields, "scan"),
        source_format=CIRCUIT_TRACER,
        source_path=fields.path,
    )


def parse_neuronpedia(fields: _Fields, layer: int, feature_idx: int) -> FeatureDetails:
    """A Neuronpedia feature export (``explanations``, ``activations``, ``pos_str``...)."""
    descriptions = [e.text("description") for e in fields.objects("explanations")]
    descriptions = [d for d in descriptions if d]
    examples = [
        example_from_activations(act, "tokens", "values", max_activation=act.number("maxValue"))
        for act in fields.objects("activations")
    ]
    return FeatureDetails(
        layer=layer,
        feature_idx=feature_idx,
        description=descriptions[0] if descriptions else "",
        explanation=" / ".join(descriptions[1:]),
        max_activation=fields.number("maxActApprox"),
        frequency=fields.number("frac_nonzero"),
        top_examples=tuple(examples),
        top_activating_tokens=top_tokens_from_examples(examples),
        top_logits=_paired_logits(fields, "pos_str", "pos_values"),
        bottom_logits=_paired_logits(fields, "neg_str", "neg_values"),
        model=_model_name(fields, "modelId"),
        source_format=NEURONPEDIA,
        source_path=fields.path,
    )


_PARSERS: dict[str, Callable[[_Fields, int, int], FeatureDetails]] = {
    ORIGINAL: parse_original,
    CIRCUIT_TRACER: parse_circuit_tracer,
    NEURONPEDIA: parse_neuronpedia,
}


def detect_record_format(data: Mapping[str, Any], path: str) -> str:
    """Which of the three record formats ``data`` is, from its keys."""
    if "examples_quantiles" in data:
        return CIRCUIT_TRACER
    if any(k in data for k in _NEURONPEDIA_KEYS):
        return NEURONPEDIA
    if any(k in data for k in _ORIGINAL_KEYS):
        return ORIGINAL
    shown = ", ".join(sorted(map(str, data))[:6]) or "no keys"
    raise GraphFormatError(
        path, "", "a feature record (original autointerp, circuit-tracer or Neuronpedia keys)", shown
    )


def parse_feature_record(data: Any, path: str, layer: int, feature_idx: int) -> FeatureDetails:
    """Normalise one decoded feature file into :class:`FeatureDetails`."""
    if not isinstance(data, dict):
        raise GraphFormatError(path, "", "a JSON object", _describe(data))
    fields = _Fields(data, path)
    return _PARSERS[detect_record_format(data, path)](fields, layer, feature_idx)
