"""The index of a folder of graphs, and the only way to turn a user's path into a file.

:class:`GraphIndex` lists the graph files under a root folder, recursively, WITHOUT
opening them: name, relative path, sub-folder, size, modification time, the format
sniffed from the first bytes and the prompt when it is cheap to read
(:mod:`attribution_viewer.library.sniff`). :meth:`GraphIndex.rescan` lists the folder
again and sniffs only files that are new or whose size / modification time changed, so
an app can call it on each request for the list and show new files without a restart.

What is indexed: files with a graph extension (:data:`GRAPH_SUFFIXES`) whose first bytes
are a graph; hidden files and folders (``.name``) are skipped; symbolic links are
followed only when they resolve inside the root (a link out of the root is skipped and
logged), and linked folders are not descended into. An index built with ``include`` (a
name filter) lists only the root's own files that pass it: one graph file and the graphs
made from prompts beside it (:func:`attribution_viewer.library.start.single_graph_library`).

:meth:`GraphIndex.resolve` turns a relative path from a user (for example the URL's
``?graph=``) into an indexed file, or raises :class:`GraphPathError` (with a message fit
to show) for absolute paths, ``..``, a path that is not in the index, or a file that now
resolves outside the root. It reads no file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from attribution_viewer.library.sniff import sniff_file

log = logging.getLogger(__name__)

GRAPH_SUFFIXES = frozenset({".pt", ".pth", ".json", ".npz"})


class GraphPathError(LookupError):
    """A requested graph path is not a graph of the library (the message says why)."""

    def __init__(self, requested: str, reason: str) -> None:
        self.requested = requested
        self.reason = reason
        super().__init__(f"graph {requested!r}: {reason}")


@dataclass(frozen=True)
class GraphEntry:
    """One indexed graph file (nothing in it is read beyond the sniffed head).

    ``rel_path``: POSIX path relative to the root (the id used in URLs); ``folder``: its
    sub-folder (``""`` at the root); ``format``: a loader format name, or ``torch`` /
    ``json`` when the head did not tell the variant; ``prompt``: None when not cheap.
    """

    rel_path: str
    size: int
    mtime_ns: int
    format: str
    prompt: str | None

    @property
    def name(self) -> str:
        return PurePosixPath(self.rel_path).name

    @property
    def folder(self) -> str:
        parent = str(PurePosixPath(self.rel_path).parent)
        return "" if parent == "." else parent


@dataclass(frozen=True)
class RescanResult:
    """What a rescan changed, as relative paths, and how many files it sniffed."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    sniffed: int
    seconds: float


class GraphIndex:
    """The graphs under ``root`` (see the module docstring). Thread-safe.

    Build it with :meth:`scan`; :attr:`entries` is an immutable snapshot, replaced
    atomically by :meth:`rescan`.
    """

    def __init__(
        self, root: Path, entries: dict[str, GraphEntry], include: Callable[[str], bool] | None = None
    ) -> None:
        self.root = root
        self.include = include
        self._real_root = Path(os.path.realpath(root))
        self._entries = entries
        self._not_graphs: dict[str, tuple[int, int]] = {}  # files sniffed as no graph, by version
        self._lock = threading.Lock()

    @classmethod
    def scan(cls, root: str | Path, include: Callable[[str], bool] | None = None) -> GraphIndex:
        """Index the folder ``root`` (ValueError when it is not a folder). ``include``: only
        the files directly in ``root`` whose name it accepts (no sub-folder), on every rescan."""
        path = Path(root)
        if not path.is_dir():
            raise ValueError(
                f"{path}: expected a folder of graphs, got {'a file' if path.exists() else 'nothing'}"
            )
        index = cls(path, {}, include)
        index.rescan()
        return index

    @property
    def entries(self) -> dict[str, GraphEntry]:
        """rel_path -> entry, sorted by folder then name (a snapshot: do not mutate)."""
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def rescan(self) -> RescanResult:
        """List the folder again; sniff only new files and files whose size or mtime changed
        (files found not to be graphs are remembered too, and not sniffed again unchanged)."""
        start = time.perf_counter()
        with self._lock:
            old = self._entries
            new: dict[str, GraphEntry] = {}
            not_graphs: dict[str, tuple[int, int]] = {}
            sniffed = 0
            for rel, stat in self._walk():
                version = (stat.st_size, stat.st_mtime_ns)
                previous = old.get(rel)
                if previous is not None and (previous.size, previous.mtime_ns) == version:
                    new[rel] = previous
                    continue
                if self._not_graphs.get(rel) == version:
                    not_graphs[rel] = version
                    continue
                sniffed += 1
                try:
                    found = sniff_file(self.root / rel)
                except OSError as exc:
                    log.warning("%s: not indexed (%s)", self.root / rel, exc.strerror or exc)
                    continue
                if found.format is None:
                    not_graphs[rel] = version
                else:
                    new[rel] = GraphEntry(rel, stat.st_size, stat.st_mtime_ns, found.format, found.prompt)
            ordered = dict(sorted(new.items(), key=lambda item: (item[1].folder, item[1].name)))
            self._entries = ordered
            self._not_graphs = not_graphs
        return RescanResult(
            added=tuple(r for r in ordered if r not in old),
            removed=tuple(r for r in old if r not in ordered),
            changed=tuple(r for r in ordered if r in old and old[r] != ordered[r]),
            sniffed=sniffed,
            seconds=time.perf_counter() - start,
        )

    def _walk(self) -> Iterator[tuple[str, os.stat_result]]:
        """(relative POSIX path, stat) of every candidate file under the root."""
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            try:
                with os.scandir(self.root / rel_dir) as listing:
                    items = list(listing)
            except OSError as exc:
                log.warning("%s: not listed (%s)", self.root / rel_dir, exc.strerror or exc)
                continue
            for item in items:
                if item.name.startswith("."):
                    continue
                rel = f"{rel_dir}/{item.name}" if rel_dir else item.name
                try:
                    if item.is_dir(follow_symlinks=False):
                        if self.include is None:
                            pending.append(rel)
                        continue
                    if Path(item.name).suffix.lower() not in GRAPH_SUFFIXES:
                        continue
                    if self.include is not None and not self.include(item.name):
                        continue
                    if item.is_symlink() and not self._inside(item.path):
                        log.warning("%s: skipped, a link out of %s", item.path, self.root)
                        continue
                    if not item.is_file():
                        continue
                    yield rel, item.stat()
                except OSError as exc:
                    log.warning("%s: not indexed (%s)", item.path, exc.strerror or exc)

    def _inside(self, path: str | Path) -> bool:
        """Whether ``path``, links resolved, is inside the root (reads no file)."""
        real = Path(os.path.realpath(path))
        return real == self._real_root or self._real_root in real.parents

    def resolve(self, requested: str) -> GraphEntry:
        """The indexed entry for a user-given relative path; GraphPathError otherwise.

        Checked without reading any file: the text (no absolute path, no drive, no ``..``,
        no empty or ``.`` parts, no NUL), membership in the index, and that the file,
        links resolved, is still inside the root.
        """
        if not isinstance(requested, str) or not requested.strip():
            raise GraphPathError(str(requested), "expected a relative path of a graph in the library")
        if "\x00" in requested:
            raise GraphPathError(requested, "contains a NUL character")
        if (
            requested.startswith(("/", "\\"))
            or PureWindowsPath(requested).drive
            or Path(requested).is_absolute()
        ):
            raise GraphPathError(
                requested, "absolute paths are not allowed; use a path relative to the library"
            )
        parts = requested.replace("\\", "/").split("/")
        if any(part == ".." for part in parts):
            raise GraphPathError(requested, "'..' is not allowed in a graph path")
        if any(part in ("", ".") for part in parts):
            raise GraphPathError(requested, "expected a normalised relative path (no empty or '.' parts)")
        entry = self._entries.get("/".join(parts))
        if entry is None:
            raise GraphPathError(requested, "no such graph in the library")
        if not self._inside(self.root / entry.rel_path):
            raise GraphPathError(requested, "resolves outside the library folder")
        return entry

    def path_of(self, entry: GraphEntry) -> Path:
        """The file of an entry (as listed: under the root, not link-resolved)."""
        return self.root / entry.rel_path
