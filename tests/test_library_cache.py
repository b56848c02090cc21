"""The LRU of open graphs (LC-*): bound, recency, reopening changed files, one open per
graph under concurrent requests, failures not cached.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.export.neuronpedia import to_neuronpedia_json
from attribution_viewer.library import GraphCache, GraphIndex
from attribution_viewer.loaders import open_graph, save_native
from attribution_viewer.model import GraphStore
from attribution_viewer.testing.synthetic import make_synthetic_graph


class CountingOpener:
    """open_graph, counting the opens per file name (a real opener, not a stand-in)."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.calls: list[str] = []
        self.barrier = barrier  # every open waits here for the others (proves they overlap)
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> GraphStore:
        with self._lock:
            self.calls.append(path.name)
        if self.barrier is not None:
            self.barrier.wait(timeout=30)
        return open_graph(path)


def make_library(root: Path, n: int) -> GraphIndex:
    root.mkdir(exist_ok=True)
    for i in range(n):
        save_native(make_synthetic_graph(n_tokens=4, n_features=20, n_edges=60, seed=i), root / f"g{i}.npz")
    return GraphIndex.scan(root)


def test_lc1_bound_and_recency(tmp_path: Path) -> None:
    opener = CountingOpener()
    cache = GraphCache(make_library(tmp_path, 6), 3, opener)
    for name in ("g0.npz", "g1.npz", "g2.npz", "g0.npz", "g3.npz"):
        cache.open(name)
    assert cache.open_paths == ("g2.npz", "g0.npz", "g3.npz")  # g1 was least recently used
    assert opener.calls == ["g0.npz", "g1.npz", "g2.npz", "g3.npz"]
    first = cache.open("g0.npz")
    assert cache.open("g0.npz") is first
    cache.open("g1.npz")
    assert opener.calls[-1] == "g1.npz" and len(opener.calls) == 5
    for i in range(6):
        cache.open(f"g{i}.npz")
        assert len(cache.open_paths) <= 3


def test_lc2_changed_file_is_opened_again(tmp_path: Path) -> None:
    index = make_library(tmp_path, 1)
    opener = CountingOpener()
    cache = GraphCache(index, 2, opener)
    before = cache.open("g0.npz")
    save_native(make_synthetic_graph(n_tokens=5, n_features=30, n_edges=80, seed=9), tmp_path / "g0.npz")
    index.rescan()
    after = cache.open("g0.npz")
    assert after is not before and after.n_pos == 5
    assert opener.calls == ["g0.npz", "g0.npz"]


def test_lc3_concurrent_requests_open_once(tmp_path: Path) -> None:
    """Six requests for g0 and one for g1 at once: g0 opened once, g0 and g1 in parallel
    (each open waits for the other at a barrier: a cache opening one graph at a time would
    break it)."""
    opener = CountingOpener(threading.Barrier(2))
    cache = GraphCache(make_library(tmp_path, 2), 2, opener)
    results: list[GraphStore] = []
    names = ["g0.npz"] * 6 + ["g1.npz"]
    threads = [threading.Thread(target=lambda n=n: results.append(cache.open(n))) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(opener.calls) == ["g0.npz", "g1.npz"]
    assert len(results) == 7
    assert len({id(r) for r in results}) == 2


def test_lc4_failures_are_not_cached(tmp_path: Path) -> None:
    bad = tmp_path / "g.json"
    bad.write_text(json.dumps({"metadata": {"prompt": "x"}, "nodes": 5, "links": []}))
    index = GraphIndex.scan(tmp_path)
    cache = GraphCache(index, 2, CountingOpener())
    with pytest.raises(GraphFormatError, match=r"g\.json"):
        cache.open("g.json")
    assert cache.open_paths == ()
    bad.write_text(
        json.dumps(to_neuronpedia_json(make_synthetic_graph(n_tokens=4, n_features=20, n_edges=60)))
    )
    index.rescan()
    assert cache.open("g.json").n_pos == 4


def test_lc5_bound_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_open"):
        GraphCache(make_library(tmp_path, 1), 0, CountingOpener())
