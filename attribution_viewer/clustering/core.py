"""Automatic clustering of feature nodes: :func:`cluster_features` and :func:`split_members`.

Pipeline: similarity parts (:mod:`.similarity`) -> each feature's ``k`` nearest
neighbours -> capped agglomeration (:mod:`.agglomerative`) -> names
(:mod:`.naming`). Only feature nodes are clustered; nodes whose similarity to every
group stays below ``min_similarity`` are left unclustered. No cluster ever exceeds
``max_size``. The result is a deterministic function of the inputs and ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attribution_viewer.clustering.agglomerative import capped_linkage
from attribution_viewer.clustering.naming import name_groups
from attribution_viewer.clustering.similarity import (
    SimilarityParams,
    TextEmbedder,
    feature_space,
    knn_graph,
    weights_for,
)
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.style import cluster_color

DEFAULT_MIN_SIMILARITY = 0.2
MIN_NEIGHBOURS = 16
MAX_NEIGHBOURS = 64


@dataclass(frozen=True)
class Cluster:
    """A named group of feature nodes (``members`` are node indices, ascending)."""

    name: str
    description: str
    members: tuple[int, ...]
    color: str


@dataclass(frozen=True)
class ClusteringResult:
    """Clusters (ordered by mean layer, then mean position) and the nodes left out."""

    clusters: tuple[Cluster, ...]
    unclustered: tuple[int, ...]
    method: str
    seed: int
    max_size: int


def default_candidates(store: GraphStore) -> np.ndarray:
    """Feature node indices to cluster: all features, or those in ``store.node_mask``."""
    features = np.arange(store.kind_slices[NodeKind.FEATURE].stop)
    if store.node_mask is not None:
        features = features[np.asarray(store.node_mask[: features.shape[0]], dtype=bool)]
    return features


def _checked_candidates(store: GraphStore, nodes: Sequence[int] | None) -> np.ndarray:
    if nodes is None:
        return default_candidates(store)
    indices = np.unique(np.asarray(list(nodes), dtype=np.int64))
    n_feat = store.count(NodeKind.FEATURE)
    if indices.size and (indices[0] < 0 or indices[-1] >= n_feat):
        raise ValueError(f"nodes must be feature node indices 0..{n_feat - 1}")
    return indices


def cluster_features(
    store: GraphStore,
    *,
    texts: Sequence[str] | None = None,
    max_size: int,
    n_clusters: int | None = None,
    method: str = "auto",
    seed: int = 0,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    weights: SimilarityParams | None = None,
    embedder: TextEmbedder | None = None,
    nodes: Sequence[int] | None = None,
) -> ClusteringResult:
    """Group the feature nodes of ``store`` into named clusters of at most ``max_size``.

    Args:
        texts: one description per node index (features first), or None.
        max_size: hard cap on the number of members of a cluster (>= 2).
        n_clusters: when given, merging goes on down to any positive similarity and the
            ``n_clusters`` groups with the largest total internal similarity are kept
            (fewer when fewer form); the rest is unclustered. When None, merging stops at
            ``min_similarity`` and every group of 2+ nodes is kept.
        method: a name from :data:`~.similarity.METHODS` (ignored when ``weights`` given).
        seed: breaks ties between equally similar pairs.
        min_similarity: lowest linkage at which two groups may merge (for two single
            features: their similarity).
        weights: explicit weights of the similarity parts.
        embedder: text embedding backend (default TF-IDF).
        nodes: feature node indices to cluster (default: :func:`default_candidates`).
    """
    if max_size < 2:
        raise ValueError(f"max_size must be >= 2, got {max_size}")
    if n_clusters is not None and n_clusters < 1:
        raise ValueError(f"n_clusters must be >= 1, got {n_clusters}")
    candidates = _checked_candidates(store, nodes)
    space = feature_space(store, texts=texts, weights=weights or weights_for(method), embedder=embedder)
    k = int(np.clip(2 * max_size, MIN_NEIGHBOURS, MAX_NEIGHBOURS))
    graph = knn_graph(space, candidates, k)
    floor = min_similarity if n_clusters is None else 1e-6
    found = capped_linkage(graph, max_size=max_size, min_similarity=floor, seed=seed)
    kept = [(g, s) for g, s in zip(found.groups, found.internal, strict=True) if len(g) >= 2]
    if n_clusters is not None:
        kept = sorted(kept, key=lambda gs: (-gs[1], gs[0]))[:n_clusters]
    groups = [tuple(int(candidates[i]) for i in g) for g, _ in kept]
    groups.sort(
        key=lambda g: (float(store.nodes.layer[list(g)].mean()), float(store.nodes.pos[list(g)].mean()), g)
    )
    in_cluster = {i for g in groups for i in g}
    unclustered = tuple(int(i) for i in candidates if int(i) not in in_cluster)
    names = name_groups(store, groups, texts=texts, background=unclustered)
    clusters = tuple(
        Cluster(name=nm.name, description=nm.description, members=g, color=cluster_color(i))
        for i, (g, nm) in enumerate(zip(groups, names, strict=True))
    )
    return ClusteringResult(clusters, unclustered, method if weights is None else "custom", seed, max_size)


def split_members(
    store: GraphStore,
    members: Sequence[int],
    *,
    texts: Sequence[str] | None = None,
    method: str = "auto",
    weights: SimilarityParams | None = None,
    embedder: TextEmbedder | None = None,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Split feature nodes in two by the same similarity (spectral bisection).

    The larger part comes first. Uses the sign of the Fiedler vector of the normalised
    Laplacian of the (non-negative part of the) similarity among ``members``.
    """
    nodes = np.unique(np.asarray(list(members), dtype=np.int64))
    if nodes.size < 2:
        raise ValueError("a cluster needs at least 2 members to be split")
    nodes = _checked_candidates(store, nodes.tolist())
    space = feature_space(store, texts=texts, weights=weights or weights_for(method), embedder=embedder)
    sim = np.clip(space.similarity(nodes, nodes).astype(np.float64), 0.0, None)
    np.fill_diagonal(sim, 0.0)
    sim += 1e-6  # keeps the Laplacian defined for isolated members
    inv_sqrt = 1.0 / np.sqrt(sim.sum(axis=1))
    laplacian = np.eye(nodes.size) - inv_sqrt[:, None] * sim * inv_sqrt[None, :]
    _, vectors = np.linalg.eigh(laplacian)
    fiedler = np.round(vectors[:, 1] * inv_sqrt, 9)
    side = fiedler > 0
    if side.all() or not side.any():
        side = fiedler > np.median(fiedler)
    if side.all() or not side.any():  # no structure at all: halve in index order
        side = np.arange(nodes.size) < nodes.size // 2
    parts = sorted(
        (tuple(int(i) for i in nodes[side]), tuple(int(i) for i in nodes[~side])), key=lambda p: (-len(p), p)
    )
    return parts[0], parts[1]
