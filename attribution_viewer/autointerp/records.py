"""Typed records every description adapter produces: :class:`FeatureDetails` and its parts.

Whatever the file format (the original CLT autointerp folder, circuit-tracer feature
files, Neuronpedia exports), a feature description is normalised into one
:class:`FeatureDetails`. Absent values are ``None`` (numbers), ``""`` (text) or empty
(sequences, mappings), never missing attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    """One top-activating text excerpt.

    ``tokens`` are display strings (a marker-annotated example is split into text
    segments). ``highlighted[i]`` says whether token ``i`` belongs to the activating span.
    ``activations`` holds one value per token when the file carries them (``None`` when
    the example came from ``<< >>`` markers). ``label`` names the group the example
    belongs to (for instance a circuit-tracer quantile), ``""`` when ungrouped.
    """

    tokens: tuple[str, ...]
    highlighted: tuple[bool, ...]
    activations: tuple[float, ...] | None = None
    max_activation: float | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if len(self.highlighted) != len(self.tokens):
            raise ValueError("Example.highlighted must have one entry per token")
        if self.activations is not None and len(self.activations) != len(self.tokens):
            raise ValueError("Example.activations must have one entry per token")

    @property
    def highlighted_text(self) -> str:
        """The highlighted tokens joined (contiguous spans are separated by ' … ')."""
        spans: list[str] = []
        current: list[str] = []
        for token, on in zip(self.tokens, self.highlighted, strict=True):
            if on:
                current.append(token)
            elif current:
                spans.append("".join(current))
                current = []
        if current:
            spans.append("".join(current))
        return " … ".join(spans)


@dataclass(frozen=True)
class TokenStat:
    """A token the feature fires on: how often, and how strongly on average."""

    token: str
    count: int
    average_activation: float | None = None


@dataclass(frozen=True)
class LogitEntry:
    """A vocabulary token promoted or suppressed by the feature (value may be unknown)."""

    token: str
    value: float | None = None


@dataclass(frozen=True)
class FeatureDetails:
    """Everything known about one feature's interpretation, from one file.

    ``frequency`` is the fraction of tokens the feature fires on when the file carries
    it (circuit-tracer ``activation_frequency``, Neuronpedia ``frac_nonzero``); the
    separate frequency file (:mod:`attribution_viewer.autointerp.frequencies`) is the
    other source. ``source_path`` is the file the record was read from.
    """

    layer: int
    feature_idx: int
    description: str = ""
    explanation: str = ""
    average_activation: float | None = None
    max_activation: float | None = None
    frequency: float | None = None
    top_examples: tuple[Example, ...] = ()
    top_activating_tokens: tuple[TokenStat, ...] = ()
    top_logits: tuple[LogitEntry, ...] = ()
    bottom_logits: tuple[LogitEntry, ...] = ()
    input_logits: tuple[LogitEntry, ...] = ()
    language_distribution: Mapping[str, float] = field(default_factory=dict)
    general_language_distribution: Mapping[str, float] = field(default_factory=dict)
    # The model the record was made for (Neuronpedia ``modelId``, circuit-tracer ``scan``,
    # ``model`` in the original layout); "" when the file does not say.
    model: str = ""
    source_format: str = ""
    source_path: str = ""


def model_mismatch(graph_model: str, details: FeatureDetails) -> str:
    """Why ``details`` may not describe a feature of a graph made with ``graph_model``.

    Empty when either side does not name its model or both name the same one (compared
    case-insensitively); otherwise one sentence for the panel.
    """
    record_model = details.model.strip()
    if not graph_model.strip() or not record_model or graph_model.strip().lower() == record_model.lower():
        return ""
    return (
        f"This description was made for model '{record_model}', but the graph was made with "
        f"'{graph_model.strip()}': it may describe another feature."
    )
