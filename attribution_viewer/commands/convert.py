"""``convert`` command: write any supported graph file in the native ``.npz`` format.

    python -m attribution_viewer convert IN OUT.npz

The native file (see ``docs/native-format.md``) opens much faster than ``.pt`` or JSON and
needs neither torch nor pickle.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from attribution_viewer.loaders import open_graph, save_native


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help="convert a graph file to the native .npz format")
    parser.add_argument("source", type=Path, metavar="IN", help="graph file (.pt, .json, .npz)")
    parser.add_argument("target", type=Path, metavar="OUT", help="native file to write (.npz)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_graph(args.source, max_bytes=args.max_graph_bytes)
    out = save_native(store, args.target)
    sys.stdout.write(f"wrote {out} ({store.n_nodes} nodes, {store.n_edges} edges)\n")
    return 0
