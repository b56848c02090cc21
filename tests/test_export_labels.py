"""Node labels in exports (issue 11): the graph's own labels, the user's and descriptions,
placed as the app places them; the rendered PDF holds them and no two words overlap (XL-*)."""

from __future__ import annotations

import html
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import real_graph

from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls
from attribution_viewer.app.export_menu import export_view
from attribution_viewer.cli import main
from attribution_viewer.export import image
from attribution_viewer.export.compare_figure import print_view_of
from attribution_viewer.export.print_figure import PrintOptions, build_print_figure
from attribution_viewer.export.print_traces import PRINT_LABEL_CHARS
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.labels import first_line, shorten
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.settings import Settings
from attribution_viewer.view import ViewState, default_prune_threshold

needs_render = pytest.mark.skipif(
    image.find_chromium() is None or shutil.which("pdftotext") is None, reason="needs Chromium and poppler"
)
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def node_labels(fig) -> list[str]:
    """The node-label annotations' texts (the ones on a white box)."""
    return [html.unescape(a.text) for a in fig.layout.annotations if a.bgcolor]


def own_labels(store: GraphStore) -> set[str]:
    return {shorten(first_line(str(t)), PRINT_LABEL_CHARS) for t in store.nodes.label if t}


def test_xl1_print_figure_writes_the_graphs_labels_and_the_selected_node() -> None:
    store = open_graph(real_graph("np_schema1__meow-clt.json"))
    layout, view = print_view_of(store, None, False)
    assert view.visible is not None
    unlabelled = [
        int(i)
        for i in np.flatnonzero(view.visible)
        if store.kind_of(int(i)) is NodeKind.FEATURE and not store.nodes.label[i]
    ]
    # the CLI's view: the graph's own labels; none of the user's
    view = type(view)(visible=view.visible, selected=unlabelled[0] if unlabelled else None)
    fig = build_print_figure(store, layout, view, PrintOptions.two_column(show_labels=True))
    texts = node_labels(fig)
    assert len(texts) >= 10
    codes = {t for t in texts if t not in own_labels(store)}
    if unlabelled:  # a selected node without a label gets its code, always
        i = unlabelled[0]
        assert f"L{int(store.nodes.layer[i])}/{int(store.nodes.feature_idx[i])}" in codes
    assert len(codes) <= 1 + len(unlabelled)
    assert not node_labels(build_print_figure(store, layout, view, PrintOptions.two_column()))


def test_xl2_user_labels_win_and_descriptions_fill_in() -> None:
    store = open_graph(real_graph("np_schema1__the-opposite-of.json"))  # no labels of its own
    layout, view = print_view_of(store, None, False)
    assert view.visible is not None
    features = [int(i) for i in np.flatnonzero(view.visible) if store.kind_of(int(i)) is NodeKind.FEATURE]
    first, second = sorted(features, key=lambda i: cumulative_influence(store)[i])[:2]
    both = type(view)(
        visible=view.visible,
        selected=second,  # always labelled
        labels={first: "my own name"},
        descriptions={first: "not this one", second: "antonyms of words\nsecond line"},
    )
    texts = node_labels(build_print_figure(store, layout, both, PrintOptions.two_column(show_labels=True)))
    assert "my own name" in texts and "antonyms of words" in texts
    assert not any("not this one" in t or "second line" in t for t in texts)


@needs_render
@pytest.mark.real
def test_xl3_cli_pdf_holds_the_labels_and_no_words_overlap(tmp_path: Path) -> None:
    path = real_graph("np_schema0__3plus5-plt.json")  # dense: 22.8k edges, crowded layer 0
    out = tmp_path / "labels.pdf"
    assert main(["export", str(path), "--out", str(out), "--preset", "two-column", "--show-labels"]) == 0
    bbox = subprocess.run(["pdftotext", "-bbox", str(out), "-"], check=True, capture_output=True, text=True)
    words = [
        (float(a), float(b), float(c), float(d), html.unescape(w))
        for a, b, c, d, w in WORD.findall(bbox.stdout)
    ]
    store = open_graph(path)
    layout, view = print_view_of(store, None, False)
    expected = node_labels(build_print_figure(store, layout, view, PrintOptions.two_column(show_labels=True)))
    assert len(expected) >= 30
    found = {w[4] for w in words}
    for text in expected:
        assert set(text.split()) <= found, f"label {text!r} not in the PDF text"
    for a, b in itertools.combinations(words, 2):
        apart = a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5
        assert apart, f"words {a} and {b} overlap in the PDF"


@needs_render
@pytest.mark.real
def test_xl4_ui_export_node_labels_writes_the_graphs_own_labels(tmp_path: Path) -> None:
    path = real_graph("np_schema1__meow-clt.json")
    store = open_graph(path)
    ctx = AppContext(settings=Settings(graph_path=path, autointerp_dir=None), store=store)
    view = ViewState(prune_threshold=default_prune_threshold(store))
    controls = ViewControls(prune=view.prune_threshold, labels={})
    result = export_view(
        ctx, view, fmt="pdf", width=672, height=441, font_size=10, title="", flags=["labels"],
        controls=controls, cluster_state=None,
    )  # fmt: skip
    assert result.content is not None, result.message
    out = tmp_path / "ui.pdf"
    out.write_bytes(result.content)
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    written = [t for t in own_labels(store) if t in text]
    assert len(written) >= 5, "the graph's own labels are written"
