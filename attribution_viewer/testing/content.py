"""What the synthetic graphs talk about: themes, vocabulary, prompts, logits, interventions.

Every feature belongs to one of :data:`THEMES`, given by :func:`feature_theme` from its
(layer, feature index) alone; :func:`dense_features` marks the "always on" ones. The graph
builder (:mod:`.synthetic`) and the autointerp writer (:mod:`.autointerp`) both read
them, so descriptions follow the graph's sub-circuits. Nothing here comes from a model.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from attribution_viewer.loaders.ct_order import FeatureColumns
from attribution_viewer.model import Clamp, Intervention


@dataclass(frozen=True)
class Theme:
    """A family of features: how autointerp describes them and the tokens they fire on."""

    name: str
    descriptions: tuple[str, ...]  # each <= 3 words
    subject: str  # noun phrase used in explanations
    words: tuple[str, ...]  # tokens the theme's features fire on


THEMES: tuple[Theme, ...] = (
    Theme(
        "places",
        ("fictional places", "place names", "country names", "invented realms", "map locations"),
        "names of invented countries and regions",
        (" Veloria", " Zandor", " Quellmarsh", " Orvane", " Tessaly", " Brindle"),
    ),
    Theme(
        "creatures",
        ("small creatures", "moth mentions", "insect names", "winged animals", "tiny beasts"),
        "small animals and insects",
        (" moth", " beetle", " wren", " firefly", " cricket", " newt"),
    ),
    Theme(
        "sounds",
        ("singing verbs", "sound verbs", "music actions", "vocal sounds", "song words"),
        "verbs of singing and making sounds",
        (" sings", " hums", " chirps", " whistles", " chants", " calls"),
    ),
    Theme(
        "sky",
        ("night sky", "moon and stars", "celestial words", "starlight", "lunar terms"),
        "the moon, the stars and the night sky",
        (" moon", " stars", " night", " dusk", " comet", " sky"),
    ),
    Theme(
        "syntax",
        ("function words", "prepositions", "article 'the'", "phrase connectors", "determiners"),
        "short function words that join phrases",
        (" the", " to", " of", ",", " in", " a"),
    ),
)


DENSE_DESCRIPTIONS = ("frequent tokens", "position marker", "generic context", "always active")


_EXPLANATIONS = (
    "Activates on {subject}, most strongly on '{w0}'.",
    "Fires when the text mentions {subject}, such as '{w0}' or '{w1}'.",
    "Responds to {subject}; top tokens include '{w0}' and '{w1}'.",
    "Tracks {subject}, peaking on '{w0}'.",
)


_DENSE_EXPLANATION = "Fires on most tokens regardless of content, like a bias direction."


# Example sentences for autointerp; "{}" is where the feature's theme word goes.
_TEMPLATES = (
    "Long ago,{} was all the old sailors talked about.",
    "She wrote that{} appeared again near the river.",
    "Nobody in the village had heard of{} before.",
    "Then the children pointed at{} and laughed.",
    "The map showed{} in faded green ink.",
    "Every evening,{} returned as if on cue.",
    "He said{} would not last the winter.",
    "Under the bridge,{} waited quietly.",
)


_LANGUAGES = ("en", "fr", "de", "es", "ar")


# The made-up prompt: "In Veloria, the glimmer moth sings to the" and its continuation,
# cycled when more tokens are asked for.
_DEFAULT_TEXT = (
    "In",
    " Veloria",
    ",",
    " the",
    " glimmer",
    " moth",
    " sings",
    " to",
    " the",
    " moon",
    " and",
    " the",
    " beetle",
    " hums",
    " in",
    " Zandor",
    " at",
    " dusk",
    " while",
    " a",
)


_LOGIT_TOKENS = (" moon", " stars", " night", " river", " king", " sky", " dawn", " sea", " wind", " song")


_DENSE_PERIOD = 400  # about one feature in 400 is dense ("always on")


_MAX_LEN = 16  # longest example sentence, in tokens


VOCAB_SIZE = 50257


BOS = "<bos>"


def token_id(token: str) -> int:
    """A stable made-up vocabulary id for a token string."""
    return zlib.crc32(token.encode("utf-8")) % VOCAB_SIZE


def _mix(layer: np.ndarray, feature_idx: np.ndarray) -> np.ndarray:
    """A well-mixed uint64 hash of (layer, feature index), element-wise (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = np.asarray(layer, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x = x + np.asarray(feature_idx, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(31))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(29))


def _hash_theme(h: np.ndarray | np.uint64) -> np.ndarray:
    return np.asarray((h >> np.uint64(8)) % np.uint64(len(THEMES))).astype(np.int64)


def _hash_dense(h: np.ndarray | np.uint64) -> np.ndarray:
    return np.asarray((h >> np.uint64(32)) % np.uint64(_DENSE_PERIOD) == 0)


def feature_theme(layer: np.ndarray | int, feature_idx: np.ndarray | int) -> np.ndarray:
    """Index into :data:`THEMES` of each (layer, feature index); independent of any seed."""
    return _hash_theme(_mix(np.asarray(layer), np.asarray(feature_idx)))


def dense_features(layer: np.ndarray | int, feature_idx: np.ndarray | int) -> np.ndarray:
    """True for the synthetic "always on" features (about 1 in 400); independent of any seed."""
    return _hash_dense(_mix(np.asarray(layer), np.asarray(feature_idx)))


def tokenize(text: str) -> tuple[str, ...]:
    """Split text into GPT-2-like tokens (a word with its leading space, or punctuation)."""
    return tuple(re.findall(r"\s?\w+|\s?[^\w\s]+", text))


@dataclass(frozen=True)
class _Layout:
    """Node index arithmetic and per-node columns of the graph under construction."""

    n_features: int
    n_layers: int
    n_tokens: int
    n_logits: int
    layer: np.ndarray
    pos: np.ndarray
    theme: np.ndarray  # per node: a feature's theme, a logit's own theme (rank % themes), else 0

    @property
    def error_start(self) -> int:
        return self.n_features

    @property
    def embedding_start(self) -> int:
        return self.n_features + self.n_layers * self.n_tokens

    @property
    def logit_start(self) -> int:
        return self.embedding_start + self.n_tokens

    @property
    def n_nodes(self) -> int:
        return self.logit_start + self.n_logits


def _prompt_tokens(n_tokens: int, prompt: str | None) -> tuple[str, ...]:
    if prompt is None:
        return (BOS, *(_DEFAULT_TEXT[i % len(_DEFAULT_TEXT)] for i in range(n_tokens - 1)))
    tokens = (BOS, *tokenize(prompt))
    if len(tokens) != n_tokens:
        raise ValueError(f"prompt gives {len(tokens)} tokens (with {BOS}), but n_tokens={n_tokens}")
    return tokens


def _theme_anchors(tokens: tuple[str, ...]) -> np.ndarray:
    """Per theme, the prompt position whose token belongs to it (else one spread evenly)."""
    n = len(tokens)
    anchors = np.linspace(0, n - 1, len(THEMES) + 2)[1:-1].round().astype(np.int64)
    for t, theme in enumerate(THEMES):
        hits = [p for p, tok in enumerate(tokens) if tok in theme.words]
        if hits:
            anchors[t] = hits[0]
    return anchors


def _logit_probabilities(rng: np.random.Generator, n_logits: int) -> np.ndarray:
    """Strictly descending probabilities summing to 0.75..0.95."""
    raw = np.exp(-0.9 * np.arange(n_logits) + 0.25 * rng.standard_normal(n_logits))
    raw = np.sort(raw)[::-1] * (1.0 - 1e-3 * np.arange(n_logits))
    return raw / raw.sum() * rng.uniform(0.75, 0.95)


def _interventions(
    rng: np.random.Generator,
    adjacency: sp.csr_matrix,
    lay: _Layout,
    features: FeatureColumns,
    tokens: tuple[str, ...],
    probs: np.ndarray,
    count: int,
) -> tuple[Intervention, ...]:
    """Clamp effects of the features with the most direct weight into the logits."""
    nf = lay.n_features
    to_logits = adjacency[:nf, lay.logit_start :].toarray()
    chosen = np.argsort(-np.abs(to_logits).sum(axis=1), kind="stable")[:count]
    rest = max(1.0 - float(probs.sum()), 1e-6)
    base = np.log(np.append(probs, rest))
    out: list[Intervention] = []
    for f in chosen:
        act = float(features.activation[f]) if features.activation is not None else 1.0
        effect = to_logits[f] + 0.2 * rng.standard_normal(lay.n_logits)
        effect /= max(float(np.abs(effect).max()), 1e-6)
        clamps: list[Clamp] = []
        for value in (-2.0 * act, 0.0, 2.0 * act, 4.0 * act):
            shifted = base.copy()
            shifted[:-1] += 0.5 * (value - act) / max(act, 1e-3) * effect
            after = np.exp(shifted - shifted.max())
            after /= after.sum()
            order = np.argsort(-after[:-1], kind="stable")
            clamps.append(
                Clamp(
                    value=round(value, 3),
                    tokens=tuple(tokens[i] for i in order),
                    probabilities=tuple(round(float(after[i]), 6) for i in order),
                    baseline_token=tokens[0],
                    baseline_prob_original=round(float(probs[0]), 6),
                    baseline_prob_after=round(float(after[0]), 6),
                    baseline_prob_change=round(float(after[0] - probs[0]), 6),
                )
            )
        out.append(
            Intervention(
                layer=int(features.layer[f]),
                pos=int(features.pos[f]),
                feature_idx=int(features.feature_idx[f]),
                clamps=tuple(clamps),
            )
        )
    return tuple(out)
