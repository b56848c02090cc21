"""What a live model can be asked, as typed, JSON-serialisable requests and results.

This module imports neither torch nor circuit-tracer: the web server builds requests and
reads results with it, while the model itself runs elsewhere (a model worker process, a
Celery worker or the command line; see :mod:`attribution_viewer.live.jobs`). Every request
and result is a frozen dataclass that crosses process boundaries as plain JSON
(:func:`to_json` / :func:`from_json`).

An :class:`InterventionBackend` answers four requests:

``steer``        run the prompt with some features ablated or scaled, generate a
                 continuation with and without the change, and report the next-token
                 probabilities before and after (:class:`SteerRequest` -> :class:`SteerResult`).
``generate``     a plain continuation (:class:`GenerateRequest` -> :class:`Continuation`).
``check_edges``  ablate each edge's source with every layer frozen (attention, LayerNorm
                 scales and MLP outputs), so that only its direct effect reaches the target,
                 and report that effect next to the graph's weight (:class:`EdgeCheckRequest`
                 -> :class:`EdgeCheckResult`).
``attribute``    compute a new graph for a prompt and save it as ``.pt``
                 (:class:`AttributeRequest` -> :class:`AttributeResult`).

Each method takes a :class:`JobHooks` (progress reports and a cancellation check) so that
long requests can report progress and stop between steps.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

SteerMode = Literal["ablate", "multiply", "set"]
# Where a steered value is applied: the feature's own position, every position of the
# prompt and of the generated tokens (BOS excepted), or only the generated tokens.
SteerWhere = Literal["own", "all", "generated"]
STEER_MODES: tuple[SteerMode, ...] = ("ablate", "multiply", "set")
STEER_WHERE: tuple[SteerWhere, ...] = ("own", "all", "generated")
MULTIPLIER_RANGE = (-5.0, 5.0)
BACKENDS = ("transformerlens", "nnsight")

# How the model was run, shown next to every result.
FREEZE_ALL_LAYERS = "every layer frozen (attention, LayerNorm scales, MLP outputs): direct effects only"
FREEZE_ATTENTION = (
    "attention patterns frozen to the unsteered run at every step; LayerNorm scales and MLPs free"
)
FREEZE_NONE = "nothing frozen: effects propagate through attention, LayerNorm and MLPs"


class LiveModelError(RuntimeError):
    """A live request failed (no model configured, bad request, model error): one clear line."""


class JobCancelled(LiveModelError):
    """The job was cancelled before it finished."""


@dataclass(frozen=True)
class ModelSpec:
    """Where the model comes from: local folders (a bundle) or hub names, and the backend.

    ``model`` / ``transcoders`` / ``tokenizer``: a local folder, or a name circuit-tracer
    resolves (for example ``google/gemma-2-2b`` with transcoders ``gemma``).
    """

    model: str
    transcoders: str
    tokenizer: str | None = None
    backend: str = "transformerlens"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"model backend: expected one of {', '.join(BACKENDS)}, got {self.backend!r}")


@dataclass(frozen=True)
class FeatureRef:
    """A transcoder feature at one position."""

    layer: int
    pos: int
    feature_idx: int


@dataclass(frozen=True)
class FeatureSteer:
    """One feature to change, to a new activation :attr:`value`.

    ``mode``: ``ablate`` (0), ``multiply`` (``amount`` x its activation in the graph,
    ``amount`` in -5..5) or ``set`` (``amount`` itself).
    """

    feature: FeatureRef
    activation: float
    mode: SteerMode = "multiply"
    amount: float = -1.0

    def __post_init__(self) -> None:
        if self.mode not in STEER_MODES:
            raise ValueError(f"steer mode: expected one of {', '.join(STEER_MODES)}, got {self.mode!r}")
        low, high = MULTIPLIER_RANGE
        if self.mode == "multiply" and not low <= self.amount <= high:
            raise ValueError(f"steer multiplier: expected {low:g}..{high:g}, got {self.amount}")

    @property
    def value(self) -> float:
        """The feature's new activation."""
        if self.mode == "ablate":
            return 0.0
        return self.amount * self.activation if self.mode == "multiply" else self.amount


@dataclass(frozen=True)
class GenerateRequest:
    """A continuation of ``token_ids`` (the prompt, BOS included)."""

    token_ids: tuple[int, ...]
    n_tokens: int = 5
    temperature: float = 0.0
    seed: int = 0
    top_k: int = 10

    def __post_init__(self) -> None:
        if not self.token_ids:
            raise ValueError("request token_ids: expected at least one token")
        if not 0 <= self.n_tokens <= 256:
            raise ValueError(f"tokens to generate: expected 0..256, got {self.n_tokens}")
        if not 0.0 <= self.temperature <= 10.0:
            raise ValueError(f"temperature: expected 0..10, got {self.temperature}")
        if not 1 <= self.top_k <= 100:
            raise ValueError(f"top_k: expected 1..100, got {self.top_k}")


@dataclass(frozen=True)
class SteerRequest:
    """Run the prompt with ``features`` changed; ``generation`` says how to continue."""

    generation: GenerateRequest
    features: tuple[FeatureSteer, ...]
    where: SteerWhere = "own"
    freeze_attention: bool = True

    def __post_init__(self) -> None:
        if not self.features:
            raise ValueError("steer: expected at least one feature")
        if self.where not in STEER_WHERE:
            raise ValueError(f"steer where: expected one of {', '.join(STEER_WHERE)}, got {self.where!r}")


@dataclass(frozen=True)
class TopToken:
    token: str
    token_id: int
    prob: float


@dataclass(frozen=True)
class Continuation:
    """A generated continuation and the top-k next-token probabilities after the prompt."""

    text: str
    tokens: tuple[str, ...]
    top: tuple[TopToken, ...]


@dataclass(frozen=True)
class ProbChange:
    """One token's next-token probability before and after steering."""

    token: str
    token_id: int
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class SteerResult:
    baseline: Continuation
    steered: Continuation
    changes: tuple[ProbChange, ...]
    freeze_mode: str
    seconds: float


@dataclass(frozen=True)
class EdgeTarget:
    """An edge's target: a feature (its pre-activation) or a logit (its demeaned value)."""

    kind: Literal["feature", "logit"]
    feature: FeatureRef | None = None
    token_id: int = -1

    def __post_init__(self) -> None:
        if self.kind == "feature" and self.feature is None:
            raise ValueError("edge target: a feature target needs its feature")
        if self.kind == "logit" and self.token_id < 0:
            raise ValueError("edge target: a logit target needs its token id")


@dataclass(frozen=True)
class EdgeSpec:
    source_key: str
    target_key: str
    source: FeatureRef
    target: EdgeTarget
    graph_weight: float


@dataclass(frozen=True)
class EdgeCheckRequest:
    token_ids: tuple[int, ...]
    edges: tuple[EdgeSpec, ...]


@dataclass(frozen=True)
class EdgeMeasure:
    """``measured``: how much the target drops when the source is ablated (= its direct effect)."""

    source: str
    target: str
    graph_weight: float
    measured: float

    @property
    def ratio(self) -> float | None:
        return self.measured / self.graph_weight if self.graph_weight else None


@dataclass(frozen=True)
class EdgeCheckResult:
    edges: tuple[EdgeMeasure, ...]
    freeze_mode: str
    seconds: float


@dataclass(frozen=True)
class AttributeRequest:
    """circuit-tracer ``attribute`` settings; the graph is written to ``out_path`` (.pt).

    ``token_ids``, when given, are attributed instead of the tokenized ``prompt`` (to
    redo a graph exactly: its prompt as text may not tokenize back to the same ids).
    ``exclusive``: never replace an existing file; the graph takes the first free name of
    ``out_path``, ``out_path-2``, ... (:func:`attribution_viewer.live.new_graph.publish`),
    which :attr:`AttributeResult.path` gives.
    """

    prompt: str
    out_path: str
    max_n_logits: int = 10
    desired_logit_prob: float = 0.95
    max_feature_nodes: int | None = 4096
    batch_size: int = 256
    token_ids: tuple[int, ...] = ()
    exclusive: bool = False

    def __post_init__(self) -> None:
        if not self.prompt and not self.token_ids:
            raise ValueError("attribute: expected a prompt")
        if not self.out_path.endswith(".pt"):
            raise ValueError(f"attribute: expected an output path ending in .pt, got {self.out_path!r}")
        if not 0.0 < self.desired_logit_prob <= 1.0:
            raise ValueError(f"desired_logit_prob: expected 0..1, got {self.desired_logit_prob}")
        if self.max_n_logits < 1 or self.batch_size < 1:
            raise ValueError("max_n_logits and batch_size: expected >= 1")


@dataclass(frozen=True)
class AttributeResult:
    path: str
    n_features: int
    n_tokens: int
    seconds: float


@dataclass
class JobHooks:
    """How a running request reports progress and learns it was cancelled."""

    progress: Callable[[int, int, str], None] = field(default=lambda done, total, what: None)
    cancelled: Callable[[], bool] = field(default=lambda: False)

    def check(self) -> None:
        """Raise :class:`JobCancelled` when the job was cancelled."""
        if self.cancelled():
            raise JobCancelled("cancelled")


class InterventionBackend(Protocol):
    """A live model (see the module docstring)."""

    def steer(self, request: SteerRequest, hooks: JobHooks) -> SteerResult: ...

    def generate(self, request: GenerateRequest, hooks: JobHooks) -> Continuation: ...

    def check_edges(self, request: EdgeCheckRequest, hooks: JobHooks) -> EdgeCheckResult: ...

    def attribute(self, request: AttributeRequest, hooks: JobHooks) -> AttributeResult: ...


class ForwardingBackend:
    """An :class:`InterventionBackend` that hands every request to :meth:`forward` (by kind)."""

    def forward(self, kind: str, request: Any, hooks: JobHooks) -> Any:
        raise NotImplementedError

    def steer(self, request: SteerRequest, hooks: JobHooks) -> SteerResult:
        return self.forward("steer", request, hooks)

    def generate(self, request: GenerateRequest, hooks: JobHooks) -> Continuation:
        return self.forward("generate", request, hooks)

    def check_edges(self, request: EdgeCheckRequest, hooks: JobHooks) -> EdgeCheckResult:
        return self.forward("check_edges", request, hooks)

    def attribute(self, request: AttributeRequest, hooks: JobHooks) -> AttributeResult:
        return self.forward("attribute", request, hooks)


# -- JSON ------------------------------------------------------------------------------
REQUEST_TYPES: dict[str, type] = {
    "steer": SteerRequest,
    "generate": GenerateRequest,
    "check_edges": EdgeCheckRequest,
    "attribute": AttributeRequest,
}
RESULT_TYPES: dict[str, type] = {
    "steer": SteerResult,
    "generate": Continuation,
    "check_edges": EdgeCheckResult,
    "attribute": AttributeResult,
}

T = TypeVar("T")


def to_json(obj: Any) -> dict[str, Any]:
    """A request or result as plain JSON data (dicts, lists, numbers, strings)."""
    return dataclasses.asdict(obj)


def _decode(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_json(hint, value, where)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _decode(args[0], value, where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_json(cls: type[T], data: Any, where: str = "") -> T:
    """Rebuild a request or result of type ``cls`` from :func:`to_json` data (validated)."""
    name = where or cls.__name__
    if not isinstance(data, Mapping):
        raise ValueError(f"{name}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # pyright: ignore[reportArgumentType]
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{name}: unknown field {sorted(unknown)[0]!r}")
    values = {key: _decode(hints[key], value, f"{name}.{key}") for key, value in data.items()}
    return cls(**values)
