"""Rendering exports with kaleido + Chromium: PDF / SVG / PNG of the example and a real
graph, checked with poppler (``pdftotext``, ``pdfimages``), and the CLI (ER-*).

Skipped when no Chromium is installed (except the test of the error message that case
gives) or when poppler-utils is missing.
"""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import EXAMPLE_DIR, real_graph

from attribution_viewer.cli import main
from attribution_viewer.errors import MissingDependencyError
from attribution_viewer.export import image
from attribution_viewer.export.exporter import ExportFormat, export_bytes
from attribution_viewer.export.print_figure import PrintOptions, PrintView, short_token
from attribution_viewer.figures import ClusterHighlight
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.scene import build_scene
from attribution_viewer.testing.synthetic import make_synthetic_graph
from attribution_viewer.view import ViewState, default_prune_threshold

needs_chromium = pytest.mark.skipif(image.find_chromium() is None, reason="no Chromium for kaleido")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def example_store() -> GraphStore:
    path = EXAMPLE_DIR / "graph.npz"
    return open_graph(path) if path.exists() else make_synthetic_graph()


def render(
    store: GraphStore, fmt: ExportFormat, options: PrintOptions, *, cluster_view: bool = False
) -> bytes:
    """Export the app's default view of ``store``."""
    scene = build_scene(store, ViewState(prune_threshold=default_prune_threshold(store)), None)
    features = np.flatnonzero(scene.visible & (store.nodes.kind == NodeKind.FEATURE))
    clusters = (
        ClusterHighlight("early group", "#e6194b", tuple(features[:4].tolist())),
        ClusterHighlight("late group", "#4363d8", tuple(features[-4:].tolist())),
    )
    view = PrintView(visible=scene.visible, clusters=clusters, selected=int(features[-1]))
    return export_bytes(store, scene.layout, view, options, fmt, cluster_view=cluster_view)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "figure.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def assert_tokens_and_layers(text: str, store: GraphStore) -> None:
    words = set(text.split())
    for token in store.prompt_tokens:
        shown = html.unescape(short_token(token))  # the figure escapes markup; the PDF shows the text
        assert shown in words, f"token {token!r} not found in the PDF text"
    assert {"Emb", "Logit"} <= words
    assert any(re.fullmatch(r"L\d+", w) for w in words), "no layer label in the PDF text"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_chromium
@needs_poppler
def test_er1_example_pdf_is_vector_with_text(tmp_path: Path) -> None:
    store = example_store()
    pdf = render(store, "pdf", PrintOptions.two_column(title="Example graph"))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert_tokens_and_layers(text, store)
    assert "Example graph" in text and "early group" in text and "Positive edge" in text
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "figure.pdf")], check=True, capture_output=True, text=True
    ).stdout
    assert len(images.strip().splitlines()) == 2  # header lines only: no raster image inside


@needs_chromium
def test_er2_example_svg_and_png_sizes() -> None:
    store = example_store()
    options = PrintOptions.one_column()
    svg = render(store, "svg", options).decode()
    assert svg.startswith("<svg") and f'width="{options.width}"' in svg
    assert "Veloria" in svg or "·" in svg
    png = render(store, "png", PrintOptions(width=500, height=400))
    assert png_size(png) == (500, 400)


@needs_chromium
@needs_poppler
@pytest.mark.real
def test_er3_real_graph_pdf_via_cli(tmp_path: Path) -> None:
    path = real_graph("np_schema1__the-opposite-of.json")
    out = tmp_path / "opposite.pdf"
    assert (
        main(["export", str(path), "--out", str(out), "--preset", "one-column", "--title", "opposite"]) == 0
    )
    assert_tokens_and_layers(pdf_text(out.read_bytes(), tmp_path), open_graph(path))
    png = tmp_path / "opposite.png"
    assert (
        main(["export", str(path), "--out", str(png), "--width", "640", "--height", "480", "--scale", "1.5"])
        == 0
    )
    assert png_size(png.read_bytes()) == (960, 720)


@needs_chromium
@needs_poppler
@pytest.mark.real
def test_er4_real_graph_cluster_view(tmp_path: Path) -> None:
    store = open_graph(real_graph("np_schema1__son-clt-hp.json"))
    text = pdf_text(render(store, "pdf", PrintOptions.two_column(), cluster_view=True), tmp_path)
    assert "early group (4)" in text and "late group (4)" in text
    assert "Positive attribution" in text


def test_er5_missing_chromium_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "find_chromium", lambda: None)
    with pytest.raises(MissingDependencyError, match="apt-get install chromium"):
        image.render_figure(go.Figure(), "pdf", 200, 200)


def test_er6_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = EXAMPLE_DIR / "graph.npz"
    with pytest.raises(SystemExit) as exc:
        main(["export", str(graph), "--out", str(tmp_path / "x.gif")])
    assert exc.value.code == 2
    assert "--format" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", str(graph), "--out", str(tmp_path / "x.pdf"), "--node-threshold", "2"])
    assert main(["export", str(tmp_path / "missing.json"), "--out", str(tmp_path / "x.json")]) == 2


def test_er7_cli_json(tmp_path: Path) -> None:
    graph = EXAMPLE_DIR / "graph.npz"
    if not graph.exists():
        pytest.skip("example graph not generated")
    out = tmp_path / "graph.json"
    assert main(["export", str(graph), "--out", str(out)]) == 0
    assert open_graph(out).keys == open_graph(graph).keys
