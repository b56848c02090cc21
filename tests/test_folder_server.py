"""A folder of graphs through the HTTP layer (FolderServer): ?graph= picks the graph, the
callback header routes to it, bad paths get a 404 that says why and read nothing, and at
most ``open_graphs_max`` graphs stay open."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from file_opens import recorded_opens
from werkzeug.test import Client

from attribution_viewer.app.folder import GRAPH_HEADER, FolderServer, build_folder_server
from attribution_viewer.library import GraphIndex
from attribution_viewer.loaders import save_native
from attribution_viewer.search import search_nodes
from attribution_viewer.settings import Settings
from attribution_viewer.testing.synthetic import make_synthetic_graph


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """root/ with a.npz, c.npz, sub/b.npz and link.npz -> outside/secret.npz; outside/passwd."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    for seed, path in enumerate(
        (root / "a.npz", root / "sub" / "b.npz", root / "c.npz", outside / "secret.npz")
    ):
        store = make_synthetic_graph(
            n_layers=4,
            n_tokens=4,
            n_features=30,
            n_edges=120,
            d_transcoder=40,
            seed=seed,
            prompt=f"the prompt {seed}",
        )
        save_native(store, path)
    (outside / "passwd").write_text("root:x:0:0")
    os.symlink(outside / "secret.npz", root / "link.npz")
    return root


def server_for(root: Path, open_max: int = 4) -> FolderServer:
    settings = Settings(graphs_dir=root, open_graphs_max=open_max, conversion_cache_dir=None)
    return build_folder_server(settings, GraphIndex.scan(root))


def layout_of(client: Client, query: str = "", header: str | None = None) -> str:
    headers = {GRAPH_HEADER: header} if header is not None else {}
    response = client.get(f"/_dash-layout{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def picked(layout_text: str) -> str:
    """The graph-picker's value in a layout response."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props, dict) and props.get("id") == "graph-picker":
                found.append(props["value"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(layout_text))
    assert len(found) == 1
    return found[0]


def search(client: Client, graph: str, query: str) -> list[str]:
    """Run the top bar's search callback with the callback header naming ``graph`` (its
    inputs and states as the graph's app declares them; the view's controls left empty)."""
    output = "..search-results.data...search-status.children.."
    deps = client.get("/_dash-dependencies", headers={GRAPH_HEADER: graph}).get_json()
    dep = next(d for d in deps if d["output"] == output)
    values = {"node-search.value": query, "node-labels.data": {}}

    def fill(items: list[dict[str, str]]) -> list[dict[str, object]]:
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    payload = {
        "output": output,
        "outputs": [
            {"id": "search-results", "property": "data"},
            {"id": "search-status", "property": "children"},
        ],
        "inputs": fill(dep["inputs"]),
        "state": fill(dep["state"]),
        "changedPropIds": ["node-search.value"],
    }
    response = client.post("/_dash-update-component", json=payload, headers={GRAPH_HEADER: graph})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]["search-results"]["data"]


def test_fs1_graph_from_query_and_default(folder: Path) -> None:
    server = server_for(folder)
    client = Client(server)
    assert server.default == "a.npz"  # first of the index: top folder, then sub-folders
    assert client.get("/?graph=sub/b.npz").status_code == 200
    assert picked(layout_of(client, "?graph=sub/b.npz")) == "sub/b.npz"
    assert picked(layout_of(client)) == "a.npz"
    assert picked(layout_of(client, "?graph=c.npz&prune=0.5")) == "c.npz"


def test_fs2_callback_header_routes_to_its_graph(folder: Path) -> None:
    """Two tabs on different graphs: each request goes to its own graph's app."""
    server = server_for(folder)
    client = Client(server)
    assert picked(layout_of(client, header="sub/b.npz")) == "sub/b.npz"
    assert picked(layout_of(client, "?graph=c.npz", header="a.npz")) == "a.npz"  # the header wins
    found = {graph: search(client, graph, "L1") for graph in ("a.npz", "sub/b.npz")}
    for graph, keys in found.items():
        store = server.cache.open(graph)
        assert keys == [store.keys[int(i)] for i in search_nodes(store, "L1", {})]
    assert found["a.npz"] != found["sub/b.npz"]
    assert server.app_for("sub/b.npz") is server.app_for("sub/b.npz")
    assert server.app_for("sub/b.npz") is not server.app_for("a.npz")


@pytest.mark.parametrize(
    ("requested", "reason"),
    [
        ("../../etc/passwd", "'..' is not allowed"),
        ("../outside/secret.npz", "'..' is not allowed"),
        ("sub/../a.npz", "'..' is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("link.npz", "no such graph in the library"),  # a link out of the folder is not indexed
        ("nope.npz", "no such graph in the library"),
        ("./a.npz", "normalised relative path"),
        ("", "expected a relative path"),
    ],
)
def test_fs3_bad_graph_is_a_clear_404_and_reads_nothing(folder: Path, requested: str, reason: str) -> None:
    server = server_for(folder)
    client = Client(server)
    layout_of(client)  # the default graph is open
    before = server.cache.open_paths
    with recorded_opens() as opened:
        page = client.get("/", query_string={"graph": requested})
        layout = client.get("/_dash-layout", query_string={"graph": requested})
        update = client.post("/_dash-update-component", headers={GRAPH_HEADER: requested or " "}, json={})
    assert opened == []
    assert page.status_code == layout.status_code == update.status_code == 404
    text = page.get_data(as_text=True)
    assert "Graph not found" in text and reason.replace("'", "&#x27;") in text
    assert "<a href='/?graph=a.npz'>" in text  # a way back
    assert reason in layout.get_data(as_text=True)
    assert "root:x" not in text  # the message names the request, never a file's content
    assert server.cache.open_paths == before


def test_fs4_absolute_path_inside_the_folder_is_refused(folder: Path) -> None:
    server = server_for(folder)
    response = Client(server).get("/", query_string={"graph": str(folder / "a.npz")})
    assert response.status_code == 404
    assert "absolute paths are not allowed" in response.get_data(as_text=True)


def test_fs5_open_graphs_bounded(folder: Path) -> None:
    server = server_for(folder, open_max=2)
    client = Client(server)
    for graph in ("a.npz", "sub/b.npz", "c.npz", "a.npz"):
        assert picked(layout_of(client, f"?graph={graph}")) == graph
    assert server.cache.open_paths == ("c.npz", "a.npz")


def test_fs6_new_file_is_served_after_rescan(folder: Path) -> None:
    server = server_for(folder)
    client = Client(server)
    save_native(
        make_synthetic_graph(n_layers=4, n_tokens=4, n_features=30, n_edges=120, seed=9), folder / "d.npz"
    )
    assert client.get("/?graph=d.npz").status_code == 404  # not indexed yet
    server.cache.index.rescan()  # what opening the picker does
    assert picked(layout_of(client, "?graph=d.npz")) == "d.npz"


def test_fs7_static_files_need_no_graph(folder: Path) -> None:
    server = server_for(folder)
    client = Client(server)
    layout_of(client, "?graph=sub/b.npz")
    with recorded_opens() as opened:
        response = client.get("/_dash-dependencies")
    assert response.status_code == 200
    assert not [p for p in opened if p.endswith(".npz")]
    assert any("graph-picker.options" in d["output"] for d in response.get_json())
