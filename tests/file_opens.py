"""Record which files the process opens, with an audit hook (``sys.addaudithook``).

Audit hooks cannot be removed, so one hook is installed on first use and records only
inside :func:`recorded_opens`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_recording: list[list[str]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _recording and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        _recording[-1].append(os.fsdecode(args[0]))


_installed: list[bool] = []


@contextmanager
def recorded_opens() -> Iterator[list[str]]:
    """The paths of every file ``open``-ed (Python's ``open``, ``io``, numpy, zipfile) inside."""
    if not _installed:
        sys.addaudithook(_hook)
        _installed.append(True)
    opened: list[str] = []
    _recording.append(opened)
    try:
        yield opened
    finally:
        _recording.pop()
