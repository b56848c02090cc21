"""Tell a graph file's format and prompt from a bounded read of its first bytes.

Nothing is unpickled and no graph is parsed: this is what lets a folder of hundreds of
graphs be listed in milliseconds (the full open, :func:`attribution_viewer.loaders.open_graph`,
happens when a graph is selected and has the last word on the format).

* ``.npz`` (zip of ``*.npy``): ``native-npz``; the prompt is the ``meta`` member's
  ``metadata.extra.prompt`` (the source file's prompt), else the ``prompt_tokens`` joined
  (members read with ``allow_pickle=False``).
* ``torch.save`` files: the pickle's bytes (the zip's ``data.pkl`` member, or the head of a
  legacy pickle stream) are SEARCHED, never executed, for the dict keys that tell the
  loaders' variants apart (``sparse_pruned_adj`` with a sparse tensor -> ``clt-a-sparse``,
  with ``adjacency_matrix`` / ``full_adjacency_matrix`` -> ``clt-b-full``, else
  ``clt-b-mask``; ``adjacency_matrix`` + ``active_features`` -> ``circuit-tracer-pt``;
  otherwise ``torch``), and the ``input_string`` value is read from the string opcode
  that follows its key.
* JSON: the top-level keys are walked in the first :data:`HEAD_BYTES` bytes; a graph has
  ``nodes`` / ``links`` (``graph-json``, prompt from ``metadata.prompt``), a document that
  ends without them is not a graph (``None``), and a head that ends inside ``metadata`` or
  ``qParams`` gives ``json`` (undecided; any other key first: not a graph).
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from attribution_viewer.loaders import circuit_tracer_pt, graph_json, legacy_clt, native

HEAD_BYTES = 65536
FIRST_READ = 4096  # JSON heads grow from this by doubling up to HEAD_BYTES
MAX_PICKLE_BYTES = 1 << 20  # a torch.save data.pkl is small: tensors are stored apart
MAX_PROMPT_CHARS = 2000
TORCH_UNKNOWN = "torch"  # a torch.save file whose variant the bytes did not tell
JSON_UNKNOWN = "json"  # a JSON file whose head did not reach the keys that tell

_HEADER_KEYS = ("metadata", "qParams")
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = 0x80
# pickle opcodes: strings, and the memo opcodes that may sit between a key and its value
_SHORT_BINUNICODE, _BINUNICODE, _BINUNICODE8 = 0x8C, ord("X"), 0x8D
_BINPUT, _LONG_BINPUT, _MEMOIZE = ord("q"), ord("r"), 0x94


class Sniffed(NamedTuple):
    """What the first bytes say: the format name (None: not a graph) and the prompt if cheap."""

    format: str | None
    prompt: str | None


def sniff_file(path: str | Path) -> Sniffed:
    """The format and prompt of the file at ``path`` (``Sniffed(None, None)``: not a graph).

    Raises OSError when the file cannot be read.
    """
    with open(path, "rb") as fh:
        head = fh.read(FIRST_READ)
        if head.startswith(_ZIP_MAGIC):
            return _sniff_zip(fh)
        if head[:1] == bytes([_PICKLE_PROTO]):
            return _sniff_pickle(head + fh.read(HEAD_BYTES - len(head)))
        if head.lstrip()[:1] != b"{":
            return Sniffed(None, None)
        eof = len(head) < FIRST_READ
        while True:  # JSON: read more (doubling) only while the header keys are undecided
            found = _sniff_json(head, truncated=not eof)
            if found.format != JSON_UNKNOWN or eof or len(head) >= HEAD_BYTES:
                return found
            chunk = fh.read(len(head))
            eof = len(chunk) < len(head)
            head += chunk


def _sniff_zip(fh: IO[bytes]) -> Sniffed:
    try:
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
            pickles = [i for i in infos if i.filename.endswith("data.pkl")]
            if pickles:
                with archive.open(pickles[0]) as member:
                    return _sniff_pickle(member.read(MAX_PICKLE_BYTES))
            if infos and all(i.filename.endswith(".npy") for i in infos):
                return Sniffed(native.FORMAT_NAME, _npz_prompt(archive))
    except (zipfile.BadZipFile, ValueError, EOFError):
        pass
    return Sniffed(None, None)


def _npz_prompt(archive: zipfile.ZipFile) -> str | None:
    """``metadata.extra.prompt`` of the ``meta`` member (when small), else the tokens joined."""
    try:
        if archive.getinfo("meta.npy").file_size <= MAX_PICKLE_BYTES:
            meta = json.loads(str(_npy(archive, "meta.npy")))
            prompt = meta.get("metadata", {}).get("extra", {}).get("prompt")
            if isinstance(prompt, str):
                return _cut(prompt)
    except (KeyError, ValueError, OSError, EOFError, AttributeError):
        pass
    try:
        tokens = _npy(archive, "prompt_tokens.npy")
    except (KeyError, ValueError, OSError, EOFError):
        return None
    if tokens.dtype.kind != "U" or tokens.ndim != 1:
        return None
    return _cut("".join(tokens.tolist()))


def _npy(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    with archive.open(name) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _string_op(data: bytes, key: str) -> list[int]:
    """Offsets just past each pickle string opcode holding exactly ``key``."""
    raw = key.encode()
    ends = []
    for prefix in (
        bytes([_SHORT_BINUNICODE, len(raw)]),
        bytes([_BINUNICODE]) + struct.pack("<I", len(raw)),
    ):
        needle = prefix + raw
        start = data.find(needle)
        while start >= 0:
            ends.append(start + len(needle))
            start = data.find(needle, start + 1)
    return sorted(ends)


def _string_at(data: bytes, at: int) -> str | None:
    """The string value at ``at`` (after optional memo opcodes), or None."""
    while at < len(data) and data[at] in (_BINPUT, _LONG_BINPUT, _MEMOIZE):
        at += {_BINPUT: 2, _LONG_BINPUT: 5, _MEMOIZE: 1}[data[at]]
    if at >= len(data):
        return None
    op = data[at]
    widths = {_SHORT_BINUNICODE: ("<B", 1), _BINUNICODE: ("<I", 4), _BINUNICODE8: ("<Q", 8)}
    if op not in widths:
        return None
    fmt, width = widths[op]
    if at + 1 + width > len(data):
        return None
    (length,) = struct.unpack_from(fmt, data, at + 1)
    body = data[at + 1 + width : at + 1 + width + min(length, 4 * MAX_PROMPT_CHARS)]
    return _cut(body.decode("utf-8", errors="replace"))


def _sniff_pickle(data: bytes) -> Sniffed:
    """Variant and prompt of a torch.save pickle, from its bytes (never unpickled)."""

    def has(key: str) -> bool:
        return bool(_string_op(data, key))

    if has("sparse_pruned_adj"):
        if b"_rebuild_sparse" in data:
            fmt = legacy_clt.A_SPARSE
        elif has("adjacency_matrix") or has("full_adjacency_matrix"):
            fmt = legacy_clt.B_FULL
        else:
            fmt = legacy_clt.B_MASK
    elif has("adjacency_matrix") and has("active_features"):
        fmt = circuit_tracer_pt.FORMAT_NAME
    else:
        fmt = TORCH_UNKNOWN
    prompt = next(
        (p for at in _string_op(data, "input_string") if (p := _string_at(data, at)) is not None), None
    )
    return Sniffed(fmt, prompt)


def _skip_ws(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _sniff_json(head: bytes, *, truncated: bool) -> Sniffed:
    """Walk the top-level object's keys in ``head``: ``nodes`` / ``links`` make a graph."""
    text = head.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    at = _skip_ws(text, 0) + 1  # past "{"
    metadata: Any = None
    key: Any = None
    try:
        while True:
            at = _skip_ws(text, at)
            if text[at] == "}":
                return Sniffed(None, None)
            key, at = decoder.raw_decode(text, at)
            at = _skip_ws(text, at)
            if text[at] != ":":
                return Sniffed(None, None)
            at = _skip_ws(text, at + 1)
            if key in ("nodes", "links"):
                prompt = metadata.get("prompt") if isinstance(metadata, dict) else None
                return Sniffed(graph_json.FORMAT_NAME, _cut(prompt) if isinstance(prompt, str) else None)
            value, at = decoder.raw_decode(text, at)
            if key == "metadata":
                metadata = value
            at = _skip_ws(text, at)
            if text[at] == ",":
                at += 1
    except (ValueError, IndexError):
        pass  # the head ends inside a value, or the text is not JSON
    # Graph files put nodes and links after a (possibly long) metadata / qParams header.
    return Sniffed(JSON_UNKNOWN, None) if truncated and key in _HEADER_KEYS else Sniffed(None, None)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROMPT_CHARS else text[: MAX_PROMPT_CHARS - 1] + "…"
