"""``convert`` command: write any supported graph file in the native ``.npz`` format.

    python -m attribution_viewer convert IN OUT.npz [--tokenizer DIR_OR_NAME]

The native file (see ``docs/native-format.md``) opens much faster than ``.pt`` or JSON and
needs neither torch nor pickle. A ``.pt`` graph's token ids are written as strings when a
tokenizer is known (``--tokenizer``, else the manifest beside the graph).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from attribution_viewer.companions import find_companions
from attribution_viewer.loaders import open_graph, save_native


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help="convert a graph file to the native .npz format")
    parser.add_argument("source", type=Path, metavar="IN", help="graph file (.pt, .json, .npz)")
    parser.add_argument("target", type=Path, metavar="OUT", help="native file to write (.npz)")
    parser.add_argument("--tokenizer", help="tokenizer folder or cached model name (default: the manifest's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_graph(
        args.source,
        tokenizer=args.tokenizer or find_companions(args.source).tokenizer,
        max_bytes=args.max_graph_bytes,
    )
    out = save_native(store, args.target)
    sys.stdout.write(f"wrote {out} ({store.n_nodes} nodes, {store.n_edges} edges)\n")
    return 0
