"""Feature comparison of two graphs (CMP-*): exact shared / only-left / only-right counts on
real graphs, computed here from the raw files; per-row node counts and influence sums;
twins; sorting; the stored ``feature_list_intersection`` against the computed one.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import real_graph

from attribution_viewer.compare import FeatureRow, StoredAgreement, compare_graphs, sort_rows
from attribution_viewer.influence import influence
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.testing.synthetic import make_synthetic_graph

ARABIC_SPARSE = "clt_a_sparse__save_ex0_arabic.pt"
GERMAN_MASK = "clt_b_mask__category_20_de.pt"
MEOW = "np_schema1__meow-clt.json"
SON = "np_schema1__son-clt-hp.json"


def raw_features(path: Path) -> Counter[tuple[int, int]]:
    """(layer, feature_idx) -> number of feature nodes, straight from the file."""
    if path.suffix == ".pt":
        import torch

        rows = torch.load(path, weights_only=True, map_location="cpu")["feature_indices"].tolist()
        return Counter((layer, idx) for _pos, layer, idx in rows)  # rows are (pos, layer, idx)
    nodes = json.loads(path.read_text())["nodes"]
    out: Counter[tuple[int, int]] = Counter()
    for node in nodes:
        if node["feature_type"] == "cross layer transcoder":
            layer, idx, _pos = (int(part) for part in node["node_id"].split("_"))
            a, b = layer, idx  # schema 1: feature is the Cantor pair of (layer, idx)
            assert node["feature"] == (a + b) * (a + b + 1) // 2 + b
            out[(layer, idx)] += 1
    return out


@pytest.mark.real
@pytest.mark.parametrize(
    ("left_name", "right_name", "counts"),
    [(ARABIC_SPARSE, GERMAN_MASK, (12, 279, 646)), (MEOW, SON, (13, 23, 287))],
)
def test_cmp1_real_counts_match_raw_files(
    left_name: str, right_name: str, counts: tuple[int, int, int]
) -> None:
    left_path, right_path = real_graph(left_name), real_graph(right_name)
    raw_left, raw_right = raw_features(left_path), raw_features(right_path)
    expected = (
        len(raw_left.keys() & raw_right.keys()),
        len(raw_left.keys() - raw_right.keys()),
        len(raw_right.keys() - raw_left.keys()),
    )
    assert expected == counts  # the numbers the README quotes
    comparison = compare_graphs(open_graph(left_path), open_graph(right_path))
    assert tuple(comparison.counts) == counts
    by_id = {(r.layer, r.feature_idx): r for r in comparison.rows}
    assert by_id.keys() == raw_left.keys() | raw_right.keys()
    for fid, row in by_id.items():
        assert (row.left_nodes, row.right_nodes) == (raw_left.get(fid, 0), raw_right.get(fid, 0))
        assert row.status == (
            "shared" if row.left_nodes and row.right_nodes else "left" if row.left_nodes else "right"
        )


def test_cmp2_rows_sum_influence_over_positions() -> None:
    left = make_synthetic_graph(n_tokens=6, n_features=120, n_edges=900, d_transcoder=40, seed=1)
    right = make_synthetic_graph(n_tokens=6, n_features=120, n_edges=900, d_transcoder=40, seed=2)
    comparison = compare_graphs(left, right)

    def per_feature(store: GraphStore) -> tuple[dict[tuple[int, int], float], Counter[tuple[int, int]]]:
        sums: dict[tuple[int, int], float] = defaultdict(float)
        counts: Counter[tuple[int, int]] = Counter()
        for i in range(store.n_nodes):
            if store.kind_of(i) is NodeKind.FEATURE:
                fid = (int(store.nodes.layer[i]), int(store.nodes.feature_idx[i]))
                sums[fid] += float(influence(store)[i])
                counts[fid] += 1
        return sums, counts

    (lsum, lcount), (rsum, rcount) = per_feature(left), per_feature(right)
    assert max(lcount.values()) > 1  # some feature sits at several positions
    assert comparison.counts.shared == len(lcount.keys() & rcount.keys()) > 0
    for row in comparison.rows:
        fid = (row.layer, row.feature_idx)
        assert row.left_nodes == lcount.get(fid, 0) and row.right_nodes == rcount.get(fid, 0)
        assert row.left_influence == pytest.approx(lsum.get(fid, 0.0), rel=1e-12, abs=1e-15)
        assert row.right_influence == pytest.approx(rsum.get(fid, 0.0), rel=1e-12, abs=1e-15)

    shared_left = comparison.shared_nodes("left")
    assert shared_left.tolist() == sorted(
        i
        for i in range(left.n_nodes)
        if left.kind_of(i) is NodeKind.FEATURE
        and (int(left.nodes.layer[i]), int(left.nodes.feature_idx[i])) in rcount
    )
    node = int(shared_left[0])
    twins = comparison.twins("left", left, node)
    fid = (int(left.nodes.layer[node]), int(left.nodes.feature_idx[node]))
    assert twins.size == rcount[fid]
    assert all((int(right.nodes.layer[t]), int(right.nodes.feature_idx[t])) == fid for t in twins)
    only_left = next(r for r in comparison.rows if r.status == "left")
    lone = next(
        i
        for i in range(left.n_nodes)
        if (int(left.nodes.layer[i]), int(left.nodes.feature_idx[i]))
        == (only_left.layer, only_left.feature_idx)
    )
    assert comparison.twins("left", left, lone).size == 0
    assert comparison.twins("left", left, left.logit_indices[0]).size == 0  # not a feature


def row(layer: int, idx: int, status: str, li: float, ri: float) -> FeatureRow:
    return FeatureRow(layer, idx, status, int(li != 0), int(ri != 0), li, ri, False, False)  # type: ignore[arg-type]


def test_cmp3_sort_rows() -> None:
    rows = [
        row(2, 5, "shared", 0.3, 0.1),
        row(0, 9, "left", 0.3, 0.0),
        row(1, 1, "right", 0.0, 0.5),
        row(0, 2, "shared", 0.1, 0.4),
    ]

    def ids(rs: list[FeatureRow]) -> list[tuple[int, int]]:
        return [(r.layer, r.feature_idx) for r in rs]

    assert ids(sort_rows(rows, "layer")) == [(0, 2), (0, 9), (1, 1), (2, 5)]
    # ties (0.3) stay in (layer, index) order even when descending
    assert ids(sort_rows(rows, "left_influence", descending=True)) == [(0, 9), (2, 5), (0, 2), (1, 1)]
    assert ids(sort_rows(rows, "influence", descending=True)) == [(1, 1), (0, 2), (0, 9), (2, 5)]
    assert ids(sort_rows(rows, "difference")) == [(1, 1), (0, 2), (2, 5), (0, 9)]
    assert ids(sort_rows(rows, "status")) == [(0, 2), (2, 5), (0, 9), (1, 1)]
    assert ids(sort_rows(rows, "feature", status="shared")) == [(0, 2), (2, 5)]
    with pytest.raises(ValueError, match="sort key"):
        sort_rows(rows, "nope")


def test_cmp4_stored_intersection_synthetic() -> None:
    left = make_synthetic_graph(n_tokens=6, n_features=120, n_edges=900, d_transcoder=40, seed=1)
    right = make_synthetic_graph(n_tokens=6, n_features=120, n_edges=900, d_transcoder=40, seed=2)
    plain = compare_graphs(left, right)
    assert not plain.has_stored("left") and plain.stored_agreement("left") is None
    shared = [r for r in plain.rows if r.status == "shared"]
    only_left = [r for r in plain.rows if r.status == "left"]
    flagged = {(r.layer, r.feature_idx) for r in shared[:-2]} | {
        (only_left[0].layer, only_left[0].feature_idx)
    }
    n_features = left.count(NodeKind.FEATURE)
    mask = np.zeros(left.n_nodes, dtype=bool)
    mask[:n_features] = [
        (int(left.nodes.layer[i]), int(left.nodes.feature_idx[i])) in flagged for i in range(n_features)
    ]
    comparison = compare_graphs(dataclasses.replace(left, highlighted=mask), right)
    assert comparison.has_stored("left") and not comparison.has_stored("right")
    assert comparison.stored_agreement("left") == StoredAgreement(
        stored=len(shared) - 2 + 1, both=len(shared) - 2, stored_only=1, computed_only=2
    )
    assert {(r.layer, r.feature_idx) for r in comparison.rows if r.left_stored} == flagged
    assert not any(r.right_stored for r in comparison.rows)


@pytest.mark.real
def test_cmp5_stored_intersection_of_a_legacy_file(tmp_path: Path) -> None:
    """A B-mask file given a feature_list_intersection (feature rows) compared with the real
    A-sparse graph: the stored list against the computed one, from raw rows."""
    import torch

    raw = torch.load(real_graph(GERMAN_MASK), weights_only=True, map_location="cpu")
    other = raw_features(real_graph(ARABIC_SPARSE))
    rows = raw["feature_indices"].tolist()
    shared_rows = [i for i, (_p, layer, idx) in enumerate(rows) if (layer, idx) in other]
    lone_rows = [i for i, (_p, layer, idx) in enumerate(rows) if (layer, idx) not in other][:3]
    stored_rows = shared_rows[: len(shared_rows) // 2] + lone_rows
    raw["feature_list_intersection"] = stored_rows
    path = tmp_path / "de_with_intersection.pt"
    torch.save(raw, path)

    stored = {(rows[i][1], rows[i][2]) for i in stored_rows}
    computed = {(rows[i][1], rows[i][2]) for i in shared_rows}
    comparison = compare_graphs(open_graph(path), open_graph(real_graph(ARABIC_SPARSE)))
    assert comparison.stored_agreement("left") == StoredAgreement(
        len(stored), len(stored & computed), len(stored - computed), len(computed - stored)
    )
    assert comparison.stored_agreement("left").stored_only == 3  # type: ignore[union-attr]
