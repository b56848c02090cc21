"""Companion files are bound to the graph whose folder names them, never to other graphs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attribution_viewer.companions import MANIFEST_NAME, bind_companions, find_companions
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.settings import Settings
from config.settings import EXAMPLE_DIR


def test_example_manifest_names_its_descriptions() -> None:
    found = find_companions(EXAMPLE_DIR / "graph.npz")
    assert found.autointerp == EXAMPLE_DIR / "autointerp" / "features"
    assert found.frequencies == EXAMPLE_DIR / "autointerp" / "feature_frequency.json"
    assert found.autointerp is not None and found.autointerp.is_dir()
    assert found.frequencies is not None and found.frequencies.is_file()
    assert found.model is None


def test_graph_without_manifest_gets_no_descriptions(tmp_path: Path) -> None:
    bound = bind_companions(Settings(), tmp_path / "graph.pt")
    assert bound.autointerp_dir is None
    assert bound.resolved_frequency_path is None


def test_manifest_applies_only_to_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"autointerp": "features"}))
    (tmp_path / "sub").mkdir()
    assert find_companions(tmp_path / "g.json").autointerp == tmp_path / "features"
    assert find_companions(tmp_path / "sub" / "g.json").autointerp is None


def test_explicit_folder_wins_over_manifest(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"autointerp": "features"}))
    bound = bind_companions(Settings(autointerp_dir=Path("/elsewhere/features")), tmp_path / "g.json")
    assert bound.autointerp_dir == Path("/elsewhere/features")
    assert bound.resolved_frequency_path == Path("/elsewhere/feature_frequency.json")


@pytest.mark.parametrize(
    ("text", "key"),
    [("[1]", ""), ('{"colour": "x"}', "colour"), ('{"autointerp": 3}', "autointerp"), ("{oops", "")],
)
def test_bad_manifest_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / MANIFEST_NAME).write_text(text)
    with pytest.raises(GraphFormatError) as info:
        find_companions(tmp_path / "g.json")
    assert info.value.key == key
    assert MANIFEST_NAME in str(info.value)
