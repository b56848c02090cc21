"""Rebuild the per-feature folder layout from published Parquet shards.

A shard holds one row per feature with columns ``layer``, ``feature_index`` (or
``feature_id``), ``description``, ``explanation``, ... Nested fields (``top_examples``,
``top_examples_tks``, ``top_activating_tokens``, language distributions, logit lists)
are JSON strings, or native Parquet lists / structs. Each row becomes
``<out>/layer{L}/feature_{idx}_complete.json`` (the ``original`` layout read by
:mod:`attribution_viewer.autointerp.source`).

Shards are streamed one batch at a time (never the whole table in memory), files are
written atomically, and files already present are skipped unless ``overwrite``: an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from attribution_viewer.errors import GraphFormatError

logger = logging.getLogger(__name__)

NESTED_COLUMNS = frozenset(
    {
        "top_examples",
        "top_examples_tks",
        "top_activating_tokens",
        "language_distribution",
        "general_language_distribution",
        "top_logits",
        "bottom_logits",
        "input_logits",
    }
)
_INDEX_COLUMNS = ("feature_index", "feature_id")


class ReconstructResult(NamedTuple):
    """What a reconstruction did."""

    written: int
    skipped: int
    shards: int


def feature_file(out_dir: Path, layer: int, feature_idx: int) -> Path:
    """Path of one feature in the ``original`` layout."""
    return out_dir / f"layer{layer}" / f"feature_{feature_idx}_complete.json"


def _shards(parquet_dir: Path) -> list[Path]:
    if parquet_dir.is_file():
        return [parquet_dir]
    if not parquet_dir.is_dir():
        raise GraphFormatError(
            parquet_dir, "", "a Parquet file or a folder of .parquet shards", "no such path"
        )
    shards = sorted(parquet_dir.rglob("*.parquet"))
    if not shards:
        raise GraphFormatError(parquet_dir, "", "a folder holding .parquet shards", "none found")
    return shards


def _open_shard(path: Path) -> tuple[pq.ParquetFile, str]:
    """Open a shard and name its feature-index column; GraphFormatError when unusable."""
    try:
        shard = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise GraphFormatError(path, "", "a Parquet file", str(exc)[:120]) from exc
    names = shard.schema_arrow.names
    if "layer" not in names:
        raise GraphFormatError(path, "layer", "a 'layer' column", f"columns {', '.join(names)}")
    index_col = next((c for c in _INDEX_COLUMNS if c in names), "")
    if not index_col:
        raise GraphFormatError(
            path, "feature_index", "a 'feature_index' column", f"columns {', '.join(names)}"
        )
    return shard, index_col


def _as_int(value: Any, path: Path, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < 0:
        raise GraphFormatError(path, where, "a non-negative integer", repr(value)[:40])
    return int(value)


def row_to_record(row: dict[str, Any], path: Path, row_number: int, index_col: str) -> dict[str, Any]:
    """One Parquet row as the JSON object of a ``feature_{idx}_complete.json`` file."""
    record: dict[str, Any] = {
        "layer": _as_int(row.get("layer"), path, f"row {row_number}: layer"),
        "feature_index": _as_int(row.get(index_col), path, f"row {row_number}: {index_col}"),
    }
    for name, value in row.items():
        if name in ("layer", index_col):
            continue
        if name in NESTED_COLUMNS and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise GraphFormatError(path, f"row {row_number}: {name}", "a JSON string", exc.msg) from exc
        record[name] = value
    return record


def _write_atomic(target: Path, record: dict[str, Any]) -> None:
    tmp = target.with_name(target.name + ".part")
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target)


def reconstruct_from_parquet(
    parquet_dir: str | Path,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    batch_size: int = 1024,
    progress: bool = True,
) -> ReconstructResult:
    """Write one JSON file per Parquet row under ``out_dir`` (see module docstring)."""
    source, out = Path(parquet_dir), Path(out_dir)
    shards = [(p, *_open_shard(p)) for p in _shards(source)]
    total = sum(shard.metadata.num_rows for _, shard, _ in shards)
    written = skipped = 0
    made_dirs: set[Path] = set()
    with tqdm(total=total, unit="feature", desc="reconstruct", disable=not progress) as bar:
        for path, shard, index_col in shards:
            row_number = 0
            for batch in shard.iter_batches(batch_size=batch_size):
                for row in batch.to_pylist():
                    record = row_to_record(row, path, row_number, index_col)
                    row_number += 1
                    target = feature_file(out, record["layer"], record["feature_index"])
                    if not overwrite and target.exists():
                        skipped += 1
                        continue
                    if target.parent not in made_dirs:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        made_dirs.add(target.parent)
                    _write_atomic(target, record)
                    written += 1
                bar.update(batch.num_rows)
    logger.info(
        "reconstructed %d feature files (%d already present) from %d shards", written, skipped, len(shards)
    )
    return ReconstructResult(written, skipped, len(shards))
