"""Path safety of the graph library (LP-*): only indexed graphs inside the folder open;
everything else is refused with a clear message and no file is read.

Every refusal is checked with an audit hook recording the files the process opens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from file_opens import recorded_opens

from attribution_viewer.library import GraphCache, GraphIndex, GraphPathError, default_opener
from attribution_viewer.loaders import save_native
from attribution_viewer.testing.synthetic import make_synthetic_graph


@pytest.fixture
def library(tmp_path: Path) -> GraphCache:
    """root/ with a.npz and sub/b.npz; outside/ beside it holding secret.npz and passwd."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    store = make_synthetic_graph(n_tokens=4, n_features=20, n_edges=60)
    for path in (root / "a.npz", root / "sub" / "b.npz", outside / "secret.npz"):
        save_native(store, path)
    (outside / "passwd").write_text("root:x:0:0")
    return GraphCache(GraphIndex.scan(root), 2, default_opener(None))


def refused(cache: GraphCache, requested: str, reason: str) -> None:
    """Opening ``requested`` raises GraphPathError matching ``reason`` and reads no file."""
    with recorded_opens() as opened, pytest.raises(GraphPathError, match=reason) as info:
        cache.open(requested)
    assert opened == []
    assert info.value.requested == requested
    assert str(info.value).startswith(f"graph {requested!r}: ")


def test_lp1_indexed_graphs_open(library: GraphCache) -> None:
    with recorded_opens() as opened:
        store = library.open("sub/b.npz")
    assert store.count  # a GraphStore
    assert set(opened) == {str(library.index.root / "sub" / "b.npz")}  # the hook sees opens


@pytest.mark.parametrize(
    ("requested", "reason"),
    [
        ("../../etc/passwd", r"'\.\.' is not allowed"),
        ("../outside/secret.npz", r"'\.\.' is not allowed"),
        ("sub/../a.npz", r"'\.\.' is not allowed"),
        ("sub\\..\\a.npz", r"'\.\.' is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("C:\\graphs\\a.npz", "absolute paths are not allowed"),
        ("\\\\server\\share\\a.npz", "absolute paths are not allowed"),
        ("", "expected a relative path"),
        ("./a.npz", "normalised relative path"),
        ("sub//b.npz", "normalised relative path"),
        ("a.npz\x00.txt", "NUL"),
        ("missing.npz", "no such graph in the library"),
        ("sub", "no such graph in the library"),
    ],
)
def test_lp2_bad_paths_are_refused(library: GraphCache, requested: str, reason: str) -> None:
    refused(library, requested, reason)


def test_lp3_absolute_path_of_an_indexed_graph(library: GraphCache) -> None:
    refused(library, str(library.index.root / "a.npz"), "absolute paths are not allowed")


def test_lp4_symlink_out_of_the_folder(library: GraphCache, tmp_path: Path) -> None:
    root = library.index.root
    (root / "link.npz").symlink_to(tmp_path / "outside" / "secret.npz")
    (root / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    library.index.rescan()
    refused(library, "link.npz", "no such graph in the library")
    refused(library, "linked/secret.npz", "no such graph in the library")


def test_lp5_graph_replaced_by_a_link_after_indexing(library: GraphCache, tmp_path: Path) -> None:
    """Indexed, then swapped for a link out of the folder: refused before any read."""
    target = library.index.root / "a.npz"
    target.unlink()
    target.symlink_to(tmp_path / "outside" / "secret.npz")
    refused(library, "a.npz", "resolves outside the library folder")
