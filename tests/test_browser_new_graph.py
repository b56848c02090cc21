"""Browser test of a new graph from a prompt (issue #13 item 3) with the shipped tiny model: BN1.

A folder served by :class:`FolderServer` on waitress holds one graph of the tiny addition
model and a manifest naming the model, transcoders and tokenizer of ``data/tiny-addition``.
A prompt typed in the "New graph" menu is attributed by the model worker (a real
circuit-tracer run), saved as a new ``.pt`` in the folder, and the page opens it: its
prompt tokens are the typed ones. Without a model the menu is absent
(``test_new_graph.py`` NG7).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import assert_no_console_errors, text_of, wait_for_graph, wait_until
from conftest import serving

from attribution_viewer.app.folder import build_folder_server
from attribution_viewer.library import GraphIndex
from attribution_viewer.server import make_server
from attribution_viewer.settings import Settings

pytestmark = pytest.mark.browser
TINY = Path(__file__).resolve().parent.parent / "data" / "tiny-addition"
JOB_TIMEOUT = 240.0  # a cold model worker, then a cold .pt conversion, on a loaded machine


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "graphs"
    root.mkdir()
    shutil.copy(TINY / "sum-37-45-tens.npz", root / "sum-37-45-tens.npz")
    manifest = {name: str(TINY / name) for name in ("model", "transcoders", "tokenizer")}
    (root / "attribution-viewer.json").write_text(json.dumps(manifest))
    settings = Settings(graphs_dir=root, conversion_cache_dir=None, allowed_hosts=("127.0.0.1", "localhost"))
    with serving(make_server(build_folder_server(settings, GraphIndex.scan(root)), settings, port=0)) as port:
        yield root, f"http://127.0.0.1:{port}/"


def test_bn1_new_graph_from_a_typed_prompt_opens(dash_duo: Any, served: tuple[Path, str]) -> None:
    root, url = served
    dash_duo.driver.get(url)
    wait_for_graph(dash_duo)
    assert "37+45=0" in text_of(dash_duo, "#prompt-tokens").replace("\n", "")
    dash_duo.find_element("#new-graph-menu summary").click()
    dash_duo.find_element("#new-graph-prompt").send_keys("12+34=")
    dash_duo.find_element("#new-graph-run").click()

    def page_graph() -> str:
        return parse_qs(urlparse(dash_duo.driver.current_url).query).get("graph", [""])[0]

    wait_until(
        lambda: page_graph().startswith("new-12-34-"), timeout=JOB_TIMEOUT, message="the new graph's page"
    )
    new = root / page_graph()
    assert new.suffix == ".pt" and new.is_file()
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["attribution-viewer.json", "sum-37-45-tens.npz", new.name]
    )  # no partial file left
    wait_for_graph(dash_duo, timeout=60)
    wait_until(
        lambda: "12+34=" in text_of(dash_duo, "#prompt-tokens").replace("\n", ""),
        timeout=30,
        message="the new graph's prompt tokens",
    )
    assert new.name in dash_duo.driver.title
    assert_no_console_errors(dash_duo)
