"""Serve a folder of graphs from one process: each request goes to its graph's app.

:class:`FolderServer` is a WSGI application in front of one Dash app per open graph (the
same app as single-graph mode, :func:`attribution_viewer.app.create_app`, with a
:class:`~attribution_viewer.app.context.LibraryGraph` so it shows the picker and the
compare view). A request names its graph by

* the ``X-Attribution-Graph`` header: every callback request (``assets/app.js`` adds the
  graph of the page it was loaded for), so two tabs can look at different graphs;
* else the ``graph`` query parameter: the page (``/?graph=sub/a.json``) and its layout
  request (app.js appends the page's query);
* else static files (scripts, styles, the callback list: identical in every app) come from
  the most recently used app, and everything else goes to the default graph (the first of
  the index).

The name goes through :meth:`GraphIndex.resolve <attribution_viewer.library.GraphIndex.resolve>`
(no ``..``, no absolute path, no link out of the folder, only indexed files): a bad one
gets a 404 page that says why, and no file is read. Apps are kept in an LRU of
``open_graphs_max`` entries next to the :class:`~attribution_viewer.library.GraphCache` of
the open graphs, so memory stays flat however many graphs are browsed. Each app is
read-only once built; building it is the graph's first-open cost.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote

from dash import Dash

from attribution_viewer.app.context import LibraryGraph
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.library import GraphCache, GraphIndex, GraphPathError
from attribution_viewer.lru import LRU
from attribution_viewer.model import GraphStore
from attribution_viewer.settings import Settings

log = logging.getLogger(__name__)

GRAPH_HEADER = "X-Attribution-Graph"
_GRAPH_ENVIRON = "HTTP_" + GRAPH_HEADER.upper().replace("-", "_")
# Identical in every graph's app: served by the most recently used one.
_STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_dash-dependencies", "/_favicon.ico")

StartResponse = Callable[..., Any]
AppFactory = Callable[[Settings, GraphStore, LibraryGraph], Dash]


class FolderServer:
    """WSGI app serving every graph of ``cache.index`` (see the module docstring).

    ``make_app(settings, store, library_graph)`` builds (and hardens) one graph's app; ``default``
    is the relative path shown without ``?graph=``.
    """

    def __init__(self, settings: Settings, cache: GraphCache, default: str, make_app: AppFactory) -> None:
        self.settings = settings
        self.cache = cache
        self.default = default
        self._make_app = make_app
        self._apps: LRU[tuple[str, int, int], Dash] = LRU(cache.max_open)
        self._building: dict[tuple[str, int, int], threading.Lock] = {}
        self._lock = threading.Lock()
        self._latest: Dash | None = None

    def app_for(self, requested: str) -> Dash:
        """The app of the graph at relative path ``requested`` (built now if needed).

        GraphPathError when it is not a graph of the library (nothing read);
        GraphFormatError when the file cannot be opened."""
        entry = self.cache.index.resolve(requested)
        key = (entry.rel_path, entry.size, entry.mtime_ns)
        app = self._apps.get(key)
        if app is None:
            with self._lock:
                gate = self._building.setdefault(key, threading.Lock())
            with gate:  # two requests for a new graph build its app once
                app = self._apps.get(key)
                if app is None:
                    store = self.cache.get(entry)
                    app = self._make_app(self.settings, store, LibraryGraph(self.cache, entry.rel_path))
                    self._apps.put(key, app)
                    log.info("serving %s", entry.rel_path)
            with self._lock:
                self._building.pop(key, None)
        self._latest = app
        return app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/") or "/"
        requested = environ.get(_GRAPH_ENVIRON) or _query_graph(environ.get("QUERY_STRING", ""))
        if requested is None and path.startswith(_STATIC_PREFIXES) and self._latest is not None:
            return self._latest.server.wsgi_app(environ, start_response)
        requested = self.default if requested is None else requested
        try:
            app = self.app_for(requested)
        except GraphPathError as exc:
            log.warning("refused %s", exc)
            return self._not_found(start_response, str(exc), page=path == "/")
        except GraphFormatError as exc:
            log.warning("cannot open: %s", exc)
            return self._not_found(start_response, str(exc), page=path == "/")
        return app.server.wsgi_app(environ, start_response)

    def _not_found(self, start_response: StartResponse, message: str, page: bool) -> list[bytes]:
        """A 404 saying why; the page version links to the default graph."""
        if page:
            body = (
                "<!doctype html><html><head><meta charset='utf-8'><title>Graph not found</title></head>"
                f"<body><h1>Graph not found</h1><p class='not-found'>{html.escape(message)}</p>"
                f"<p><a href='/?graph={quote(self.default)}'>Open {html.escape(self.default)}</a></p>"
                "</body></html>"
            ).encode()
            kind = "text/html; charset=utf-8"
        else:
            body, kind = f"Not Found: {message}\n".encode(), "text/plain; charset=utf-8"
        start_response(
            "404 Not Found",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
            ],
        )
        return [body]


def build_folder_server(settings: Settings, index: GraphIndex) -> FolderServer:
    """The server of ``index``'s graphs: each graph's app built by ``create_app`` and hardened
    (:func:`attribution_viewer.server.harden`); the default graph is ``settings.graph_path``
    when it is in the folder, else the index's first graph (ValueError when it is empty)."""
    from attribution_viewer.app import create_app, open_app_graph
    from attribution_viewer.server import harden

    if not len(index):
        raise ValueError(f"settings.graphs_dir: expected graph files in {index.root}, found none")
    default = next(iter(index.entries))
    if settings.graph_path is not None and settings.graphs_dir is not None:
        try:
            rel = settings.graph_path.resolve().relative_to(settings.graphs_dir.resolve()).as_posix()
        except ValueError:
            rel = ""
        default = rel if rel in index.entries else default
    cache = GraphCache(index, settings.open_graphs_max, lambda path: open_app_graph(settings, path))

    def make_app(app_settings: Settings, store: GraphStore, library: LibraryGraph) -> Dash:
        return harden(create_app(app_settings, store, library), app_settings)

    return FolderServer(settings, cache, default, make_app)


def _query_graph(query: str) -> str | None:
    values = parse_qs(query, keep_blank_values=True).get("graph")
    return values[0] if values else None
