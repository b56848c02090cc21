"""``open_graph(..., torch_in_subprocess=True)``: same graph, same errors, no torch in this process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROJECT_ROOT, real_graph

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import cached_conversion_path, conversion, load_native, open_graph


def test_i1_same_graph_as_in_process() -> None:
    path = real_graph("clt_b_mask__category_20_de.pt")
    direct = open_graph(path)
    isolated = open_graph(path, torch_in_subprocess=True)
    assert isolated.keys == direct.keys
    assert isolated.metadata.source_format == "clt-b-mask"
    assert isolated.metadata.source_path == str(path)
    assert abs(isolated.adjacency - direct.adjacency).sum() == 0
    assert isolated.adjacency.nnz == direct.adjacency.nnz
    assert isolated.node_mask is not None and direct.node_mask is not None
    assert np.array_equal(isolated.node_mask, direct.node_mask)
    assert isolated.interventions == direct.interventions


def test_i2_errors_come_back_with_file_and_key(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    bad = tmp_path / "bad.pt"
    torch.save({"sparse_pruned_adj": torch.zeros(3, 3)}, bad)
    with pytest.raises(GraphFormatError) as info:
        open_graph(bad, torch_in_subprocess=True)
    assert info.value.path == str(bad)
    assert info.value.key == "feature_indices"


def test_i3_server_process_never_imports_torch() -> None:
    path = real_graph("clt_b_mask__category_20_de.pt")
    code = (
        "import sys; from attribution_viewer.loaders import open_graph; "
        f"open_graph({str(path)!r}, torch_in_subprocess=True); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    assert out.stdout.strip() == "False"


def _no_child(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a child process was started although the conversion is cached")


def test_i4_conversion_cache_reused_until_the_file_changes(tmp_path: Path, monkeypatch) -> None:
    source = tmp_path / "graph.pt"
    shutil.copyfile(real_graph("clt_b_full__preposition_of_50.pt"), source)
    cache = tmp_path / "cache"
    first = open_graph(source, torch_in_subprocess=True, cache_dir=cache)
    kept = cached_conversion_path(source, cache)
    assert sorted(p.name for p in cache.iterdir()) == [kept.name]  # no temporary left behind

    monkeypatch.setattr(conversion, "ChildConversion", _no_child)
    second = open_graph(source, torch_in_subprocess=True, cache_dir=cache)
    assert second.keys == first.keys and abs(second.adjacency - first.adjacency).sum() == 0
    assert second.metadata.source_path == str(source)

    # A changed file (new modification time) is converted again, into a new entry.
    monkeypatch.undo()
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    assert cached_conversion_path(source, cache) != kept
    open_graph(source, torch_in_subprocess=True, cache_dir=cache)
    assert len(list(cache.iterdir())) == 2


def test_i5_damaged_or_unusable_cache_is_bypassed(tmp_path: Path, caplog) -> None:
    source = real_graph("clt_b_full__preposition_of_50.pt")
    cache = tmp_path / "cache"
    cache.mkdir()
    damaged = cached_conversion_path(source, cache)
    damaged.write_bytes(b"not an npz")
    store = open_graph(source, torch_in_subprocess=True, cache_dir=cache)
    assert "ignoring the cached conversion" in caplog.text
    assert load_native(damaged).keys == store.keys  # replaced by a good copy

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    again = open_graph(source, torch_in_subprocess=True, cache_dir=not_a_dir)
    assert again.keys == store.keys
    assert "unusable" in caplog.text
