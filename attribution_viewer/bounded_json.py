"""JSON parsing with a nesting limit, for every document that comes from outside.

Python's ``json`` recurses once per nesting level, so a few hundred bytes of ``[[[[...``
raise ``RecursionError`` (or worse) deep inside the parser. :func:`loads` measures the
nesting depth first, in a single vectorised pass that ignores brackets inside strings, and
refuses documents nested deeper than ``max_depth`` with a ``ValueError`` before parsing.
No format this project reads nests deeper than about 6 levels.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

# Deepest nesting accepted (objects and arrays); real files use fewer than 10 levels.
MAX_JSON_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays / objects in ``data`` (JSON text; strings ignored)."""
    skeleton = _STRING.sub(b"", data)
    if not skeleton:
        return 0
    steps = _OPEN[np.frombuffer(skeleton, dtype=np.uint8)]
    return int(max(np.cumsum(steps, dtype=np.int64).max(), 0))


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that first refuses documents nested deeper than ``max_depth``.

    Raises ``ValueError`` (``json.JSONDecodeError`` for bad text, ``UnicodeDecodeError``
    for bad bytes, a plain ``ValueError`` naming the depth for deep nesting).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = json_depth(raw)
    if depth > max_depth:
        raise ValueError(f"JSON nested {depth} levels deep (at most {max_depth} accepted)")
    return json.loads(raw)
