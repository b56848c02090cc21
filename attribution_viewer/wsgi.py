"""A WSGI application for serving the viewer to a lab with gunicorn workers.

    ATTRVIEW_GRAPH_PATH=/data/graph.pt ATTRVIEW_ALLOWED_HOSTS=viewer.lab.example \\
        gunicorn --workers 4 --preload --bind 127.0.0.1:8050 attribution_viewer.wsgi:app

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

from attribution_viewer.app import create_app
from attribution_viewer.server import harden
from attribution_viewer.settings import Settings, resolve_settings


def build_app(settings: Settings) -> object:
    """The hardened Flask (WSGI) app of the viewer for ``settings``."""
    return harden(create_app(settings), settings).server


app = build_app(resolve_settings(None, os.environ))
