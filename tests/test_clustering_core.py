"""Automatic clustering: similarity parts, capped agglomeration, cluster_features (codes CL*)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
import scipy.sparse as sp

from attribution_viewer.clustering import SimilarityParams, cluster_features, split_members
from attribution_viewer.clustering.agglomerative import capped_linkage
from attribution_viewer.clustering.similarity import connectivity_profiles, feature_space, knn_graph
from attribution_viewer.model import GraphStore, LogitInfo, NodeKind, NodeTable

Feature = tuple[int, int, int]  # layer, pos, feature_idx


def build_store(
    features: Sequence[Feature],
    edges: Sequence[tuple[int, int, float]],
    *,
    n_layers: int = 4,
    tokens: Sequence[str] = ("a", "b", "c", "d", "e", "f", "g", "h"),
    logits: Sequence[str] = ("X",),
    labels: Sequence[str] | None = None,
) -> GraphStore:
    """Features then one logit node per entry of ``logits``; edges by node index."""
    n_feat, n_logit = len(features), len(logits)
    n = n_feat + n_logit
    kind = [NodeKind.FEATURE] * n_feat + [NodeKind.LOGIT] * n_logit
    nodes = NodeTable.build(
        kind=kind,
        layer=[f[0] for f in features] + [n_layers] * n_logit,
        pos=[f[1] for f in features] + [len(tokens) - 1] * n_logit,
        feature_idx=[f[2] for f in features] + [-1] * n_logit,
        label=list(labels or [""] * n_feat) + [""] * n_logit,
    )
    src, tgt, w = zip(*edges, strict=True) if edges else ((), (), ())
    adjacency = sp.csr_matrix(
        (np.asarray(w, float), (np.asarray(src, int), np.asarray(tgt, int))), shape=(n, n)
    )
    infos = tuple(LogitInfo(t, k, 0.5 / (k + 1), k == 0) for k, t in enumerate(logits))
    return GraphStore(nodes, adjacency, True, n_layers, tuple(tokens), infos)


def two_circuits() -> GraphStore:
    """Features 0-3 at position 0 feeding logit 8; features 4-7 at position 6 feeding logit 9."""
    feats = [(0, 0, 1), (1, 0, 2), (2, 0, 3), (3, 0, 4), (0, 6, 5), (1, 6, 6), (2, 6, 7), (3, 6, 8)]
    edges = [(0, 1, 1.0), (0, 2, 0.5), (1, 2, 1.0), (1, 3, 0.7), (2, 3, 1.0), (3, 8, 1.0)]
    edges += [(4, 5, 1.0), (4, 6, 0.5), (5, 6, 1.0), (5, 7, 0.7), (6, 7, 1.0), (7, 9, 1.0)]
    return build_store(feats, edges, logits=("X", "Y"))


def memberships(result_clusters: Sequence[Sequence[int]]) -> set[frozenset[int]]:
    return {frozenset(c) for c in result_clusters}


def test_cl1_profile_similarity_of_a_direct_edge() -> None:
    # f0 -> f1 only: profiles f0 = [e0, (e0+e1)/√2]/√2, f1 = [(e0+e1)/√2, e1]/√2 -> dot 1/√2
    store = build_store([(0, 0, 1), (1, 0, 2)], [(0, 1, 2.0)])
    p = connectivity_profiles(store)
    assert (p @ p.T).toarray()[0, 1] == pytest.approx(1 / math.sqrt(2), abs=1e-6)


def test_cl2_opposite_signs_give_negative_similarity() -> None:
    # f0 excites f2, f1 inhibits f2: output halves dot -1/2, input halves 0 -> -1/4
    store = build_store([(0, 0, 1), (0, 0, 2), (1, 0, 3)], [(0, 2, 1.0), (1, 2, -1.0)])
    p = connectivity_profiles(store)
    assert (p @ p.T).toarray()[0, 1] == pytest.approx(-0.25, abs=1e-6)


def test_cl3_token_band_and_same_latent() -> None:
    # n_layers 4, layer_scale 0.25 -> band of 1 layer; ',' at positions 1 and 3
    store = build_store([(0, 1, 1), (1, 3, 2), (0, 0, 1), (1, 1, 3)], [], tokens=("x", ",", "y", ","))
    place = feature_space(
        store, texts=None, weights=SimilarityParams(token=1, role=0, latent=0, text=0, layer_scale=0.25)
    )
    sim = place.similarity(np.arange(4), np.arange(4))
    assert sim[0, 1] == pytest.approx(0.5 * math.exp(-0.5), rel=1e-6)  # same string, 1 layer apart
    assert sim[0, 3] == pytest.approx(math.exp(-0.5), rel=1e-6)  # same position, 1 layer apart
    assert sim[0, 2] == 0  # other token
    latent = feature_space(store, texts=None, weights=SimilarityParams(token=0, role=0, latent=1, text=0))
    # the same latent (layer 0, index 1) at positions 1 and 0 means the same thing
    assert latent.similarity(np.arange(4), np.arange(4))[0].tolist() == [1, 0, 1, 0]


def test_cl4_capped_linkage_hand_worked() -> None:
    # sims 0-1 .9, 1-2 .8, 0-2 .1, 2-3 .5
    g = sp.csr_matrix(
        ([0.9, 0.8, 0.1, 0.5] * 2, ([0, 1, 0, 2, 1, 2, 2, 3], [1, 2, 2, 3, 0, 1, 0, 2])), shape=(4, 4)
    )
    # average linkage: 01 (.9), then 23 (.5 beats 01-2 = .9/2 = .45), then 01-23 = .9/4 = .225
    assert capped_linkage(g, max_size=3, min_similarity=0.2, power=1).groups == ((0, 1), (2, 3))
    assert capped_linkage(g, max_size=4, min_similarity=0.3, power=1).groups == ((0, 1), (2, 3))
    full = capped_linkage(g, max_size=4, min_similarity=0.2, power=1)
    assert full.groups == ((0, 1, 2, 3),)
    assert full.internal[0] == pytest.approx(2.3)
    # geometric: 01, then 01-2 = .9/√2 = .636 beats 2-3 (.5); then 012-3 = .5/√3 = .289
    assert capped_linkage(g, max_size=3, min_similarity=0.2).groups == ((0, 1, 2), (3,))
    assert capped_linkage(g, max_size=4, min_similarity=0.29).groups == ((0, 1, 2), (3,))
    assert capped_linkage(g, max_size=4, min_similarity=0.28).groups == ((0, 1, 2, 3),)
    # a node with nothing above the floor stays alone
    assert capped_linkage(g, max_size=4, min_similarity=0.85, power=1).groups == ((0, 1), (2,), (3,))


def test_cl5_two_disconnected_subcircuits_give_two_clusters() -> None:
    store = two_circuits()  # each circuit on one token
    for method in ("auto", "connectivity"):
        result = cluster_features(store, max_size=12, method=method)
        assert memberships([c.members for c in result.clusters]) == {
            frozenset({0, 1, 2, 3}),
            frozenset({4, 5, 6, 7}),
        }, method
        assert result.unclustered == ()


def test_cl6_a_chain_is_one_cluster() -> None:
    for n in (4, 6, 8):
        feats = [(layer, 0, 10 + layer) for layer in range(n)]
        edges = [(i, i + 1, 1.0) for i in range(n)]  # ... -> f(n-1) -> logit
        store = build_store(feats, edges, n_layers=n)
        result = cluster_features(store, max_size=12)
        assert [c.members for c in result.clusters] == [tuple(range(n))], n


def test_cl7_cap_is_exact_and_leftovers_stay_unclustered() -> None:
    # 5 features with identical inputs (all fed by the same 2 features at layer 0)
    feats = [(0, 0, 1), (0, 0, 2)] + [(1, 0, 10 + i) for i in range(5)]
    edges = [(s, t, 1.0) for s in (0, 1) for t in range(2, 7)]
    store = build_store(feats, edges)
    twins = list(range(2, 7))
    for cap in (2, 3, 4):
        result = cluster_features(store, max_size=cap, method="connectivity", nodes=twins)
        sizes = sorted(len(c.members) for c in result.clusters)
        assert max(sizes) == cap
        assert sum(sizes) + len(result.unclustered) == 5
    assert sorted(
        len(c.members)
        for c in cluster_features(store, max_size=2, method="connectivity", nodes=twins).clusters
    ) == [2, 2]


def test_cl8_cap_never_exceeded_on_a_random_graph() -> None:
    rng = np.random.default_rng(3)
    feats = [(int(rng.integers(0, 6)), int(rng.integers(0, 8)), i) for i in range(120)]
    edges = [(int(a), int(b), float(rng.normal())) for a, b in rng.integers(0, 120, (600, 2)) if a != b]
    store = build_store(feats, edges, n_layers=6)
    for cap in (2, 3, 5, 12):
        for method in ("auto", "connectivity", "layer-position"):
            result = cluster_features(store, max_size=cap, method=method, seed=cap)
            assert all(len(c.members) <= cap for c in result.clusters)
            members = [i for c in result.clusters for i in c.members] + list(result.unclustered)
            assert sorted(members) == list(range(120))


def test_cl9_deterministic_for_a_seed_and_features_only() -> None:
    store = two_circuits()
    a = cluster_features(store, max_size=3, seed=7)
    assert a == cluster_features(store, max_size=3, seed=7)
    assert all(store.kind_of(i) is NodeKind.FEATURE for c in a.clusters for i in c.members)
    assert len({c.name for c in a.clusters}) == len(a.clusters)
    assert all(len(c.color) == 7 and c.color.startswith("#") for c in a.clusters)


def test_cl10_n_clusters_keeps_the_strongest() -> None:
    store = two_circuits()
    result = cluster_features(store, max_size=12, n_clusters=1, method="connectivity")
    assert len(result.clusters) == 1
    assert len(result.unclustered) == 4


def test_cl11_text_method_groups_by_description() -> None:
    feats = [(0, 0, 1), (0, 1, 2), (0, 2, 3), (0, 3, 4)]
    texts = ["capital city of France", "basketball team players", "capital city name", "basketball players"]
    result = cluster_features(build_store(feats, []), texts=texts, max_size=4, method="text")
    assert memberships([c.members for c in result.clusters]) == {frozenset({0, 2}), frozenset({1, 3})}
    assert {c.name for c in result.clusters} == {"capital / city", "basketball / players"}


def test_cl12_bad_arguments() -> None:
    store = two_circuits()
    with pytest.raises(ValueError, match="unknown clustering method"):
        cluster_features(store, max_size=4, method="kmeans")
    with pytest.raises(ValueError, match="max_size"):
        cluster_features(store, max_size=1)
    with pytest.raises(ValueError, match="feature node indices"):
        cluster_features(store, max_size=4, nodes=[8])


def test_cl13_split_separates_the_subcircuits() -> None:
    store = two_circuits()
    big, small = split_members(store, range(8), method="connectivity")
    assert {frozenset(big), frozenset(small)} == {frozenset({0, 1, 2, 3}), frozenset({4, 5, 6, 7})}
    assert split_members(store, [0, 1, 4], method="connectivity") == ((0, 1), (4,))


def test_cl14_knn_graph_is_symmetric_and_positive() -> None:
    store = two_circuits()
    space = feature_space(store, texts=None, weights=SimilarityParams())
    g = knn_graph(space, np.arange(8), 3)
    assert (abs(g - g.T) > 0).nnz == 0
    assert g.diagonal().sum() == 0 and g.data.min() > 0


def test_cl15_same_token_string_merges_across_positions() -> None:
    # every ',' of a list together; the other tokens' features stay alone
    store = build_store([(0, 0, 1), (0, 1, 2), (0, 2, 3), (0, 3, 4)], [], tokens=("a", ",", "b", ","))
    result = cluster_features(store, max_size=12)
    assert [c.members for c in result.clusters] == [(1, 3)]
    assert result.unclustered == (0, 2)


def test_cl16_cap_splits_along_the_weakest_link() -> None:
    # six features on one token, layers 0,0,0 and 2,2,2 of 20 (band 4 layers): one group
    # uncapped; with a cap of 3 the split falls between the layers, not arbitrarily
    feats = [(0, 0, i) for i in range(3)] + [(2, 0, i) for i in range(3, 6)]
    store = build_store(feats, [], n_layers=20)
    assert [c.members for c in cluster_features(store, max_size=12).clusters] == [tuple(range(6))]
    assert [c.members for c in cluster_features(store, max_size=3).clusters] == [(0, 1, 2), (3, 4, 5)]


def test_cl17_role_splits_a_token() -> None:
    # four features on one token and layer: f0, f1 feed logit X, f2, f3 feed logit Y
    feats = [(1, 0, i) for i in range(4)]
    edges = [(0, 4, 1.0), (1, 4, 1.0), (2, 5, 1.0), (3, 5, 1.0)]
    store = build_store(feats, edges, logits=("X", "Y"))
    assert [c.members for c in cluster_features(store, max_size=12).clusters] == [(0, 1, 2, 3)]
    result = cluster_features(store, max_size=2)
    assert memberships([c.members for c in result.clusters]) == {frozenset({0, 1}), frozenset({2, 3})}


def test_cl18_descriptions_merge_across_tokens() -> None:
    # four tokens, one feature each: only their descriptions relate them
    feats = [(0, 0, 1), (0, 1, 2), (0, 2, 3), (0, 3, 4)]
    texts = ["capital city of France", "basketball team players", "capital city name", "basketball players"]
    store = build_store(feats, [])
    result = cluster_features(store, texts=texts, max_size=12)
    assert memberships([c.members for c in result.clusters]) == {frozenset({0, 2}), frozenset({1, 3})}
    assert cluster_features(store, max_size=12).clusters == ()  # no text: nothing relates them


def test_cl19_a_generic_latent_stays_with_its_tokens() -> None:
    # latent 7 fires at all 4 positions (generic), latent 9 at positions 0 and 1 (2 of 4)
    feats = [(0, p, 7) for p in range(4)] + [(0, 0, 9), (0, 1, 9), (0, 2, 5), (0, 3, 6)]
    store = build_store(feats, [], tokens=("a", "b", "c", "d"))
    sim = feature_space(store, texts=None, weights=SimilarityParams()).similarity(np.arange(8), np.arange(8))
    assert sim[0, 1] == 0  # the generic latent's copies: no link
    assert sim[4, 5] == pytest.approx(0.5)  # the specific one's copies: latent 0.5
    assert sim[0, 4] == pytest.approx(1.0)  # same position and layer: token 1
    # each token's pair together; the specific latent joins positions 0 and 1
    groups = memberships([c.members for c in cluster_features(store, max_size=12).clusters])
    assert groups == {frozenset({0, 1, 4, 5}), frozenset({2, 6}), frozenset({3, 7})}
    # without the rule the generic copies chain every position into one group
    linked = cluster_features(store, max_size=12, weights=SimilarityParams(generic_share=1.0))
    assert [c.members for c in linked.clusters] == [tuple(range(8))]
    with pytest.raises(ValueError, match="generic_share"):
        SimilarityParams(generic_share=0)
