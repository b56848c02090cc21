"""A WSGI application for serving the viewer to a lab with gunicorn workers.

    ATTRVIEW_GRAPH_PATH=/data/graph.pt ATTRVIEW_ALLOWED_HOSTS=viewer.lab.example \\
        gunicorn --workers 4 --preload --bind 127.0.0.1:8050 attribution_viewer.wsgi:app

``ATTRVIEW_GRAPH_PATH`` may also name a folder of graphs (the picker and the compare view,
as with ``launch.py --graph FOLDER``), and a file with a model is served with the graphs
made from prompts beside it, as by ``launch.py``.

Settings come from ``ATTRVIEW_*`` environment variables only (over the package defaults;
``config/settings.py`` is not read). The graph is opened once when the module is imported
(with ``--preload``, once before the workers fork, which then share its memory); the server
holds no per-user state, so any number of workers serve the same graph. The app is hardened
exactly as ``launch.py``'s (:func:`attribution_viewer.server.harden`: Host allow-list, body
limit, security headers). Put a reverse proxy (nginx, Caddy) in front for TLS and pass the
original ``Host`` header through (nginx: ``proxy_set_header Host $host;``) and list that
name in ``ATTRVIEW_ALLOWED_HOSTS``. A bad setting or graph raises at import, so gunicorn
stops with that one message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from attribution_viewer.app import create_app
from attribution_viewer.app.folder import build_folder_server
from attribution_viewer.live.served import served_graphs
from attribution_viewer.server import harden
from attribution_viewer.settings import Settings, resolve_settings

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_app(settings: Settings) -> WsgiApp:
    """The WSGI app of the viewer for ``settings``, serving what ``launch.py`` would
    (:func:`~attribution_viewer.live.served.served_graphs`): one graph's hardened Flask
    app, or the server of a folder (or of one file and the graphs made beside it), whose
    default graph is opened now so that a bad file stops the import with its message."""
    settings, index = served_graphs(settings)
    if index is None:
        return harden(create_app(settings), settings).server
    server = build_folder_server(settings, index)
    server.app_for(server.default)
    return server


app = build_app(resolve_settings(None, os.environ))
