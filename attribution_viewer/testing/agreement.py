"""Agreement with hand-made clusters: the adjusted Rand index and its ceiling under a size cap.

Used by ``benchmarks/clustering.py``. With ``A`` the number of pairs of items together
in the truth, ``B`` together in the prediction, ``I`` together in both and ``N`` all
pairs, ``ARI = (I - A B / N) / ((A + B) / 2 - A B / N)``.

**Ceiling at a cap.** The highest ARI that any partition whose groups hold at most
``cap`` items reaches against a labelling is reached by splitting every true cluster
into chunks of ``cap`` and one remainder (:func:`ceiling_at_cap`). Proof, in two steps:

1. *A non-refinement never beats its meet with the truth.* Intersecting every predicted
   group with the true clusters keeps ``I`` (pairs together in both stay together) and
   lowers ``B`` to ``I``, and keeps the cap. For fixed ``I`` the derivative of ARI in
   ``B`` has the sign of ``-(A^2 / N + I (1 - 2A / N))``, which is <= 0 because ``I <= A
   <= N`` (if ``2A <= N`` both terms are >= 0; otherwise ``I (1 - 2A/N) >= A (1 - 2A/N)``
   and the sum is ``>= A (1 - A/N) >= 0``). So the meet scores at least as high.
2. *Among refinements of the truth, more pairs is better.* For a refinement ``I = B``
   and ARI is increasing in ``B`` (its derivative has the sign of ``(1 - A/N) A / 2``).
   Splitting a cluster of ``n`` into parts of at most ``cap`` keeps the most pairs with
   parts ``cap, cap, ..., n mod cap`` (``C(b, 2)`` is convex, and this size vector
   majorises every other).

The same argument bounds any capped version of a grouping rule: the best split of its
groups into parts of at most ``cap`` (:func:`best_capped_split`), when one may look at
the truth, is the meet of the grouping with the truth, cut into chunks of ``cap``. No
method that refines that grouping can score higher; it is an upper bound, not a method.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def adjusted_rand(truth: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """ARI of two labellings of the same items (1.0 when both are trivial and equal)."""
    if len(truth) != len(pred):
        raise ValueError(f"labellings differ in length: {len(truth)} and {len(pred)}")
    total = _pairs(len(truth))
    a = sum(_pairs(c) for c in Counter(truth).values())
    b = sum(_pairs(c) for c in Counter(pred).values())
    both = sum(_pairs(c) for c in Counter(zip(truth, pred, strict=True)).values())
    expected = a * b / total if total else 0.0
    top = (a + b) / 2
    if top == expected:
        return 1.0
    return (both - expected) / (top - expected)


def capped_chunks(sizes: int, cap: int) -> list[int]:
    """The sizes a group of ``sizes`` items is cut into: ``cap``, ..., the remainder."""
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    return [cap] * (sizes // cap) + ([sizes % cap] if sizes % cap else [])


def best_capped_split(
    groups: Sequence[Hashable], truth: Sequence[Hashable], cap: int
) -> list[tuple[object, ...]]:
    """Labels of the best partition refining ``groups`` with parts of at most ``cap`` (see module doc).

    Items of one (group, true cluster) cell are cut, in their order, into chunks of
    ``cap``; the label of an item is (group, true cluster, chunk).
    """
    if len(groups) != len(truth):
        raise ValueError(f"labellings differ in length: {len(groups)} and {len(truth)}")
    seen: Counter[tuple[Hashable, Hashable]] = Counter()
    labels: list[tuple[object, ...]] = []
    for g, t in zip(groups, truth, strict=True):
        labels.append((g, t, seen[g, t] // cap))
        seen[g, t] += 1
    return labels


def ceiling_at_cap(truth: Sequence[Hashable], cap: int) -> float:
    """Highest ARI against ``truth`` of any partition with parts of at most ``cap`` items."""
    return adjusted_rand(truth, best_capped_split([0] * len(truth), truth, cap))
