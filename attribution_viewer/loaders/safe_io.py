"""Read an input file's bytes safely: regular files only, never more than a size limit.

A FIFO, a device or a directory given as a graph path would make a plain ``read`` block
forever or read without end, so :func:`read_regular_file` refuses anything that is not a
regular file BEFORE reading (the file is opened non-blocking and checked with ``fstat``
on the open descriptor, so a file swapped in between cannot slip through), and refuses
files larger than ``max_bytes`` from their size, before allocating.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.limits import MAX_GRAPH_BYTES

_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _FILE_TYPES if test(mode)), "not a regular file")


def check_regular_file(path: str | Path, max_bytes: int = MAX_GRAPH_BYTES) -> int:
    """The size of ``path``; GraphFormatError when it is not a regular file or too large."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise GraphFormatError(path, "", "a readable file", exc.strerror or str(exc)) from exc
    _check_stat(path, st, max_bytes)
    return st.st_size


def _check_stat(path: str | Path, st: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise GraphFormatError(path, "", "a regular file", _kind(st.st_mode))
    if st.st_size > max_bytes:
        raise GraphFormatError(
            path,
            "",
            f"a file of at most {max_bytes:,} bytes (setting max_graph_bytes)",
            f"{st.st_size:,} bytes",
        )


def read_regular_file(path: str | Path, max_bytes: int = MAX_GRAPH_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (at most ``max_bytes``; see module docstring)."""
    check_regular_file(path, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise GraphFormatError(path, "", "a readable file", exc.strerror or str(exc)) from exc
    with os.fdopen(fd, "rb") as fh:
        _check_stat(path, os.fstat(fd), max_bytes)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew while being read
        raise GraphFormatError(
            path, "", f"a file of at most {max_bytes:,} bytes (setting max_graph_bytes)", "more"
        )
    return data
