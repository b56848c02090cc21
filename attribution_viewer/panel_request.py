"""The node panel's request: what the browser asks the panel route for, checked.

``assets/node_panel.js`` POSTs ``{"key": <node key or null>, "view": {<field>: value}}``
to the panel route (``app/node_panel.py``) on a click, and whenever the selection, pins,
labels or filters change. ``view`` holds the values of the user's view controls by name
(the fields of ``app.controls.ViewControls``; :data:`VIEW_FIELDS` gives each one's JSON
type). :func:`parse_panel_request` reads such a body (nesting-bounded JSON; the server
bounds its size) and answers a :class:`PanelRequest` or raises
:class:`PanelRequestError` with one line naming the key and what was expected.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

from attribution_viewer.bounded_json import loads

FieldType = Literal["number", "string", "strings", "labels"]

# Every view field the browser may send, with its JSON type (null is always accepted).
VIEW_FIELDS: dict[str, FieldType] = {
    "prune": "number",
    "freq": "number",
    "toggles": "strings",
    "size": "number",
    "selected": "string",
    "pinned": "strings",
    "labels": "labels",
    "edges": "number",
    "show_labels": "strings",
    "faded": "strings",
}

_EXPECTED: dict[FieldType, str] = {
    "number": "a finite number or null",
    "string": "a string or null",
    "strings": "a list of strings or null",
    "labels": "an object of string values or null",
}


class PanelRequestError(ValueError):
    """A panel request the route cannot answer; the message names the key and expectation."""


class PanelRequest(NamedTuple):
    """The node to show (None: nothing selected) and the view's values by field name."""

    key: str | None
    view: dict[str, Any]


def _valid(value: Any, kind: FieldType) -> bool:
    if value is None:
        return True
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


def parse_panel_request(body: bytes) -> PanelRequest:
    """The request in ``body`` (JSON). Raises :class:`PanelRequestError` when it is not an
    object with a string-or-null ``key`` and a ``view`` object of :data:`VIEW_FIELDS`."""
    try:
        data = loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PanelRequestError(f"panel request: body: expected JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PanelRequestError("panel request: body: expected a JSON object")
    key = data.get("key")
    if key is not None and not isinstance(key, str):
        raise PanelRequestError("panel request: key 'key': expected a node key (string) or null")
    view = data.get("view", {})
    if not isinstance(view, dict):
        raise PanelRequestError("panel request: key 'view': expected an object")
    for name, value in view.items():
        kind = VIEW_FIELDS.get(name)
        if kind is None:
            raise PanelRequestError(
                f"panel request: key 'view.{name}': expected one of {', '.join(VIEW_FIELDS)}"
            )
        if not _valid(value, kind):
            raise PanelRequestError(f"panel request: key 'view.{name}': expected {_EXPECTED[kind]}")
    return PanelRequest(key, {**view, "selected": key})
