"""Fetch published autointerp data from the Hugging Face Hub (per-layer, resumable).

:func:`download_autointerp` is a thin wrapper over ``huggingface_hub.snapshot_download``
into a plain local folder: the Hub client shows its own progress bars, and re-running
the same command skips the files already there (interrupted downloads resume).
:func:`layer_patterns` selects one layer's files whether the repository holds folders
(``layer3/...``, ``layer_3/...``, ``layer=3/...``) or named shards
(``layer3.parquet``, ``layer_3-00001.parquet``), without matching layer 30 for layer 3.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import huggingface_hub

logger = logging.getLogger(__name__)

_LAYER_PREFIXES = ("layer", "layer_", "layer-", "layer=")
# Files worth having whatever layers are asked for: the dataset card and frequencies.
COMMON_PATTERNS = ("*.md", "*feature_frequency*.json")


def layer_patterns(layers: Sequence[int]) -> list[str]:
    """``allow_patterns`` (fnmatch) selecting the files of ``layers`` only."""
    patterns: list[str] = []
    for layer in sorted(set(layers)):
        if layer < 0:
            raise ValueError(f"layers: expected non-negative layer numbers, got {layer}")
        for prefix in _LAYER_PREFIXES:
            patterns.append(f"*{prefix}{layer}/*")
            patterns.append(f"*{prefix}{layer}[-_.]*")
    return patterns + list(COMMON_PATTERNS)


def download_autointerp(
    repo_id: str,
    out_dir: str | Path,
    *,
    layers: Sequence[int] | None = None,
    revision: str | None = None,
    repo_type: str = "dataset",
) -> Path:
    """Download ``repo_id`` (all files, or only ``layers``) into ``out_dir``; return the folder.

    Network and Hub errors propagate as the Hub client's exceptions (all ``OSError``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    patterns = layer_patterns(layers) if layers else None
    logger.info("downloading %s (%s) into %s, patterns=%s", repo_id, repo_type, out, patterns)
    folder = huggingface_hub.snapshot_download(
        repo_id=repo_id,
        repo_type=repo_type,
        revision=revision,
        local_dir=str(out),
        allow_patterns=patterns,
    )
    return Path(str(folder))
