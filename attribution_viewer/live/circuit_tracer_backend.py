"""The circuit-tracer implementation of :class:`~attribution_viewer.live.backend.InterventionBackend`.

Imports torch and circuit-tracer: it runs in a model worker process, a Celery worker or
the command line, never in the web server. The model is loaded on the first request
(:attr:`CircuitTracerBackend.model`) and kept for the life of the process.

Conventions (checked against circuit-tracer's own graphs in the tests):

- A feature's value in an intervention is its new absolute activation (0 ablates).
- An edge's measured effect is ``target(baseline) - target(source ablated)`` with
  ``constrained_layers`` covering every layer (attention patterns, LayerNorm scales and
  MLP outputs frozen), so only the direct path is left: for a feature target the value is
  its pre-activation at its position, for a logit target the logit minus the mean logit
  at the last position (circuit-tracer attributes the demeaned logit). This equals the
  graph's edge weight up to float error.
"""

from __future__ import annotations

import logging
import re
import resource
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from attribution_viewer.live.backend import (
    FREEZE_ALL_LAYERS,
    FREEZE_ATTENTION,
    FREEZE_NONE,
    AttributeRequest,
    AttributeResult,
    Continuation,
    EdgeCheckRequest,
    EdgeCheckResult,
    EdgeMeasure,
    GenerateRequest,
    JobHooks,
    LiveModelError,
    ModelSpec,
    ProbChange,
    SteerRequest,
    SteerResult,
    TopToken,
)
from attribution_viewer.live.new_graph import publish

log = logging.getLogger(__name__)

BASELINES_KEPT = 32
# circuit-tracer's attribute logs "Phase 0: ..." to "Phase 4: ..." on this logger (0.5.0).
ATTRIBUTION_LOGGER = "attribution"
ATTRIBUTE_PHASES = 5
ATTRIBUTE_STEPS = ATTRIBUTE_PHASES + 2  # loading the model, the phases, saving
_PHASE = re.compile(r"Phase (\d+): (.*)")


class _PhaseProgress(logging.Handler):
    """Each phase circuit-tracer's ``attribute`` logs is a progress step and a cancellation
    point (:class:`JobCancelled` raised here leaves ``attribute``: a handler's ``emit`` is
    not guarded)."""

    def __init__(self, hooks: JobHooks) -> None:
        super().__init__(logging.INFO)
        self.hooks = hooks

    def emit(self, record: logging.LogRecord) -> None:
        found = _PHASE.match(record.getMessage())
        if found:
            self.hooks.check()
            self.hooks.progress(1 + int(found[1]), ATTRIBUTE_STEPS, found[2].lower())


@contextmanager
def _phase_progress(hooks: JobHooks) -> Iterator[None]:
    """Route circuit-tracer's phase messages to ``hooks`` during one ``attribute`` call.

    ``attribute`` sets its logger's level to WARNING unless it adds a console handler of its
    own (``verbose``, which also prints progress bars), so the level is held at INFO here
    for the call: the phases reach :class:`_PhaseProgress` and nothing reaches the console.
    """
    logger = logging.getLogger(ATTRIBUTION_LOGGER)
    handler = _PhaseProgress(hooks)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    setattr(logger, "setLevel", lambda _level: None)  # noqa: B010 (an instance override, removed below)
    try:
        yield
    finally:
        delattr(logger, "setLevel")
        logger.setLevel(level)
        logger.removeHandler(handler)


def apply_memory_cap(gigabytes: float) -> None:
    """Limit this process's address space (``RLIMIT_AS``); 0 leaves it unlimited.

    A request that needs more fails with MemoryError (reported as a
    :class:`LiveModelError`) instead of pushing the machine into swap or the OOM killer.
    """
    if gigabytes <= 0:
        return
    limit = int(gigabytes * 1024**3)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def load_model(spec: ModelSpec) -> Any:
    """A circuit-tracer ReplacementModel: a local bundle, or hub names resolved by circuit-tracer."""
    model_dir = Path(spec.model)
    if model_dir.is_dir():
        from attribution_viewer.live.bundle import load_replacement_model

        tokenizer = Path(spec.tokenizer) if spec.tokenizer else model_dir.parent / "tokenizer"
        return load_replacement_model(model_dir, Path(spec.transcoders), tokenizer, backend=spec.backend)
    from circuit_tracer import ReplacementModel

    return ReplacementModel.from_pretrained(spec.model, spec.transcoders, backend=spec.backend)  # pyright: ignore[reportArgumentType]


class CircuitTracerBackend:
    """Answers live requests with one circuit-tracer ReplacementModel (loaded on first use)."""

    def __init__(self, spec: ModelSpec | None = None, model: Any = None) -> None:
        if spec is None and model is None:
            raise ValueError("CircuitTracerBackend needs a ModelSpec or a loaded model")
        self.spec = spec
        self._model = model
        self.load_seconds: float | None = None
        # Unsteered continuations by request: a steering session reruns the same prompt.
        self._baselines: OrderedDict[GenerateRequest, tuple[Continuation, torch.Tensor]] = OrderedDict()

    @property
    def model(self) -> Any:
        if self._model is None:
            assert self.spec is not None
            start = time.perf_counter()
            try:
                self._model = load_model(self.spec)
            except MemoryError as exc:
                raise LiveModelError(f"loading {self.spec.model}: over the job memory cap") from exc
            except (OSError, ValueError) as exc:
                raise LiveModelError(f"loading {self.spec.model}: {exc}") from exc
            self.load_seconds = time.perf_counter() - start
            log.info("model %s loaded in %.2f s", self.spec.model, self.load_seconds)
        return self._model

    @property
    def n_layers(self) -> int:
        return int(self.model.cfg.n_layers)

    # -- helpers ------------------------------------------------------------------------
    def _tokens(self, token_ids: tuple[int, ...]) -> torch.Tensor:
        vocab, n_ctx = int(self.model.cfg.d_vocab), int(self.model.cfg.n_ctx)
        bad = [t for t in token_ids if not 0 <= t < vocab]
        if bad:
            raise LiveModelError(f"token id {bad[0]} is outside the model's vocabulary (0..{vocab - 1})")
        if len(token_ids) > n_ctx:
            raise LiveModelError(f"the prompt has {len(token_ids)} tokens, the model's context {n_ctx}")
        return torch.tensor(token_ids, dtype=torch.long)

    def _token_str(self, token_id: int) -> str:
        return str(self.model.tokenizer.decode([token_id]))

    def _top(self, logits: torch.Tensor, k: int) -> tuple[TopToken, ...]:
        probs = torch.softmax(logits.double(), dim=-1)
        values, ids = probs.topk(min(k, probs.shape[-1]))
        return tuple(
            TopToken(self._token_str(int(i)), int(i), float(p))
            for p, i in zip(values.tolist(), ids.tolist(), strict=True)
        )

    def _continue(
        self, tokens: torch.Tensor, request: GenerateRequest, interventions: list[Any], freeze: bool
    ) -> tuple[Continuation, torch.Tensor]:
        """(continuation, next-token logits after the prompt) with ``interventions`` applied.

        Generates token by token, running the whole sequence each step (no KV cache), so the
        interventions (positions or slices) and the frozen attention apply to every step the
        same way: circuit-tracer guarantees ``feature_intervention`` equivalence only without
        a KV cache. Sampling uses a generator seeded with ``request.seed``.
        """
        model = self.model
        generator = torch.Generator().manual_seed(request.seed)
        sequence = tokens
        first: torch.Tensor | None = None
        generated: list[int] = []
        # Generation stops at the model's context length (positions past it do not exist).
        n_tokens = min(request.n_tokens, int(model.cfg.n_ctx) - int(tokens.shape[0]))
        for step in range(max(n_tokens, 1)):
            with torch.no_grad():
                logits, _ = model.feature_intervention(
                    sequence, interventions, freeze_attention=freeze, return_activations=False
                )
            last = logits[0, -1].double()
            if first is None:
                first = last
            if step >= n_tokens:
                break
            if request.temperature > 0:
                probs = torch.softmax(last / request.temperature, dim=-1)
                next_id = int(torch.multinomial(probs, 1, generator=generator).item())
            else:
                next_id = int(last.argmax().item())
            generated.append(next_id)
            sequence = torch.cat([sequence, torch.tensor([next_id], dtype=sequence.dtype)])
        assert first is not None
        pieces = tuple(self._token_str(t) for t in generated)
        return Continuation("".join(pieces), pieces, self._top(first, request.top_k)), first

    def _baseline(self, tokens: torch.Tensor, request: GenerateRequest) -> tuple[Continuation, torch.Tensor]:
        """The unsteered continuation of ``request`` (the last :data:`BASELINES_KEPT` are kept)."""
        if request in self._baselines:
            self._baselines.move_to_end(request)
            return self._baselines[request]
        found = self._continue(tokens, request, [], False)
        self._baselines[request] = found
        while len(self._baselines) > BASELINES_KEPT:
            self._baselines.popitem(last=False)
        return found

    # -- the protocol ---------------------------------------------------------------------
    def generate(self, request: GenerateRequest, hooks: JobHooks) -> Continuation:
        hooks.check()
        return self._baseline(self._tokens(request.token_ids), request)[0]

    def steer(self, request: SteerRequest, hooks: JobHooks) -> SteerResult:
        start = time.perf_counter()
        gen = request.generation
        tokens = self._tokens(gen.token_ids)
        n_prompt = int(tokens.shape[0])
        interventions: list[Any] = []
        for item in request.features:
            ref = item.feature
            if not 0 <= ref.layer < self.n_layers or not 0 <= ref.pos < n_prompt:
                raise LiveModelError(f"feature L{ref.layer}/{ref.feature_idx} @ {ref.pos}: outside the model")
            where: int | slice = {"own": ref.pos, "all": slice(1, None), "generated": slice(n_prompt, None)}[
                request.where
            ]
            interventions.append((ref.layer, where, ref.feature_idx, item.value))
        hooks.progress(0, 2, "default run")
        baseline, before = self._baseline(tokens, gen)
        hooks.check()
        hooks.progress(1, 2, "steered run")
        steered, after = self._continue(tokens, gen, interventions, request.freeze_attention)
        hooks.progress(2, 2, "done")
        p_before = torch.softmax(before.double(), -1)
        p_after = torch.softmax(after.double(), -1)
        ids = {t.token_id for t in baseline.top} | {t.token_id for t in steered.top}
        changes = sorted(
            (ProbChange(self._token_str(i), i, float(p_before[i]), float(p_after[i])) for i in ids),
            key=lambda c: -abs(c.change),
        )
        mode = FREEZE_ATTENTION if request.freeze_attention else FREEZE_NONE
        return SteerResult(baseline, steered, tuple(changes), mode, time.perf_counter() - start)

    def check_edges(self, request: EdgeCheckRequest, hooks: JobHooks) -> EdgeCheckResult:
        start = time.perf_counter()
        model = self.model
        tokens = self._tokens(request.token_ids)
        frozen = range(self.n_layers)

        def run(interventions: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
            with torch.no_grad():
                logits, acts = model.feature_intervention(
                    tokens,
                    interventions,
                    constrained_layers=frozen,
                    freeze_attention=True,
                    apply_activation_function=False,
                )
            last = logits[0, -1]
            return last - last.mean(), acts

        base_logits, base_acts = run([])
        measures: list[EdgeMeasure] = []
        for done, edge in enumerate(request.edges):
            hooks.check()
            hooks.progress(done, len(request.edges), f"{edge.source_key} -> {edge.target_key}")
            src = edge.source
            logits, acts = run([(src.layer, src.pos, src.feature_idx, 0.0)])
            target = edge.target
            if target.kind == "logit":
                measured = float(base_logits[target.token_id] - logits[target.token_id])
            else:
                assert target.feature is not None
                f = target.feature
                measured = float(
                    base_acts[f.layer, f.pos, f.feature_idx] - acts[f.layer, f.pos, f.feature_idx]
                )
            measures.append(EdgeMeasure(edge.source_key, edge.target_key, edge.graph_weight, measured))
        hooks.progress(len(request.edges), len(request.edges), "done")
        return EdgeCheckResult(tuple(measures), FREEZE_ALL_LAYERS, time.perf_counter() - start)

    def attribute(self, request: AttributeRequest, hooks: JobHooks) -> AttributeResult:
        from circuit_tracer import attribute

        start = time.perf_counter()
        hooks.progress(0, ATTRIBUTE_STEPS, "loading the model")
        model = self.model
        out = Path(request.out_path)
        if not out.parent.is_dir():
            raise LiveModelError(f"{out.parent}: expected an existing folder for the new graph")
        try:
            with _phase_progress(hooks):
                graph = attribute(
                    list(request.token_ids) if request.token_ids else request.prompt,
                    model,
                    max_n_logits=request.max_n_logits,
                    desired_logit_prob=request.desired_logit_prob,
                    max_feature_nodes=request.max_feature_nodes,
                    batch_size=request.batch_size,
                )
        except MemoryError as exc:
            raise LiveModelError(
                "attribution went over the job memory cap: lower max_feature_nodes or batch_size"
            ) from exc
        hooks.check()
        hooks.progress(ATTRIBUTE_STEPS - 1, ATTRIBUTE_STEPS, "saving")
        partial = out.with_name(out.name + ".partial")
        graph.to_pt(str(partial))
        out = publish(partial, out, request.exclusive)
        hooks.progress(ATTRIBUTE_STEPS, ATTRIBUTE_STEPS, "done")
        return AttributeResult(
            str(out),
            int(graph.selected_features.shape[0]),
            int(graph.input_tokens.shape[0]),
            time.perf_counter() - start,
        )
