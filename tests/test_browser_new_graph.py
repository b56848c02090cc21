"""Browser tests of a new graph from a prompt (issue #13 item 3) with the shipped tiny model: BN1-BN2.

A folder served by :class:`FolderServer` on waitress holds one graph of the tiny addition
model and a manifest naming the model, transcoders and tokenizer of ``data/tiny-addition``.
A prompt typed in the "New graph" menu is attributed by the model worker (a real
circuit-tracer run), saved as a new ``.pt`` in the folder, and the page opens it: its
prompt tokens are the typed ones. BN2: the same when ONE graph file is served (the server
launch.py builds for it: the file and the graphs made beside it); the picker then leads
back to the file. Without a model the menu is absent (``test_new_graph.py`` NG7).
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
from selenium.webdriver.common.by import By

from attribution_viewer.app.folder import build_folder_server
from attribution_viewer.library import GraphIndex
from attribution_viewer.live.jobs import model_spec
from attribution_viewer.live.new_graph import new_graphs_library
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


@pytest.fixture
def served_file(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """ONE graph file served as launch.py serves it (with its manifest's model)."""
    root = tmp_path / "graphs"
    root.mkdir()
    shutil.copy(TINY / "sum-37-45-tens.npz", root / "sum-37-45-tens.npz")
    shutil.copy(TINY / "sum-37-45-units.pt", root / "other.pt")  # in the folder, not served
    manifest = {name: str(TINY / name) for name in ("model", "transcoders", "tokenizer")}
    (root / "attribution-viewer.json").write_text(json.dumps(manifest))
    one = Settings(
        graph_path=root / "sum-37-45-tens.npz",
        conversion_cache_dir=None,
        allowed_hosts=("127.0.0.1", "localhost"),
    )
    found = new_graphs_library(one, model_spec(one, one.graph_path) is not None)
    assert found is not None
    settings, index = found
    with serving(make_server(build_folder_server(settings, index), settings, port=0)) as port:
        yield root, f"http://127.0.0.1:{port}/"


def test_bn1_new_graph_from_a_typed_prompt_opens(dash_duo: Any, served: tuple[Path, str]) -> None:
    create_and_open(dash_duo, *served, ["attribution-viewer.json", "sum-37-45-tens.npz"])


def test_bn2_serving_one_file_the_new_graph_opens_too(dash_duo: Any, served_file: tuple[Path, str]) -> None:
    root, url = served_file
    new = create_and_open(dash_duo, root, url, ["attribution-viewer.json", "other.pt", "sum-37-45-tens.npz"])
    # The picker lists the served file and the new graph only, and leads back to the file.
    dash_duo.find_element("#graph-picker").click()
    dash_duo.wait_for_element(".dash-dropdown-options")
    options = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
    names = [o.text for o in options if "·" in o.text]  # graphs (not the folder heading)
    assert len(names) == 2 and any(new.name in n for n in names), names  # not other.pt
    next(o for o in options if "sum-37-45-tens.npz" in o.text).click()
    wait_until(
        lambda: "37+45=0" in text_of(dash_duo, "#prompt-tokens").replace("\n", ""),
        timeout=60,
        message="the served file's page again",
    )


def create_and_open(dash_duo: Any, root: Path, url: str, before: list[str]) -> Path:
    """Type a prompt in the New graph menu, create it, wait until its page shows it; the
    new file (the folder holds ``before`` and it, no partial file)."""
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
    assert sorted(p.name for p in root.iterdir()) == sorted([*before, new.name])  # no partial file left
    wait_for_graph(dash_duo, timeout=60)
    wait_until(
        lambda: "12+34=" in text_of(dash_duo, "#prompt-tokens").replace("\n", ""),
        timeout=30,
        message="the new graph's prompt tokens",
    )
    assert new.name in dash_duo.driver.title
    assert_no_console_errors(dash_duo)
    return new
