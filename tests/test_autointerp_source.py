"""DescriptionSource: layouts, lazy reads, read counting, LRU bound, errors, threads."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from test_autointerp_parsers import circuit_tracer_record, neuronpedia_record, original_record

from attribution_viewer.autointerp import cantor_pair, open_description_source
from attribution_viewer.autointerp.source import DescriptionSource
from attribution_viewer.errors import GraphFormatError


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def original_folder(root: Path, features: list[tuple[int, int]]) -> Path:
    for layer, idx in features:
        rec = original_record(layer=layer, feature_index=idx, description=f"d{layer}/{idx}")
        write_json(root / f"layer{layer}" / f"feature_{idx}_complete.json", rec)
    return root


@pytest.fixture
def no_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any directory listing fail: sources must never list their folder."""

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the description folder was listed")

    monkeypatch.setattr(os, "scandir", forbidden)
    monkeypatch.setattr(os, "listdir", forbidden)
    monkeypatch.setattr(Path, "iterdir", forbidden)
    monkeypatch.setattr(Path, "glob", forbidden)
    monkeypatch.setattr(Path, "rglob", forbidden)


def test_cantor_pair_matches_circuit_tracer() -> None:
    # (l + f)(l + f + 1) / 2 + f
    assert [cantor_pair(0, 0), cantor_pair(1, 0), cantor_pair(0, 1), cantor_pair(3, 4)] == [0, 1, 2, 32]


def test_open_reads_nothing_and_get_reads_once(tmp_path: Path, no_listing: None) -> None:
    original_folder(tmp_path, [(0, 1), (2, 5)])
    source = open_description_source(tmp_path, cache_size=8)
    assert source.files_read == 0 and source.layout == ""
    first = source.get(2, 5)
    assert first is not None and first.description == "d2/5"
    assert source.files_read == 1 and source.layout == "original"
    assert source.get(2, 5) is first
    assert source.files_read == 1
    assert source.get(0, 1) is not None and source.files_read == 2


def test_missing_feature_is_none_and_not_counted(tmp_path: Path) -> None:
    source = open_description_source(original_folder(tmp_path, [(0, 1)]))
    assert source.get(0, 2) is None
    assert source.get(7, 1) is None
    assert source.files_read == 0 and source.layout == ""


def test_missing_file_that_appears_later_is_found(tmp_path: Path) -> None:
    source = open_description_source(original_folder(tmp_path, [(0, 1)]))
    assert source.get(0, 2) is None
    original_folder(tmp_path, [(0, 2)])
    details = source.get(0, 2)
    assert details is not None and details.feature_idx == 2


def test_lru_bound(tmp_path: Path) -> None:
    source = open_description_source(original_folder(tmp_path, [(0, i) for i in range(4)]), cache_size=2)
    for i in (0, 1, 0, 2):  # 0 is refreshed before 2 arrives, so 1 is evicted
        source.get(0, i)
    assert source.files_read == 3 and source.cached() == 2
    source.get(0, 0)
    assert source.files_read == 3
    source.get(0, 1)
    assert source.files_read == 4 and source.cached() == 2


def test_layer_dirs_layout_with_circuit_tracer_records(tmp_path: Path) -> None:
    write_json(tmp_path / "4" / "11.json", circuit_tracer_record())
    source = open_description_source(tmp_path)
    details = source.get(4, 11)
    assert details is not None and details.source_format == "circuit-tracer"
    assert details.source_path == str(tmp_path / "4" / "11.json")
    assert source.layout == "layer-dirs"


def test_cantor_layout_under_features_scan(tmp_path: Path) -> None:
    write_json(tmp_path / "features" / "my-scan" / f"{cantor_pair(3, 4)}.json", neuronpedia_record())
    source = open_description_source(tmp_path, scan="my-scan")
    assert source.root == tmp_path / "features" / "my-scan"
    details = source.get(3, 4)
    assert details is not None and details.description == "numbers in dates"
    assert source.layout == "cantor"


def test_forced_layout_ignores_other_layouts(tmp_path: Path) -> None:
    original_folder(tmp_path, [(0, 1)])
    source = open_description_source(tmp_path, layout="cantor")
    assert source.get(0, 1) is None
    with pytest.raises(ValueError, match="layout"):
        open_description_source(tmp_path, layout="nope")


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(GraphFormatError) as info:
        open_description_source(tmp_path / "absent")
    assert info.value.path == str(tmp_path / "absent")
    assert info.value.expected == "a folder of feature description files"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "valid JSON"),
        (b'{"a": "\xff"}', "UTF-8 JSON text"),
        (b"[1, 2]", "a JSON object"),
    ],
)
def test_malformed_file_raises_with_path(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "layer0" / "feature_3_complete.json"
    path.parent.mkdir()
    path.write_bytes(content)
    source = open_description_source(tmp_path)
    with pytest.raises(GraphFormatError) as info:
        source.get(0, 3)
    assert info.value.path == str(path)
    assert info.value.expected == expected


def test_malformed_field_names_key(tmp_path: Path) -> None:
    write_json(
        tmp_path / "layer1" / "feature_2_complete.json",
        original_record(layer=1, feature_index=2, top_examples=3),
    )
    with pytest.raises(GraphFormatError) as info:
        open_description_source(tmp_path).get(1, 2)
    assert info.value.key == "top_examples" and info.value.expected == "a list"


def test_bad_cache_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cache_size"):
        DescriptionSource(tmp_path, cache_size=0)


def test_threads_share_one_read(tmp_path: Path) -> None:
    source = open_description_source(original_folder(tmp_path, [(0, i) for i in range(5)]))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(5):
                assert source.get(0, i) is not None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert source.files_read == 5
