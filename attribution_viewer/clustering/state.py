"""The cluster state kept in the browser, and pure operations on it.

JSON form (``dcc.Store(id="cluster-state")``)::

    {"clusters": [{"id": str, "name": str, "description": str, "color": "#rrggbb",
                   "nodes": [canonical node keys], "manual": true (only when set)}],
     "active": [cluster ids]}

In Python the state is a frozen :class:`ClusterState`; every operation returns a new
state and never mutates its input. A node belongs to at most one cluster: adding it to a
cluster moves it there. Clusters left without nodes disappear. Unknown cluster ids raise
``ValueError``. The size cap applies to automatic clustering only: manual edits may
build clusters of any size.

Every edit marks the clusters it changes ``manual`` (created, added to, removed from,
merged, split, renamed, recoloured). :func:`recluster` replaces the automatic clusters
by a new clustering and keeps the manual ones as they are, so changing the size cap or the
number of clusters does not lose the user's edits (the new clustering should leave out
:func:`manual_nodes`). Deleting an automatic cluster is not remembered: a re-clustering
may group its nodes again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from attribution_viewer.clustering.core import ClusteringResult, split_members
from attribution_viewer.clustering.naming import name_groups, unique_name
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.style import CLUSTER_PALETTE, cluster_color

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID_NUMBER = re.compile(r"^c(\d+)$")


@dataclass(frozen=True)
class ClusterEntry:
    """One cluster of the state: ``nodes`` are canonical node keys."""

    id: str
    name: str
    description: str
    color: str
    nodes: tuple[str, ...]
    manual: bool = False  # edited by the user: kept by :func:`recluster`

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "color": self.color,
            "nodes": list(self.nodes),
        }
        if self.manual:
            out["manual"] = True
        return out


@dataclass(frozen=True)
class ClusterState:
    """All clusters, in display order, and the ids of the active (highlighted) ones."""

    clusters: tuple[ClusterEntry, ...] = ()
    active: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"clusters": [c.to_json() for c in self.clusters], "active": list(self.active)}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.clusters)

    def get(self, cluster_id: str) -> ClusterEntry:
        for cluster in self.clusters:
            if cluster.id == cluster_id:
                return cluster
        raise ValueError(f"unknown cluster id {cluster_id!r}")


class ValidatedState(NamedTuple):
    """A clean state and one human-readable line per problem that was repaired."""

    state: ClusterState
    warnings: tuple[str, ...]


# -- helpers -------------------------------------------------------------------------


def _next_id(state: ClusterState) -> str:
    numbers = [int(m.group(1)) for cid in state.ids if (m := _ID_NUMBER.match(cid))]
    return f"c{max(numbers, default=0) + 1}"


def _free_color(state: ClusterState) -> str:
    used = {c.color.lower() for c in state.clusters}
    for color in CLUSTER_PALETTE:
        if color not in used:
            return color
    return cluster_color(len(state.clusters))


def _strip(state: ClusterState, keys: Collection[str], cluster_ids: Collection[str]) -> ClusterState:
    """Remove ``keys`` from the clusters ``cluster_ids``; drop emptied clusters."""
    clusters = []
    for c in state.clusters:
        nodes = tuple(k for k in c.nodes if k not in keys) if c.id in cluster_ids else c.nodes
        if nodes:
            clusters.append(replace(c, nodes=nodes))
    ids = {c.id for c in clusters}
    return ClusterState(tuple(clusters), tuple(a for a in state.active if a in ids))


def _without_nodes(state: ClusterState, keys: Collection[str], keep_id: str = "") -> ClusterState:
    """Remove ``keys`` from every cluster except ``keep_id``."""
    return _strip(state, keys, {cid for cid in state.ids if cid != keep_id})


def _replace_cluster(state: ClusterState, cluster: ClusterEntry) -> ClusterState:
    state.get(cluster.id)
    return replace(state, clusters=tuple(cluster if c.id == cluster.id else c for c in state.clusters))


def _dedupe(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(keys))


# -- construction --------------------------------------------------------------------


def state_from_result(result: ClusteringResult, keys: Sequence[str]) -> ClusterState:
    """The state of an automatic clustering (``keys``: canonical key of every node index)."""
    return recluster(ClusterState(), result, keys)


def state_from_groups(groups: Sequence[tuple[str, Sequence[str]]]) -> ClusterState:
    """A state from ``(label, keys)`` groups such as Neuronpedia supernodes."""
    state = ClusterState()
    for label, keys in groups:
        if keys:
            state = create_cluster(state, keys, name=label, activate=False)
    return state


def validate_state(
    data: ClusterState | Mapping[str, Any] | None, valid_keys: Collection[str]
) -> ValidatedState:
    """Parse browser JSON (or check a state) against the keys of the open graph.

    Repairs rather than fails: malformed clusters, unknown or repeated node keys, bad
    colours, repeated ids and unknown active ids are dropped or fixed, each with a
    warning. ``None`` or a non-mapping gives the empty state.
    """
    warnings: list[str] = []
    if isinstance(data, ClusterState):
        data = data.to_json()
    if not isinstance(data, Mapping):
        if data is not None:
            warnings.append(f"cluster state is not an object (got {type(data).__name__}); starting empty")
        return ValidatedState(ClusterState(), tuple(warnings))
    raw_clusters = data.get("clusters", [])
    if not isinstance(raw_clusters, list):
        warnings.append("cluster state: 'clusters' is not a list; ignored")
        raw_clusters = []
    seen_nodes: set[str] = set()
    clusters: list[ClusterEntry] = []
    for n, raw in enumerate(raw_clusters):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("nodes"), list):
            warnings.append(f"cluster #{n + 1}: not an object with a 'nodes' list; dropped")
            continue
        cid = str(raw.get("id") or "")
        name = str(raw.get("name") or f"Cluster {n + 1}")
        if not cid or cid in {c.id for c in clusters}:
            cid = _next_id(ClusterState(tuple(clusters)))
        nodes: list[str] = []
        unknown = [k for k in raw["nodes"] if not isinstance(k, str) or k not in valid_keys]
        if unknown:
            shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
            warnings.append(f"cluster {name!r}: {len(unknown)} node(s) not in this graph dropped: {shown}")
        for key in raw["nodes"]:
            if isinstance(key, str) and key in valid_keys:
                if key in seen_nodes:
                    warnings.append(f"cluster {name!r}: node {key} already in another cluster; dropped here")
                else:
                    seen_nodes.add(key)
                    nodes.append(key)
        if not nodes:
            warnings.append(f"cluster {name!r}: no node of this graph left; dropped")
            continue
        color = str(raw.get("color") or "")
        if not _COLOR.match(color):
            color = _free_color(ClusterState(tuple(clusters)))
            if raw.get("color"):
                warnings.append(f"cluster {name!r}: colour {raw.get('color')!r} is not #rrggbb; replaced")
        manual = raw.get("manual") is True
        description = str(raw.get("description") or "")
        clusters.append(ClusterEntry(cid, name, description, color, _dedupe(nodes), manual))
    raw_active = data.get("active", [])
    ids = {c.id for c in clusters}
    active = _dedupe(a for a in raw_active if a in ids) if isinstance(raw_active, list) else ()
    if isinstance(raw_active, list) and len(active) != len(raw_active):
        warnings.append(f"{len(raw_active) - len(active)} active id(s) not among the clusters dropped")
    return ValidatedState(ClusterState(tuple(clusters), active), tuple(warnings))


# -- operations ----------------------------------------------------------------------


def create_cluster(
    state: ClusterState,
    keys: Sequence[str],
    *,
    name: str | None = None,
    description: str = "",
    color: str | None = None,
    activate: bool = True,
) -> ClusterState:
    """Add a cluster of ``keys`` (moved out of other clusters), active by default."""
    nodes = _dedupe(keys)
    if not nodes:
        raise ValueError("a cluster needs at least one node")
    if color is not None and not _COLOR.match(color):
        raise ValueError(f"colour must be #rrggbb, got {color!r}")
    cid = _next_id(state)
    names = {c.name for c in state.clusters}
    entry = ClusterEntry(
        id=cid,
        name=unique_name(name or f"Cluster {cid.removeprefix('c')}", names),
        description=description,
        color=color or _free_color(state),
        nodes=nodes,
        manual=True,
    )
    rest = _without_nodes(state, set(nodes))
    active = (*rest.active, cid) if activate else rest.active
    return ClusterState((*rest.clusters, entry), active)


def add_nodes(state: ClusterState, cluster_id: str, keys: Sequence[str]) -> ClusterState:
    """Add ``keys`` to a cluster, moving them out of any other cluster."""
    cluster = state.get(cluster_id)
    moved = _without_nodes(state, set(keys), keep_id=cluster_id)
    return _replace_cluster(moved, replace(cluster, nodes=_dedupe((*cluster.nodes, *keys)), manual=True))


def remove_nodes(state: ClusterState, cluster_id: str, keys: Sequence[str]) -> ClusterState:
    """Take ``keys`` out of a cluster (the cluster disappears when emptied)."""
    marked = _replace_cluster(state, replace(state.get(cluster_id), manual=True))
    return _strip(marked, set(keys), {cluster_id})


def merge_clusters(state: ClusterState, first_id: str, second_id: str) -> ClusterState:
    """Merge the second cluster into the first (keeps the first's id and colour)."""
    if first_id == second_id:
        raise ValueError("pick two different clusters to merge")
    first, second = state.get(first_id), state.get(second_id)
    merged = replace(
        first,
        name=f"{first.name} + {second.name}",
        description="; ".join(d for d in (first.description, second.description) if d),
        nodes=_dedupe((*first.nodes, *second.nodes)),
        manual=True,
    )
    was_active = first_id in state.active or second_id in state.active
    rest = delete_cluster(state, second_id)
    merged_state = _replace_cluster(rest, merged)
    if was_active and first_id not in merged_state.active:
        merged_state = replace(merged_state, active=(*merged_state.active, first_id))
    return merged_state


def split_cluster(
    state: ClusterState,
    cluster_id: str,
    store: GraphStore,
    *,
    texts: Sequence[str] | None = None,
    method: str = "auto",
) -> ClusterState:
    """Re-cluster a cluster's feature members in two with the clustering similarity.

    The larger part keeps the id and colour, the other becomes a new cluster right after
    it; both get fresh names. Non-feature members stay with the larger part.
    """
    cluster = state.get(cluster_id)
    index_of = store.index_of
    indices = [index_of[k] for k in cluster.nodes if k in index_of]
    features = [i for i in indices if store.kind_of(i) is NodeKind.FEATURE]
    others = [store.keys[i] for i in indices if store.kind_of(i) is not NodeKind.FEATURE]
    if len(features) < 2:
        raise ValueError(f"cluster {cluster.name!r} has fewer than 2 features to split")
    big, small = split_members(store, features, texts=texts, method=method)
    taken = {c.name for c in state.clusters if c.id != cluster_id}
    names = name_groups(store, [big, small], texts=texts, taken=taken)
    keys = store.keys
    first = replace(
        cluster,
        name=names[0].name,
        description=names[0].description,
        nodes=(*(keys[i] for i in big), *others),
        manual=True,
    )
    second = ClusterEntry(
        _next_id(state),
        names[1].name,
        names[1].description,
        _free_color(state),
        tuple(keys[i] for i in small),
        manual=True,
    )
    clusters: list[ClusterEntry] = []
    for c in state.clusters:
        clusters.extend((first, second) if c.id == cluster_id else (c,))
    active = state.active + ((second.id,) if cluster_id in state.active else ())
    return ClusterState(tuple(clusters), active)


def rename_cluster(state: ClusterState, cluster_id: str, name: str) -> ClusterState:
    """Give a cluster a new name (made unique among the other clusters)."""
    if not name.strip():
        raise ValueError("a cluster name cannot be empty")
    taken = {c.name for c in state.clusters if c.id != cluster_id}
    renamed = replace(state.get(cluster_id), name=unique_name(name.strip(), taken), manual=True)
    return _replace_cluster(state, renamed)


def recolor_cluster(state: ClusterState, cluster_id: str, color: str) -> ClusterState:
    """Give a cluster a new ``#rrggbb`` colour."""
    if not _COLOR.match(color):
        raise ValueError(f"colour must be #rrggbb, got {color!r}")
    return _replace_cluster(state, replace(state.get(cluster_id), color=color.lower(), manual=True))


def delete_cluster(state: ClusterState, cluster_id: str) -> ClusterState:
    """Remove a cluster (its nodes become unclustered)."""
    cluster = state.get(cluster_id)
    return _strip(state, set(cluster.nodes), {cluster_id})


def toggle_active(state: ClusterState, cluster_id: str) -> ClusterState:
    """Activate an inactive cluster (appended last) or deactivate an active one."""
    state.get(cluster_id)
    if cluster_id in state.active:
        return replace(state, active=tuple(a for a in state.active if a != cluster_id))
    return replace(state, active=(*state.active, cluster_id))


def active_node_colors(state: ClusterState) -> dict[str, str]:
    """Canonical key -> colour of every node in an active cluster (for the main graph)."""
    active = set(state.active)
    return {key: c.color for c in state.clusters if c.id in active for key in c.nodes}


def manual_nodes(state: ClusterState) -> set[str]:
    """Keys of the nodes in manually edited clusters (a re-clustering leaves them out)."""
    return {key for c in state.clusters if c.manual for key in c.nodes}


def recluster(state: ClusterState, result: ClusteringResult, keys: Sequence[str]) -> ClusterState:
    """``state`` with its automatic clusters replaced by ``result``; manual ones kept as they are.

    Manual clusters keep their ids, names, colours, nodes, order (first) and highlight. The
    new clusters follow, with ids, names and colours that do not collide with them; nodes
    of manual clusters are left out of them. A new cluster is highlighted when a
    highlighted automatic cluster had exactly its nodes.
    """
    kept = tuple(c for c in state.clusters if c.manual)
    taken = manual_nodes(state)
    was_active = {frozenset(c.nodes) for c in state.clusters if not c.manual and c.id in state.active}
    out = ClusterState(kept, tuple(a for a in state.active if a in {c.id for c in kept}))
    names = {c.name for c in kept}
    for cluster in result.clusters:
        nodes = tuple(keys[m] for m in cluster.members if keys[m] not in taken)
        if not nodes:
            continue
        used = {c.color for c in out.clusters}
        color = cluster.color if cluster.color not in used else _free_color(out)
        entry = ClusterEntry(
            _next_id(out), unique_name(cluster.name, names), cluster.description, color, nodes
        )
        active = (*out.active, entry.id) if frozenset(nodes) in was_active else out.active
        out = ClusterState((*out.clusters, entry), active)
    return out
