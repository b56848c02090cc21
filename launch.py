"""Start the viewer: ``python launch.py [--graph PATH] [--autointerp DIR] [--port N] ...``.

Defaults come from ``config/settings.py``; environment variables ``ATTRVIEW_<FIELD>``
override them, and flags override both. The server binds 127.0.0.1 with debug off unless
asked otherwise. Bad input prints one line naming the file, the key and what was expected,
and exits with code 2.
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
    parser.add_argument(
        "--tokenizer",
        help="tokenizer folder or cached Hugging Face model name, to show token strings of .pt graphs",
    )
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", default=None, help="Dash debug mode (off by default)")
    parser.add_argument(
        "--show-errors",
        dest="show_errors",
        action="store_true",
        default=None,
        help="show error nodes when the page opens",
    )
    live = parser.add_argument_group("live model (steering, edge checks)")
    live.add_argument("--model", help="model folder or name (default: the graph's manifest)")
    live.add_argument("--transcoders", help="transcoders folder or name")
    live.add_argument(
        "--backend", dest="model_backend", help="circuit-tracer backend: transformerlens | nnsight"
    )
    live.add_argument("--jobs", help="where jobs run: diskcache (default) | celery")
    live.add_argument("--redis", dest="redis_url", help="Redis URL for --jobs celery")
    live.add_argument(
        "--job-memory-gb", dest="job_memory_gb", type=float, help="memory cap of the model process"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("attribution_viewer").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    from attribution_viewer.companions import graph_tokenizer
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
            tokenizer=graph_tokenizer(settings, settings.graph_path),
        )
        from attribution_viewer.app import create_app

        app = create_app(settings, finish_opening())
    except (GraphFormatError, MissingDependencyError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    log.info("serving %s on http://%s:%d", settings.graph_path, settings.host, settings.port)
    app.run(host=settings.host, port=settings.port, debug=settings.debug, use_reloader=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
