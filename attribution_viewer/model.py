"""The one typed graph model every loader produces: :class:`GraphStore`.

Nothing downstream of the loaders knows which file format a graph came from.

Node order
    Nodes are stored grouped by kind, in circuit-tracer order:
    ``[features, errors, embeddings, logits]``. Only the nodes present in the file are
    stored (a Neuronpedia JSON may hold only some error nodes, or none).

Edge orientation
    ``GraphStore.adjacency`` is a ``scipy.sparse.csr_matrix`` with
    ``adjacency[source, target] = weight``: ROWS ARE SOURCES. (circuit-tracer stores the
    transpose, rows = targets; the loaders flip it once.) ``GraphStore.weighted`` says
    whether the values are real attributions or a 0/1 mask. Explicit zeros are never
    stored: a link of weight 0 is no edge.

Layers
    Features and errors carry their model layer ``0 .. n_layers - 1``; embeddings carry
    ``EMBEDDING_LAYER`` (-1) and logits carry ``n_layers``.

Canonical node keys (used by the CLI, the URL and saved state)
    ``F:{layer}:{pos}:{feature_idx}`` feature, ``X:{layer}:{pos}`` error,
    ``E:{pos}`` embedding, ``L:{rank}`` logit (rank 0 = most probable).

Everything derived (keys, reverse adjacency, ...) is a ``cached_property``: built on first
use, once, and never recomputed. Values computed by algorithms (node influence:
:mod:`attribution_viewer.influence`) are kept on the store the same way, through
:meth:`GraphStore.derived`; the model imports no algorithm. The store is read-only after loading and
safe to share between requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

# Re-exported: the kinds are part of the model's vocabulary.
from attribution_viewer.kinds import EMBEDDING_LAYER as EMBEDDING_LAYER
from attribution_viewer.kinds import KIND_NAMES as KIND_NAMES
from attribution_viewer.kinds import NodeKind as NodeKind

_T = TypeVar("_T")


@dataclass(frozen=True)
class LogitInfo:
    """One candidate next token (a logit node)."""

    token: str
    token_id: int
    probability: float
    is_target: bool


@dataclass(frozen=True)
class Clamp:
    """Effect of clamping one feature to one value on the next-token distribution."""

    value: float
    tokens: tuple[str, ...]
    probabilities: tuple[float, ...]
    baseline_token: str
    baseline_prob_original: float
    baseline_prob_after: float
    baseline_prob_change: float


@dataclass(frozen=True)
class Intervention:
    """Precomputed interventions on one feature (``intervention_top_tokens``)."""

    layer: int
    pos: int
    feature_idx: int
    clamps: tuple[Clamp, ...]

    @property
    def key(self) -> str:
        return feature_key(self.layer, self.pos, self.feature_idx)


@dataclass(frozen=True)
class GraphMetadata:
    """Where a graph came from and the settings it was made with."""

    source_path: str = ""
    source_format: str = ""
    slug: str = ""
    scan: str = ""
    node_threshold: float | None = None
    edge_threshold: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def feature_key(layer: int, pos: int, feature_idx: int) -> str:
    return f"F:{layer}:{pos}:{feature_idx}"


def error_key(layer: int, pos: int) -> str:
    return f"X:{layer}:{pos}"


def embedding_key(pos: int) -> str:
    return f"E:{pos}"


def logit_key(rank: int) -> str:
    return f"L:{rank}"


@dataclass(frozen=True, eq=False)
class NodeTable:
    """Column arrays, one entry per node, in storage order (see module docstring).

    ``activation`` and ``influence`` are NaN where the file carries no value; ``influence`` is
    the file's CUMULATIVE influence (Neuronpedia's node ``influence``: the share of total
    influence covered when the node is reached in descending order), not a raw score;
    ``feature_idx`` and ``token_id`` are -1 where they do not apply or are unknown;
    ``label`` is the file's label (Neuronpedia ``clerp``) or ``""``;
    ``source_id`` is the node's id in the source file (``""`` when it had none).
    """

    kind: np.ndarray
    layer: np.ndarray
    pos: np.ndarray
    feature_idx: np.ndarray
    token_id: np.ndarray
    activation: np.ndarray
    influence: np.ndarray
    label: tuple[str, ...]
    source_id: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @classmethod
    def build(
        cls,
        *,
        kind: Sequence[int] | np.ndarray,
        layer: Sequence[int] | np.ndarray,
        pos: Sequence[int] | np.ndarray,
        feature_idx: Sequence[int] | np.ndarray | None = None,
        token_id: Sequence[int] | np.ndarray | None = None,
        activation: Sequence[float] | np.ndarray | None = None,
        influence: Sequence[float] | np.ndarray | None = None,
        label: Sequence[str] | None = None,
        source_id: Sequence[str] | None = None,
    ) -> NodeTable:
        """Build a table with the canonical dtypes, filling absent columns."""
        kind_arr = np.asarray(kind, dtype=np.int8)
        n = kind_arr.shape[0]

        def ints(values: Sequence[int] | np.ndarray | None) -> np.ndarray:
            return np.full(n, -1, np.int64) if values is None else np.asarray(values, np.int64)

        def floats(values: Sequence[float] | np.ndarray | None) -> np.ndarray:
            if values is None:
                return np.full(n, np.nan, np.float32)
            return np.asarray(values, dtype=np.float32)

        table = cls(
            kind=kind_arr,
            layer=np.asarray(layer, dtype=np.int32),
            pos=np.asarray(pos, dtype=np.int32),
            feature_idx=ints(feature_idx),
            token_id=ints(token_id),
            activation=floats(activation),
            influence=floats(influence),
            label=tuple(label) if label is not None else ("",) * n,
            source_id=tuple(source_id) if source_id is not None else ("",) * n,
        )
        for name in ("layer", "pos", "feature_idx", "token_id", "activation", "influence"):
            if getattr(table, name).shape != (n,):
                raise ValueError(f"NodeTable.{name} has shape {getattr(table, name).shape}, expected ({n},)")
        if len(table.label) != n or len(table.source_id) != n:
            raise ValueError("NodeTable.label / source_id length differs from kind")
        if n and np.any(np.diff(kind_arr) < 0):
            raise ValueError("NodeTable nodes must be grouped by kind: features, errors, embeddings, logits")
        return table


@dataclass(frozen=True, eq=False)
class GraphStore:
    """An attribution graph: typed nodes, a sparse source->target adjacency, the prompt.

    Build one with a loader (:func:`attribution_viewer.loaders.open_graph`), never by
    hand in application code. See the module docstring for node order, edge orientation
    and keys.
    """

    nodes: NodeTable
    adjacency: sp.csr_matrix
    weighted: bool
    n_layers: int
    prompt_tokens: tuple[str, ...]
    logits: tuple[LogitInfo, ...]
    metadata: GraphMetadata = field(default_factory=GraphMetadata)
    interventions: tuple[Intervention, ...] = ()
    highlighted: np.ndarray | None = None
    node_mask: np.ndarray | None = None
    supernodes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    pinned: tuple[str, ...] = ()
    # What the loader had to repair to open the file (dropped edges, ambiguous ids, ...),
    # one sentence each; shown by ``inspect`` and as a notice in the app.
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.nodes)
        if self.adjacency.shape != (n, n):
            raise ValueError(f"adjacency shape {self.adjacency.shape} does not match {n} nodes")
        n_logit_nodes = int(np.count_nonzero(self.nodes.kind == NodeKind.LOGIT))
        if n_logit_nodes != len(self.logits):
            raise ValueError(f"{n_logit_nodes} logit nodes but {len(self.logits)} LogitInfo entries")
        for name in ("highlighted", "node_mask"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != (n,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")

    # -- sizes -----------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_pos(self) -> int:
        return len(self.prompt_tokens)

    @property
    def n_edges(self) -> int:
        return int(self.adjacency.nnz)

    def count(self, kind: NodeKind) -> int:
        return int(self.kind_slices[kind].stop - self.kind_slices[kind].start)

    @cached_property
    def kind_slices(self) -> dict[NodeKind, slice]:
        """Index range of each kind in storage order."""
        bounds = np.searchsorted(self.nodes.kind, np.arange(len(NodeKind) + 1))
        return {k: slice(int(bounds[k]), int(bounds[k + 1])) for k in NodeKind}

    # -- identity --------------------------------------------------------------
    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Canonical key of every node (see module docstring)."""
        nodes = self.nodes
        out: list[str] = []
        logit_start = self.kind_slices[NodeKind.LOGIT].start
        for i in range(len(nodes)):
            kind = NodeKind(int(nodes.kind[i]))
            layer, pos = int(nodes.layer[i]), int(nodes.pos[i])
            if kind is NodeKind.FEATURE:
                out.append(feature_key(layer, pos, int(nodes.feature_idx[i])))
            elif kind is NodeKind.ERROR:
                out.append(error_key(layer, pos))
            elif kind is NodeKind.EMBEDDING:
                out.append(embedding_key(pos))
            else:
                out.append(logit_key(i - logit_start))
        return tuple(out)

    @cached_property
    def index_of(self) -> dict[str, int]:
        """Canonical key -> node index."""
        return {key: i for i, key in enumerate(self.keys)}

    def kind_of(self, index: int) -> NodeKind:
        return NodeKind(int(self.nodes.kind[index]))

    def logit_info(self, index: int) -> LogitInfo:
        """The LogitInfo of a logit node index."""
        return self.logits[index - self.kind_slices[NodeKind.LOGIT].start]

    def token_at(self, pos: int) -> str:
        return self.prompt_tokens[pos] if 0 <= pos < self.n_pos else ""

    # -- edges -----------------------------------------------------------------
    @cached_property
    def adjacency_in(self) -> sp.csr_matrix:
        """Transpose of ``adjacency`` as CSR: row ``t`` lists the sources feeding ``t``."""
        return self.adjacency.T.tocsr()

    def out_edges(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(targets, weights) of the edges leaving ``index``."""
        a = self.adjacency
        lo, hi = a.indptr[index], a.indptr[index + 1]
        return a.indices[lo:hi], a.data[lo:hi]

    def in_edges(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(sources, weights) of the edges entering ``index``."""
        a = self.adjacency_in
        lo, hi = a.indptr[index], a.indptr[index + 1]
        return a.indices[lo:hi], a.data[lo:hi]

    # -- derived node values ---------------------------------------------------
    @cached_property
    def logit_indices(self) -> np.ndarray:
        s = self.kind_slices[NodeKind.LOGIT]
        return np.arange(s.start, s.stop)

    def derived(self, name: str, compute: Callable[[GraphStore], _T]) -> _T:
        """``compute(self)``, computed on first use, once, and kept on this store.

        For values an algorithm outside the model derives from the store (influence:
        :mod:`attribution_viewer.influence`), so that the model imports no algorithm. Like a
        ``cached_property``: two threads may both compute a value first; both get equal ones.
        """
        cache: dict[str, Any] = self.__dict__.setdefault("_derived", {})
        if name not in cache:
            cache[name] = compute(self)
        return cache[name]

    @cached_property
    def display_labels(self) -> tuple[str, ...]:
        """A short human label for every node: the file's label or one built from fields."""
        nodes = self.nodes
        out: list[str] = []
        for i in range(len(nodes)):
            if nodes.label[i]:
                out.append(nodes.label[i])
                continue
            kind = self.kind_of(i)
            layer, pos = int(nodes.layer[i]), int(nodes.pos[i])
            tok = _quote(self.token_at(pos))
            if kind is NodeKind.FEATURE:
                out.append(f"L{layer}/{int(nodes.feature_idx[i])} @ {tok}")
            elif kind is NodeKind.ERROR:
                out.append(f"Error L{layer} @ {tok}")
            elif kind is NodeKind.EMBEDDING:
                out.append(f"Emb {tok}")
            else:
                info = self.logit_info(i)
                out.append(f"Logit {_quote(info.token)} (p={info.probability:.3f})")
        return tuple(out)

    @cached_property
    def interventions_by_key(self) -> dict[str, Intervention]:
        return {iv.key: iv for iv in self.interventions}

    def summary(self) -> dict[str, Any]:
        """Counts used by ``inspect --json``."""
        return {
            "format": self.metadata.source_format,
            "n_layers": self.n_layers,
            "n_tokens": self.n_pos,
            "n_features": self.count(NodeKind.FEATURE),
            "n_errors": self.count(NodeKind.ERROR),
            "n_embeddings": self.count(NodeKind.EMBEDDING),
            "n_logits": self.count(NodeKind.LOGIT),
            "n_edges": self.n_edges,
            "weighted": self.weighted,
            "warnings": list(self.warnings),
        }


def _quote(token: str) -> str:
    """Render a token visibly: quotes, and whitespace shown as symbols."""
    return "'" + visible_token(token) + "'"


def visible_token(token: str) -> str:
    """Make whitespace in a token visible (space -> '·', newline -> '⏎', tab -> '⇥')."""
    return token.replace(" ", "\u00b7").replace("\n", "\u23ce").replace("\t", "\u21e5")


def escape_markup(text: str) -> str:
    """Escape ``&``, ``<``, ``>`` for plotly text, which reads a subset of HTML (``<s>`` is a tag)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
