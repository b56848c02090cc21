"""Clustering benchmark: speed on synthetic graphs, agreement with hand-made clusters.

    python benchmarks/clustering.py [--repeat 3]

1. Time of :func:`cluster_features` (default settings, cap 12) on synthetic graphs of 300,
   1k and 5k features (20 edges per feature), best of ``--repeat`` runs; targets: 1k < 1 s,
   5k < 5 s. Also the theme purity of the clusters (share of clustered features whose
   synthetic theme is their cluster's majority theme), with and without descriptions,
   next to the purity of random groups of the same size.
2. Adjusted Rand index on the hand-labelled features of the real graph
   ``clt_b_mask__category_20_de.pt`` against ``clusters_v2__category_20_de.json``
   (``../shared/real_graphs``; skipped when absent). Every method clusters all the
   graph's features; the score is computed on the labelled ones only (an unclustered
   node is its own group). Baselines: group by layer, by position, by position cut into
   chunks of at most 12 along the layers (the fair capped baseline), random labels
   (seed 0), and the hand clusters themselves cut to at most 12 (the best any method
   capped at 12 can score).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from attribution_viewer.autointerp import open_description_source
from attribution_viewer.clustering import (
    ClusteringResult,
    cluster_features,
    default_candidates,
    load_cluster_file,
)
from attribution_viewer.clustering.texts import node_texts
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.testing.autointerp import write_synthetic_autointerp
from attribution_viewer.testing.content import feature_theme
from attribution_viewer.testing.synthetic import make_synthetic_graph

REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "real_graphs"
SIZES = (300, 1000, 5000)
CAP = 12


def purity(result: ClusteringResult, theme: np.ndarray) -> float:
    clustered = [np.asarray(c.members) for c in result.clusters]
    if not clustered:
        return float("nan")
    agree = sum(Counter(theme[m].tolist()).most_common(1)[0][1] for m in clustered)
    return agree / sum(len(m) for m in clustered)


def best_time(fn: Callable[[], ClusteringResult], repeat: int) -> tuple[float, ClusteringResult]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return min(times), result


def random_purity(theme: np.ndarray) -> float:
    """Purity of random groups of CAP features (seed 0): what purity means by chance."""
    order = np.random.default_rng(0).permutation(theme.shape[0])
    groups = [order[i : i + CAP] for i in range(0, order.shape[0], CAP)]
    return sum(Counter(theme[g].tolist()).most_common(1)[0][1] for g in groups) / theme.shape[0]


def speed_table(repeat: int) -> None:
    header = ("features", "edges", "texts", "seconds", "clusters", "unclust", "purity")
    print(" ".join(f"{h:>8}" for h in header))
    for n in SIZES:
        store = make_synthetic_graph(n_features=n, n_edges=20 * n, n_tokens=max(10, n // 100))
        theme = feature_theme(store.nodes.layer[:n], store.nodes.feature_idx[:n])
        with tempfile.TemporaryDirectory() as tmp:
            write_synthetic_autointerp(store, Path(tmp))
            source = open_description_source(Path(tmp) / "features")
            texts = node_texts(store, source, range(n))
        print(f"{n:>8} {store.n_edges:>8} {'random':>8} {'':>8} {'':>8} {'':>8} {random_purity(theme):>8.3f}")
        for label, node_text in (("no", None), ("yes", texts)):
            seconds, result = best_time(
                lambda node_text=node_text, store=store: cluster_features(
                    store, texts=node_text, max_size=CAP
                ),
                repeat,
            )
            print(
                f"{n:>8} {store.n_edges:>8} {label:>8} {seconds:>8.3f} {len(result.clusters):>8} "
                f"{len(result.unclustered):>8} {purity(result, theme):>8.3f}"
            )


def capped_labels(
    store: GraphStore, nodes: Sequence[int], group_of: Callable[[int], object]
) -> dict[int, object]:
    """Group ``nodes`` by ``group_of``, then cut each group along the layers into chunks of CAP."""
    groups: dict[object, list[int]] = {}
    for i in sorted(nodes, key=lambda i: (int(store.nodes.layer[i]), i)):
        groups.setdefault(group_of(i), []).append(i)
    return {i: (g, j // CAP) for g, members in groups.items() for j, i in enumerate(members)}


def agreement_table() -> None:
    graph_path = REAL_DIR / "clt_b_mask__category_20_de.pt"
    clusters_path = REAL_DIR / "clusters_v2__category_20_de.json"
    if not graph_path.exists() or not clusters_path.exists():
        print(f"(skipped: {REAL_DIR} does not hold the real graph and its hand-made clusters)")
        return
    store = open_graph(graph_path)
    hand = load_cluster_file(clusters_path.read_bytes(), store, source=str(clusters_path)).state
    truth = {store.index_of[k]: j for j, c in enumerate(hand.clusters) for k in c.nodes}
    labelled = sorted(truth)
    candidates = default_candidates(store).tolist()

    def score(label_of: Mapping[int, object]) -> float:
        codes: dict[object, int] = {}
        pred = [codes.setdefault(label_of.get(i, ("alone", i)), len(codes)) for i in labelled]
        return float(adjusted_rand_score([truth[i] for i in labelled], pred))

    def of_result(result: ClusteringResult) -> dict[int, object]:
        return {i: j for j, c in enumerate(result.clusters) for i in c.members}

    n_feat = store.count(NodeKind.FEATURE)
    print(
        f"{graph_path.name}: {len(candidates)} features clustered, {len(labelled)} hand-labelled "
        f"in {len(hand.clusters)} hand clusters (largest {max(len(c.nodes) for c in hand.clusters)})"
    )
    rows: list[tuple[str, float]] = []
    for method in ("auto", "connectivity", "layer-position", "text"):
        result = cluster_features(store, max_size=CAP, method=method)
        rows.append(
            (f"ours: {method} (cap {CAP}, {len(result.clusters)} clusters)", score(of_result(result)))
        )
    result = cluster_features(store, max_size=20)
    rows.append((f"ours: auto (cap 20, {len(result.clusters)} clusters)", score(of_result(result))))
    layer_of = {i: int(store.nodes.layer[i]) for i in range(n_feat)}
    pos_of = {i: int(store.nodes.pos[i]) for i in range(n_feat)}
    random_labels = np.random.default_rng(0).integers(0, 15, len(labelled)).tolist()
    rows += [
        ("baseline: by layer", score(layer_of)),
        ("baseline: by position", score(pos_of)),
        (f"baseline: by position, cut to {CAP}", score(capped_labels(store, candidates, pos_of.__getitem__))),
        ("baseline: random (15 groups, seed 0)", score(dict(zip(labelled, random_labels, strict=True)))),
        (f"ceiling: hand clusters cut to {CAP}", score(capped_labels(store, labelled, truth.__getitem__))),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  ARI {value:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Clustering benchmark: speed and agreement with hand-made clusters."
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is reported)")
    args = parser.parse_args()
    speed_table(args.repeat)
    print()
    agreement_table()


if __name__ == "__main__":
    main()
