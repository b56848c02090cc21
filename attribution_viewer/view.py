"""Per-user view state and what it shows: pure functions, no Dash.

The browser owns a :class:`ViewState` (controls, selection, pins, labels); the server turns
it into a visible-node mask, the selected node's connections, and a URL query string that
restores it. Nothing here mutates the store.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

import numpy as np

from attribution_viewer import bounded_json
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.limits import MAX_URL_STATE_BYTES
from attribution_viewer.model import GraphStore, NodeKind

DEFAULT_PRUNE_THRESHOLD = 0.8
DEFAULT_EDGES_PER_TARGET = 5  # edges drawn strongly into each node: its strongest inputs (0: all)
MAX_URL_CLUSTERS = 6000  # characters of encoded cluster state kept in the URL
MAX_URL_HISTORY = 3000  # characters of encoded steering history kept in the URL


@dataclass(frozen=True)
class ViewState:
    """What one user currently looks at. Keys are canonical node keys."""

    prune_threshold: float = DEFAULT_PRUNE_THRESHOLD
    frequency_threshold: float = 1.0
    show_errors: bool = False
    node_size: float = 10.0
    selected: str | None = None
    pinned: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    show_highlighted: bool = True
    edges_per_target: int = DEFAULT_EDGES_PER_TARGET
    show_labels: bool = False  # the "labels" toggle: labels written beside nodes (URL show_labels)
    faded_edges: bool = True  # the visible edges that are not strong are drawn faded (else not drawn)


def default_prune_threshold(store: GraphStore) -> float:
    """The graph's own node threshold when it carries one, else the circuit-tracer default."""
    value = store.metadata.node_threshold
    return float(value) if value is not None and 0 < value <= 1 else DEFAULT_PRUNE_THRESHOLD


def visible_mask(store: GraphStore, state: ViewState, frequencies: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the nodes shown for ``state``.

    Features and errors are kept when their cumulative influence is within the pruning
    threshold; features are dropped when they fire on more than ``frequency_threshold`` of
    tokens (``frequencies``: one value per node, NaN = unknown); error nodes only when
    ``show_errors``; nodes the file marks as pruned away (``node_mask``) and nodes with no
    edge at all are hidden. Embeddings, logits and pinned nodes are always shown.
    """
    kinds = store.nodes.kind
    inner = kinds <= NodeKind.ERROR
    mask = ~inner | (cumulative_influence(store) <= state.prune_threshold + 1e-12)
    if store.node_mask is not None:
        mask &= store.node_mask | ~inner
    mask &= connected_nodes(store) | ~inner
    if not state.show_errors:
        mask &= kinds != NodeKind.ERROR
    if frequencies is not None and state.frequency_threshold < 1.0:
        too_frequent = (kinds == NodeKind.FEATURE) & (
            np.nan_to_num(frequencies, nan=0.0) > state.frequency_threshold
        )
        mask &= ~too_frequent
    for key in state.pinned:
        index = store.index_of.get(key)
        if index is not None:
            mask[index] = True
    return mask


def connected_nodes(store: GraphStore) -> np.ndarray:
    """Nodes with at least one incoming or outgoing edge."""
    a = store.adjacency
    has_out = np.diff(a.indptr) > 0
    has_in = np.zeros(store.n_nodes, dtype=bool)
    has_in[a.indices] = True
    return has_out | has_in


def visible_edges(store: GraphStore, visible: np.ndarray) -> np.ndarray:
    """Boolean mask over ``store.adjacency.data``: edges whose both ends are visible."""
    a = store.adjacency
    rows = np.repeat(np.arange(store.n_nodes), np.diff(a.indptr))
    return visible[rows] & visible[a.indices]


class Connection(NamedTuple):
    """One edge of the selected node, as listed in the connections panel."""

    node: int
    key: str
    label: str
    weight: float


class Connections(NamedTuple):
    """The selected node's edges, split by direction and sign, strongest first.

    Each list holds at most ``limit`` rows; ``totals`` counts all edges of each group
    (inputs +, inputs -, outputs +, outputs -).
    """

    inputs_positive: list[Connection]
    inputs_negative: list[Connection]
    outputs_positive: list[Connection]
    outputs_negative: list[Connection]
    totals: tuple[int, int, int, int]


def connections(
    store: GraphStore, index: int, labels: Mapping[str, str] | None = None, limit: int = 20
) -> Connections:
    """Inputs and outputs of node ``index``, split positive / negative, sorted by |weight|.

    Mask-only graphs have weight 1 everywhere: everything is "positive" and the order is by
    the other node's cumulative influence (most influential first).
    """
    labels = labels or {}

    def rows(indices: np.ndarray, weights: np.ndarray) -> tuple[list[Connection], list[Connection]]:
        if store.weighted:
            order = np.lexsort((indices, -np.abs(weights)))
        else:
            order = np.lexsort((indices, cumulative_influence(store)[indices]))
        pos: list[Connection] = []
        neg: list[Connection] = []
        for j in order:
            i = int(indices[j])
            key = store.keys[i]
            item = Connection(i, key, labels.get(key) or store.display_labels[i], float(weights[j]))
            bucket = pos if weights[j] >= 0 else neg
            if len(bucket) < limit:
                bucket.append(item)
        return pos, neg

    in_sources, in_weights = store.in_edges(index)
    out_targets, out_weights = store.out_edges(index)
    in_pos, in_neg = rows(in_sources, in_weights)
    out_pos, out_neg = rows(out_targets, out_weights)
    totals = (
        int(np.count_nonzero(in_weights >= 0)),
        int(np.count_nonzero(in_weights < 0)),
        int(np.count_nonzero(out_weights >= 0)),
        int(np.count_nonzero(out_weights < 0)),
    )
    return Connections(in_pos, in_neg, out_pos, out_neg, totals)


# -- URL state ------------------------------------------------------------------------

_URL_FIELDS = {
    "prune": "prune_threshold",
    "freq": "frequency_threshold",
    "size": "node_size",
}


def encode_blob(value: Any) -> str:
    """Compact URL-safe encoding of a JSON value (zlib + base64url)."""
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_blob(text: str, max_bytes: int = MAX_URL_STATE_BYTES) -> Any:
    """Inverse of :func:`encode_blob`; raises ValueError on anything malformed.

    Bounded: inflating stops after ``max_bytes`` (a larger value is refused, never fully
    inflated) and the JSON may nest at most :data:`~attribution_viewer.bounded_json.MAX_JSON_DEPTH`
    levels.
    """
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), max_bytes)
        if inflater.unconsumed_tail:
            raise ValueError(f"it inflates to more than {max_bytes:,} bytes (setting max_url_state_bytes)")
        if not inflater.eof:
            raise ValueError("truncated compressed data")
        return bounded_json.loads(raw)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"malformed URL state blob: {exc}") from exc


def state_to_query(
    state: ViewState,
    graph_id: str,
    clusters: Mapping[str, Any] | None = None,
    history: Sequence[Any] | None = None,
) -> str:
    """The URL query string (with leading ``?``) that restores ``state``, the clusters and the
    steering history (its newest runs that fit in :data:`MAX_URL_HISTORY` characters)."""
    params: dict[str, str] = {"graph": graph_id}
    params["prune"] = f"{state.prune_threshold:g}"
    params["freq"] = f"{state.frequency_threshold:g}"
    params["size"] = f"{state.node_size:g}"
    params["errors"] = "1" if state.show_errors else "0"
    if not state.show_highlighted:
        params["shared"] = "0"
    if state.show_labels:
        params["show_labels"] = "1"
    if state.selected:
        params["node"] = state.selected
    if state.pinned:
        params["pinned"] = ",".join(state.pinned)
    if state.labels:
        params["labels"] = encode_blob(dict(state.labels))
    if clusters and clusters.get("clusters"):
        blob = encode_blob(clusters)
        if len(blob) <= MAX_URL_CLUSTERS:  # larger states stay in the tab's session storage
            params["clusters"] = blob
    for n in range(len(history or ()), 0, -1):
        blob = encode_blob(list((history or ())[:n]))
        if len(blob) <= MAX_URL_HISTORY:  # older runs stay in the tab's session storage only
            params["steer"] = blob
            break
    return "?" + urlencode(params, safe=":,")


class UrlState(NamedTuple):
    """What a URL query string restores; ``problems`` lists what was ignored and why."""

    state: ViewState
    clusters: dict[str, Any] | None
    problems: list[str]
    history: list[Any] | None = None  # the steering runs (checked by app/steering_history.py)


def state_from_query(
    query: str, store: GraphStore, graph_id: str, base: ViewState, max_state_bytes: int = MAX_URL_STATE_BYTES
) -> UrlState:
    """Parse a query string from :func:`state_to_query`; unknown or bad values are reported
    in ``problems`` and fall back to ``base``. Keys not in the graph are dropped.
    ``max_state_bytes``: the most one ``labels`` / ``clusters`` value may inflate to."""
    params = {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}
    problems: list[str] = []
    if not params:
        return UrlState(base, None, problems)
    if params.get("graph", graph_id) != graph_id:
        problems.append(f"link is for graph {params['graph']!r}, this server shows {graph_id!r}: view reset")
        return UrlState(base, None, problems)
    state = base
    for name, attr in _URL_FIELDS.items():
        if name in params:
            try:
                value = float(params[name])
            except ValueError:
                problems.append(f"{name}={params[name]!r} is not a number")
                continue
            if not np.isfinite(value) or value < 0:
                problems.append(f"{name}={params[name]!r} is out of range")
                continue
            state = replace(state, **{attr: value})
    if "errors" in params:
        state = replace(state, show_errors=params["errors"] == "1")
    if "shared" in params:
        state = replace(state, show_highlighted=params["shared"] != "0")
    if "show_labels" in params:
        state = replace(state, show_labels=params["show_labels"] == "1")
    known = store.index_of
    if "node" in params:
        if params["node"] in known:
            state = replace(state, selected=params["node"])
        else:
            problems.append(f"node {params['node']!r} is not in this graph")
    if "pinned" in params:
        keys = [k for k in params["pinned"].split(",") if k]
        state = replace(state, pinned=tuple(k for k in keys if k in known))
        if len(state.pinned) != len(keys):
            problems.append(f"{len(keys) - len(state.pinned)} pinned node(s) not in this graph were dropped")
    clusters = None
    history = None
    for name in ("labels", "clusters", "steer"):
        if name not in params:
            continue
        try:
            value = decode_blob(params[name], max_state_bytes)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if name == "labels" and isinstance(value, dict):
            state = replace(state, labels={str(k): str(v) for k, v in value.items() if k in known})
        elif name == "clusters" and isinstance(value, dict):
            clusters = value
        elif name == "steer" and isinstance(value, list):
            history = value
        else:
            problems.append(f"{name}: expected a JSON {'list' if name == 'steer' else 'object'}")
    return UrlState(state, clusters, problems, history)
