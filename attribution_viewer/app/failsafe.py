"""Callbacks that fail show a readable message in the page instead of a broken view.

:func:`guard` wraps a callback function: when it raises (anything but Dash's
``PreventUpdate``), the wrapper logs the failure once (with its traceback; the same failure
again is not logged again), remembers it for those exact arguments (so repeating the
request does not redo the failing work) and returns ``fallback(message)``, which the
caller builds for its outputs: :func:`error_figure` for a figure, :func:`error_panel` for
a panel. A bug or an unexpected graph then costs one computation and one log entry, and
the user reads what went wrong.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from dash import html
from dash.exceptions import PreventUpdate

from attribution_viewer.errors import one_line
from attribution_viewer.lru import LRU

log = logging.getLogger(__name__)

# Failures remembered (by callback and arguments); the oldest are forgotten first.
MAX_REMEMBERED_FAILURES = 256


def failure_message(what: str, exc: BaseException) -> str:
    """One readable line: what failed and why."""
    return f"Could not {what}: {type(exc).__name__}: {one_line(str(exc))}"


def error_figure(message: str) -> dict[str, Any]:
    """A figure that shows ``message`` in the middle of empty, axis-less space."""
    return {
        "data": [],
        "layout": {
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "plot_bgcolor": "#ffffff",
            "annotations": [
                {
                    "text": message,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 15, "color": "#b00020"},
                }
            ],
        },
    }


def error_panel(message: str) -> list[Any]:
    """Panel children that show ``message``."""
    return [html.Div(message, className="notice callback-error")]


def _arguments_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    text = json.dumps([args, kwargs], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def guard(function: Callable[..., Any], what: str, fallback: Callable[[str], Any]) -> Callable[..., Any]:
    """``function`` that answers ``fallback(message)`` instead of raising (see module docstring).

    ``what`` completes "Could not ..." (for example ``"draw the graph"``).
    """
    failures: LRU[str, str] = LRU(MAX_REMEMBERED_FAILURES)
    logged: set[str] = set()
    lock = threading.Lock()

    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = _arguments_key(args, kwargs)
        known = failures.get(key)
        if known is not None:
            return fallback(known)
        try:
            return function(*args, **kwargs)
        except PreventUpdate:
            raise
        except Exception as exc:
            message = failure_message(what, exc)
            failures.put(key, message)
            with lock:
                first = message not in logged
                logged.add(message)
            if first:
                log.exception("%s (shown in the page; logged once)", message)
            return fallback(message)

    guarded.__name__ = getattr(function, "__name__", "callback")
    guarded.__doc__ = function.__doc__
    return guarded
