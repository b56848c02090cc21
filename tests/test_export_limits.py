"""Bounded exports: size limit before any work, a timeout that kills the render, a cap on
concurrent renders, and output that must be a real file (issue 15)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import plotly.graph_objects as go
import pytest

from attribution_viewer.errors import ExportError
from attribution_viewer.export import isolated
from attribution_viewer.export.exporter import check_size
from attribution_viewer.export.image import find_chromium
from attribution_viewer.export.print_figure import PrintOptions
from tests.conftest import EXAMPLE_DIR, PROJECT_ROOT

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium for kaleido")


def test_el1_size_limit_in_output_pixels() -> None:
    options = PrintOptions.two_column(width=2000, height=1000)
    check_size(options, "pdf", 2.0, 2000)  # vector: CSS px
    check_size(options, "json", 9.0, 100)  # no pixels
    with pytest.raises(ExportError, match="PNG of 4000 x 2000 pixels is larger than the limit of 2000"):
        check_size(options, "png", 2.0, 2000)


def test_el2_cli_refuses_a_huge_png_in_one_line(tmp_path: Path) -> None:
    start = time.perf_counter()
    command = [sys.executable, "-m", "attribution_viewer", "export", str(EXAMPLE_DIR / "graph.npz")]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "x.png"), "--width", "10000"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: PNG of 20000 x 882 pixels is larger than the limit of 4096 on a side "
        "(setting max_export_px, export --max-px)"
    ]
    assert time.perf_counter() - start < 5.0 and not (tmp_path / "x.png").exists()


def test_el3_output_must_be_a_real_file() -> None:
    with pytest.raises(ExportError, match="the renderer returned 3 bytes that are not a PNG file"):
        isolated.check_output(b"\x89PN", "png")
    pdf = b"%PDF-1.7\n" + b"0" * 100
    assert isolated.check_output(pdf, "pdf") == pdf


@needs_chromium
def test_el4_busy_renders_refuse_at_once() -> None:
    held = [isolated._renders.acquire(blocking=False) for _ in range(isolated.MAX_CONCURRENT_RENDERS)]
    try:
        assert all(held)
        start = time.perf_counter()
        with pytest.raises(ExportError, match="2 exports are already running"):
            isolated.render_isolated(go.Figure(), "svg", 200, 200, 1.0, 30.0)
        assert time.perf_counter() - start < 1.0
    finally:
        for _ in held:
            isolated._renders.release()


@needs_chromium
def test_el5_a_render_past_its_timeout_is_stopped_and_the_next_one_works() -> None:
    figure = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    start = time.perf_counter()
    with pytest.raises(ExportError, match=r"rendering took longer than 0\.2 s and was stopped"):
        isolated.render_isolated(figure, "svg", 300, 200, 1.0, 0.2)
    assert time.perf_counter() - start < 5.0
    svg = isolated.render_isolated(figure, "svg", 300, 200, 1.0, 60.0)
    assert svg.lstrip().startswith((b"<svg", b"<?xml"))
