"""Agglomerative clustering with a hard size cap, on a sparse similarity graph.

The linkage of two groups is ``S(A, B) / (|A| |B|) ** power``, where ``S`` sums the
edges of a sparse similarity graph between the groups (pairs without an edge count as
0). ``power = 1`` is average linkage; the default ``0.5`` (geometric-mean normalisation)
lets a chain of features, each similar only to its neighbours, stay one group, which
average linkage splits. Groups are merged best pair first; a merge is refused when the
merged group would exceed ``max_size`` or when the linkage is below ``min_similarity``.
No group ever exceeds ``max_size``; nodes whose every merge was refused stay singletons
(unclustered).

The work is ``O(E log E)`` for ``E`` edges of the graph (a heap with lazy deletion).
Ties are broken by a seeded random rank of each group's first node, so the result is a
deterministic function of the graph and the seed.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp


class Agglomeration(NamedTuple):
    """Groups found (each a sorted tuple of node indices, singletons included)."""

    groups: tuple[tuple[int, ...], ...]
    internal: tuple[float, ...]  # sum of pair similarities inside each group


def capped_linkage(
    graph: sp.csr_matrix, *, max_size: int, min_similarity: float, seed: int = 0, power: float = 0.5
) -> Agglomeration:
    """Cluster the nodes of a symmetric similarity ``graph`` (see module docstring)."""
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    if not 0 < power <= 1:
        raise ValueError(f"power must be in (0, 1], got {power}")
    n = int(graph.get_shape()[0])
    rank = np.random.default_rng(seed).permutation(n).tolist()
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    internal: dict[int, float] = dict.fromkeys(range(n), 0.0)
    version = [0] * n
    links: list[dict[int, float]] = [{} for _ in range(n)]
    coo = sp.triu(graph, k=1).tocoo()
    heap: list[tuple[float, int, int, int, int, int, int]] = []
    for a, b, s in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        links[a][b] = s
        links[b][a] = s
        if max_size >= 2 and s >= min_similarity:
            lo, hi = (rank[a], rank[b]) if rank[a] < rank[b] else (rank[b], rank[a])
            heap.append((-s, lo, hi, a, b, 0, 0))
    heapq.heapify(heap)

    while heap:
        _, _, _, a, b, va, vb = heapq.heappop(heap)
        if version[a] != va or version[b] != vb or a not in members or b not in members:
            continue
        # merge b into a
        total = internal[a] + internal[b] + links[a].pop(b)
        del links[b][a]
        members[a].extend(members.pop(b))
        internal[a] = total
        del internal[b]
        version[a] += 1
        version[b] += 1
        merged = links[a]
        for c, s in links[b].items():
            merged[c] = merged.get(c, 0.0) + s
            del links[c][b]
        links[b] = {}
        size_a = len(members[a])
        for c, s in merged.items():
            links[c][a] = s
            size_c = len(members[c])
            if size_a + size_c > max_size:
                continue
            avg = s / (size_a * size_c) ** power
            if avg >= min_similarity:
                lo, hi = (rank[a], rank[c]) if rank[a] < rank[c] else (rank[c], rank[a])
                heapq.heappush(heap, (-avg, lo, hi, a, c, version[a], version[c]))

    order = sorted(members, key=lambda g: min(members[g]))
    return Agglomeration(
        groups=tuple(tuple(sorted(members[g])) for g in order),
        internal=tuple(internal[g] for g in order),
    )
