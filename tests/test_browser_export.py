"""Browser tests of the Export menu (headless Chromium via dash_duo): X1-X2.

The browser really downloads the file: dash_duo starts Chromium with its download
directory set to ``dash_duo.download_path``.

The app keeps kaleido's shared Chromium running between exports. dash_duo's threaded
server, when stopped, raises SystemExit in every thread started after it -- kaleido's
threads included -- after which kaleido's exit hook waits forever. The fixture below
closes kaleido's browser before dash_duo stops the server.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kaleido
import pytest
from browser_helpers import assert_no_console_errors, context_of, text_of, wait_for_graph, wait_until
from conftest import EXAMPLE_SETTINGS

from attribution_viewer.app import create_app
from attribution_viewer.export import image
from attribution_viewer.model import visible_token

pytestmark = pytest.mark.browser


@pytest.fixture
def kaleido_closed_first(dash_duo):
    """dash_duo, with kaleido's shared browser closed before dash_duo's teardown."""
    yield dash_duo
    kaleido.stop_sync_server(silence_warnings=True)


def finished_downloads(folder: Path) -> list[Path]:
    """Files fully downloaded into ``folder`` (Chromium first writes hidden and
    ``*.crdownload`` files)."""
    files = [p for p in folder.iterdir() if p.is_file()]
    if any(p.name.startswith(".") or p.suffix == ".crdownload" for p in files):
        return []
    return sorted(files)


def test_x1_export_pdf_downloads_a_pdf_with_the_prompt(kaleido_closed_first) -> None:
    dash_duo = kaleido_closed_first
    if image.find_chromium() is None:
        pytest.skip("no Chromium for kaleido on this machine")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    app = create_app(EXAMPLE_SETTINGS)
    store = context_of(app).store
    downloads = Path(dash_duo.download_path)
    dash_duo.start_server(app)
    wait_for_graph(dash_duo)
    assert finished_downloads(downloads) == []

    dash_duo.find_element("#export-button").click()
    dash_duo.wait_for_element("#export-go", timeout=5)
    pdf = dash_duo.find_element("#export-format input[value='pdf']")
    assert pdf.is_selected()  # the default format
    assert "two-column" in text_of(dash_duo, "#export-preset")  # the default preset
    dash_duo.find_element("#export-go").click()

    wait_until(lambda: finished_downloads(downloads), timeout=60, message="downloaded file")
    (path,) = finished_downloads(downloads)
    assert path.name == f"{context_of(app).graph_id}.pdf"
    wait_until(lambda: path.name in text_of(dash_duo, "#export-status"), message="export status")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True).stdout
    tokens = [visible_token(t) for t in store.prompt_tokens]
    missing = [t for t in tokens if t.strip() and t not in text]
    assert missing == []
    assert_no_console_errors(dash_duo)


def test_x2_node_labels_box_follows_the_labels_toggle(dash_duo) -> None:
    """The menu's "node labels" box is ticked and unticked with the page's labels toggle,
    and the user can still change it in the menu."""
    dash_duo.start_server(create_app(EXAMPLE_SETTINGS))
    wait_for_graph(dash_duo)
    dash_duo.find_element("#export-button").click()
    dash_duo.wait_for_element("#export-go", timeout=5)

    def box():
        return dash_duo.find_element("#export-flags input[value='labels']")

    def toggle():
        return dash_duo.find_element("#label-toggle input")

    assert not box().is_selected() and not toggle().is_selected()
    toggle().click()
    wait_until(lambda: box().is_selected(), message="node labels ticked with the toggle")
    box().click()  # the user's own choice in the menu
    wait_until(lambda: not box().is_selected(), message="node labels unticked by the user")
    assert toggle().is_selected()
    toggle().click()
    wait_until(lambda: not toggle().is_selected(), message="the toggle off")
    toggle().click()
    wait_until(lambda: box().is_selected(), message="node labels ticked again with the toggle")
    # A link with the toggle on opens with the box ticked.
    dash_duo.driver.get(dash_duo.server_url + "/?show_labels=1")
    wait_for_graph(dash_duo)
    wait_until(lambda: toggle().is_selected(), message="the toggle on from the link")
    dash_duo.find_element("#export-button").click()
    wait_until(lambda: box().is_selected(), message="node labels ticked from the link")
    assert_no_console_errors(dash_duo)
