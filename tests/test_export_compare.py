"""Comparison print figure and ``export --compare`` (EC-*): both graphs on one page, the
shared features marked in each half, one legend; the CLI writes a figure naming both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import real_graph

from attribution_viewer.cli import main
from attribution_viewer.compare import compare_graphs
from attribution_viewer.export import image
from attribution_viewer.export.compare_figure import SHARED_NAME, ComparePanel, build_compare_print_figure
from attribution_viewer.export.print_figure import PrintOptions, PrintView
from attribution_viewer.loaders import open_graph, save_native
from attribution_viewer.model import GraphStore
from attribution_viewer.scene import build_scene
from attribution_viewer.testing.synthetic import make_synthetic_graph
from attribution_viewer.view import ViewState, default_prune_threshold

needs_chromium = pytest.mark.skipif(image.find_chromium() is None, reason="no Chromium for kaleido")


def panel(store: GraphStore, title: str) -> ComparePanel:
    scene = build_scene(store, ViewState(prune_threshold=default_prune_threshold(store)), None)
    return ComparePanel(store, scene.layout, PrintView(visible=scene.visible), title)


def synthetic_pair() -> tuple[GraphStore, GraphStore]:
    return (
        make_synthetic_graph(n_tokens=6, n_features=120, n_edges=900, d_transcoder=40, seed=1),
        make_synthetic_graph(n_tokens=6, n_features=120, n_edges=900, d_transcoder=40, seed=2),
    )


def test_ec1_two_halves_shared_marked_in_both() -> None:
    left, right = synthetic_pair()
    comparison = compare_graphs(left, right)
    lp, rp = panel(left, "left graph"), panel(right, "right graph")
    fig = build_compare_print_figure(lp, rp, comparison, PrintOptions.two_column())

    data: list[Any] = list(fig.data)
    shared = [t for t in data if t.name == SHARED_NAME]
    assert [(t.xaxis, t.yaxis) for t in shared] == [("x", "y"), ("x2", "y2")]
    for trace, p, side in zip(shared, (lp, rp), ("left", "right"), strict=True):
        nodes = comparison.shared_nodes(side)
        assert p.view.visible is not None
        assert len(trace.x) == np.count_nonzero(p.view.visible[nodes]) > 0
    assert {t.xaxis for t in data} == {"x", "x2"}
    # one legend entry per name
    names = [t.name for t in data if t.name and t.showlegend is not False]
    assert len(names) == len(set(names)) and SHARED_NAME in names
    # the halves sit side by side inside the page
    x1, x2 = fig.layout.xaxis.domain, fig.layout.xaxis2.domain
    assert 0 <= x1[0] < x1[1] <= 0.5 <= x2[0] < x2[1] <= 1
    assert fig.layout.width == PrintOptions.two_column().width
    titles = [a.text for a in fig.layout.annotations if a.xref == "paper"]
    assert titles == ["left graph", "right graph"]
    assert all(s.xref in ("x", "x2") and s.yref in ("y domain", "y2 domain") for s in fig.layout.shapes)
    assert {a.xref for a in fig.layout.annotations} == {"x", "x2", "paper"}


def test_ec2_too_narrow() -> None:
    left, right = synthetic_pair()
    with pytest.raises(ValueError, match="at least 200 px"):
        build_compare_print_figure(
            panel(left, ""), panel(right, ""), compare_graphs(left, right), PrintOptions(width=150)
        )


def test_ec3_cli_refuses_json_and_clusters(tmp_path: Path) -> None:
    left, right = synthetic_pair()
    save_native(left, tmp_path / "a.npz")
    save_native(right, tmp_path / "b.npz")
    for extra in (["--out", str(tmp_path / "x.json")], ["--out", str(tmp_path / "x.svg"), "--clusters"]):
        with pytest.raises(SystemExit) as info:
            main(["export", str(tmp_path / "a.npz"), "--compare", str(tmp_path / "b.npz"), *extra])
        assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "a.npz"), "--titles", "A", "B", "--out", str(tmp_path / "x.svg")])


@needs_chromium
@pytest.mark.real
def test_ec4_cli_compare_svg_real(tmp_path: Path) -> None:
    left, right = real_graph("np_schema1__meow-clt.json"), real_graph("np_schema1__son-clt-hp.json")
    out = tmp_path / "cmp.svg"
    assert (
        main(["export", str(left), "--compare", str(right), "--out", str(out), "--titles", "meow", "son"])
        == 0
    )
    svg = out.read_text()
    assert ">meow<" in svg and ">son<" in svg and SHARED_NAME in svg
    comparison = compare_graphs(open_graph(left), open_graph(right))
    assert comparison.counts.shared == 13
    # two plot areas: two x axes' worth of prompt tokens (meow's "bark" and son's "daughter")
    assert re.search(r">\W?bark<", svg) and re.search(r">\W?daughter<", svg)


@needs_chromium
def test_ec5_cli_compare_names_pt_tokens_from_the_manifest(tmp_path: Path) -> None:
    """A .pt half shows its prompt's characters (the manifest's tokenizer), not '#<id>'."""
    tiny = Path(__file__).resolve().parent.parent / "data" / "tiny-addition"
    out = tmp_path / "cmp.svg"
    code = main(
        [
            "export",
            str(tiny / "sum-37-45-tens.npz"),
            "--compare",
            str(tiny / "sum-26-53-tens.pt"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    texts = re.findall(r">([^<>]+)</tspan>|>([^<>]+)</text>", out.read_text())
    shown = {a or b for a, b in texts}
    assert not any(t.startswith("#") for t in shown)
    assert {"2", "6", "5", "3"} <= shown
