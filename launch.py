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
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.library import GraphIndex, GraphPathError
from attribution_viewer.settings import Settings

log = logging.getLogger("attribution_viewer.launch")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Open an attribution graph in the browser.")
    parser.add_argument(
        "--graph", dest="graph_path", type=Path, help="graph file (.pt, .json, .npz) or a folder of graphs"
    )
    parser.add_argument("--graphs-dir", dest="graphs_dir", type=Path, help="folder of graphs (the library)")
    parser.add_argument(
        "--open-graphs-max",
        dest="open_graphs_max",
        type=int,
        help="graphs of the library kept open (default 4)",
    )
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
    parser.add_argument(
        "--open",
        dest="open_browser",
        action="store_true",
        default=None,
        help="open the page in the default web browser once the server is up",
    )
    live = parser.add_argument_group("live model (steering, edge checks, new graphs)")
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
    live.add_argument(
        "--new-graphs-dir",
        dest="new_graphs_dir",
        type=Path,
        help="folder for graphs made from a prompt (default: beside the graph being viewed)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def check_paths(settings: Settings) -> None:
    """Refuse named companion paths that do not exist (a typo would silently show nothing)."""
    if settings.autointerp_dir is not None and not settings.autointerp_dir.is_dir():
        raise ValueError(f"{settings.autointerp_dir}: autointerp_dir: expected a folder, got no such folder")
    if settings.frequency_path is not None and not settings.frequency_path.is_file():
        raise ValueError(f"{settings.frequency_path}: frequency_path: expected a JSON file, got no such file")


def check_port(host: str, port: int) -> None:
    """Fail before serving when ``host:port`` cannot be bound (already in use, or not ours)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ValueError(f"{host}:{port}: port: expected a free port, got {exc.strerror or exc}") from exc


def open_when_up(url: str, host: str, port: int, timeout: float = 30.0) -> None:
    """Open ``url`` in the browser as soon as the server accepts connections (a thread)."""

    def wait_and_open() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    webbrowser.open(url)
                    return
            except OSError:
                time.sleep(0.1)

    threading.Thread(target=wait_and_open, name="open-browser", daemon=True).start()


def serve_folder(settings: Settings, index: GraphIndex) -> int:
    """Serve every graph of ``index`` (its default graph opened first: errors exit 2)."""
    from attribution_viewer.app.folder import build_folder_server
    from attribution_viewer.server import serve

    started = time.monotonic()
    try:
        check_paths(settings)
        check_port(settings.host, settings.port)
        server = build_folder_server(settings, index)
        server.app_for(server.default)
    except (GraphFormatError, MissingDependencyError, GraphPathError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    log.info("opened %s in %.1f s", server.default, time.monotonic() - started)
    url = f"http://{settings.host}:{settings.port}/"
    log.info("serving %d graphs of %s on %s", len(index), settings.graphs_dir, url)
    if settings.open_browser:
        open_when_up(url, settings.host, settings.port)
    serve(server, settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("attribution_viewer").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    from attribution_viewer.companions import graph_tokenizer
    from attribution_viewer.live.served import served_graphs
    from attribution_viewer.loaders import begin_open_graph
    from attribution_viewer.settings import resolve_settings
    from config.settings import DEFAULTS

    cli = {k: v for k, v in vars(args).items() if k != "verbose"}
    try:
        # A folder, or one graph with a model: then the graphs made from prompts beside it too.
        settings, index = served_graphs(resolve_settings(cli, os.environ, DEFAULTS))
        if index is not None:  # a folder of graphs: one server, a picker, ?graph= per page
            return serve_folder(settings, index)
        if settings.graph_path is None:
            raise ValueError("settings.graph_path: expected a graph file (--graph or config/settings.py)")
        check_paths(settings)
        check_port(settings.host, settings.port)
        started = time.monotonic()
        # A .pt graph is converted in a child process that starts now, while Dash is imported.
        finish_opening = begin_open_graph(
            settings.graph_path,
            torch_in_subprocess=True,
            cache_dir=settings.conversion_cache_dir,
            tokenizer=graph_tokenizer(settings, settings.graph_path),
            max_bytes=settings.max_graph_bytes,
        )
        # Only a .pt conversion takes seconds: say so when it does (and only then, so that
        # a bad file of another format stays a one-line error).
        progress = threading.Timer(
            1.0,
            log.info,
            ("opening %s (a .pt graph is converted once, then cached) ...", settings.graph_path),
        )
        if settings.graph_path.suffix in (".pt", ".pth"):
            progress.start()
        try:
            from attribution_viewer.app import create_app

            store = finish_opening()
        finally:
            progress.cancel()
        app = create_app(settings, store)
        log.info("opened %s in %.1f s", settings.graph_path, time.monotonic() - started)
    except (GraphFormatError, MissingDependencyError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    from attribution_viewer.server import serve

    url = f"http://{settings.host}:{settings.port}/"
    log.info("serving %s on %s", settings.graph_path, url)
    if settings.open_browser:
        open_when_up(url, settings.host, settings.port)
    serve(app, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
