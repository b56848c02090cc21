"""Lazy, cached access to per-feature description files: :class:`DescriptionSource`.

Nothing is read when a source is opened: :func:`open_description_source` only checks
that the folder exists, so a folder of 300k files opens as fast as an empty one. Each
:meth:`DescriptionSource.get` reads at most one file; results live in a bounded LRU
cache on the instance, so clicking the same node twice reads nothing the second time.

Folder layouts (which one a folder holds is found on the first request that hits a
file, by trying each candidate name; nothing is listed):

``original``   ``<dir>/layer{L}/feature_{idx}_complete.json`` (CLT autointerp).
``layer-dirs`` ``<dir>/{L}/{idx}.json`` (per-layer folders of circuit-tracer or
               Neuronpedia feature JSON).
``cantor``     ``<dir>/{cantor(L, idx)}.json``: circuit-tracer's local frontend folder
               ``features/<scan>/<feature>.json``, where ``feature`` is the Cantor pair
               ``(L + idx)(L + idx + 1) / 2 + idx`` used by schema-1 graph JSON. Pass
               ``scan`` to open ``<dir>/<scan>`` or ``<dir>/features/<scan>`` from the
               parent folder.

Any layout may hold any record format (see :mod:`attribution_viewer.autointerp.parsers`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attribution_viewer.autointerp.parsers import parse_feature_record
from attribution_viewer.autointerp.records import FeatureDetails
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.lru import LRU
from attribution_viewer.settings import Settings

logger = logging.getLogger(__name__)


def cantor_pair(layer: int, feature_idx: int) -> int:
    """circuit-tracer's feature id of (layer, feature_idx) in schema-1 graph JSON."""
    s = layer + feature_idx
    return s * (s + 1) // 2 + feature_idx


@dataclass(frozen=True)
class Layout:
    """A folder layout: its name and the relative file name of (layer, feature_idx)."""

    name: str
    relpath: Callable[[int, int], str]


LAYOUTS: tuple[Layout, ...] = (
    Layout("original", lambda layer, idx: f"layer{layer}/feature_{idx}_complete.json"),
    Layout("layer-dirs", lambda layer, idx: f"{layer}/{idx}.json"),
    Layout("cantor", lambda layer, idx: f"{cantor_pair(layer, idx)}.json"),
)
LAYOUT_NAMES = tuple(layout.name for layout in LAYOUTS)


class DescriptionSource:
    """Feature descriptions under one folder, read one file per request, LRU-cached.

    Thread-safe: one lock guards the cache, the layout and the read counter (a request
    reads one small file, so serialising requests costs nothing noticeable).
    """

    def __init__(
        self, root: Path, *, cache_size: int = Settings.description_cache_size, layout: str = ""
    ) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size: expected >= 1, got {cache_size}")
        if layout and layout not in LAYOUT_NAMES:
            raise ValueError(f"layout: expected one of {', '.join(LAYOUT_NAMES)}, got {layout!r}")
        self.root = root
        self.cache_size = cache_size
        self._layout: Layout | None = next((lo for lo in LAYOUTS if lo.name == layout), None)
        self._cache: LRU[tuple[int, int], FeatureDetails] = LRU(cache_size)
        self._lock = threading.Lock()
        self._files_read = 0

    @property
    def files_read(self) -> int:
        """How many files this source has opened so far (for tests and benchmarks)."""
        return self._files_read

    @property
    def layout(self) -> str:
        """Name of the detected layout; ``""`` until a request has found a file."""
        return self._layout.name if self._layout else ""

    def cached(self) -> int:
        """Number of records currently held in the cache."""
        return len(self._cache)

    def path_for(self, layer: int, feature_idx: int) -> Path | None:
        """The file holding (layer, feature_idx), or None when there is none."""
        if self._layout is not None:
            path = self.root / self._layout.relpath(layer, feature_idx)
            return path if path.is_file() else None
        for layout in LAYOUTS:
            path = self.root / layout.relpath(layer, feature_idx)
            if path.is_file():
                self._layout = layout
                logger.debug("description folder %s has the %s layout", self.root, layout.name)
                return path
        return None

    def get(self, layer: int, feature_idx: int) -> FeatureDetails | None:
        """The details of one feature; None when no file exists for it.

        Raises GraphFormatError (naming the file and key) when the file is malformed.
        Misses are not cached, so a file that appears later (a download in progress)
        is found on the next request.
        """
        key = (int(layer), int(feature_idx))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            path = self.path_for(*key)
            if path is None:
                return None
            self._files_read += 1
            details = parse_feature_record(_read_json(path), str(path), *key)
            self._cache.put(key, details)
            return details


def _read_json(path: Path) -> object:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise GraphFormatError(path, "", "valid JSON", f"{exc.msg} at line {exc.lineno}") from exc
    except UnicodeDecodeError as exc:
        raise GraphFormatError(path, "", "UTF-8 JSON text", str(exc.reason)) from exc
    except OSError as exc:
        raise GraphFormatError(path, "", "a readable file", exc.strerror or str(exc)) from exc


def open_description_source(
    path: str | Path, *, cache_size: int = Settings.description_cache_size, scan: str = "", layout: str = ""
) -> DescriptionSource:
    """Open a folder of feature description files without reading or listing it.

    ``scan``: when given and ``<path>/<scan>`` or ``<path>/features/<scan>`` is a folder,
    that folder is used (circuit-tracer's frontend data layout). ``layout`` forces one
    of :data:`LAYOUT_NAMES` instead of detecting it on the first request.
    Raises GraphFormatError when ``path`` is not a folder.
    """
    root = Path(path)
    if not root.is_dir():
        raise GraphFormatError(root, "", "a folder of feature description files", "no such folder")
    if scan:
        for candidate in (root / scan, root / "features" / scan):
            if candidate.is_dir():
                root = candidate
                break
    return DescriptionSource(root, cache_size=cache_size, layout=layout)
