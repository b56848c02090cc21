"""Graph library index (LI-*): a mixed folder with sub-folders, sniffed formats and prompts,
non-graph files left out, rescans that sniff only what changed, ``inspect`` on a folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REAL_GRAPHS_DIR
from file_opens import recorded_opens

from attribution_viewer.cli import main
from attribution_viewer.export.neuronpedia import to_neuronpedia_json
from attribution_viewer.library import GraphIndex
from attribution_viewer.library.sniff import FIRST_READ, HEAD_BYTES, JSON_UNKNOWN, sniff_file
from attribution_viewer.loaders import detect_format, graph_json, save_native
from attribution_viewer.testing.synthetic import make_synthetic_graph

SYNTHETIC_PROMPT = "The moth sings to the moon"


def make_mixed_folder(root: Path) -> dict[str, str]:
    """Synthetic graphs (native and graph JSON, in sub-folders) and non-graph files.

    Returns rel_path -> expected format of the graph files.
    """
    store = make_synthetic_graph(n_tokens=7, n_features=60, n_edges=400, prompt=SYNTHETIC_PROMPT)
    (root / "native" / "deep").mkdir(parents=True)
    (root / "json").mkdir()
    save_native(store, root / "native" / "a.npz")
    save_native(store, root / "native" / "deep" / "b.npz")
    (root / "json" / "c.json").write_text(json.dumps(to_neuronpedia_json(store)))
    # not graphs: notes, a cluster state, a frequency file, hidden files, unknown extensions
    (root / "README.md").write_text("# notes")
    (root / "json" / "clusters.json").write_text(
        json.dumps({"version": "2.0", "clusters": {"a": {"nodes": []}}})
    )
    (root / "feature_frequency.json").write_text(json.dumps({"0": [0.5] * 20000}))
    (root / ".hidden.npz").write_bytes((root / "native" / "a.npz").read_bytes())
    (root / ".cache").mkdir()
    save_native(store, root / ".cache" / "x.npz")
    (root / "graph.npz.bak").write_bytes(b"x")
    (root / "broken.pt").write_bytes(b"not a torch file")
    return {"native/a.npz": "native-npz", "native/deep/b.npz": "native-npz", "json/c.json": "graph-json"}


def test_li1_mixed_folder_lists_graphs_only(tmp_path: Path) -> None:
    expected = make_mixed_folder(tmp_path)
    index = GraphIndex.scan(tmp_path)
    assert {rel: e.format for rel, e in index.entries.items()} == expected
    # sorted by folder then name; folder and name split from the relative path
    assert list(index.entries) == ["json/c.json", "native/a.npz", "native/deep/b.npz"]
    entry = index.entries["native/deep/b.npz"]
    assert (entry.folder, entry.name) == ("native/deep", "b.npz")
    assert entry.size == (tmp_path / "native/deep/b.npz").stat().st_size
    assert entry.mtime_ns == (tmp_path / "native/deep/b.npz").stat().st_mtime_ns
    for rel in expected:
        assert index.entries[rel].prompt == SYNTHETIC_PROMPT


@pytest.mark.real
def test_li2_real_graphs_formats_and_prompts(tmp_path: Path) -> None:
    """Sniffed formats agree with the full open; prompts equal the files' own fields."""
    if not REAL_GRAPHS_DIR.is_dir():
        pytest.skip(f"{REAL_GRAPHS_DIR} absent")
    import torch

    sub = tmp_path / "real"
    shutil.copytree(REAL_GRAPHS_DIR, sub)
    index = GraphIndex.scan(tmp_path)
    graphs = sorted(
        p.name for p in REAL_GRAPHS_DIR.iterdir() if p.suffix in {".pt", ".json"} and "clusters" not in p.name
    )
    assert [e.name for e in index.entries.values()] == graphs
    for entry in index.entries.values():
        path = index.path_of(entry)
        assert entry.format == detect_format(path), entry.rel_path
        assert entry.folder == "real"
        if path.suffix == ".pt":
            raw = torch.load(path, weights_only=True, map_location="cpu")["input_string"]
        else:
            raw = json.loads(path.read_text())["metadata"]["prompt"]
        assert entry.prompt == raw


def test_li3_rescan_picks_up_new_changed_removed(tmp_path: Path) -> None:
    make_mixed_folder(tmp_path)
    index = GraphIndex.scan(tmp_path)
    unchanged = index.rescan()
    assert (unchanged.added, unchanged.removed, unchanged.changed, unchanged.sniffed) == ((), (), (), 0)

    other = make_synthetic_graph(n_tokens=4, n_features=20, n_edges=50, seed=3)
    save_native(other, tmp_path / "json" / "new.npz")
    (tmp_path / "native" / "a.npz").unlink()
    changed = tmp_path / "json" / "c.json"
    changed.write_text(changed.read_text() + " ")
    result = index.rescan()
    assert result.added == ("json/new.npz",)
    assert result.removed == ("native/a.npz",)
    assert result.changed == ("json/c.json",)
    assert result.sniffed == 2  # only the new and the changed file
    assert "json/new.npz" in index.entries and "native/a.npz" not in index.entries


def test_li4_unchanged_graphs_are_not_read_again(tmp_path: Path) -> None:
    make_mixed_folder(tmp_path)
    index = GraphIndex.scan(tmp_path)
    before = index.entries["native/a.npz"]
    with recorded_opens() as opened:
        index.rescan()
    assert opened == []
    assert index.entries["native/a.npz"] is before


def test_li5_links_out_of_the_root_are_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "lib"
    outside.mkdir()
    root.mkdir()
    store = make_synthetic_graph(n_tokens=4, n_features=20, n_edges=50)
    save_native(store, outside / "secret.npz")
    save_native(store, root / "inside.npz")
    (root / "link_out.npz").symlink_to(outside / "secret.npz")
    (root / "link_in.npz").symlink_to(root / "inside.npz")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    assert list(GraphIndex.scan(root).entries) == ["inside.npz", "link_in.npz"]


def test_li6_json_head_decides(tmp_path: Path) -> None:
    """A graph JSON whose metadata is longer than the head is kept, undecided; other long JSON is not."""
    long_meta = tmp_path / "long.json"
    long_meta.write_text(json.dumps({"metadata": {"info": "x" * HEAD_BYTES}, "nodes": [], "links": []}))
    assert sniff_file(long_meta).format == JSON_UNKNOWN
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"features": ["x" * HEAD_BYTES]}))
    assert sniff_file(other).format is None
    # the head grows past the first read while the metadata is undecided, and stops at EOF
    late = tmp_path / "late.json"
    late.write_text(json.dumps({"metadata": {"prompt": "p", "info": "x" * 3 * FIRST_READ}, "links": []}))
    assert sniff_file(late) == (graph_json.FORMAT_NAME, "p")
    exact = tmp_path / "exact.json"
    exact.write_text(('{"metadata": {"info": "' + "x" * FIRST_READ)[:FIRST_READ])
    assert sniff_file(exact).format is None
    list_doc = tmp_path / "list.json"
    list_doc.write_text("[1, 2]")
    assert sniff_file(list_doc).format is None


def test_li7_scan_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected a folder of graphs"):
        GraphIndex.scan(tmp_path / "missing")


def test_li8_inspect_folder_lists_without_opening(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = make_mixed_folder(tmp_path)
    assert main(["inspect", str(tmp_path), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["rel_path"], r["format"]) for r in records] == sorted(expected.items(), key=lambda kv: kv[0])
    assert all(r["path"] == str(tmp_path / r["rel_path"]) for r in records)
    assert main(["inspect", str(tmp_path), "--json", "--open"]) == 0
    opened = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["format"], r["n_features"]) for r in opened] == [
        ("graph-json", 60),
        ("native-npz", 60),
        ("native-npz", 60),
    ]
    assert main(["inspect", str(tmp_path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["path", "format", "size", "prompt"]
    assert len(table) == 1 + len(expected)
