"""``scores`` command: replacement and completeness scores of a graph or a subgraph (no model).

    python -m attribution_viewer scores GRAPH [--nodes KEY,KEY,...] [--json]

``--nodes``: the subgraph's feature nodes (canonical keys, as ``inspect --edges`` prints
them); every feature outside it counts as unexplained (see
:mod:`attribution_viewer.scores`). ``--json`` prints ``{"replacement", "completeness"}``.
"""

from __future__ import annotations

import argparse
import json
import sys

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import open_graph
from attribution_viewer.scores import graph_scores


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scores", help="replacement and completeness scores of a graph")
    parser.add_argument("graph", metavar="GRAPH", help="graph file (.pt, .json, .npz)")
    parser.add_argument("--nodes", help="comma-separated feature keys of a subgraph")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_graph(args.graph)
    indices = None
    if args.nodes is not None:
        keys = [k.strip() for k in args.nodes.split(",") if k.strip()]
        missing = [k for k in keys if k not in store.index_of]
        if missing:
            raise GraphFormatError(args.graph, "--nodes", "node keys of this graph", missing[0])
        indices = [store.index_of[k] for k in keys]
    try:
        scores = graph_scores(store, indices)
    except ValueError as exc:
        raise GraphFormatError(args.graph, "--nodes", "feature node keys", str(exc)) from exc
    if args.json:
        sys.stdout.write(
            json.dumps({"replacement": scores.replacement, "completeness": scores.completeness}) + "\n"
        )
    else:
        what = f"subgraph of {scores.n_features} features" if indices is not None else "graph"
        sys.stdout.write(
            f"{what}: replacement {scores.replacement:.4f}, completeness {scores.completeness:.4f}\n"
        )
    return 0
