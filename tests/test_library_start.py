"""Settings of the graph library (LS-*): ``graphs_dir`` / ``open_graphs_max``, ``--graph FOLDER``."""

from __future__ import annotations

from pathlib import Path

import pytest

import launch
from attribution_viewer.library.start import library_settings
from attribution_viewer.loaders import save_native
from attribution_viewer.settings import Settings, resolve_settings
from attribution_viewer.testing.synthetic import make_synthetic_graph


def write_graphs(root: Path, names: list[str]) -> None:
    store = make_synthetic_graph(n_tokens=4, n_features=20, n_edges=60)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        save_native(store, root / name)


def test_ls1_settings_fields() -> None:
    settings = resolve_settings({"graphs_dir": "/data/graphs"}, {"ATTRVIEW_OPEN_GRAPHS_MAX": "7"})
    assert settings.graphs_dir == Path("/data/graphs") and settings.open_graphs_max == 7
    assert Settings().open_graphs_max == 4 and Settings().graphs_dir is None
    with pytest.raises(ValueError, match=r"settings\.open_graphs_max: expected >= 1, got 0"):
        Settings(open_graphs_max=0)


def test_ls2_graph_folder_becomes_the_library(tmp_path: Path) -> None:
    write_graphs(tmp_path, ["z.npz", "b/a.npz", "a/c.npz"])
    settings, index = library_settings(Settings(graph_path=tmp_path))
    assert settings.graphs_dir == tmp_path
    assert settings.graph_path == tmp_path / "z.npz"  # by folder (the root first), then name
    assert index is not None and list(index.entries) == ["z.npz", "a/c.npz", "b/a.npz"]


def test_ls3_explicit_graph_opens_first(tmp_path: Path) -> None:
    write_graphs(tmp_path, ["a.npz"])
    other = tmp_path.parent / f"{tmp_path.name}-other.npz"
    write_graphs(tmp_path.parent, [other.name])
    settings, index = library_settings(Settings(graph_path=other, graphs_dir=tmp_path))
    assert settings.graph_path == other and index is not None and len(index) == 1
    assert library_settings(Settings(graph_path=other)) == (Settings(graph_path=other), None)


def test_ls4_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"settings\.graphs_dir: expected graph files in"):
        library_settings(Settings(graph_path=tmp_path))
    with pytest.raises(ValueError, match=r"settings\.graphs_dir: .*expected a folder of graphs"):
        library_settings(Settings(graphs_dir=tmp_path / "missing"))


def test_ls5_launch_empty_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert launch.main(["--graph", str(tmp_path), "--autointerp", "none"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"error: settings.graphs_dir: expected graph files in {tmp_path}, found none"
    )
