"""Adjusted Rand index and its ceiling under a size cap (codes AG*)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest
from sklearn.metrics import adjusted_rand_score

from attribution_viewer.testing.agreement import (
    adjusted_rand,
    best_capped_split,
    capped_chunks,
    ceiling_at_cap,
)


def set_partitions(n: int) -> Iterator[list[int]]:
    """Every partition of ``range(n)`` as restricted growth strings."""

    def grow(prefix: list[int], top: int) -> Iterator[list[int]]:
        if len(prefix) == n:
            yield list(prefix)
            return
        for label in range(top + 2):
            yield from grow([*prefix, label], max(top, label))

    yield from grow([0], 0) if n else iter([[]])


def test_ag1_ari_matches_scikit_learn() -> None:
    truth = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    pred = [0, 0, 1, 1, 1, 2, 2, 3, 3]
    assert adjusted_rand(truth, pred) == pytest.approx(adjusted_rand_score(truth, pred), abs=1e-12)
    assert adjusted_rand(truth, truth) == 1.0


def test_ag2_ceiling_hand_worked() -> None:
    # truth {a, b, c} {d}, cap 2: best is {a, b} {c} {d}: A = 3, B = I = 1, N = 6
    # ARI = (1 - 3/6) / ((3 + 1)/2 - 3/6) = 0.5 / 1.5 = 1/3
    truth = ["x", "x", "x", "y"]
    assert ceiling_at_cap(truth, 2) == pytest.approx(float(Fraction(1, 3)), abs=1e-12)
    assert ceiling_at_cap(truth, 3) == 1.0
    assert capped_chunks(20, 12) == [12, 8]
    assert capped_chunks(24, 12) == [12, 12]
    assert best_capped_split([0, 0, 0, 0], truth, 2) == [(0, "x", 0), (0, "x", 0), (0, "x", 1), (0, "y", 0)]


@pytest.mark.parametrize(
    ("truth", "cap"),
    [
        ([0, 0, 0, 0, 0, 1, 1], 2),
        ([0, 0, 0, 0, 0, 1, 1], 3),
        ([0, 0, 0, 0, 1, 1, 1, 2], 2),
        ([0, 0, 0, 0, 0, 0, 1, 2], 4),
    ],
)
def test_ag3_ceiling_is_the_best_of_every_capped_partition(truth: list[int], cap: int) -> None:
    # brute force over every partition with parts of at most `cap` (the proof in the module doc)
    best = max(
        adjusted_rand(truth, p) for p in set_partitions(len(truth)) if max(p.count(g) for g in set(p)) <= cap
    )
    assert ceiling_at_cap(truth, cap) == pytest.approx(best, abs=1e-12)


def test_ag4_best_capped_split_is_the_best_refinement_of_a_grouping() -> None:
    truth = [0, 0, 0, 1, 1, 1, 1]
    groups = ["a", "a", "a", "a", "a", "b", "b"]
    cap = 2
    best = max(
        adjusted_rand(truth, p)
        for p in set_partitions(len(truth))
        if max(p.count(g) for g in set(p)) <= cap
        and all(groups[i] == groups[j] for i in range(7) for j in range(7) if p[i] == p[j])
    )
    assert adjusted_rand(truth, best_capped_split(groups, truth, cap)) == pytest.approx(best, abs=1e-12)
