"""Cluster files: save and load our state, import the original app's and Neuronpedia's.

Formats read by :func:`load_cluster_file` (detected from the content):

ours
    ``{"format": "attribution-viewer-clusters", "version": 1, "graph": str,
    "clusters": [...], "active": [...]}`` (clusters as in :mod:`.state`).
original app, ``version: "2.0"``
    ``clusters: {uuid: {name, color, description, nodes: [{layer, pos, feature_idx,
    ...}]}}`` and ``selected_clusters`` (active); nodes become ``F:{layer}:{pos}:{idx}``.
Neuronpedia / circuit-tracer graph JSON
    ``qParams.supernodes`` ``[[label, node_id, ...], ...]``; the file is read with the
    graph-JSON loader so its node ids are decoded to canonical keys exactly as when the
    graph itself is opened.

Every reader returns a :class:`~.state.ValidatedState` checked against the open graph:
nodes it does not hold are dropped with a warning. A file that is none of these raises
:class:`~attribution_viewer.errors.GraphFormatError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from attribution_viewer.clustering.state import (
    ClusterState,
    ValidatedState,
    state_from_groups,
    validate_state,
)
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import graph_json
from attribution_viewer.model import GraphStore, feature_key

STATE_FORMAT = "attribution-viewer-clusters"
STATE_VERSION = 1
ORIGINAL_VERSION = "2.0"


def dump_state(state: ClusterState, *, graph: str = "") -> str:
    """Our cluster file (JSON text) for ``state``; ``graph`` names the graph it belongs to."""
    doc = {"format": STATE_FORMAT, "version": STATE_VERSION, "graph": graph, **state.to_json()}
    return json.dumps(doc, indent=1, ensure_ascii=False)


def _int_field(source: str, where: str, raw: Mapping[str, Any], name: str) -> int:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise GraphFormatError(source, f"{where}.{name}", "an integer", repr(value))
    return int(value)


def import_original(doc: Mapping[str, Any], store: GraphStore, *, source: str = "") -> ValidatedState:
    """The original app's saved state (``version: "2.0"``) as our state.

    Cluster ids (uuids), names, descriptions and colours are kept; ``selected_clusters``
    become the active clusters. They were drawn by hand: marked manual (a re-clustering
    keeps them).
    """
    clusters = doc.get("clusters")
    if not isinstance(clusters, Mapping):
        raise GraphFormatError(source, "clusters", "an object {id: cluster}", type(clusters).__name__)
    raw_clusters: list[dict[str, Any]] = []
    for cid, raw in clusters.items():
        where = f"clusters.{cid}"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("nodes"), list):
            raise GraphFormatError(source, where, "an object with a 'nodes' list", repr(raw)[:80])
        keys = []
        for j, node in enumerate(raw["nodes"]):
            if not isinstance(node, Mapping):
                raise GraphFormatError(source, f"{where}.nodes[{j}]", "an object", repr(node)[:80])
            here = f"{where}.nodes[{j}]"
            keys.append(
                feature_key(
                    _int_field(source, here, node, "layer"),
                    _int_field(source, here, node, "pos"),
                    _int_field(source, here, node, "feature_idx"),
                )
            )
        raw_clusters.append({**raw, "id": str(cid), "nodes": keys, "manual": True})  # drawn by hand
    selected = doc.get("selected_clusters")
    active = [str(a) for a in selected] if isinstance(selected, list) else []
    return validate_state({"clusters": raw_clusters, "active": active}, store.index_of)


def import_supernodes(supernodes: Sequence[tuple[str, Sequence[str]]], store: GraphStore) -> ValidatedState:
    """Groups ``(label, canonical keys)`` (e.g. ``store.supernodes``) as our state."""
    return validate_state(state_from_groups(supernodes), store.index_of)


def load_cluster_file(
    data: bytes | str, store: GraphStore, *, source: str = "cluster file"
) -> ValidatedState:
    """Read any supported cluster file (see module docstring) for the open graph."""
    raw = data.encode() if isinstance(data, str) else data
    doc = graph_json.parse_json(source, raw)
    if not isinstance(doc, Mapping):
        raise GraphFormatError(source, "", "a JSON object", type(doc).__name__)
    if doc.get("format") == STATE_FORMAT:
        if doc.get("version") != STATE_VERSION:
            raise GraphFormatError(source, "version", f"{STATE_VERSION}", repr(doc.get("version")))
        return validate_state(doc, store.index_of)
    if str(doc.get("version")) == ORIGINAL_VERSION and "clusters" in doc:
        return import_original(doc, store, source=source)
    if graph_json.is_graph_json(doc):
        return import_supernodes(graph_json.load_graph_json(source, doc).supernodes, store)
    raise GraphFormatError(
        source,
        "",
        f"a cluster file ({STATE_FORMAT} version {STATE_VERSION}), the original app's saved state "
        f"(version {ORIGINAL_VERSION}) or a graph JSON with qParams.supernodes",
        "keys " + ", ".join(sorted(map(str, doc))[:8]),
    )
