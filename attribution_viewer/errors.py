"""Error types raised for bad input.

Every problem with a user's file is reported as a :class:`GraphFormatError` that names
the file, the key or field at fault and what was expected, so the CLI can print one
line and the app can show it in the page without crashing. The message is always ONE line
of bounded length, whatever text a library's exception brought along.
"""

from __future__ import annotations

from pathlib import Path


class GraphFormatError(ValueError):
    """A file could not be read as an attribution graph (or companion file).

    Attributes:
        path: the file that was being read.
        key: the key, field or array at fault (``""`` when the whole file is at fault).
        expected: what the reader expected to find there.
        got: what it found instead (short, human readable; may be empty).
    """

    def __init__(self, path: str | Path, key: str, expected: str, got: str = "") -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        self.got = one_line(got)
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        tail = f", got {got}" if got else ""
        super().__init__(f"{where}expected {expected}{tail}")


class MissingDependencyError(RuntimeError):
    """An optional dependency needed for this input is not installed."""


class ExportError(ValueError):
    """An export was refused or failed: beyond a size limit, timed out, busy, bad output."""


# Longest ``got`` text kept in a message (a library's exception text can be pages long).
MAX_DETAIL_CHARS = 300


def one_line(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
