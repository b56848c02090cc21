"""Command-line interface: ``python -m attribution_viewer COMMAND ...``.

Each command lives in ``attribution_viewer/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (taking the parsed
namespace, returning an exit code). Bad input exits with code 2 and one line on stderr
naming the file, the key and what was expected. ``--max-graph-bytes`` (before the command)
bounds the graph files read.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from attribution_viewer.errors import ExportError, GraphFormatError, MissingDependencyError
from attribution_viewer.limits import MAX_GRAPH_BYTES

COMMANDS = ("inspect", "convert", "cluster", "export", "autointerp")
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attribution_viewer", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--max-graph-bytes",
        type=int,
        default=MAX_GRAPH_BYTES,
        help="largest graph file read (default %(default)s; setting max_graph_bytes)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"attribution_viewer.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.verbose:
        logging.getLogger("attribution_viewer").setLevel(logging.DEBUG)
    try:
        return int(args.func(args))
    except (GraphFormatError, MissingDependencyError, ExportError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
