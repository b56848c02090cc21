"""The cluster panel's actions: one dispatcher from a pressed control to a pure function of
:mod:`attribution_viewer.clustering`, returning the new state and a status line (bad input
becomes the status line, never an exception). No Dash callbacks here.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import NamedTuple

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering import (
    ClusterState,
    add_nodes,
    cluster_features,
    create_cluster,
    default_candidates,
    delete_cluster,
    import_supernodes,
    load_cluster_file,
    manual_nodes,
    merge_clusters,
    recluster,
    recolor_cluster,
    remove_nodes,
    rename_cluster,
    split_cluster,
)
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.model import NodeKind


class ActionResult(NamedTuple):
    """New state (None: unchanged) and the status line to show."""

    state: ClusterState | None
    message: str


def feature_texts(ctx: AppContext, read_descriptions: bool = True) -> list[str] | None:
    """Description (or label) of every feature node; None when no feature has any.

    ``read_descriptions=False`` uses the labels the graph file carries and reads no
    description file (the automatic clustering of a first visit must not read the folder).
    """
    features = range(ctx.store.count(NodeKind.FEATURE))
    labels = ctx.store.nodes.label
    texts = ctx.node_texts(features) if read_descriptions else [labels[i] for i in features]
    return texts if any(t.strip() for t in texts) else None


def decode_upload(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL (``data:...;base64,XXXX``)."""
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error) as exc:
        raise GraphFormatError("upload", "", "a base64 data URL", str(exc)) from exc


def with_warnings(text: str, warnings: tuple[str, ...]) -> str:
    if len(warnings) == 0:
        return text
    more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return f"{text}; " * bool(text) + f"warning: {warnings[0]}{more}"


def run_clustering(
    ctx: AppContext,
    method: str,
    n_clusters: int | None,
    max_size: int | None,
    read_descriptions: bool = True,
    state: ClusterState | None = None,
) -> ActionResult:
    """Cluster again in place: the manually edited clusters of ``state`` stay as they are."""
    size = int(max_size) if max_size else ctx.settings.cluster_max_size
    if size < 2:
        return ActionResult(None, "size cap must be at least 2")
    state = state or ClusterState()
    keep = manual_nodes(state)
    keys = ctx.store.keys
    result = cluster_features(
        ctx.store,
        texts=feature_texts(ctx, read_descriptions),
        max_size=size,
        n_clusters=int(n_clusters) if n_clusters else None,
        method=method or "auto",
        seed=ctx.settings.cluster_seed,
        nodes=[int(i) for i in default_candidates(ctx.store) if keys[i] not in keep],
    )
    kept = sum(c.manual for c in state.clusters)
    return ActionResult(
        recluster(state, result, keys),
        f"{len(result.clusters)} clusters (≤ {size}), {len(result.unclustered)} unclustered"
        + (f"; {kept} edited cluster(s) kept" if kept else ""),
    )


class ActionInputs(NamedTuple):
    """Everything the edit actions may need, gathered from the callback's states."""

    method: str
    n_clusters: int | None
    max_size: int | None
    target: str | None
    merge_with: str | None
    name: str | None
    color: str | None
    selected: str | None
    pinned: list[str]
    upload: str | None
    upload_name: str | None


def _edit(ctx: AppContext, action: str, state: ClusterState, inputs: ActionInputs) -> ActionResult:
    """The actions that need no target cluster, then those that do."""
    store = ctx.store
    if action in (ids.CLUSTER_RUN, ids.CLUSTER_N, ids.CLUSTER_MAX_SIZE):  # a new number or cap re-clusters
        return run_clustering(ctx, inputs.method, inputs.n_clusters, inputs.max_size, state=state)
    if action == ids.CLUSTER_CREATE:
        nodes = list(inputs.pinned) or ([inputs.selected] if inputs.selected else [])
        if not nodes:
            return ActionResult(None, "select or pin nodes first")
        return ActionResult(create_cluster(state, nodes), f"new cluster of {len(nodes)} node(s)")
    if action == ids.CLUSTER_REMOVE:
        holder = next((c for c in state.clusters if inputs.selected in c.nodes), None)
        if holder is None or inputs.selected is None:
            return ActionResult(None, "the selected node is in no cluster")
        return ActionResult(remove_nodes(state, holder.id, [inputs.selected]), f"removed from {holder.name}")
    if action == ids.CLUSTER_UPLOAD:
        if not inputs.upload:
            return ActionResult(None, "")
        name = Path(inputs.upload_name or "upload").name
        loaded = load_cluster_file(decode_upload(inputs.upload), store, source=name)
        message = f"loaded {len(loaded.state.clusters)} clusters from {name}"
        return ActionResult(loaded.state, with_warnings(message, loaded.warnings))
    if action == ids.CLUSTER_IMPORT:
        found = import_supernodes(store.supernodes, store)
        message = f"imported {len(found.state.clusters)} supernode group(s)"
        return ActionResult(found.state, with_warnings(message, found.warnings))
    if action == ids.CLUSTER_COLOR and not inputs.color:
        return ActionResult(None, "")  # the dropdown was reset
    target = inputs.target if inputs.target in state.ids else None
    if target is None:
        return ActionResult(None, "pick a cluster first")
    if action == ids.CLUSTER_ADD:
        nodes = [inputs.selected] if inputs.selected else list(inputs.pinned)
        if not nodes:
            return ActionResult(None, "select a node first")
        return ActionResult(add_nodes(state, target, nodes), f"added {len(nodes)} node(s)")
    if action == ids.CLUSTER_MERGE:
        if inputs.merge_with not in state.ids or inputs.merge_with == target:
            return ActionResult(None, "pick a second, different cluster to merge with")
        return ActionResult(merge_clusters(state, target, str(inputs.merge_with)), "merged")
    if action == ids.CLUSTER_SPLIT:
        split = split_cluster(state, target, store, texts=feature_texts(ctx), method=inputs.method)
        return ActionResult(split, "split in two")
    if action == ids.CLUSTER_DELETE:
        return ActionResult(delete_cluster(state, target), "deleted")
    if action == ids.CLUSTER_RENAME:
        return ActionResult(rename_cluster(state, target, inputs.name or ""), "renamed")
    if action == ids.CLUSTER_COLOR:
        return ActionResult(recolor_cluster(state, target, str(inputs.color)), "recoloured")
    return ActionResult(None, "")


def apply_action(ctx: AppContext, action: str, state: ClusterState, inputs: ActionInputs) -> ActionResult:
    """Do one panel action on ``state``; bad input becomes the status line, never an exception."""
    try:
        return _edit(ctx, action, state, inputs)
    except ValueError as exc:  # includes GraphFormatError
        return ActionResult(None, str(exc))
