"""A bounded, thread-safe LRU of open graphs, so memory stays flat however many are browsed.

:class:`GraphCache` opens a library entry on first use with
:func:`attribution_viewer.loaders.open_graph` (``.pt`` files in the short-lived child
process, reusing the conversion cache, so this process never imports torch), keeps at
most ``max_open`` stores and drops the least recently used one beyond that. Entries are
keyed by relative path, size and modification time: a file changed on disk is opened
anew. Two threads asking for the same graph open it once (the second waits); different
graphs open in parallel.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from attribution_viewer.library.index import GraphEntry, GraphIndex
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore

log = logging.getLogger(__name__)

_Key = tuple[str, int, int]


def default_opener(cache_dir: Path | None) -> Callable[[Path], GraphStore]:
    """``open_graph`` with torch in a child process and the given conversion cache."""
    return lambda path: open_graph(path, torch_in_subprocess=True, cache_dir=cache_dir)


class GraphCache:
    """At most ``max_open`` open graphs of ``index`` (least recently used dropped first)."""

    def __init__(self, index: GraphIndex, max_open: int, opener: Callable[[Path], GraphStore]) -> None:
        if max_open < 1:
            raise ValueError(f"max_open: expected >= 1, got {max_open}")
        self.index = index
        self.max_open = max_open
        self._opener = opener
        self._stores: OrderedDict[_Key, GraphStore] = OrderedDict()
        self._opening: dict[_Key, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, entry: GraphEntry) -> GraphStore:
        """The open store of ``entry`` (opened now if needed; GraphFormatError if unreadable)."""
        key = (entry.rel_path, entry.size, entry.mtime_ns)
        with self._lock:
            store = self._hit(key)
            if store is not None:
                return store
            gate = self._opening.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                store = self._hit(key)
            if store is not None:
                return store
            try:
                store = self._opener(self.index.path_of(entry))
                with self._lock:
                    self._stores[key] = store
                    while len(self._stores) > self.max_open:
                        (dropped, *_), _ = self._stores.popitem(last=False)
                        log.debug("closed %s (more than %d graphs open)", dropped, self.max_open)
            finally:
                with self._lock:
                    self._opening.pop(key, None)
        return store

    def open(self, requested: str) -> GraphStore:
        """The store of a user-given relative path (GraphPathError when not in the library)."""
        return self.get(self.index.resolve(requested))

    def _hit(self, key: _Key) -> GraphStore | None:
        store = self._stores.get(key)
        if store is not None:
            self._stores.move_to_end(key)
        return store

    @property
    def open_paths(self) -> tuple[str, ...]:
        """Relative paths of the open graphs, least recently used first."""
        with self._lock:
            return tuple(key[0] for key in self._stores)
