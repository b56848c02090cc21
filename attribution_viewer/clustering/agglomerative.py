"""Agglomerative clustering with a hard size cap, on a sparse similarity graph.

The linkage of two groups is ``S(A, B) / (|A| |B|) ** power``, where ``S`` sums the
edges of a sparse similarity graph between the groups (pairs without an edge count as
0). ``power = 1`` is average linkage; the default ``0.5`` (geometric-mean normalisation)
lets a chain of features, each similar only to its neighbours, stay one group, which
average linkage splits. Groups are merged best pair first; a merge is refused when the
merged group would exceed ``max_size`` or when the linkage is below ``min_similarity``.
No group ever exceeds ``max_size``; nodes whose every merge was refused stay singletons
(unclustered).

The work is ``O(E log E)`` for ``E`` edges of the graph (a heap with lazy deletion,
rebuilt without its stale entries once the pushes and stale pops since the last rebuild
outnumber its entries: each rebuild is paid for by that many heap operations).
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
    rank = np.random.default_rng(seed).permutation(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    internal = [0.0] * n
    size = [1] * n
    version = [0] * n
    links: list[dict[int, float]] = [{} for _ in range(n)]
    coo = sp.triu(graph, k=1).tocoo()
    rows, cols, sims = coo.row.tolist(), coo.col.tolist(), coo.data.tolist()
    for a, b, s in zip(rows, cols, sims, strict=True):
        links[a][b] = s
        links[b][a] = s
    lo = np.minimum(rank[coo.row], rank[coo.col]).tolist()
    hi = np.maximum(rank[coo.row], rank[coo.col]).tolist()
    heap = [
        (-s, r_lo, r_hi, a, b, 0, 0)
        for s, r_lo, r_hi, a, b in zip(sims, lo, hi, rows, cols, strict=True)
        if max_size >= 2 and s >= min_similarity
    ]
    heapq.heapify(heap)
    rank_of = rank.tolist()
    pop, push = heapq.heappop, heapq.heappush

    work = 0  # stale entries popped and entries pushed since the heap was last rebuilt
    while heap:
        _, _, _, a, b, va, vb = pop(heap)
        if version[a] != va or version[b] != vb:  # a or b merged since: a stale entry
            work += 1
            continue
        # merge b into a
        merged = links[a]
        internal[a] = internal[a] + internal[b] + merged.pop(b)
        del links[b][a]
        members[a].extend(members.pop(b))
        size[a] += size[b]
        version[a] += 1
        version[b] += 1
        for c, s in links[b].items():
            merged[c] = merged.get(c, 0.0) + s
            del links[c][b]
        links[b] = {}
        size_a, version_a, rank_a = size[a], version[a], rank_of[a]
        room = max_size - size_a
        for c, s in merged.items():
            links[c][a] = s
            size_c = size[c]
            if size_c > room:
                continue
            avg = s / (size_a * size_c) ** power
            if avg >= min_similarity:
                rank_c = rank_of[c]
                if rank_a < rank_c:
                    push(heap, (-avg, rank_a, rank_c, a, c, version_a, version[c]))
                else:
                    push(heap, (-avg, rank_c, rank_a, a, c, version_a, version[c]))
        work += len(merged)
        if work > len(heap):  # drop the stale entries at once: cheaper than popping each
            heap = [e for e in heap if version[e[3]] == e[5] and version[e[4]] == e[6]]
            heapq.heapify(heap)
            work = 0

    order = sorted(members, key=lambda g: min(members[g]))
    return Agglomeration(
        groups=tuple(tuple(sorted(members[g])) for g in order),
        internal=tuple(internal[g] for g in order),
    )
