"""``open_graph(..., torch_in_subprocess=True)``: same graph, same errors, no torch in this process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROJECT_ROOT, real_graph

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import open_graph


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
