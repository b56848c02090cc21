"""Start the viewer: ``python launch.py [--graph PATH] [--autointerp DIR] [--port N] ...``.

Defaults come from ``config/settings.py``; environment variables ``ATTRVIEW_<FIELD>``
override them, and flags override both. The server binds 127.0.0.1 with debug off unless
asked otherwise, on waitress (Flask's development server only with ``--debug``), hardened
by :mod:`attribution_viewer.server`. Bad input prints one line naming the file, the key and
what was expected, and exits with code 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from attribution_viewer.errors import GraphFormatError, MissingDependencyError

log = logging.getLogger("attribution_viewer.launch")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Open an attribution graph in the browser.")
    parser.add_argument("--graph", dest="graph_path", type=Path, help="graph file (.pt, .json, .npz)")
    parser.add_argument(
        "--autointerp", dest="autointerp_dir", help="folder of feature descriptions ('none' to disable)"
    )
    parser.add_argument("--frequencies", dest="frequency_path", help="feature frequency JSON")
    parser.add_argument(
        "--cache-dir",
        dest="conversion_cache_dir",
        help="where converted .pt graphs are kept ('none' to disable; default ~/.cache/attribution-viewer)",
    )
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8050)")
    parser.add_argument(
        "--debug",
        action="store_true",
        default=None,
        help="Dash debug mode on Flask's development server (off by default: waitress)",
    )
    parser.add_argument(
        "--allowed-hosts",
        dest="allowed_hosts",
        help="comma-separated Host names served (default localhost names; '*' = any)",
    )
    parser.add_argument("--max-graph-bytes", dest="max_graph_bytes", type=int, help="largest graph file read")
    parser.add_argument(
        "--max-request-bytes", dest="max_request_bytes", type=int, help="largest request body (413 beyond)"
    )
    parser.add_argument(
        "--threads", dest="server_threads", type=int, help="waitress worker threads (default 8)"
    )
    parser.add_argument(
        "--show-errors",
        dest="show_errors",
        action="store_true",
        default=None,
        help="show error nodes when the page opens",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("attribution_viewer").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    from attribution_viewer.loaders import begin_open_graph
    from attribution_viewer.settings import resolve_settings
    from config.settings import DEFAULTS

    cli = {k: v for k, v in vars(args).items() if k != "verbose"}
    try:
        settings = resolve_settings(cli, os.environ, DEFAULTS)
        if settings.graph_path is None:
            raise ValueError(
                "settings.graph_path: expected a graph file (--graph or config/settings.py), got none"
            )
        # A .pt graph is converted in a child process that starts now, while Dash is imported.
        finish_opening = begin_open_graph(
            settings.graph_path,
            torch_in_subprocess=True,
            cache_dir=settings.conversion_cache_dir,
            max_bytes=settings.max_graph_bytes,
        )
        from attribution_viewer.app import create_app

        app = create_app(settings, finish_opening())
    except (GraphFormatError, MissingDependencyError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    from attribution_viewer.server import serve

    log.info("serving %s on http://%s:%d", settings.graph_path, settings.host, settings.port)
    serve(app, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
