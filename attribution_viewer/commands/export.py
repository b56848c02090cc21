"""``export`` command: a graph as a print figure (PDF / SVG / PNG) or Neuronpedia JSON.

    python -m attribution_viewer export GRAPH --out FILE [--format pdf|svg|png|json]
        [--preset one-column|two-column] [--width PX --height PX --font-size PX]
        [--title TEXT] [--show-labels] [--node-threshold X] [--show-errors]
        [--edges-per-target N] [--no-faded-edges] [--max-edges N]
        [--clusters] [--scale S] [--compare OTHER [--titles LEFT RIGHT]] [--max-px N] [--timeout S]

The figure shows what the app shows for the same settings: nodes within the cumulative
influence ``--node-threshold`` (default: the graph's own, else 0.8), embeddings and logits,
errors with ``--show-errors``; the graph's supernodes are highlighted as clusters
(``--clusters`` draws the cluster-level graph of them instead). ``--show-labels`` writes
the file's node labels beside the nodes. Edges as on the page: each node's
``--edges-per-target`` strongest inputs (default 5, 0 = all) drawn in full, the other
visible edges thin and faint (not drawn with ``--no-faded-edges``), at most ``--max-edges``
(the strong ones first, then the strongest faint ones). The format defaults to the extension of
``--out``. Sizes are CSS pixels (96 per inch); ``--scale`` multiplies PNG resolution. A
figure larger than ``--max-px`` on a side (device pixels for PNG) is refused before the
graph is read, and rendering is stopped after ``--timeout`` seconds: one line, exit code 2.

``--compare OTHER`` draws GRAPH and OTHER side by side on one page (PDF / SVG / PNG), each
with the same settings, the features present in both (same layer and feature index)
marked in both; the halves are titled with the file names, or ``--titles LEFT RIGHT``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from attribution_viewer.companions import find_companions
from attribution_viewer.compare import compare_graphs
from attribution_viewer.errors import ExportError
from attribution_viewer.export.compare_figure import (
    ComparePanel,
    export_compare_bytes,
    print_view_of,
)
from attribution_viewer.export.exporter import (
    DEFAULT_LIMITS,
    EXPORT_FORMATS,
    ExportFormat,
    ExportLimits,
    check_size,
    export_bytes,
)
from attribution_viewer.export.print_figure import PrintOptions
from attribution_viewer.export.print_geometry import PRINT_MAX_EDGES
from attribution_viewer.loaders import open_graph
from attribution_viewer.view import DEFAULT_EDGES_PER_TARGET

log = logging.getLogger(__name__)

PRESETS = {"one-column": PrintOptions.one_column, "two-column": PrintOptions.two_column}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export a graph as PDF / SVG / PNG or Neuronpedia JSON")
    parser.add_argument("graph", metavar="GRAPH", help="graph file (.pt, .json, .npz)")
    parser.add_argument("--out", required=True, type=Path, help="output file")
    parser.add_argument(
        "--format", choices=EXPORT_FORMATS, help="output format (default: from --out's extension)"
    )
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="two-column", help="page size and font preset"
    )
    parser.add_argument("--width", type=int, help="figure width in px (96 per inch)")
    parser.add_argument("--height", type=int, help="figure height in px")
    parser.add_argument("--font-size", type=float, help="font size in px (1 px = 0.75 pt)")
    parser.add_argument("--title", default="", help="figure title (default: none)")
    parser.add_argument("--show-labels", action="store_true", help="write node labels beside the nodes")
    parser.add_argument("--node-threshold", type=float, help="cumulative influence kept, 0..1")
    parser.add_argument("--show-errors", action="store_true", help="draw error nodes")
    parser.add_argument(
        "--edges-per-target",
        type=int,
        default=DEFAULT_EDGES_PER_TARGET,
        metavar="N",
        help="edges drawn in full into each node: its N strongest inputs (default %(default)s, 0 = all)",
    )
    parser.add_argument(
        "--max-edges",
        type=int,
        default=PRINT_MAX_EDGES,
        metavar="N",
        help="edges drawn at most, the strong ones first (default %(default)s)",
    )
    parser.add_argument(
        "--no-faded-edges",
        dest="faded_edges",
        action="store_false",
        help="draw only those edges (default: the other visible edges too, thin and faint)",
    )
    parser.add_argument("--clusters", action="store_true", help="draw the graph of the supernodes instead")
    parser.add_argument("--scale", type=float, default=2.0, help="PNG pixel density multiplier (default 2)")
    parser.add_argument(
        "--compare",
        metavar="OTHER",
        help="a second graph, drawn beside GRAPH with the shared features marked",
    )
    parser.add_argument(
        "--titles", nargs=2, metavar=("LEFT", "RIGHT"), help="titles of the two halves of --compare"
    )
    parser.add_argument(
        "--max-px",
        type=int,
        default=DEFAULT_LIMITS.max_px,
        help="largest output side in pixels (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_LIMITS.timeout_s,
        help="seconds before rendering is stopped (default %(default)s)",
    )
    parser.set_defaults(func=run, parser=parser)


def output_format(out: Path, explicit: str | None) -> ExportFormat:
    """The format asked for, else the one ``out``'s extension names."""
    fmt = explicit or out.suffix.lower().lstrip(".")
    for known in EXPORT_FORMATS:
        if fmt == known:
            return known
    raise ValueError(f"cannot tell the format from {out.name!r}: pass --format {'|'.join(EXPORT_FORMATS)}")


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    try:
        fmt = output_format(args.out, args.format)
        overrides = {
            name: value
            for name, value in (("width", args.width), ("height", args.height), ("font_size", args.font_size))
            if value is not None
        }
        options = PRESETS[args.preset](
            title=args.title, show_labels=args.show_labels, max_edges=args.max_edges, **overrides
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.node_threshold is not None and not 0 < args.node_threshold <= 1:
        parser.error(f"--node-threshold must be within (0, 1], got {args.node_threshold}")

    if args.edges_per_target < 0:
        parser.error(f"--edges-per-target must be >= 0 (0 = all), got {args.edges_per_target}")
    edges = {"edges_per_target": args.edges_per_target, "faded_edges": args.faded_edges}

    if args.compare is not None and (fmt == "json" or args.clusters):
        parser.error("--compare exports a figure (pdf, svg or png) of the graph view, not json or --clusters")
    if args.titles is not None and args.compare is None:
        parser.error("--titles needs --compare")

    limits = ExportLimits(args.max_px, args.timeout)
    check_size(options, fmt, args.scale, limits.max_px)  # before any work
    store = open_graph(args.graph, max_bytes=args.max_graph_bytes, tokenizer=_tokenizer(args.graph))
    layout, print_view = print_view_of(store, args.node_threshold, args.show_errors, **edges)
    start = time.perf_counter()
    try:
        if args.compare is not None and fmt != "json":  # (never json here: refused above)
            other = open_graph(
                args.compare, max_bytes=args.max_graph_bytes, tokenizer=_tokenizer(args.compare)
            )
            titles = args.titles or (Path(args.graph).name, Path(args.compare).name)
            left = ComparePanel(store, layout, print_view, titles[0])
            right = ComparePanel(
                other, *print_view_of(other, args.node_threshold, args.show_errors, **edges), titles[1]
            )
            data = export_compare_bytes(
                left, right, compare_graphs(store, other), options, fmt, scale=args.scale, limits=limits
            )
        else:
            data = export_bytes(
                store,
                layout,
                print_view,
                options,
                fmt,
                cluster_view=args.clusters,
                pinned=store.pinned,
                scale=args.scale,
                limits=limits,
            )
    except ExportError:
        raise  # too large, timed out: cli.main prints it as one line (exit 2)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.write_bytes(data)
    log.info("wrote %s (%d bytes) in %.2f s", args.out, len(data), time.perf_counter() - start)
    return 0


def _tokenizer(graph: str | Path) -> Path | None:
    """The tokenizer the manifest beside ``graph`` names (token strings for .pt graphs)."""
    return find_companions(Path(graph)).tokenizer
