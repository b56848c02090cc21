"""The native graph format: one ``.npz`` of plain numeric and unicode arrays, no pickle.

It is the loss-free, fast serialisation of a :class:`~attribution_viewer.model.GraphStore`
(``convert`` writes it, the app reads it in well under a second even for 1M edges). The
layout is documented in ``docs/native-format.md`` so any tool can write it with numpy.

Every array is numeric, boolean or fixed-width unicode; everything small and nested
(metadata, interventions, supernodes, pinned keys) sits in one JSON string stored as a
0-d unicode array under ``meta``. Reading uses ``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from attribution_viewer import bounded_json
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.limits import MAX_GRAPH_BYTES
from attribution_viewer.model import (
    Clamp,
    GraphMetadata,
    GraphStore,
    Intervention,
    LogitInfo,
    NodeKind,
    NodeTable,
)

FORMAT_NAME = "native-npz"
MAGIC = "attribution-viewer-graph"
VERSION = 1

# array name -> numpy dtype kinds accepted (i/u integer, f float, b bool, U unicode)
_NODE_COLUMNS: dict[str, str] = {
    "node_kind": "iu",
    "node_layer": "iu",
    "node_pos": "iu",
    "node_feature_idx": "iu",
    "node_token_id": "iu",
    "node_activation": "f",
    "node_influence": "f",
    "node_label": "U",
    "node_source_id": "U",
}
_LOGIT_COLUMNS: dict[str, str] = {
    "logit_token": "U",
    "logit_token_id": "iu",
    "logit_probability": "f",
    "logit_is_target": "b",
}
_ADJ_COLUMNS: dict[str, str] = {"adj_indptr": "iu", "adj_indices": "iu", "adj_data": "f"}
_OPTIONAL_MASKS = ("highlighted", "node_mask")


def _unicode(values: tuple[str, ...] | list[str]) -> np.ndarray:
    """A fixed-width unicode array (``<U1`` when empty, so the dtype is always unicode)."""
    return np.array(values, dtype=np.str_) if values else np.zeros(0, dtype="<U1")


def _meta_json(store: GraphStore) -> str:
    md = store.metadata
    meta = {
        "format": MAGIC,
        "version": VERSION,
        "n_layers": store.n_layers,
        "weighted": store.weighted,
        "metadata": {
            "source_path": md.source_path,
            "source_format": md.source_format,
            "slug": md.slug,
            "scan": md.scan,
            "node_threshold": md.node_threshold,
            "edge_threshold": md.edge_threshold,
            "extra": md.extra,
        },
        "interventions": [asdict(iv) for iv in store.interventions],
        "supernodes": [[label, list(keys)] for label, keys in store.supernodes],
        "pinned": list(store.pinned),
        "warnings": list(store.warnings),
    }
    return json.dumps(meta, ensure_ascii=False, allow_nan=True)


def native_arrays(store: GraphStore) -> dict[str, np.ndarray]:
    """The arrays of the native format for ``store`` (what :func:`save_native` writes)."""
    nodes = store.nodes
    adj = store.adjacency
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(_meta_json(store), dtype=np.str_),
        "node_kind": nodes.kind,
        "node_layer": nodes.layer,
        "node_pos": nodes.pos,
        "node_feature_idx": nodes.feature_idx,
        "node_token_id": nodes.token_id,
        "node_activation": nodes.activation,
        "node_influence": nodes.influence,
        "node_label": _unicode(nodes.label),
        "node_source_id": _unicode(nodes.source_id),
        "adj_indptr": adj.indptr,
        "adj_indices": adj.indices,
        "adj_data": adj.data,
        "prompt_tokens": _unicode(store.prompt_tokens),
        "logit_token": _unicode([lg.token for lg in store.logits]),
        "logit_token_id": np.array([lg.token_id for lg in store.logits], dtype=np.int64),
        "logit_probability": np.array([lg.probability for lg in store.logits], dtype=np.float64),
        "logit_is_target": np.array([lg.is_target for lg in store.logits], dtype=np.bool_),
    }
    for name in _OPTIONAL_MASKS:
        arr = getattr(store, name)
        if arr is not None:
            arrays[name] = arr
    return arrays


def save_native(store: GraphStore, path: str | Path) -> Path:
    """Write ``store`` to ``path`` in the native format (compressed ``.npz``); return the path.

    The suffix is kept as given (``np.savez`` would append ``.npz`` to a bare name; this
    writes through an open file so it does not).
    """
    out = Path(path)
    with out.open("wb") as fh:
        # the stub types **arrays against the allow_pickle keyword; no array is named so
        np.savez_compressed(fh, **native_arrays(store))  # pyright: ignore[reportArgumentType]
    return out


def load_native(path: str | Path, data: bytes | None = None, max_bytes: int = MAX_GRAPH_BYTES) -> GraphStore:
    """Read a native ``.npz`` graph. ``data``: the file's bytes when already read.

    Every member's ``.npy`` header is read and checked first: the array it announces must fit
    in the member's declared size, all of them together in ``max_bytes``, and the arrays
    must have the shapes a graph needs, before any array is allocated or inflated.
    """
    if data is None:
        from attribution_viewer.loaders.safe_io import read_regular_file

        data = read_regular_file(path, max_bytes)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            headers = _member_headers(path, archive, max_bytes)
            _check_shapes(path, headers)
            arrays = {name: _read_member(archive, member) for name, (member, _, _) in headers.items()}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, GraphFormatError):
            raise
        raise GraphFormatError(
            path, "", "a readable .npz archive (numpy arrays, no pickle)", str(exc)
        ) from exc
    return store_from_arrays(path, arrays)


_Header = tuple[zipfile.ZipInfo, tuple[int, ...], np.dtype]


def _member_headers(path: str | Path, archive: zipfile.ZipFile, max_bytes: int) -> dict[str, _Header]:
    """name -> (zip member, shape, dtype) from every ``.npy`` header; sizes checked."""
    out: dict[str, _Header] = {}
    total = 0
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        with archive.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise GraphFormatError(path, name, "a .npy header of version 1.0 or 2.0", str(version))
        if dtype.hasobject:
            raise GraphFormatError(
                path, name, "a numeric, bool or unicode array (no pickled objects)", str(dtype)
            )
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if nbytes > info.file_size:
            raise GraphFormatError(
                path,
                name,
                f"an array that fits in its {info.file_size:,}-byte member",
                f"header claims {nbytes:,} bytes",
            )
        total += info.file_size
        if total > max_bytes:
            raise GraphFormatError(
                path, name, f"arrays of at most {max_bytes:,} bytes in all (setting max_graph_bytes)", "more"
            )
        out[name] = (info, tuple(int(d) for d in shape), dtype)
    return out


def _check_shapes(path: str | Path, headers: Mapping[str, _Header]) -> None:
    """The lengths a graph needs, from the headers alone (values are checked after reading)."""
    kind_shape = headers["node_kind"][1] if "node_kind" in headers else ()
    if len(kind_shape) != 1:
        return  # store_from_arrays names the missing or malformed array
    n = kind_shape[0]
    expected: dict[str, tuple[int, ...]] = {name: (n,) for name in _NODE_COLUMNS}
    expected["adj_indptr"] = (n + 1,)
    if "adj_indices" in headers:
        expected["adj_data"] = headers["adj_indices"][1]
    for name, shape in expected.items():
        if name in headers and headers[name][1] != shape:
            raise GraphFormatError(path, name, f"shape {shape}", str(headers[name][1]))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One member's array, read from the (streamed) zip member without pickle."""
    with archive.open(info) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


def _array(
    path: str | Path, arrays: Mapping[str, np.ndarray], name: str, kind: str, ndim: int = 1
) -> np.ndarray:
    if name not in arrays:
        raise GraphFormatError(path, name, "this array in the native .npz", "missing")
    arr = arrays[name]
    if arr.dtype.kind not in kind or arr.ndim != ndim:
        wanted = {"iu": "integer", "f": "float", "b": "bool", "U": "unicode"}[kind]
        raise GraphFormatError(path, name, f"a {ndim}-d {wanted} array", f"{arr.ndim}-d {arr.dtype}")
    return arr


def _same_length(path: str | Path, arrays: Mapping[str, np.ndarray], names: list[str], n: int) -> None:
    for name in names:
        if arrays[name].shape[0] != n:
            raise GraphFormatError(path, name, f"length {n}", f"length {arrays[name].shape[0]}")


def _parse_meta(path: str | Path, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    raw = _array(path, arrays, "meta", "U", ndim=0)
    try:
        meta = bounded_json.loads(str(raw[()]))
    except ValueError as exc:
        raise GraphFormatError(path, "meta", "a JSON object", str(exc)) from exc
    if not isinstance(meta, dict) or meta.get("format") != MAGIC:
        raise GraphFormatError(
            path, "meta.format", repr(MAGIC), repr(meta.get("format") if isinstance(meta, dict) else meta)
        )
    if meta.get("version") != VERSION:
        raise GraphFormatError(path, "meta.version", str(VERSION), repr(meta.get("version")))
    for key, typ in (("n_layers", int), ("weighted", bool), ("metadata", dict)):
        if not isinstance(meta.get(key), typ):
            raise GraphFormatError(path, f"meta.{key}", typ.__name__, repr(meta.get(key)))
    return meta


def _interventions(path: str | Path, raw: Any) -> tuple[Intervention, ...]:
    try:
        return tuple(
            Intervention(
                layer=int(iv["layer"]),
                pos=int(iv["pos"]),
                feature_idx=int(iv["feature_idx"]),
                clamps=tuple(
                    Clamp(
                        value=float(c["value"]),
                        tokens=tuple(str(t) for t in c["tokens"]),
                        probabilities=tuple(float(p) for p in c["probabilities"]),
                        baseline_token=str(c["baseline_token"]),
                        baseline_prob_original=float(c["baseline_prob_original"]),
                        baseline_prob_after=float(c["baseline_prob_after"]),
                        baseline_prob_change=float(c["baseline_prob_change"]),
                    )
                    for c in iv["clamps"]
                ),
            )
            for iv in raw
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GraphFormatError(
            path, "meta.interventions", "a list of {layer, pos, feature_idx, clamps}", repr(exc)
        ) from exc


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def store_from_arrays(path: str | Path, arrays: Mapping[str, np.ndarray]) -> GraphStore:
    """Validate the native arrays and build the GraphStore (no copies of large arrays)."""
    meta = _parse_meta(path, arrays)
    for name, kind in {**_NODE_COLUMNS, **_LOGIT_COLUMNS, **_ADJ_COLUMNS}.items():
        _array(path, arrays, name, kind)
    prompt = _array(path, arrays, "prompt_tokens", "U")
    n = arrays["node_kind"].shape[0]
    _same_length(path, arrays, list(_NODE_COLUMNS), n)
    n_logits = arrays["logit_token"].shape[0]
    _same_length(path, arrays, list(_LOGIT_COLUMNS), n_logits)

    kind = arrays["node_kind"]
    if n and (kind.min() < NodeKind.FEATURE or kind.max() > NodeKind.LOGIT or np.any(np.diff(kind) < 0)):
        raise GraphFormatError(
            path, "node_kind", "values 0..3 grouped in order features, errors, embeddings, logits"
        )
    indptr, indices, data = arrays["adj_indptr"], arrays["adj_indices"], arrays["adj_data"]
    if indptr.shape[0] != n + 1:
        raise GraphFormatError(
            path, "adj_indptr", f"length n_nodes + 1 = {n + 1}", f"length {indptr.shape[0]}"
        )
    nnz = int(indptr[-1]) if n else 0
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indices.shape[0] != nnz or data.shape[0] != nnz:
        raise GraphFormatError(
            path, "adj_indptr", "a CSR row pointer from 0 to len(adj_indices) == len(adj_data)"
        )
    if nnz and (indices.min() < 0 or indices.max() >= n):
        raise GraphFormatError(path, "adj_indices", f"column indices in 0..{n - 1}")
    if not np.all(np.isfinite(data)):
        raise GraphFormatError(path, "adj_data", "finite edge weights", "NaN or inf")
    if np.any(data == 0):
        raise GraphFormatError(path, "adj_data", "no explicit zero weights (a weight-0 link is no edge)")
    adjacency = sp.csr_matrix((data, indices, indptr), shape=(n, n))

    masks: dict[str, np.ndarray | None] = {}
    for name in _OPTIONAL_MASKS:
        mask = arrays.get(name)
        if mask is not None and mask.shape != (n,):
            raise GraphFormatError(path, name, f"shape ({n},)", str(mask.shape))
        masks[name] = mask

    md = meta["metadata"]
    try:
        metadata = GraphMetadata(
            source_path=str(md.get("source_path", "")),
            source_format=str(md.get("source_format", "")),
            slug=str(md.get("slug", "")),
            scan=str(md.get("scan", "")),
            node_threshold=_optional_float(md.get("node_threshold")),
            edge_threshold=_optional_float(md.get("edge_threshold")),
            extra=dict(md.get("extra") or {}),
        )
        supernodes = tuple(
            (str(label), tuple(str(k) for k in keys)) for label, keys in meta.get("supernodes", [])
        )
        pinned = tuple(str(k) for k in meta.get("pinned", []))
        warnings = tuple(str(w) for w in meta.get("warnings", []))
    except (TypeError, ValueError) as exc:
        raise GraphFormatError(
            path,
            "meta",
            "metadata, supernodes [[label, [keys]]], pinned [keys] and warnings [text]",
            repr(exc),
        ) from exc

    nodes = NodeTable(
        kind=kind.astype(np.int8, copy=False),
        layer=arrays["node_layer"].astype(np.int32, copy=False),
        pos=arrays["node_pos"].astype(np.int32, copy=False),
        feature_idx=arrays["node_feature_idx"].astype(np.int64, copy=False),
        token_id=arrays["node_token_id"].astype(np.int64, copy=False),
        activation=arrays["node_activation"].astype(np.float32, copy=False),
        influence=arrays["node_influence"].astype(np.float32, copy=False),
        label=tuple(arrays["node_label"].tolist()),
        source_id=tuple(arrays["node_source_id"].tolist()),
    )
    logits = tuple(
        LogitInfo(token=t, token_id=int(i), probability=float(p), is_target=bool(b))
        for t, i, p, b in zip(
            arrays["logit_token"].tolist(),
            arrays["logit_token_id"].tolist(),
            arrays["logit_probability"].tolist(),
            arrays["logit_is_target"].tolist(),
            strict=True,
        )
    )
    try:
        return GraphStore(
            nodes=nodes,
            adjacency=adjacency,
            weighted=meta["weighted"],
            n_layers=meta["n_layers"],
            prompt_tokens=tuple(prompt.tolist()),
            logits=logits,
            metadata=metadata,
            interventions=_interventions(path, meta.get("interventions", [])),
            highlighted=masks["highlighted"],
            node_mask=masks["node_mask"],
            supernodes=supernodes,
            pinned=pinned,
            warnings=warnings,
        )
    except ValueError as exc:
        raise GraphFormatError(path, "", "a consistent graph", str(exc)) from exc
