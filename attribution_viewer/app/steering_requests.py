"""The steering panel's requests, built from its controls and the graph (pure: no Dash).

What the panel acts on (:func:`chosen_features`: the selection, the pinned nodes or a
cluster's members, features only) and the jobs it sends to the live model:
:func:`steer_job` and :func:`edge_check_job` return the ``steer-request`` store's value
``{"kind", "request" (the request as JSON), "label", "id"}``, or raise ValueError with the
one line the panel shows instead (nothing chosen, no selection, a node that cannot be
checked). Control values are clamped here, once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from attribution_viewer.clustering.state import validate_state
from attribution_viewer.live.backend import (
    MULTIPLIER_RANGE,
    EdgeCheckRequest,
    GenerateRequest,
    SteerRequest,
    to_json,
)
from attribution_viewer.live.graph_requests import (
    DEFAULT_EDGE_CHECKS,
    edge_spec,
    steer_features,
    strongest_input_edges,
)
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.scores import GraphScores


def chosen_features(
    store: GraphStore,
    source: str,
    selected: str | None,
    pinned: Sequence[str],
    cluster_nodes: Sequence[str],
) -> list[str]:
    """The feature keys the panel acts on, for a source (selection / pinned / cluster)."""
    keys = {
        "selection": [selected] if selected else [],
        "pinned": list(pinned),
        "cluster": list(cluster_nodes),
    }
    index = store.index_of
    return [
        k
        for k in dict.fromkeys(keys.get(source, []))
        if k in index and store.kind_of(index[k]) is NodeKind.FEATURE
    ]


def is_open(summary_clicks: int | None) -> bool:
    """Whether the panel (a ``<details>`` starting closed) is open after this many clicks on it."""
    return bool((summary_clicks or 0) % 2)


def scores_text(scores: GraphScores) -> str:
    """``repl 0.736 · compl 0.916``: replacement and completeness scores, short for the top bar."""
    return f"repl {scores.replacement:.3f} · compl {scores.completeness:.3f}"


def cluster_nodes(store: GraphStore, cluster_state: Any, cluster_id: str | None) -> list[str]:
    """The node keys of the cluster ``cluster_id`` in the browser's cluster state (none if absent)."""
    state = validate_state(cluster_state, store.index_of).state
    for cluster in state.clusters:
        if cluster.id == cluster_id:
            return list(cluster.nodes)
    return []


def clamped(value: Any, default: float, low: float, high: float) -> float:
    """``value`` as a float in [low, high]; ``default`` when it is not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high) if math.isfinite(number) else default


def steer_job(
    store: GraphStore,
    token_ids: tuple[int, ...],
    keys: Sequence[str],
    rows: Sequence[tuple[str, Sequence[str], Any]],
    where: str,
    generation: tuple[Any, Any, Any],
    freeze: bool,
    job_id: float,
) -> dict[str, Any]:
    """The steering job: ``rows`` are the panel's (key, ablate checkbox value, multiplier), in
    order; only rows whose key is in ``keys`` (the chosen features) count. ``generation`` is
    the raw (tokens, temperature, seed) controls; ``token_ids`` the prompt's
    (``graph_requests.prompt_token_ids``)."""
    features = []
    for key, ablate, mult in rows:
        if key not in keys:
            continue
        mode = "ablate" if ablate else "multiply"
        features.extend(steer_features(store, [key], mode, clamped(mult, -1.0, *MULTIPLIER_RANGE)))
    if not features:
        raise ValueError("Choose at least one feature to steer.")
    n_tokens, temperature, seed = generation
    request = SteerRequest(
        GenerateRequest(
            token_ids,
            n_tokens=int(clamped(n_tokens, 5, 0, 64)),
            temperature=clamped(temperature, 0.0, 0.0, 2.0),
            seed=int(clamped(seed, 0, 0, 2**31 - 1)),
        ),
        tuple(features),
        where,  # pyright: ignore[reportArgumentType]
        freeze,
    )
    label = ", ".join(
        f"{f.feature.layer}/{f.feature.feature_idx}@{f.feature.pos}"
        + (" ablated" if f.mode == "ablate" else f" x{f.amount:g}")
        for f in features
    )
    return {"kind": "steer", "request": to_json(request), "label": label, "id": job_id}


def edge_check_job(
    store: GraphStore,
    token_ids: tuple[int, ...],
    selected: str | None,
    edge_source: str | None,
    one: bool,
    job_id: float,
) -> dict[str, Any]:
    """The edge-check job into the selected node: the one edge from ``edge_source`` (``one``),
    else its :data:`DEFAULT_EDGE_CHECKS` strongest feature inputs."""
    if not selected:
        raise ValueError("Select a node first.")
    if one:
        if not edge_source:
            raise ValueError("Choose an input of the selected node.")
        edges = (edge_spec(store, edge_source, selected),)
    else:
        edges = strongest_input_edges(store, selected, DEFAULT_EDGE_CHECKS)
        if not edges:
            raise ValueError("The selected node has no feature inputs to check.")
    request = EdgeCheckRequest(token_ids, edges)
    label = f"edge check into {selected} ({len(edges)} edges)"
    return {"kind": "check_edges", "request": to_json(request), "label": label, "id": job_id}
