"""Read any supported attribution-graph file into a :class:`~attribution_viewer.model.GraphStore`.

:func:`open_graph` reads the file once and picks the reader from the CONTENT, not the
extension:

* a zip holding ``*.npy`` members -> ``native-npz`` (:mod:`.native`);
* a ``torch.save`` file (zip with ``data.pkl``, or a legacy pickle stream) -> the dict's
  keys decide: ``sparse_pruned_adj`` sparse -> ``clt-a-sparse``, dense with weights ->
  ``clt-b-full``, dense alone -> ``clt-b-mask``; ``adjacency_matrix`` + ``active_features``
  -> ``circuit-tracer-pt``;
* JSON with ``nodes`` and ``links`` -> ``graph-json``.

Anything else, or any inconsistency inside a file, raises
:class:`~attribution_viewer.errors.GraphFormatError` naming the file and the key. Only
regular files of at most ``max_bytes`` are read (:mod:`.safe_io`), and every graph goes
through :func:`.repair.drop_impossible_edges`: what had to be repaired is listed in
``GraphStore.warnings``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.limits import MAX_GRAPH_BYTES
from attribution_viewer.loaders import circuit_tracer_pt, graph_json, legacy_clt, native
from attribution_viewer.loaders import conversion as child_conversion
from attribution_viewer.loaders.native import load_native, save_native
from attribution_viewer.loaders.pickle_scan import check_pickle_globals
from attribution_viewer.loaders.repair import drop_impossible_edges
from attribution_viewer.loaders.safe_io import check_regular_file, read_regular_file
from attribution_viewer.loaders.token_names import name_tokens, resolve_tokenizer
from attribution_viewer.loaders.torch_io import STAND_IN_PACKAGES
from attribution_viewer.model import GraphStore

log = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "begin_open_graph",
    "cached_conversion_path",
    "detect_format",
    "load_native",
    "open_graph",
    "save_native",
]

FORMATS = (
    circuit_tracer_pt.FORMAT_NAME,
    legacy_clt.A_SPARSE,
    legacy_clt.B_MASK,
    legacy_clt.B_FULL,
    graph_json.FORMAT_NAME,
    native.FORMAT_NAME,
)

_PICKLE_PROTOCOL_2_PLUS = 0x80
_ZIP_MAGIC = b"PK\x03\x04"


def _container(path: str | Path, data: bytes) -> str:
    """``"npz"``, ``"torch"`` or ``"json"`` from the first bytes / zip member names."""
    if data.startswith(_ZIP_MAGIC):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as exc:
            raise GraphFormatError(path, "", "a complete zip archive (.npz or torch.save)", str(exc)) from exc
        if any(name.endswith("data.pkl") for name in names):
            return "torch"
        if names and all(name.endswith(".npy") for name in names):
            return "npz"
        raise GraphFormatError(
            path, "", "a torch.save zip (data.pkl) or a numpy .npz (*.npy)", f"zip of {names[:5]}"
        )
    if data[:1] == bytes([_PICKLE_PROTOCOL_2_PLUS]):
        return "torch"
    if data.lstrip()[:1] in (b"{", b"["):
        return "json"
    raise GraphFormatError(
        path, "", "a .pt (torch.save), graph .json or native .npz file", f"content starting {data[:8]!r}"
    )


def _torch_format(path: str | Path, payload: Any) -> str:
    if not isinstance(payload, Mapping):
        raise GraphFormatError(path, "", "a dict saved with torch.save", type(payload).__name__)
    fmt = legacy_clt.legacy_format(payload)
    if fmt is None and circuit_tracer_pt.is_circuit_tracer(payload):
        fmt = circuit_tracer_pt.FORMAT_NAME
    if fmt is None:
        keys = ", ".join(sorted(str(k) for k in payload)[:12])
        raise GraphFormatError(
            path,
            "",
            "a circuit-tracer graph (adjacency_matrix, active_features) "
            "or a legacy CLT dict (sparse_pruned_adj)",
            f"keys {keys}",
        )
    return fmt


def _sniff(path: str | Path, data: bytes) -> tuple[str, Any]:
    """(format name, parsed payload) of the file's bytes (a native file's payload: its bytes)."""
    container = _container(path, data)
    if container == "npz":
        return native.FORMAT_NAME, data
    if container == "json":
        doc = graph_json.parse_json(path, data)
        if not graph_json.is_graph_json(doc):
            raise GraphFormatError(path, "", "a graph JSON object with nodes and links", type(doc).__name__)
        return graph_json.FORMAT_NAME, doc
    from attribution_viewer.loaders.torch_io import load_torch_payload

    payload = load_torch_payload(path, data)
    return _torch_format(path, payload), payload


def detect_format(path: str | Path, max_bytes: int = MAX_GRAPH_BYTES) -> str:
    """The format name of the file at ``path`` (one of :data:`FORMATS`)."""
    return _sniff(path, read_regular_file(path, max_bytes))[0]


def _open_native(path: str | Path, data: bytes, max_bytes: int = MAX_GRAPH_BYTES) -> GraphStore:
    """A native file; the metadata names it, and the format it was converted from."""
    store = load_native(path, data, max_bytes)
    md = store.metadata
    extra = dict(md.extra)
    if md.source_format != native.FORMAT_NAME:
        extra["converted_from"] = {"format": md.source_format, "path": md.source_path}
    metadata = replace(md, source_path=str(path), source_format=native.FORMAT_NAME, extra=extra)
    return replace(store, metadata=metadata)


_READERS: dict[str, Callable[[str | Path, Any], GraphStore]] = {
    native.FORMAT_NAME: _open_native,
    graph_json.FORMAT_NAME: graph_json.load_graph_json,
    circuit_tracer_pt.FORMAT_NAME: circuit_tracer_pt.load_circuit_tracer,
    legacy_clt.A_SPARSE: legacy_clt.load_a_sparse,
    legacy_clt.B_MASK: lambda path, payload: legacy_clt.load_b(path, payload, legacy_clt.B_MASK),
    legacy_clt.B_FULL: lambda path, payload: legacy_clt.load_b(path, payload, legacy_clt.B_FULL),
}


def open_graph(
    path: str | Path,
    *,
    torch_in_subprocess: bool = False,
    cache_dir: str | Path | None = None,
    tokenizer: str | Path | None = None,
    max_bytes: int = MAX_GRAPH_BYTES,
) -> GraphStore:
    """Read the graph at ``path`` (any supported format) into a GraphStore.

    ``torch_in_subprocess``: read ``torch.save`` files in a short-lived child process that
    converts them to the native format, so that this process never imports torch (about
    240 MB of memory a long-running server would otherwise keep). The result is the same.
    ``cache_dir``: keep that native copy there and reuse it (see :func:`begin_open_graph`).
    ``tokenizer``: show real strings for tokens the file holds as ids only (a tokenizer
    folder or a model name in the Hugging Face cache, see :mod:`.token_names`).
    ``max_bytes``: the largest file read, and the most a native file's arrays may take.
    """
    return begin_open_graph(
        path,
        torch_in_subprocess=torch_in_subprocess,
        cache_dir=cache_dir,
        tokenizer=tokenizer,
        max_bytes=max_bytes,
    )()


def begin_open_graph(
    path: str | Path,
    *,
    torch_in_subprocess: bool = False,
    cache_dir: str | Path | None = None,
    tokenizer: str | Path | None = None,
    max_bytes: int = MAX_GRAPH_BYTES,
) -> Callable[[], GraphStore]:
    """Start opening ``path``; the returned function finishes and returns the GraphStore.

    With ``torch_in_subprocess`` a ``torch.save`` file's child process starts now, so the
    caller can do other work meanwhile (``launch.py`` imports Dash); other files are read
    when the function is called. Errors are raised by the function.

    With ``cache_dir`` too, the child's native file is kept there, named after the file's
    resolved path, size, modification time and the native format version, and a later call
    for the same unchanged file loads it without a child. An unusable cache (not writable,
    a damaged file) is logged and bypassed.

    Whatever the file, it must be a regular file of at most ``max_bytes`` (checked before
    anything is read), and edges no forward pass can make are dropped (with a warning).
    """
    check_regular_file(path, max_bytes)
    tokenizer_json = resolve_tokenizer(tokenizer) if tokenizer is not None else None
    if not (torch_in_subprocess and _is_torch_file(path)):

        def read() -> GraphStore:
            fmt, payload = _sniff(path, read_regular_file(path, max_bytes))
            if fmt == native.FORMAT_NAME:
                store = drop_impossible_edges(_open_native(path, payload, max_bytes))
            else:
                store = drop_impossible_edges(_READERS[fmt](path, payload))
            return store if tokenizer_json is None else name_tokens(store, tokenizer_json)

        return read

    # Refuse a pickle naming code now (milliseconds), not after the child imported torch.
    check_pickle_globals(path, read_regular_file(path, max_bytes), STAND_IN_PACKAGES)
    cached = cached_conversion_path(path, cache_dir, tokenizer_json) if cache_dir is not None else None
    if cached is not None and cached.exists():
        try:
            store = load_native(cached, max_bytes=max_bytes)
            return lambda: _with_source(store, path)
        except GraphFormatError as exc:
            log.warning("ignoring the cached conversion of %s: %s", path, exc)
    work_dir = None
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            work_dir = tempfile.TemporaryDirectory(prefix="converting-", dir=cached.parent)
        except OSError as exc:
            log.warning("conversion cache %s unusable (%s): converting without it", cached.parent, exc)
            cached = None
    tmp = work_dir or tempfile.TemporaryDirectory(prefix="attribution-viewer-")
    target = Path(tmp.name) / "graph.npz"

    conversion = child_conversion.ChildConversion(path, target, max_bytes, tokenizer_json)

    def finish() -> GraphStore:
        with tmp:
            conversion.wait()
            store = load_native(target, max_bytes=max_bytes)
            if cached is not None:
                try:
                    os.replace(target, cached)
                except OSError as exc:
                    log.warning("could not keep the conversion of %s in %s: %s", path, cached, exc)
        return _with_source(store, path)

    return finish


def cached_conversion_path(
    path: str | Path, cache_dir: str | Path, tokenizer_json: Path | None = None
) -> Path:
    """Where the native copy of ``path`` lives in ``cache_dir`` (changes when the file, or the
    tokenizer naming its tokens, does)."""
    stat = os.stat(path)
    ident = f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}|native-v{native.VERSION}"
    if tokenizer_json is not None:
        tok = os.stat(tokenizer_json)
        ident += f"|{Path(tokenizer_json).resolve()}|{tok.st_size}|{tok.st_mtime_ns}"
    return Path(cache_dir) / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.npz"


def _with_source(store: GraphStore, path: str | Path) -> GraphStore:
    return replace(store, metadata=replace(store.metadata, source_path=str(path)))


def _is_torch_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a ``torch.save`` file (from its first bytes / zip names)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_ZIP_MAGIC))
        if head[:1] == bytes([_PICKLE_PROTOCOL_2_PLUS]):
            return True
        if head == _ZIP_MAGIC:
            with zipfile.ZipFile(path) as archive:
                return any(name.endswith("data.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False  # the normal path reports the problem
    return False
