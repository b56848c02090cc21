"""Cluster panel: actions, list, cluster graph and callback wiring, without a browser (codes CP*)."""

from __future__ import annotations

import base64
import json

from dash import Dash, dcc, html
from plotly.utils import PlotlyJSONEncoder
from test_clustering_core import two_circuits

from attribution_viewer.app.cluster_actions import ActionInputs, apply_action
from attribution_viewer.app.cluster_graph import cluster_graph_figure
from attribution_viewer.app.cluster_panel import cluster_list_children, layout, register
from attribution_viewer.app.context import AppContext
from attribution_viewer.clustering import ClusterEntry, ClusterState, dump_state
from attribution_viewer.settings import Settings

SETTINGS = Settings(autointerp_dir=None)


def make_ctx() -> AppContext:
    return AppContext(settings=SETTINGS, store=two_circuits())


def inputs(**overrides: object) -> ActionInputs:
    base: dict[str, object] = dict(
        method="auto", n_clusters=None, max_size=None, target=None, merge_with=None, name=None, color=None,
        selected=None, pinned=[], upload=None, upload_name=None,
    )  # fmt: skip
    base.update(overrides)
    return ActionInputs(**base)  # type: ignore[arg-type]


def test_cp1_run_create_add_remove() -> None:
    ctx = make_ctx()
    keys = ctx.store.keys
    run = apply_action(ctx, "cluster-run", ClusterState(), inputs(max_size=12))
    assert run.state is not None and len(run.state.clusters) == 2
    assert run.message == "2 clusters (≤ 12), 0 unclustered"
    created = apply_action(ctx, "cluster-create", ClusterState(), inputs(pinned=[keys[0], keys[1]]))
    assert created.state is not None and created.state.clusters[0].nodes == (keys[0], keys[1])
    added = apply_action(ctx, "cluster-add", created.state, inputs(target="c1", selected=keys[5]))
    assert added.state is not None and added.state.get("c1").nodes == (keys[0], keys[1], keys[5])
    removed = apply_action(ctx, "cluster-remove", added.state, inputs(selected=keys[0]))
    assert removed.state is not None and removed.state.get("c1").nodes == (keys[1], keys[5])


def test_cp2_errors_become_messages() -> None:
    ctx = make_ctx()
    state = ClusterState((ClusterEntry("c1", "a", "", "#112233", (ctx.store.keys[0],)),))
    assert apply_action(ctx, "cluster-create", state, inputs()) == (None, "select or pin nodes first")
    assert apply_action(ctx, "cluster-delete", state, inputs()) == (None, "pick a cluster first")
    assert apply_action(ctx, "cluster-split", state, inputs(target="c1")).message.endswith(
        "fewer than 2 features to split"
    )
    assert apply_action(ctx, "cluster-rename", state, inputs(target="c1", name=" ")).state is None
    assert apply_action(ctx, "cluster-merge", state, inputs(target="c1", merge_with="c1")).state is None
    bad = "data:application/json;base64," + base64.b64encode(b"{nope").decode()
    result = apply_action(ctx, "cluster-upload", state, inputs(upload=bad, upload_name="x.json"))
    assert result.state is None and result.message.startswith("x.json: expected a complete JSON document")


def test_cp3_upload_rename_recolor_merge_delete() -> None:
    ctx = make_ctx()
    keys = ctx.store.keys
    saved = ClusterState(
        (ClusterEntry("c1", "a", "", "#112233", keys[:2]), ClusterEntry("c2", "b", "", "#445566", keys[4:6]))
    )
    text = dump_state(saved)
    upload = "data:application/json;base64," + base64.b64encode(text.encode()).decode()
    loaded = apply_action(
        ctx, "cluster-upload", ClusterState(), inputs(upload=upload, upload_name="/tmp/s.json")
    )
    assert loaded.state == saved and loaded.message == "loaded 2 clusters from s.json"
    renamed = apply_action(ctx, "cluster-rename", saved, inputs(target="c2", name="beta")).state
    assert renamed is not None and renamed.get("c2").name == "beta"
    recolored = apply_action(ctx, "cluster-color", saved, inputs(target="c2", color="#000000")).state
    assert recolored is not None and recolored.get("c2").color == "#000000"
    merged = apply_action(ctx, "cluster-merge", saved, inputs(target="c1", merge_with="c2")).state
    assert merged is not None and merged.ids == ("c1",)
    deleted = apply_action(ctx, "cluster-delete", saved, inputs(target="c1")).state
    assert deleted is not None and deleted.ids == ("c2",)


def test_cp4_list_and_graph() -> None:
    ctx = make_ctx()
    keys = ctx.store.keys
    state = ClusterState(
        (
            ClusterEntry("c1", "a", "d1", "#112233", keys[:4]),
            ClusterEntry("c2", "b", "d2", "#445566", keys[4:8]),
        ),
        ("c2",),
    )
    rows = cluster_list_children(state)
    assert [r.id for r in rows] == [
        {"type": "cluster-item", "id": "c1"},
        {"type": "cluster-item", "id": "c2"},
    ]
    assert rows[1].className == "cluster-item active"
    fig = cluster_graph_figure(ctx, state)
    assert list(fig.data[0].customdata) == ["c1", "c2"]  # type: ignore[attr-defined]
    # every cluster named beside it, the inactive one faded; no arrow: the sub-circuits do not touch
    notes = fig.layout.annotations  # type: ignore[attr-defined]
    assert [a.text for a in notes] == ["a (4)", "b (4)"]
    assert list(fig.data[0].marker.opacity) == [0.45, 1.0]  # type: ignore[attr-defined]
    linked = ClusterState(
        (ClusterEntry("c1", "a", "", "#112233", keys[:2]), ClusterEntry("c2", "b", "", "#445566", keys[2:4]))
    )
    # edges 0->2 (.5), 1->2 (1), 1->3 (.7) cross from c1 to c2: one arrow
    arrows = [a for a in cluster_graph_figure(ctx, linked).layout.annotations if a.showarrow]  # type: ignore[attr-defined]
    assert [(a.ax, a.x) for a in arrows] == [(0.0, 0.0)] and arrows[0].arrowwidth == 3.6


def test_cp5_layout_and_callbacks_register() -> None:
    ctx = make_ctx()
    app = Dash(__name__)
    app.layout = html.Div(
        [
            dcc.Store(id="selected-node"),
            dcc.Store(id="pinned-nodes"),
            layout(SETTINGS, None),
        ]
    )
    register(app, ctx)
    outputs = " ".join(app.callback_map)
    for needed in ("cluster-state.data", "cluster-list.children", "cluster-download.data"):
        assert needed in outputs
    layout_json = json.dumps(app.layout, cls=PlotlyJSONEncoder)
    assert '"storage_type": "session"' in layout_json and '"value": 12' in layout_json


def test_cp6_changing_the_cap_reclusters_in_place() -> None:
    ctx = make_ctx()
    keys = ctx.store.keys
    first = apply_action(ctx, "cluster-run", ClusterState(), inputs(max_size=12)).state
    assert first is not None and [len(c.nodes) for c in first.clusters] == [4, 4]
    mine = apply_action(ctx, "cluster-rename", first, inputs(target="c2", name="mine")).state
    assert mine is not None
    # a new cap (the input's own change fires the action): the edited cluster is kept
    smaller = apply_action(ctx, "cluster-max-size", mine, inputs(max_size=2))
    assert smaller.state is not None
    assert smaller.state.clusters[0] == mine.get("c2") and smaller.state.clusters[0].nodes == keys[4:8]
    assert [c.nodes for c in smaller.state.clusters[1:]] == [keys[1:3]]  # the chain's middle pair
    assert smaller.message == "1 clusters (≤ 2), 2 unclustered; 1 edited cluster(s) kept"
    fewer = apply_action(ctx, "cluster-n", mine, inputs(n_clusters=1, max_size=12)).state
    assert fewer is not None and [c.name for c in fewer.clusters] == ["mine", "'a' L0-3 → 'X'"]
