"""The node panel's request (attribution_viewer.panel_request): parsed, or refused with one
line naming the key and what was expected; and the route answering it (app/node_panel.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import build_tiny_store
from plotly.io.json import to_json_plotly
from werkzeug.test import Client

from attribution_viewer.app import create_app
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.app.drawing import selection_payload
from attribution_viewer.app.folder import GRAPH_HEADER, build_folder_server
from attribution_viewer.app.ids import PANEL_ROUTE
from attribution_viewer.app.node_panel import panel_parts, panel_response
from attribution_viewer.library import GraphIndex
from attribution_viewer.loaders import save_native
from attribution_viewer.panel_request import VIEW_FIELDS, PanelRequest, PanelRequestError, parse_panel_request
from attribution_viewer.settings import Settings
from attribution_viewer.testing.synthetic import make_synthetic_graph


def as_json(value: object) -> object:
    """``value`` as the route sends it (Dash components as their JSON), parsed back."""
    return json.loads(to_json_plotly(value) or "null")


def test_pr1_a_request_is_its_key_and_view() -> None:
    body = json.dumps({"key": "F:1:1:9", "view": {"prune": 0.5, "pinned": ["E:1"], "labels": {"E:1": "x"}}})
    assert parse_panel_request(body.encode()) == PanelRequest(
        "F:1:1:9", {"prune": 0.5, "pinned": ["E:1"], "labels": {"E:1": "x"}, "selected": "F:1:1:9"}
    )
    # the key wins over a "selected" in the view; nothing selected is null
    assert parse_panel_request(b'{"key": null, "view": {"selected": "E:1"}}') == PanelRequest(
        None, {"selected": None}
    )
    assert parse_panel_request(b"{}") == PanelRequest(None, {"selected": None})


def test_pr2_the_view_fields_are_the_view_controls() -> None:
    assert set(VIEW_FIELDS) == set(ViewControls._fields)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"nope", "panel request: body: expected JSON"),
        (b"[1]", "panel request: body: expected a JSON object"),
        (b'{"key": 5}', "panel request: key 'key': expected a node key (string) or null"),
        (b'{"view": []}', "panel request: key 'view': expected an object"),
        (
            b'{"view": {"zoom": 1}}',
            "panel request: key 'view.zoom': expected one of " + ", ".join(VIEW_FIELDS),
        ),
        (b'{"view": {"prune": "high"}}', "panel request: key 'view.prune': expected a finite number or null"),
        (b'{"view": {"prune": true}}', "panel request: key 'view.prune': expected a finite number or null"),
        (
            b'{"view": {"pinned": ["a", 1]}}',
            "panel request: key 'view.pinned': expected a list of strings or null",
        ),
        (
            b'{"view": {"labels": {"a": 1}}}',
            "panel request: key 'view.labels': expected an object of string values or null",
        ),
        (b'{"view": {"selected": 3}}', "panel request: key 'view.selected': expected a string or null"),
        (b"[" * 100 + b"]" * 100, "panel request: body: expected JSON"),
    ],
)
def test_pr3_a_bad_request_says_what_was_expected(body: bytes, message: str) -> None:
    with pytest.raises(PanelRequestError) as error:
        parse_panel_request(body)
    assert str(error.value).startswith(message)


def test_pr4_the_route_answers_the_panel_and_the_selection_or_a_clear_error() -> None:
    store = build_tiny_store()
    settings = Settings(autointerp_dir=None)
    ctx = AppContext(settings=settings, store=store)
    view = {"prune": None, "pinned": [], "labels": {"E:1": "mine"}}
    payload, status = panel_response(ctx, json.dumps({"key": "F:1:1:9", "view": view}).encode())
    controls = ViewControls(**view, selected="F:1:1:9")
    head, body = panel_parts(ctx, controls)
    expected = {"key": "F:1:1:9", "head": head, "body": body, "selection": selection_payload(ctx, controls)}
    assert status == 200 and as_json(payload) == as_json(expected)
    assert payload["selection"] is not None
    # nothing selected: the empty panel, no selection
    empty, status = panel_response(ctx, b'{"key": null}')
    assert status == 200 and empty["selection"] is None and empty["body"] == []
    assert panel_response(ctx, b'{"key": "F:9:9:9"}') == (
        {"error": "panel request: key 'key': no node 'F:9:9:9' in this graph"},
        404,
    )
    assert panel_response(ctx, b'{"key": 1}') == (
        {"error": "panel request: key 'key': expected a node key (string) or null"},
        400,
    )
    # over HTTP, on the app's server: the same answer as JSON
    app = create_app(settings, store)
    client = app.server.test_client()
    response = client.post(f"/{PANEL_ROUTE}", data=json.dumps({"key": "F:1:1:9", "view": view}))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == as_json(payload)
    bad = client.post(f"/{PANEL_ROUTE}", data=b'{"key": 1}')
    assert bad.status_code == 400 and bad.get_json() == {
        "error": "panel request: key 'key': expected a node key (string) or null"
    }


def test_pr5_in_a_folder_the_route_answers_for_the_graph_the_header_names(tmp_path: Path) -> None:
    """Two tabs on different graphs of a folder: each panel request goes to its own graph
    (assets/app.js adds the X-Attribution-Graph header to the route's requests too)."""
    for seed, name in enumerate(("a.npz", "b.npz")):
        store = make_synthetic_graph(
            n_layers=3, n_tokens=3, n_features=12, n_edges=40, seed=seed, prompt=f"p{seed} q"
        )
        save_native(store, tmp_path / name)
    settings = Settings(graphs_dir=tmp_path, conversion_cache_dir=None)
    server = build_folder_server(settings, GraphIndex.scan(tmp_path))
    client = Client(server)
    heads = []
    for name in ("a.npz", "b.npz"):
        store = server.cache.open(name)
        key = store.keys[0]
        response = client.post(f"/{PANEL_ROUTE}", json={"key": key}, headers={GRAPH_HEADER: name})
        assert response.status_code == 200
        answer = response.get_json()
        assert answer["key"] == key
        ctx = server.app_for(name).server.config["attribution_viewer_context"]
        assert ctx.store is store
        assert answer["head"] == as_json(panel_parts(ctx, ViewControls(selected=key)).head)
        heads.append(answer["head"])
    assert heads[0] != heads[1]  # the two graphs' panels differ: each answered by its own
