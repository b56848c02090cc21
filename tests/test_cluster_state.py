"""Browser cluster state: operations, validation, files and imports (codes CS*)."""

from __future__ import annotations

import json

import pytest
from conftest import real_graph
from test_clustering_core import two_circuits

from attribution_viewer.clustering import (
    ClusterEntry,
    ClusterState,
    active_node_colors,
    add_nodes,
    cluster_features,
    create_cluster,
    delete_cluster,
    dump_state,
    import_supernodes,
    load_cluster_file,
    manual_nodes,
    merge_clusters,
    recluster,
    recolor_cluster,
    remove_nodes,
    rename_cluster,
    split_cluster,
    state_from_result,
    toggle_active,
    validate_state,
)
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import open_graph

A = ClusterEntry("c1", "alpha", "first", "#112233", ("F:0:0:1", "F:1:0:2"))
B = ClusterEntry("c2", "beta", "", "#445566", ("F:0:6:5",))
BASE = ClusterState((A, B), ("c2",))


def test_cs1_json_form() -> None:
    assert BASE.to_json() == {
        "clusters": [
            {
                "id": "c1",
                "name": "alpha",
                "description": "first",
                "color": "#112233",
                "nodes": ["F:0:0:1", "F:1:0:2"],
            },
            {"id": "c2", "name": "beta", "description": "", "color": "#445566", "nodes": ["F:0:6:5"]},
        ],
        "active": ["c2"],
    }


def test_cs2_from_result() -> None:
    store = two_circuits()
    result = cluster_features(store, max_size=12)
    state = state_from_result(result, store.keys)
    assert state.ids == ("c1", "c2") and state.active == ()
    assert [c.nodes for c in state.clusters] == [
        tuple(store.keys[i] for i in c.members) for c in result.clusters
    ]
    assert [c.name for c in state.clusters] == [c.name for c in result.clusters]


def test_cs3_create_moves_nodes_and_activates() -> None:
    state = create_cluster(BASE, ["F:0:6:5", "F:2:1:3", "F:2:1:3"])
    assert state.ids == ("c1", "c3")  # beta lost its only node and disappeared
    new = state.get("c3")
    assert new.nodes == ("F:0:6:5", "F:2:1:3") and new.name == "Cluster 3"
    assert new.color not in {"#112233"} and state.active == ("c3",)
    assert BASE.ids == ("c1", "c2")  # input untouched
    with pytest.raises(ValueError):
        create_cluster(BASE, [])
    assert create_cluster(BASE, ["x"], name="alpha").get("c3").name == "alpha #2"


def test_cs4_add_and_remove() -> None:
    state = add_nodes(BASE, "c2", ["F:1:0:2", "F:9:9:9"])
    assert state.get("c1").nodes == ("F:0:0:1",)
    assert state.get("c2").nodes == ("F:0:6:5", "F:1:0:2", "F:9:9:9")
    state = remove_nodes(state, "c2", ["F:0:6:5"])
    assert state.get("c2").nodes == ("F:1:0:2", "F:9:9:9")
    emptied = remove_nodes(BASE, "c2", ["F:0:6:5"])
    assert emptied.ids == ("c1",) and emptied.active == ()
    with pytest.raises(ValueError, match="unknown cluster id"):
        add_nodes(BASE, "nope", ["x"])


def test_cs5_merge() -> None:
    merged = merge_clusters(BASE, "c1", "c2")
    assert merged.ids == ("c1",)
    c = merged.get("c1")
    assert (c.name, c.description, c.color) == ("alpha + beta", "first", "#112233")
    assert c.nodes == ("F:0:0:1", "F:1:0:2", "F:0:6:5")
    assert merged.active == ("c1",)  # beta was active
    with pytest.raises(ValueError):
        merge_clusters(BASE, "c1", "c1")


def test_cs6_split_with_the_clustering_similarity() -> None:
    store = two_circuits()
    keys = store.keys
    state = ClusterState((ClusterEntry("c1", "all", "", "#112233", tuple(keys[:8])),), ("c1",))
    split = split_cluster(state, "c1", store, method="connectivity")
    assert split.ids == ("c1", "c2") and split.active == ("c1", "c2")
    parts = {frozenset(c.nodes) for c in split.clusters}
    assert parts == {frozenset(keys[:4]), frozenset(keys[4:8])}
    assert split.get("c1").color == "#112233" and split.get("c2").color != "#112233"
    assert split.get("c1").name != split.get("c2").name
    with pytest.raises(ValueError, match="fewer than 2"):
        split_cluster(ClusterState((B,)), "c2", store)


def test_cs7_rename_recolor_delete_toggle() -> None:
    assert rename_cluster(BASE, "c2", "  alpha ").get("c2").name == "alpha #2"
    assert rename_cluster(BASE, "c1", "alpha").get("c1").name == "alpha"
    with pytest.raises(ValueError):
        rename_cluster(BASE, "c1", " ")
    assert recolor_cluster(BASE, "c1", "#ABCDEF").get("c1").color == "#abcdef"
    with pytest.raises(ValueError):
        recolor_cluster(BASE, "c1", "red")
    gone = delete_cluster(BASE, "c2")
    assert gone.ids == ("c1",) and gone.active == ()
    assert toggle_active(BASE, "c1").active == ("c2", "c1")
    assert toggle_active(BASE, "c2").active == ()
    assert active_node_colors(BASE) == {"F:0:6:5": "#445566"}


def test_cs8_validate_repairs_with_warnings() -> None:
    raw = {
        "clusters": [
            {"id": "c1", "name": "a", "color": "#112233", "nodes": ["F:0:0:1", "bogus"]},
            {"id": "c1", "name": "b", "color": "red", "nodes": ["F:0:0:1", "F:0:6:5"]},
            {"id": "c9", "name": "c", "nodes": ["bogus"]},
            "junk",
        ],
        "active": ["c9", "c1"],
    }
    result = validate_state(raw, {"F:0:0:1", "F:0:6:5"})
    state = result.state
    assert state.ids == ("c1", "c2")
    assert state.get("c1").nodes == ("F:0:0:1",)
    assert state.get("c2").nodes == ("F:0:6:5",) and state.get("c2").color.startswith("#")
    assert state.active == ("c1",)
    assert result.warnings == (
        "cluster 'a': 1 node(s) not in this graph dropped: bogus",
        "cluster 'b': node F:0:0:1 already in another cluster; dropped here",
        "cluster 'b': colour 'red' is not #rrggbb; replaced",
        "cluster 'c': 1 node(s) not in this graph dropped: bogus",
        "cluster 'c': no node of this graph left; dropped",
        "cluster #4: not an object with a 'nodes' list; dropped",
        "1 active id(s) not among the clusters dropped",
    )
    assert validate_state(None, set()).state == ClusterState()
    assert validate_state([1], set()).warnings  # pyright: ignore[reportArgumentType]


def test_cs9_save_and_load_roundtrip() -> None:
    store = two_circuits()
    state = ClusterState((ClusterEntry("c1", "x", "d", "#112233", store.keys[:2]),), ("c1",))
    text = dump_state(state, graph="g")
    assert json.loads(text)["version"] == 1
    loaded = load_cluster_file(text, store)
    assert loaded.state == state and loaded.warnings == ()


def test_cs10_bad_files_raise_graph_format_error() -> None:
    store = two_circuits()
    with pytest.raises(GraphFormatError, match="upload"):
        load_cluster_file("{not json", store, source="upload")
    with pytest.raises(GraphFormatError, match="a cluster file"):
        load_cluster_file('{"foo": 1}', store)
    bad_v2 = {"version": "2.0", "clusters": {"u": {"nodes": [{"layer": "x", "pos": 0, "feature_idx": 1}]}}}
    with pytest.raises(GraphFormatError, match=r"clusters\.u\.nodes\[0\]\.layer"):
        load_cluster_file(json.dumps(bad_v2), store)


def test_cs11_import_original_v2_real_file() -> None:
    store = open_graph(real_graph("clt_b_mask__category_20_de.pt"))
    path = real_graph("clusters_v2__category_20_de.json")
    result = load_cluster_file(path.read_bytes(), store, source=str(path))
    state = result.state
    assert result.warnings == ()
    assert len(state.clusters) == 15
    assert sum(len(c.nodes) for c in state.clusters) == 56
    assert all(k in store.index_of for c in state.clusters for k in c.nodes)
    first = state.get("4a9db138-c138-4244-9b9e-a445378fc065")
    assert (first.name, first.description, first.color) == ("Cluster 1", "sport/team", "#34d399")
    assert first.nodes[0] == "F:0:1:20283"
    assert state.active == ("da45c7f6-3f40-4180-8972-a4ad5af889aa",)
    assert all(c.manual for c in state.clusters)  # drawn by hand: a re-clustering keeps them


def test_cs12_supernodes_from_store_and_neuronpedia_json(tmp_path) -> None:
    store = two_circuits()
    state = import_supernodes([("first", store.keys[:2]), ("empty", ()), ("ghost", ("F:9:9:9",))], store)
    assert [(c.name, c.nodes, c.manual) for c in state.state.clusters] == [("first", store.keys[:2], True)]
    assert state.warnings  # the ghost node was dropped

    path = real_graph("np_schema1__meow-clt.json")
    doc = json.loads(path.read_text())
    graph = open_graph(path)
    ids = [n["node_id"] for n in doc["nodes"] if n["feature_type"] == "cross layer transcoder"][:3]
    doc["qParams"]["supernodes"] = [["group one", *ids[:2]], ["group two", ids[2]]]
    result = load_cluster_file(json.dumps(doc), graph, source="np.json")
    expected = [graph.keys[graph.nodes.source_id.index(i)] for i in ids]
    assert [(c.name, c.nodes) for c in result.state.clusters] == [
        ("group one", tuple(expected[:2])),
        ("group two", (expected[2],)),
    ]


def test_cs20_edits_mark_clusters_manual_and_survive_json() -> None:
    assert not any(c.manual for c in BASE.clusters)
    assert rename_cluster(BASE, "c1", "x").get("c1").manual
    assert recolor_cluster(BASE, "c2", "#000000").get("c2").manual
    assert remove_nodes(BASE, "c1", ["F:0:0:1"]).get("c1").manual
    assert add_nodes(BASE, "c2", ["F:0:0:1"]).get("c2").manual
    assert not add_nodes(BASE, "c2", ["F:0:0:1"]).get("c1").manual  # only lost a node
    assert create_cluster(BASE, ["F:7:7:7"]).get("c3").manual
    assert merge_clusters(BASE, "c1", "c2").get("c1").manual
    edited = rename_cluster(BASE, "c1", "x")
    assert edited.to_json()["clusters"][0]["manual"] is True
    keys = {k for c in BASE.clusters for k in c.nodes}
    assert validate_state(edited.to_json(), keys).state == edited


def test_cs21_recluster_keeps_manual_clusters() -> None:
    store = two_circuits()  # two circuits of four features: 0-3 and 4-7
    keys = store.keys
    auto = state_from_result(cluster_features(store, max_size=12), keys)
    # the user renames the first cluster and highlights both
    edited = toggle_active(toggle_active(rename_cluster(auto, "c1", "mine"), "c1"), "c2")
    again = recluster(edited, cluster_features(store, max_size=2, nodes=[4, 5, 6, 7]), keys)
    assert manual_nodes(edited) == set(keys[:4])
    # the edited cluster stays as it was, first and highlighted; the other is re-clustered
    # with the cap of 2 (the chain's strongest pair, its middle) into a new id; a pair equal to
    # nothing before is not highlighted
    assert again.clusters[0] == edited.get("c1")
    assert [c.nodes for c in again.clusters[1:]] == [(keys[5], keys[6])]
    assert again.ids == ("c1", "c2") and again.active == ("c1",)
    # re-clustering to the same groups keeps their highlight
    same = recluster(edited, cluster_features(store, max_size=12, nodes=[4, 5, 6, 7]), keys)
    assert same.active == ("c1", "c2") and same.get("c2").nodes == edited.get("c2").nodes
    # nodes of manual clusters are never taken by the new clusters
    overlapping = recluster(edited, cluster_features(store, max_size=12), keys)
    assert [c.nodes for c in overlapping.clusters] == [edited.get("c1").nodes, edited.get("c2").nodes]
