"""Refuse a pickle that names code, from its opcodes alone, before torch is even imported.

``torch.load(weights_only=True)`` is what keeps a malicious ``.pt`` file from running
code; this module only answers sooner and in our own words. :func:`check_pickle_globals`
walks the opcodes of the pickle(s) a ``torch.save`` file starts with (``pickletools``:
nothing is executed or constructed) and raises :class:`GraphFormatError` when one names a
global outside tensors and plain containers (``os.system``, ``builtins.eval``,
``subprocess.Popen``, ...). It costs milliseconds, where importing torch costs seconds.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from pathlib import Path

from attribution_viewer.errors import GraphFormatError

# Top-level packages whose globals a graph file may name (torch's own weights_only check
# still decides afterwards); STAND_IN_PACKAGES of torch_io are added by the caller.
ALLOWED_PACKAGES = ("torch", "collections", "numpy", "_codecs", "copyreg")
# builtins a pickle of plain containers may name.
ALLOWED_BUILTINS = frozenset(
    [
        "set",
        "frozenset",
        "list",
        "dict",
        "tuple",
        "int",
        "float",
        "complex",
        "bool",
        "str",
        "bytes",
        "bytearray",
        "slice",
        "range",
    ]
)
# A legacy (non-zip) torch file is 4 pickles (magic, protocol, sys info, payload), then raw data.
_LEGACY_PICKLES = 4
_STRING_OPS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
}


def _globals_of(stream: io.BytesIO) -> list[str]:
    """``module.name`` of every GLOBAL / STACK_GLOBAL in the pickle at the stream's position."""
    names: list[str] = []
    recent: list[object] = []  # values pushed lately (strings matter), for STACK_GLOBAL
    memo: dict[int, object] = {}
    for opcode, arg, _ in pickletools.genops(stream):
        op = opcode.name
        if op == "GLOBAL" or op == "INST":
            module, _, name = str(arg).partition(" ")
            names.append(f"{module}.{name}")
        elif op == "STACK_GLOBAL" and len(recent) >= 2 and all(isinstance(v, str) for v in recent[-2:]):
            names.append(f"{recent[-2]}.{recent[-1]}")
        if op in _STRING_OPS:
            recent.append(arg)
        elif op in {"BINGET", "LONG_BINGET", "GET"}:
            recent.append(memo.get(int(arg)))  # pyright: ignore[reportArgumentType]
        elif op in {"BINPUT", "LONG_BINPUT", "PUT"}:
            memo[int(arg)] = recent[-1] if recent else None  # pyright: ignore[reportArgumentType]
        elif op == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif op not in {"PROTO", "FRAME"}:
            recent.append(None)
        del recent[:-4]
    return names


def pickle_globals(data: bytes) -> list[str]:
    """The globals named by the pickles of a ``torch.save`` file's bytes (zip or legacy)."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
                chunks = [archive.read(member)] if member else []
        except (zipfile.BadZipFile, OSError, ValueError):
            return []  # the reader reports the damage
        count = 1
    else:
        chunks, count = [data], _LEGACY_PICKLES
    names: list[str] = []
    for chunk in chunks:
        stream = io.BytesIO(chunk)
        for _ in range(count):
            try:
                names += _globals_of(stream)
            except ValueError:  # not (or no longer) a pickle: raw storage bytes follow
                break
    return names


def check_pickle_globals(path: str | Path, data: bytes, stand_in_packages: tuple[str, ...]) -> None:
    """GraphFormatError when the file's pickles name a global outside the allowed ones."""
    allowed = (*ALLOWED_PACKAGES, *stand_in_packages)
    for name in pickle_globals(data):
        module, _, attr = name.rpartition(".")
        top = module.split(".", 1)[0]
        if (top in {"builtins", "__builtin__"} and attr in ALLOWED_BUILTINS) or top in allowed:
            continue
        raise GraphFormatError(
            path,
            "",
            f"tensors, plain containers or classes of {', '.join(stand_in_packages)}",
            f"pickled global {name} (refused before loading; nothing from the file was run)",
        )
