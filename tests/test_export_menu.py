"""The app's Export menu: the pure export function and its callback wiring (EC-*)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dash import Dash, no_update
from test_layout import tiny_store

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.app.export_menu import (
    export_view,
    layout,
    preset_values,
    register,
    safe_filename,
)
from attribution_viewer.cli import main
from attribution_viewer.export import image
from attribution_viewer.export.print_traces import FAINT_EDGE
from attribution_viewer.loaders.native import save_native
from attribution_viewer.settings import Settings
from attribution_viewer.view import ViewState

CLUSTERS = {
    "clusters": [
        {"id": "c1", "name": "grp", "color": "#ff0000", "nodes": ["F:0:0:5", "F:0:0:7"]},
        {"id": "c2", "name": "off", "color": "#00ff00", "nodes": ["F:1:2:3"]},
    ],
    "active": ["c1"],
}


def app_context() -> AppContext:
    return AppContext(settings=Settings(autointerp_dir=None), store=tiny_store())


def run_export(fmt: str, *, width: float = 672, flags: list[str] | None = None, clusters=CLUSTERS):
    controls = ViewControls(1.0, 1.0, ["errors"], 10.0, "F:1:2:3", ["F:1:2:3"], {"F:0:0:5": "my label"})
    return export_view(
        app_context(), ViewState(), fmt=fmt, width=width, height=460, font_size=10, title="T", flags=flags,
        controls=controls, cluster_state=clusters,
    )  # fmt: skip


def test_ec1_presets_and_filenames() -> None:
    assert preset_values("one-column") == (336, 345, 9.0)
    assert preset_values("two-column") == (672, 441, 10.0)
    assert preset_values("custom") == (no_update, no_update, no_update)
    assert safe_filename("my graph/v2") == "my-graph-v2"
    assert safe_filename("...") == "graph"


def test_ec2_json_carries_labels_pins_and_active_clusters() -> None:
    result = run_export("json")
    assert result.filename == "graph.json" and result.mime == "application/json"
    assert result.content is not None
    doc = json.loads(result.content)
    assert doc["qParams"]["pinnedIds"] == ["1_3_2"]
    assert doc["qParams"]["supernodes"] == [["grp", "0_5_0", "0_7_0"]]  # only the active cluster
    assert doc["nodes"][0]["clerp"] == "my label"


def test_ec3_bad_input_gives_a_message_not_a_crash() -> None:
    too_small = run_export("pdf", width=10)
    assert too_small.content is None and "at least 100" in too_small.message
    no_clusters = run_export("pdf", flags=["clusters"], clusters=None)
    assert no_clusters.content is None and "at least one active cluster" in no_clusters.message
    unknown = run_export("gif")
    assert unknown.content is None and "unknown format" in unknown.message


def test_ec4_missing_chromium_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image, "find_chromium", lambda: None)
    result = run_export("svg")
    assert result.content is None and "apt-get install chromium" in result.message
    menu = str(layout())
    assert "apt-get install chromium" in menu and "camera button" in menu


@pytest.mark.skipif(image.find_chromium() is None, reason="no Chromium for kaleido")
def test_ec5_pdf_and_cluster_view() -> None:
    graph = run_export("pdf", flags=["labels"])
    assert graph.filename == "graph.pdf" and graph.content is not None and graph.content.startswith(b"%PDF")
    clusters = run_export("svg", flags=["clusters"])
    assert clusters.filename == "graph-clusters.svg" and clusters.content is not None
    assert b"grp (2)" in clusters.content


def test_ec6_callbacks_registered() -> None:
    app = Dash(__name__)
    register(app, app_context())
    outputs = " ".join(app.callback_map)
    assert "export-download.data" in outputs and "export-width.value" in outputs


def test_ec7_node_labels_box_follows_the_labels_toggle_in_the_browser() -> None:
    app = Dash(__name__)
    register(app, app_context())
    wiring = next(c for c in app._callback_list if c["output"] == "export-flags.value")
    assert [i["id"] for i in wiring["inputs"]] == ["label-toggle"]
    assert wiring["clientside_function"] is not None  # no request (browser test X2)
    assert not wiring["prevent_initial_call"]  # a link with show_labels=1 ticks the box


FAINT_TRACE = re.compile(rf'class="trace scatter[^"]*" style="[^"]*opacity: {FAINT_EDGE[1]};')


@pytest.mark.skipif(image.find_chromium() is None, reason="no Chromium for kaleido")
def test_ec8_export_draws_the_pages_strong_and_faint_edges(tmp_path: Path) -> None:
    # One strong input per node: 3->2, 2->9, 6->3 strong; 1->2 and the error's 5->9
    # (both negative: one trace) faint, or not drawn when "others faint" is off.
    def faint_traces(faded: list[str]) -> int:
        controls = ViewControls(1.0, 1.0, ["errors"], 10.0, None, [], {}, 1, None, faded)
        result = export_view(
            app_context(), ViewState(), fmt="svg", width=672, height=460, font_size=10, title="",
            flags=[], controls=controls, cluster_state=None,
        )  # fmt: skip
        assert result.content is not None, result.message
        return len(FAINT_TRACE.findall(result.content.decode()))

    assert faint_traces(["faded"]) == 1
    assert faint_traces([]) == 0
    # The command line: the same choice by flags.
    graph = save_native(tiny_store(), tmp_path / "tiny.npz")
    out = tmp_path / "cli.svg"
    base = ["export", str(graph), "--out", str(out), "--show-errors", "--node-threshold", "1"]
    assert main([*base, "--edges-per-target", "1"]) == 0
    assert len(FAINT_TRACE.findall(out.read_text())) == 1
    assert main([*base, "--edges-per-target", "1", "--no-faded-edges"]) == 0
    assert len(FAINT_TRACE.findall(out.read_text())) == 0
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--edges-per-target", "-1"])
    assert exit_info.value.code == 2
