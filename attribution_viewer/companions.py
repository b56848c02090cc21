"""A graph's companion files, named by a manifest beside it.

Descriptions, frequencies and a model belong to the graph they were made for, never to
whatever graph is opened. A folder that holds graphs together with such files says so in
``attribution-viewer.json``::

    {"autointerp": "autointerp/features",
     "frequencies": "autointerp/feature_frequency.json",
     "model": "model", "transcoders": "transcoders", "tokenizer": "tokenizer"}

Every key is optional; paths are relative to the manifest's folder. The manifest applies
to the graph files in its own folder only (not to sub-folders), so a graph copied
elsewhere loses its companions instead of borrowing someone else's.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.settings import Settings

MANIFEST_NAME = "attribution-viewer.json"
MANIFEST_MAX_BYTES = 64 * 1024
_KEYS = ("autointerp", "frequencies", "model", "transcoders", "tokenizer")


@dataclass(frozen=True)
class Companions:
    """Paths a manifest names for a graph (None when it names none)."""

    autointerp: Path | None = None
    frequencies: Path | None = None
    model: Path | None = None
    transcoders: Path | None = None
    tokenizer: Path | None = None
    manifest: Path | None = None


def find_companions(graph_path: Path) -> Companions:
    """The companions of ``graph_path`` from the manifest in its folder (none without one).

    Raises GraphFormatError naming the manifest and the key for a malformed manifest.
    """
    manifest = graph_path.parent / MANIFEST_NAME
    if not manifest.is_file():
        return Companions()
    if manifest.stat().st_size > MANIFEST_MAX_BYTES:
        raise GraphFormatError(manifest, "", f"a manifest under {MANIFEST_MAX_BYTES} bytes")
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GraphFormatError(manifest, "", "a JSON object", str(exc)) from exc
    if not isinstance(doc, dict):
        raise GraphFormatError(manifest, "", "a JSON object", type(doc).__name__)
    paths: dict[str, Path] = {}
    for key, value in doc.items():
        if key not in _KEYS:
            raise GraphFormatError(manifest, key, f"one of {', '.join(_KEYS)}")
        if not isinstance(value, str) or not value:
            raise GraphFormatError(manifest, key, "a relative path (string)", repr(value)[:40])
        paths[key] = manifest.parent / value
    return Companions(**paths, manifest=manifest)


def bind_companions(settings: Settings, graph_path: Path) -> Settings:
    """``settings`` with the graph's own description and frequency files filled in.

    An explicit ``autointerp_dir`` / ``frequency_path`` wins; otherwise the manifest beside
    the graph decides, and a graph without one gets no descriptions at all.
    """
    if settings.autointerp_dir is not None:
        return settings
    found = find_companions(graph_path)
    return dataclasses.replace(
        settings,
        autointerp_dir=found.autointerp,
        frequency_path=settings.frequency_path or found.frequencies,
    )


def graph_tokenizer(settings: Settings, graph_path: Path) -> str | Path | None:
    """The tokenizer that names ``graph_path``'s tokens: the ``tokenizer`` setting, else the
    manifest's, else None."""
    return settings.tokenizer or find_companions(graph_path).tokenizer
