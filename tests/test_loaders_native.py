"""The native ``.npz`` format: exact round trip, the documented example, bad files, speed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from builders import build_tiny_store

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import detect_format, load_native, open_graph, save_native
from attribution_viewer.loaders.native import native_arrays
from attribution_viewer.model import (
    Clamp,
    GraphMetadata,
    GraphStore,
    Intervention,
    LogitInfo,
    NodeTable,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def build_store(**overrides: Any) -> GraphStore:
    """The shared tiny store with every optional field set (and non-ASCII text)."""
    clamp = Clamp(-5.0, (" x", " y"), (0.5, 0.25), " x", 0.75, 0.5, -0.25)
    fields: dict[str, Any] = {
        "prompt_tokens": ("größer", " →\n"),
        "metadata": GraphMetadata(
            "in.json", "graph-json", "slug", "scan", 0.8, None, {"prompt": "Hi", "n": [1, 2]}
        ),
        "interventions": (Intervention(1, 1, 9, (clamp,)),),
        "highlighted": np.array([True] + [False] * 9),
        "node_mask": np.array([True] * 9 + [False]),
        "supernodes": (("group", ("F:0:0:7", "X:0:0")),),
        "pinned": ("F:1:1:9",),
    }
    return build_tiny_store(**{**fields, **overrides})


def assert_same_store(a: GraphStore, b: GraphStore) -> None:
    for f in fields(a.nodes):
        x, y = getattr(a.nodes, f.name), getattr(b.nodes, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f.name
        else:
            assert x == y, f.name
    assert a.adjacency.dtype == b.adjacency.dtype
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.adjacency, part), getattr(b.adjacency, part)), part
    for name in (
        "weighted",
        "n_layers",
        "prompt_tokens",
        "logits",
        "metadata",
        "interventions",
        "supernodes",
        "pinned",
    ):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("highlighted", "node_mask"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y)), name


def test_round_trip_every_field(tmp_path: Path) -> None:
    store = build_store()
    path = save_native(store, tmp_path / "g.npz")
    assert_same_store(store, load_native(path))


def test_round_trip_without_optional_fields(tmp_path: Path) -> None:
    store = build_store(
        interventions=(), highlighted=None, node_mask=None, supernodes=(), pinned=(), metadata=GraphMetadata()
    )
    assert_same_store(store, load_native(save_native(store, tmp_path / "g.npz")))


def test_open_graph_names_the_native_file(tmp_path: Path) -> None:
    path = save_native(build_store(), tmp_path / "g.bin")  # content decides, not the suffix
    assert path.name == "g.bin"
    assert detect_format(path) == "native-npz"
    g = open_graph(path)
    assert (g.metadata.source_format, g.metadata.source_path) == ("native-npz", str(path))
    assert g.metadata.extra["converted_from"] == {"format": "graph-json", "path": "in.json"}
    assert g.keys == ("F:0:0:7", "F:1:1:9", "X:0:0", "X:0:1", "X:1:0", "X:1:1", "E:0", "E:1", "L:0", "L:1")


def test_round_trip_real_graph(real_graph_path: Path, tmp_path: Path) -> None:
    store = open_graph(real_graph_path)
    assert_same_store(store, load_native(save_native(store, tmp_path / "g.npz")))


def test_arrays_are_plain(tmp_path: Path) -> None:
    for name, arr in native_arrays(build_store()).items():
        assert arr.dtype.kind in "iufbU", name


def test_documented_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (PROJECT_ROOT / "docs" / "native-format.md").read_text()
    match = re.search(r"## Writing one with numpy\n\n```python\n(.*?)```", text, re.DOTALL)
    assert match is not None
    monkeypatch.chdir(tmp_path)
    exec(compile(match.group(1), "native-format.md", "exec"), {})
    g = open_graph(tmp_path / "tiny.npz")
    assert g.keys == ("F:0:1:7", "X:0:0", "X:0:1", "E:0", "E:1", "L:0")
    coo = g.adjacency.tocoo()
    assert {(g.keys[s], g.keys[t]): float(w) for s, t, w in zip(coo.row, coo.col, coo.data, strict=True)} == {
        ("F:0:1:7", "L:0"): 1.25,
        ("E:0", "F:0:1:7"): 0.5,
    }
    assert g.nodes.label[0] == "my feature" and g.logits[0].token == "!"


# -- malformed files --------------------------------------------------------------------


def _write(tmp_path: Path, arrays: dict[str, Any]) -> Path:
    path = tmp_path / "bad.npz"
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return path


def _bad(path: Path, key: str, match: str = "") -> None:
    with pytest.raises(GraphFormatError) as info:
        open_graph(path)
    assert info.value.path == str(path) and info.value.key == key
    prefix = f"{path}: {key}: " if key else f"{path}: "
    assert str(info.value).startswith(prefix + "expected ")
    assert match in str(info.value)


def _arrays(**changes: Any) -> dict[str, Any]:
    arrays: dict[str, Any] = dict(native_arrays(build_store()))
    for name, value in changes.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    return arrays


@pytest.mark.parametrize(
    ("changes", "key", "match"),
    [
        ({"node_label": None}, "node_label", "missing"),
        ({"node_pos": np.zeros(9, np.int32)}, "node_pos", "shape (10,)"),
        ({"adj_data": np.array([1, 2, np.nan, 1, 1, 1], np.float32)}, "adj_data", "NaN"),
        ({"adj_data": np.array([1, 2, 0, 1, 1, 1], np.float32)}, "adj_data", "zero"),
        ({"adj_indices": np.array([0, 1, 2, 3, 4, 10], np.int32)}, "adj_indices", "0..9"),
        ({"adj_indptr": np.zeros(10, np.int32)}, "adj_indptr", "shape (11,)"),
        ({"node_kind": np.array([0, 1, 0, 1, 1, 1, 2, 2, 3, 3], np.int8)}, "node_kind", "grouped"),
        ({"logit_token": np.array(["!"])}, "logit_token_id", "length 1"),
        ({"node_layer": np.zeros(10, np.float32)}, "node_layer", "integer"),
        ({"highlighted": np.zeros(3, bool)}, "highlighted", "shape (10,)"),
        ({"meta": np.array("{not json")}, "meta", "JSON"),
        ({"meta": np.array(json.dumps({"format": "other"}))}, "meta.format", "attribution-viewer-graph"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_malformed_native(tmp_path: Path, changes: dict[str, Any], key: str, match: str) -> None:
    _bad(_write(tmp_path, _arrays(**changes)), key, match)


def test_logit_count_must_match_logit_nodes(tmp_path: Path) -> None:
    arrays = _arrays(
        logit_token=np.array(["!"]),
        logit_token_id=np.array([52]),
        logit_probability=np.array([0.9]),
        logit_is_target=np.array([True]),
    )
    _bad(_write(tmp_path, arrays), "", "2 logit nodes but 1 LogitInfo")


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    arrays = _arrays(node_label=np.array(["a", None, *[""] * 8], dtype=object))
    path = tmp_path / "bad.npz"
    with path.open("wb") as fh:
        np.savez(fh, **arrays)  # pickles the object array
    _bad(path, "node_label", "no pickled objects")


def test_truncated_npz(tmp_path: Path) -> None:
    path = save_native(build_store(), tmp_path / "g.npz")
    path.write_bytes(path.read_bytes()[:-200])
    _bad(path, "")


def test_zip_that_is_neither_npz_nor_torch(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _bad(path, "", "readme.txt")


# -- speed ----------------------------------------------------------------------------------

# Peak RSS from VmHWM: ru_maxrss survives exec on Linux and would report the parent's peak.
_OPEN_AND_MEASURE = """
import sys, time
t0 = time.perf_counter()
from attribution_viewer.loaders import open_graph
t1 = time.perf_counter()
g = open_graph(sys.argv[1])
t2 = time.perf_counter()
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(t2 - t1, hwm / 1024, g.n_edges, g.n_nodes)
"""


def test_million_edges_open_fast(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n_feat, n_layers, n_pos, n_logits = 10_000, 26, 20, 10
    n = n_feat + n_layers * n_pos + n_pos + n_logits
    kind = np.repeat([0, 1, 2, 3], [n_feat, n_layers * n_pos, n_pos, n_logits])
    nodes = NodeTable.build(
        kind=kind,
        layer=np.select([kind == 0, kind == 2, kind == 3], [rng.integers(0, n_layers, n), -1, n_layers], 0),
        pos=np.zeros(n, np.int32),
        feature_idx=np.arange(n),
        label=[f"label of node {i}" for i in range(n)],
    )
    candidates = np.unique(rng.integers(0, n * n, 3_000_000))
    forward = nodes.layer[candidates // n] < nodes.layer[candidates % n]  # edges a forward pass can make
    flat = rng.permutation(candidates[forward])[:1_000_000]
    adjacency = sp.csr_matrix((rng.random(flat.size, np.float32) + 1, (flat // n, flat % n)), shape=(n, n))
    logits = tuple(LogitInfo(f"t{i}", i, 0.1, i == 0) for i in range(n_logits))
    store = GraphStore(nodes, adjacency, True, n_layers, tuple(f"p{i}" for i in range(n_pos)), logits)
    path = save_native(store, tmp_path / "big.npz")
    out = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    seconds, rss_mb, n_edges, n_nodes = out.stdout.split()
    assert (int(n_edges), int(n_nodes)) == (1_000_000, n)
    assert float(seconds) < 1.0
    assert float(rss_mb) < 500
