"""The LRU helper: bound, recency, bad size (exact values)."""

from __future__ import annotations

import pytest

from attribution_viewer.lru import LRU


def test_lru_drops_the_least_recent_and_reading_refreshes() -> None:
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)  # drops "b"
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)
    cache.put("a", 10)  # replacing keeps the size
    assert (cache.get("a"), len(cache)) == (10, 2)


def test_lru_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="size"):
        LRU(0)
