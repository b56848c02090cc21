"""Serving the Dash app like a real web app: hardening and the production WSGI server.

:func:`harden` adds to the app's Flask server

* a ``Host`` allow-list (``Settings.allowed_hosts``; localhost names by default): any other
  ``Host`` gets 400, so a page of another site that rebinds its DNS name to 127.0.0.1 cannot
  read the graph;
* a request body limit (``Settings.max_request_bytes``): larger bodies get 413 before they
  are read;
* security headers on every response: ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer`` and a Content-Security-Policy
  that allows only this origin plus the hashes of Dash's own inline scripts
  (:meth:`dash.Dash.csp_hashes`), inline styles (plotly sets them) and ``data:`` / ``blob:``
  images (plotly, downloads).

:func:`serve` runs the hardened app on waitress (threads, no server version header), or on
Flask's development server with Dash's debug tools when ``Settings.debug`` is set.
:mod:`attribution_viewer.wsgi` builds the same hardened app for gunicorn workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import flask
from dash import Dash

from attribution_viewer.settings import Settings

log = logging.getLogger(__name__)

ANY_HOST = "*"


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header value (port and IPv6 brackets removed), lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host_header: str, allowed: tuple[str, ...]) -> bool:
    """Whether a request with this ``Host`` header is served (``"*"`` in ``allowed``: any)."""
    return ANY_HOST in allowed or host_name(host_header) in {h.lower() for h in allowed}


def content_security_policy(app: Dash) -> str:
    """A CSP under which the Dash page works: own origin, Dash's inline-script hashes."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def harden(app: Dash, settings: Settings) -> Dash:
    """Add the Host allow-list, the body limit and the security headers to ``app``; return it.

    Call it after every callback is registered (the CSP hashes Dash's inline scripts).
    Debug mode (Dash's dev tools use ``eval``) gets no CSP.
    """
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    allowed = settings.allowed_hosts
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }
    if not settings.debug:
        headers["Content-Security-Policy"] = content_security_policy(app)

    def check_request() -> flask.Response | None:
        request = flask.request
        if not host_allowed(request.host, allowed):
            log.warning("refused Host %r (setting allowed_hosts)", request.host[:100])
            return flask.Response("Bad Request: host not allowed\n", 400, mimetype="text/plain")
        length = request.content_length
        if length is not None and length > settings.max_request_bytes:
            return flask.Response(
                f"Request body too large (limit {settings.max_request_bytes:,} bytes)\n",
                413,
                mimetype="text/plain",
            )
        return None

    def add_headers(response: flask.Response) -> flask.Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    server.before_request(check_request)
    server.after_request(add_headers)
    return app


def make_server(app: Dash | Callable[..., Any], settings: Settings, *, port: int | None = None) -> Any:
    """A waitress server for the hardened ``app`` (bound, not yet running: call ``.run()``).

    ``app`` is a Dash app (hardened here) or a WSGI application whose Dash apps are hardened
    already (a folder of graphs: :class:`attribution_viewer.app.folder.FolderServer`).
    ``port`` overrides ``settings.port`` (0: any free port, read it from ``.effective_port``).
    """
    from waitress.server import create_server

    if isinstance(app, Dash):
        harden(app, settings)
    return create_server(
        app.server if isinstance(app, Dash) else app,
        host=settings.host,
        port=settings.port if port is None else port,
        threads=settings.server_threads,
        ident="",  # no Server header
        max_request_body_size=settings.max_request_bytes,
        clear_untrusted_proxy_headers=True,
    )


def serve(app: Dash | Callable[..., Any], settings: Settings) -> None:
    """Run the hardened app until interrupted: waitress, or Flask's dev server with ``debug``
    (a Dash app only: a folder's WSGI application always runs on waitress)."""
    if settings.debug and isinstance(app, Dash):
        harden(app, settings)
        log.warning("debug mode: Flask's development server with Dash's dev tools (do not expose it)")
        app.run(host=settings.host, port=settings.port, debug=True, use_reloader=False)
        return
    server = make_server(app, settings)
    log.info("waitress serving on http://%s:%s", settings.host, server.effective_port)
    server.run()
