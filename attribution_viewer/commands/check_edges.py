"""``check-edges`` command: measure a node's strongest input edges on the live model.

    python -m attribution_viewer check-edges GRAPH --node KEY [--top 20] [--model DIR ...] [--json]

Each of the ``--top`` strongest feature inputs of ``KEY`` (a feature or a logit) is
ablated with every layer frozen, so only its direct effect reaches ``KEY``; that effect is
the edge's weight when the graph is faithful. ``--json`` prints one object per edge per
line: ``{"source", "target", "graph_weight", "measured"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attribution_viewer.commands.live_options import add_model_options, live_backend
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.live.backend import EdgeCheckRequest, JobHooks, LiveModelError
from attribution_viewer.live.graph_requests import (
    DEFAULT_EDGE_CHECKS,
    prompt_token_ids,
    strongest_input_edges,
)
from attribution_viewer.loaders import open_graph


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check-edges", help="measure a node's input edges on the live model")
    parser.add_argument("graph", metavar="GRAPH", type=Path, help="graph file (.pt)")
    parser.add_argument(
        "--node", required=True, metavar="KEY", help="the target node (a feature or logit key)"
    )
    parser.add_argument("--top", type=int, default=DEFAULT_EDGE_CHECKS, help="strongest inputs to check")
    parser.add_argument("--json", action="store_true", help="print JSON, one edge per line")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_graph(args.graph)
    try:
        edges = strongest_input_edges(store, args.node, args.top)
        request = EdgeCheckRequest(prompt_token_ids(store), edges)
        result = live_backend(args, args.graph).check_edges(request, JobHooks())
    except (ValueError, LiveModelError) as exc:
        raise GraphFormatError(
            args.graph, "--node", "a feature or logit node the model can check", str(exc)
        ) from exc
    for edge in result.edges:
        if args.json:
            doc = {
                "source": edge.source,
                "target": edge.target,
                "graph_weight": edge.graph_weight,
                "measured": edge.measured,
            }
            sys.stdout.write(json.dumps(doc) + "\n")
        else:
            ratio = "-" if edge.ratio is None else f"{edge.ratio:.4f}"
            sys.stdout.write(
                f"{edge.source}\t{edge.target}\t{edge.graph_weight!r}\t{edge.measured!r}\t{ratio}\n"
            )
    return 0
