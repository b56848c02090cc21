"""Serving: Host allow-list, body limit, security headers, bounded URL state, waitress and
gunicorn (issue 15 acceptance: ``Host: attacker.example`` -> 400, a 50 MB POST -> 413, a
URL whose state inflates past the limit loads the page with a notice)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import http.client
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import serving

from attribution_viewer.app import create_app
from attribution_viewer.server import harden, host_allowed, host_name, make_server
from attribution_viewer.settings import Settings, resolve_settings
from attribution_viewer.view import encode_blob
from tests.conftest import EXAMPLE_DIR, PROJECT_ROOT

GRAPH = EXAMPLE_DIR / "graph.npz"
FIFTY_MB = 50 << 20


def settings(**overrides: Any) -> Settings:
    return dataclasses.replace(Settings(graph_path=GRAPH, autointerp_dir=None), **overrides)


@pytest.fixture(scope="module")
def client() -> Any:
    return harden(create_app(settings()), settings()).server.test_client()


def test_sv1_host_names() -> None:
    assert [host_name(h) for h in ("LocalHost:8050", "127.0.0.1", "[::1]:80", "::1")] == [
        "localhost",
        "127.0.0.1",
        "::1",
        "::1",
    ]
    local = Settings().allowed_hosts
    assert host_allowed("localhost:8050", local) and host_allowed("[::1]:8050", local)
    assert not host_allowed("attacker.example", local) and not host_allowed(
        "localhost.attacker.example", local
    )
    assert host_allowed("attacker.example", ("*",))


def test_sv2_host_allow_list_and_headers(client: Any) -> None:
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/_dash-layout", headers={"Host": "attacker.example:8050"}).status_code == 400
    page = client.get("/", headers={"Host": "localhost:8050"})
    assert page.status_code == 200
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csp = page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self' 'sha256-" in csp and "frame-ancestors 'none'" in csp and "'unsafe-eval'" not in csp
    )


def test_sv3_fifty_megabyte_post_gets_413(client: Any) -> None:
    response = client.post(
        "/_dash-update-component", data=b"0" * FIFTY_MB, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_sv4_url_state_past_the_limit_loads_with_a_notice(client: Any) -> None:
    labels = {f"F:0:0:{i}": "x" * 100 for i in range(4000)}  # ~500 KB inflated, a few KB compressed
    blob = encode_blob(labels)
    assert len(blob) < 20_000
    response = client.get(f"/_dash-layout?labels={blob}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "labels: malformed URL state blob: it inflates to more than 262,144 bytes" in text
    assert len(text) < 500_000  # the layout carries none of it


def test_sv5_deeply_nested_url_state_is_ignored_with_a_notice(client: Any) -> None:
    nested = ("[" * 5000 + "]" * 5000).encode()
    blob = base64.urlsafe_b64encode(zlib.compress(nested, 9)).decode().rstrip("=")
    response = client.get(f"/_dash-layout?labels={blob}&clusters={blob}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "labels: malformed URL state blob: JSON nested 5000 levels deep" in text
    assert "clusters: malformed URL state blob: JSON nested 5000 levels deep" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(port: int, method: str, path: str, host: str = "127.0.0.1", body: bytes | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        if body is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None:
            # the server may answer and close before reading it all
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.send(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def waitress_port() -> Iterator[int]:
    with serving(make_server(create_app(settings()), settings(), port=0)) as port:
        yield port


def test_sv6_waitress_production_server(waitress_port: int) -> None:
    status, headers, body = _request(waitress_port, "GET", "/", host="localhost:8050")
    assert status == 200 and b"_dash-config" in body
    assert "Server" not in headers and "Via" not in headers
    assert headers["X-Frame-Options"] == "DENY"
    assert _request(waitress_port, "GET", "/", host="attacker.example")[0] == 400
    assert _request(waitress_port, "POST", "/_dash-update-component", body=b"0" * FIFTY_MB)[0] == 413


def test_sv7_gunicorn_workers_behind_a_proxy() -> None:
    """The documented lab setup: gunicorn workers on attribution_viewer.wsgi:app."""
    pytest.importorskip("gunicorn")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "ATTRVIEW_GRAPH_PATH": str(GRAPH),
        "ATTRVIEW_AUTOINTERP_DIR": "none",
        "ATTRVIEW_ALLOWED_HOSTS": "viewer.lab.example",
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--preload", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*command, "attribution_viewer.wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = _request(port, "GET", "/", host="viewer.lab.example")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.3)
        assert status == 200 and b"_dash-config" in body
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        statuses = {_request(port, "GET", "/_dash-layout", host="viewer.lab.example")[0] for _ in range(6)}
        assert statuses == {200}  # served by both workers
        assert _request(port, "GET", "/", host="localhost")[0] == 400  # not in ATTRVIEW_ALLOWED_HOSTS
        assert (
            _request(
                port, "POST", "/_dash-update-component", host="viewer.lab.example", body=b"0" * FIFTY_MB
            )[0]
            == 413
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_sv8_limit_settings_parse_and_validate() -> None:
    env = {"ATTRVIEW_ALLOWED_HOSTS": "viewer.lab.example, localhost", "ATTRVIEW_MAX_REQUEST_BYTES": "4096"}
    resolved = resolve_settings(None, env)
    assert resolved.allowed_hosts == ("viewer.lab.example", "localhost")
    assert resolved.max_request_bytes == 4096
    with pytest.raises(ValueError, match=r"settings\.max_graph_bytes: expected >= 1024, got 10"):
        Settings(max_graph_bytes=10)
    with pytest.raises(ValueError, match=r"settings\.export_timeout_s: expected > 0 seconds"):
        Settings(export_timeout_s=0)
    with pytest.raises(ValueError, match=r"settings\.allowed_hosts"):
        resolve_settings(None, {"ATTRVIEW_ALLOWED_HOSTS": " , "})


def test_sv9_wsgi_serves_a_folder_and_a_file_with_the_graphs_made_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wsgi.py serves what launch.py serves: a folder's graphs (the picker, ``?graph=``), and
    ONE file with a model together with the graphs made from prompts beside it (nothing else
    of its folder); without a model, the file alone."""
    from werkzeug.test import Client

    tiny = PROJECT_ROOT / "data" / "tiny-addition"

    def wsgi_app(graph: Path) -> Any:
        monkeypatch.setenv("ATTRVIEW_GRAPH_PATH", str(graph))
        monkeypatch.setenv("ATTRVIEW_AUTOINTERP_DIR", "none")
        monkeypatch.setenv("ATTRVIEW_CONVERSION_CACHE_DIR", str(tmp_path / "cache"))
        sys.modules.pop("attribution_viewer.wsgi", None)
        try:
            return importlib.import_module("attribution_viewer.wsgi").app
        finally:
            sys.modules.pop("attribution_viewer.wsgi", None)

    def get(client: Client, path: str) -> tuple[int, str]:
        response = client.get(path, headers={"Host": "localhost"})
        return response.status_code, response.get_data(as_text=True)

    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(tiny / "sum-37-45-tens.npz", folder / "a.npz")
    shutil.copy(tiny / "sum-37-45-tens.npz", folder / "sub" / "b.npz")
    served = Client(wsgi_app(folder))
    status, layout = get(served, "/_dash-layout?graph=sub/b.npz")
    assert status == 200 and '"id":"graph-picker"' in layout and "sub\\u002fb.npz" in layout  # "/" escaped
    assert get(served, "/")[0] == 200 and get(served, "/?graph=sub/b.npz")[0] == 200
    assert get(served, "/?graph=../a.npz")[0] == 404
    assert served.get("/", headers={"Host": "attacker.example"}).status_code == 400

    single = tmp_path / "single"
    single.mkdir()
    graph = single / "g.npz"
    shutil.copy(tiny / "sum-37-45-tens.npz", graph)
    made = single / "new-12-34-20261130-010203.pt"
    shutil.copy(tiny / "sum-37-45-units.pt", made)
    shutil.copy(tiny / "sum-37-45-units.pt", single / "other.pt")  # a graph not made here
    assert not hasattr(wsgi_app(graph), "app_for")  # no model: the file's own Flask app
    manifest = {name: str(tiny / name) for name in ("model", "transcoders", "tokenizer")}
    (single / "attribution-viewer.json").write_text(json.dumps(manifest))
    served = Client(wsgi_app(graph))
    assert get(served, "/")[0] == 200
    status, layout = get(served, f"/_dash-layout?graph={made.name}")
    assert status == 200 and made.name in layout and "g.npz" in layout
    assert get(served, "/?graph=other.pt")[0] == 404
