"""The Dash app: :func:`create_app` builds one app for one graph (an app factory).

Every call makes a fresh :class:`dash.Dash` with its own callbacks, so tests can build
many apps in one process. The graph is opened once per process by the caller (or here);
the page layout is a function of the request's URL, and all per-user state lives in the
browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
from dash import Dash

from attribution_viewer.app import (
    cluster_panel,
    compare_view,
    export_menu,
    graph_view,
    new_graph,
    node_labels,
    node_panel,
    page,
    picker,
    steering,
    top_bar,
)
from attribution_viewer.app.bundle import ASSETS_DIR, BASIC_BUNDLE
from attribution_viewer.app.context import AppContext, LibraryGraph
from attribution_viewer.app.page import build_page
from attribution_viewer.companions import bind_companions, graph_tokenizer
from attribution_viewer.live.jobs import live_setup
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore
from attribution_viewer.settings import Settings

log = logging.getLogger(__name__)

# The UI parts, each a module with its layout (placed by page.build_page) and a
# ``register(app, ctx)`` that attaches its callbacks. A new part is one more entry here.
UNITS: tuple[Callable[[Dash, AppContext], None], ...] = (
    page.register,
    top_bar.register,
    graph_view.register,
    node_labels.register,
    node_panel.register,
    cluster_panel.register,
    export_menu.register,
    steering.register,
    picker.register,
    compare_view.register,
    new_graph.register,
)


class ViewerDash(Dash):
    """Dash that serves plotly.js's small basic bundle (``assets/vendor``) when it is there."""

    def __init__(self, *args: Any, small_plotly: bool, **kwargs: Any) -> None:
        self._small_plotly = small_plotly
        super().__init__(*args, **kwargs)

    def _setup_plotlyjs(self) -> None:
        if not self._small_plotly:
            super()._setup_plotlyjs()


def page_query() -> str:
    """The query string of the page being built.

    Dash fetches the layout with its own request (``/_dash-layout``); ``assets/app.js``
    appends the page's query string to that request, so the layout can restore the view
    from the URL (a Referer header would be cut at 4 kB, too short for cluster state).
    """
    if not flask.has_request_context():
        return ""
    return flask.request.query_string.decode()


def open_app_graph(settings: Settings, path: Path) -> GraphStore:
    """Open the graph file ``path`` as the app does (``.pt`` in a child process, cached)."""
    return open_graph(
        path,
        torch_in_subprocess=True,
        cache_dir=settings.conversion_cache_dir,
        tokenizer=graph_tokenizer(settings, path),
        max_bytes=settings.max_graph_bytes,
    )


def create_app(
    settings: Settings, store: GraphStore | None = None, library: LibraryGraph | None = None
) -> Dash:
    """Build the app for ``settings`` (opening ``settings.graph_path`` unless ``store`` is given);
    ``library``: the graph is one of a folder of graphs (picker and compare view shown)."""
    if store is not None:
        graph = store
    elif settings.graph_path is not None:
        graph = open_app_graph(settings, settings.graph_path)
    else:
        raise ValueError("settings.graph_path: expected a graph file, got none")
    source = graph.metadata.source_path or settings.graph_path
    if source:
        settings = bind_companions(settings, Path(source))
    # Live model (steering, edge checks): None when no model is configured.
    live = live_setup(settings, Path(source) if source else None)
    ctx = AppContext(settings=settings, store=graph, live=live, library=library)
    small_plotly = BASIC_BUNDLE.exists()
    if not small_plotly:
        log.info("plotly.js basic bundle not found (%s): serving the full bundle", BASIC_BUNDLE)
    app = ViewerDash(
        __name__,
        small_plotly=small_plotly,
        assets_folder=str(ASSETS_DIR),
        title=f"{ctx.graph_id} · attribution-viewer",
        suppress_callback_exceptions=True,
        update_title="",
        background_callback_manager=live.manager if live else None,
    )
    app.layout = lambda: build_page(ctx, page_query())
    for register in UNITS:
        register(app, ctx)
    app.server.config["attribution_viewer_context"] = ctx
    return app


__all__ = ["AppContext", "LibraryGraph", "create_app", "open_app_graph"]
