"""Parquet -> folder reconstruction, Hub download arguments, and the CLI command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub.utils import filter_repo_objects  # pyright: ignore[reportPrivateImportUsage]

from attribution_viewer.autointerp import open_description_source
from attribution_viewer.autointerp.download import download_autointerp, layer_patterns
from attribution_viewer.autointerp.reconstruct import reconstruct_from_parquet
from attribution_viewer.commands import autointerp as autointerp_command
from attribution_viewer.errors import GraphFormatError


def run_command(argv: list[str]) -> int:
    """Parse and run ``autointerp ...`` with this command alone (independent of the other commands)."""
    parser = argparse.ArgumentParser()
    autointerp_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def rows(layer: int, idxs: range) -> dict[str, list[Any]]:
    return {
        "layer": [layer] * len(idxs),
        "feature_index": list(idxs),
        "description": [f"desc {layer}/{i}" for i in idxs],
        "explanation": [f"expl {i}" for i in idxs],
        "average_activation": [float(i) / 2 for i in idxs],
        "top_examples": [json.dumps([f"a <<b{i}>> c"]) for i in idxs],
        "top_activating_tokens": [
            json.dumps([{"token": f" t{i}", "token_id": i, "frequency": 2, "average_activation": 1.5}])
            for i in idxs
        ],
        "language_distribution": [json.dumps({"en": 1.0}) for _ in idxs],
    }


def write_shards(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # Small row groups, so the reader really streams several of them.
    pq.write_table(pa.table(rows(0, range(5))), folder / "layer0-00000.parquet", row_group_size=2)
    pq.write_table(pa.table(rows(1, range(3))), folder / "layer1-00000.parquet", row_group_size=2)
    return folder


def test_reconstruct_writes_original_layout(tmp_path: Path) -> None:
    src = write_shards(tmp_path / "parquet")
    out = tmp_path / "features"
    result = reconstruct_from_parquet(src, out, progress=False, batch_size=2)
    assert (result.written, result.skipped, result.shards) == (8, 0, 2)
    data = json.loads((out / "layer1" / "feature_2_complete.json").read_text(encoding="utf-8"))
    assert data["layer"] == 1 and data["feature_index"] == 2
    assert data["top_examples"] == ["a <<b2>> c"]  # JSON string decoded into a list
    source = open_description_source(out)
    details = source.get(0, 4)
    assert details is not None
    assert details.description == "desc 0/4" and details.average_activation == 2.0
    assert details.top_examples[0].highlighted_text == "b4"
    assert details.top_activating_tokens[0].token == " t4"
    assert dict(details.language_distribution) == {"en": 1.0}


def test_reconstruct_resumes_and_overwrites(tmp_path: Path) -> None:
    src = write_shards(tmp_path / "parquet")
    out = tmp_path / "features"
    reconstruct_from_parquet(src, out, progress=False)
    (out / "layer0" / "feature_0_complete.json").unlink()
    again = reconstruct_from_parquet(src, out, progress=False)
    assert (again.written, again.skipped) == (1, 7)
    forced = reconstruct_from_parquet(src, out, progress=False, overwrite=True)
    assert (forced.written, forced.skipped) == (8, 0)
    assert not list(out.rglob("*.part"))


def test_reconstruct_native_nested_columns(tmp_path: Path) -> None:
    table = pa.table({"layer": [2], "feature_id": [7], "top_examples": [["x <<y>>"]], "description": ["d"]})
    pq.write_table(table, tmp_path / "one.parquet")
    out = tmp_path / "out"
    assert reconstruct_from_parquet(tmp_path / "one.parquet", out, progress=False).written == 1
    data = json.loads((out / "layer2" / "feature_7_complete.json").read_text(encoding="utf-8"))
    assert data == {"layer": 2, "feature_index": 7, "top_examples": ["x <<y>>"], "description": "d"}


@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ({"feature_index": [1]}, "layer", "a 'layer' column"),
        ({"layer": [1]}, "feature_index", "a 'feature_index' column"),
        ({"layer": [-1], "feature_index": [1]}, "row 0: layer", "a non-negative integer"),
        (
            {"layer": [1], "feature_index": [1], "top_examples": ["[oops"]},
            "row 0: top_examples",
            "a JSON string",
        ),
    ],
)
def test_reconstruct_bad_shards(tmp_path: Path, table: dict[str, list[Any]], key: str, expected: str) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table(table), path)
    with pytest.raises(GraphFormatError) as info:
        reconstruct_from_parquet(tmp_path, tmp_path / "out", progress=False)
    assert (info.value.path, info.value.key, info.value.expected) == (str(path), key, expected)


def test_reconstruct_not_parquet_or_empty(tmp_path: Path) -> None:
    with pytest.raises(GraphFormatError, match="none found"):
        reconstruct_from_parquet(tmp_path, tmp_path / "out", progress=False)
    (tmp_path / "x.parquet").write_text("not parquet", encoding="utf-8")
    with pytest.raises(GraphFormatError) as info:
        reconstruct_from_parquet(tmp_path, tmp_path / "out", progress=False)
    assert info.value.expected == "a Parquet file"


def test_layer_patterns_select_only_those_layers() -> None:
    files = [
        "README.md",
        "feature_frequency.json",
        "data/layer1-00000-of-00002.parquet",
        "data/layer1_00001.parquet",
        "data/layer10-00000.parquet",
        "layer1/feature_3_complete.json",
        "layer11/feature_3_complete.json",
        "layer_1/part.parquet",
        "layer=1/part.parquet",
        "shards/layer1.parquet",
        "data/layer2-00000.parquet",
    ]
    picked = set(filter_repo_objects(files, allow_patterns=layer_patterns([1])))
    assert picked == {
        "README.md",
        "feature_frequency.json",
        "data/layer1-00000-of-00002.parquet",
        "data/layer1_00001.parquet",
        "layer1/feature_3_complete.json",
        "layer_1/part.parquet",
        "layer=1/part.parquet",
        "shards/layer1.parquet",
    }
    with pytest.raises(ValueError, match="non-negative"):
        layer_patterns([-1])


def test_download_passes_hub_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_snapshot_download(**kwargs: Any) -> str:
        calls.append(kwargs)
        return str(kwargs["local_dir"])

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    out = tmp_path / "dl"
    assert download_autointerp("owner/repo", out, layers=[3, 0], revision="v1") == out
    assert calls[-1] == {
        "repo_id": "owner/repo",
        "repo_type": "dataset",
        "revision": "v1",
        "local_dir": str(out),
        "allow_patterns": layer_patterns([0, 3]),
    }
    download_autointerp("owner/repo", out, repo_type="model")
    assert calls[-1]["allow_patterns"] is None and calls[-1]["repo_type"] == "model"


def test_cli_download_and_reconstruct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_snapshot_download(**kwargs: Any) -> str:
        calls.append(kwargs)
        write_shards(Path(kwargs["local_dir"]))
        return str(kwargs["local_dir"])

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    dl, out = tmp_path / "dl", tmp_path / "features"
    assert (
        run_command(["autointerp", "download", "o/r", "--out", str(dl), "--layers", "1", "--revision", "abc"])
        == 0
    )
    assert calls[0]["allow_patterns"] == layer_patterns([1]) and calls[0]["revision"] == "abc"
    assert "autointerp reconstruct" in capsys.readouterr().out
    assert run_command(["autointerp", "reconstruct", str(dl), "--out", str(out)]) == 0
    assert "wrote 8 feature files" in capsys.readouterr().out
    assert (out / "layer1" / "feature_0_complete.json").is_file()


def test_cli_download_offline_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real client, with the Hub switched off: a clean exit code and one line, no traceback.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    code = run_command(["autointerp", "download", "owner/absent", "--out", str(tmp_path / "dl")])
    assert code == 1
    assert capsys.readouterr().err.startswith("error: download of owner/absent failed:")


def test_cli_reconstruct_bad_input_raises_format_error(tmp_path: Path) -> None:
    # attribution_viewer.cli.main turns GraphFormatError into exit code 2 and one line.
    with pytest.raises(GraphFormatError, match="no such path"):
        run_command(["autointerp", "reconstruct", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
