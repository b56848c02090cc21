"""``inspect`` command: what a graph file holds, or every edge of it.

    python -m attribution_viewer inspect PATH [PATH ...] [--json] [--open]
    python -m attribution_viewer inspect PATH --edges

``--json`` prints one JSON object per file and line: ``path`` plus
:meth:`~attribution_viewer.model.GraphStore.summary` (``format, n_layers, n_tokens,
n_features, n_errors, n_embeddings, n_logits, n_edges, weighted, warnings``); ``warnings``
lists the repairs the loader made (edges no forward pass can make, ambiguous node ids). A
file that cannot be read prints ``{"path", "error"}`` instead and the others still print.
Without ``--json`` the same counts form a table, followed by one ``PATH  warning: ...``
line per repair. ``--edges`` prints ``SOURCE<TAB>TARGET<TAB>WEIGHT`` per edge
(canonical node keys, rows in source then target index order); the weight is
``repr(float(w))``, the shortest text that reads back to exactly the stored value (``1.0``
for every edge of a mask-only graph). Exit code 2 when any file failed.

A PATH that is a folder is indexed recursively WITHOUT opening its graphs
(:class:`~attribution_viewer.library.GraphIndex`): one line per graph with ``path`` (the
file), ``rel_path``, ``format`` (sniffed from the first bytes), ``size``, ``mtime`` (ns)
and ``prompt`` (null when not cheap to read). ``--open`` opens every graph of the folder
instead and prints the counts as for files (slower: each graph is read in full).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from attribution_viewer.cli import EXIT_BAD_INPUT
from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.library import GraphIndex
from attribution_viewer.limits import MAX_GRAPH_BYTES
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore

_TABLE_COLUMNS = (
    ("format", "format"),
    ("n_layers", "layers"),
    ("n_tokens", "tokens"),
    ("n_features", "features"),
    ("n_errors", "errors"),
    ("n_embeddings", "emb"),
    ("n_logits", "logits"),
    ("n_edges", "edges"),
    ("weighted", "weighted"),
)
_EDGE_CHUNK = 65536


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inspect", help="show the format and node / edge counts of graph files")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="graph files (.pt, .json, .npz) or folders")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="one JSON object per file and line")
    mode.add_argument(
        "--edges", action="store_true", help="print every edge: SOURCE TARGET WEIGHT (one file)"
    )
    parser.add_argument(
        "--open", action="store_true", help="for folders: open every graph and print its counts"
    )
    parser.set_defaults(func=run, parser=parser)


def inspect_record(path: str, max_bytes: int = MAX_GRAPH_BYTES) -> dict[str, Any]:
    """``{"path", **summary}`` of one file, or ``{"path", "error"}`` when it cannot be read."""
    try:
        return {"path": path, **open_graph(path, max_bytes=max_bytes).summary()}
    except (GraphFormatError, MissingDependencyError) as exc:
        return {"path": path, "error": str(exc)}


def index_records(folder: Path) -> list[dict[str, Any]]:
    """One record per graph of ``folder``, from its index (no graph is opened)."""
    index = GraphIndex.scan(folder)
    return [
        {
            "path": str(index.path_of(e)),
            "rel_path": e.rel_path,
            "format": e.format,
            "size": e.size,
            "mtime": e.mtime_ns,
            "prompt": e.prompt,
        }
        for e in index.entries.values()
    ]


def edge_lines(store: GraphStore) -> Iterator[str]:
    """``SOURCE\\tTARGET\\tWEIGHT\\n`` per edge, in CSR order, in chunks."""
    adj = store.adjacency
    keys = np.asarray(store.keys, dtype=object)
    sources = np.repeat(np.arange(store.n_nodes), np.diff(adj.indptr))
    for lo in range(0, adj.nnz, _EDGE_CHUNK):
        hi = lo + _EDGE_CHUNK
        yield "".join(
            f"{s}\t{t}\t{w!r}\n"
            for s, t, w in zip(
                keys[sources[lo:hi]].tolist(),
                keys[adj.indices[lo:hi]].tolist(),
                adj.data[lo:hi].tolist(),
                strict=True,
            )
        )


def _index_table(records: list[dict[str, Any]]) -> str:
    """path, format, size and prompt of indexed (unopened) graphs, aligned."""
    rows = [
        (
            r["path"],
            r["format"],
            str(r["size"]),
            json.dumps(r["prompt"], ensure_ascii=False) if r["prompt"] else "-",
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in (("path", "format", "size", "prompt"), *rows)) for i in range(3)]
    return "".join(
        f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].rjust(widths[2])}  {row[3]}\n"
        for row in (("path", "format", "size", "prompt"), *rows)
    )


def _table(records: list[dict[str, Any]]) -> str:
    """Aligned counts, one row per readable file; unreadable files listed after."""
    header = ("path", *(title for _, title in _TABLE_COLUMNS))
    rows = [(r["path"], *(str(r[key]) for key, _ in _TABLE_COLUMNS)) for r in records if "error" not in r]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in (header, *rows)
    ]
    lines += [f"{r['path']}  warning: {w}" for r in records for w in r.get("warnings", ())]
    lines += [f"{r['path']}  error: {r['error']}" for r in records if "error" in r]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.edges:
        if len(args.paths) != 1:
            args.parser.error("--edges takes exactly one PATH")
        for chunk in edge_lines(open_graph(args.paths[0], max_bytes=args.max_graph_bytes)):
            sys.stdout.write(chunk)
        return 0
    records: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    for path in args.paths:
        if not Path(path).is_dir():
            records.append(inspect_record(path, args.max_graph_bytes))
        elif args.open:
            records += [inspect_record(r["path"], args.max_graph_bytes) for r in index_records(Path(path))]
        else:
            listed += index_records(Path(path))
    if args.json:
        sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (*records, *listed)))
    else:
        sys.stdout.write((_table(records) if records else "") + (_index_table(listed) if listed else ""))
    return EXIT_BAD_INPUT if any("error" in r for r in records) else 0
