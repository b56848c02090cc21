"""Clustering benchmark: speed on synthetic graphs, agreement with hand-made clusters.

    python benchmarks/clustering.py [--repeat 3] [--no-speed] [--tune]

1. Time of :func:`cluster_features` (default settings, cap 12) on synthetic graphs of 300,
   1k and 5k features (20 edges per feature), best of ``--repeat`` runs, wall-clock and CPU
   time (the machine may be shared: the load average is printed); target: 5k < 2 s.
   Also the theme purity of the clusters (share of clustered features whose synthetic
   theme is their cluster's majority theme), with and without descriptions, next to the
   purity of random groups of the same size.
2. Adjusted Rand index against hand-made clusters, on the labelled features only (every
   method clusters all the graph's features; an unclustered node is its own group):
   ``clt_b_mask__category_20_de.pt`` against the original app's
   ``clusters_v2__category_20_de.json``, and the graphs labelled in ``benchmarks/labels/``
   (texts: the graphs' own labels, e.g. Neuronpedia clerps; the last one labelled after
   the weights were chosen, an unseen check). Graphs come from ``../shared/real_graphs``
   (skipped when absent). Rows: ours at caps 12 and 20; baselines (issue #12) by
   position, by token string, by token string and 6-layer band, each uncapped and cut
   into chunks of at most 12 along the layers (what a capped method could do with the
   same rule); for each, the bound of its best split into parts of at most 12 (knowing
   the hand labels: no capped refinement of that grouping scores higher); random labels
   (seed 0); and the ceiling at cap 12, the highest ARI any partition with clusters of
   at most 12 reaches (proof in :mod:`attribution_viewer.testing.agreement`).
3. ``--tune``: 216 weight sets (:func:`weight_grid`) scored on the graphs used for tuning;
   for each graph, the weights chosen on the others (leave one graph out) and its score
   with them, next to the defaults; the unseen graph scored with the weights tuned on all.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from attribution_viewer.autointerp import open_description_source
from attribution_viewer.clustering import (
    ClusteringResult,
    SimilarityParams,
    cluster_features,
    default_candidates,
    load_cluster_file,
)
from attribution_viewer.clustering.texts import node_texts
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore
from attribution_viewer.testing.agreement import adjusted_rand, best_capped_split, ceiling_at_cap
from attribution_viewer.testing.autointerp import write_synthetic_autointerp
from attribution_viewer.testing.content import feature_theme
from attribution_viewer.testing.synthetic import make_synthetic_graph

REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "real_graphs"
LABEL_DIR = Path(__file__).resolve().parent / "labels"
BAND = 6  # layers per band of the "token string + layer band" baseline
SIZES = (300, 1000, 5000)
CAP = 12


def purity(result: ClusteringResult, theme: np.ndarray) -> float:
    clustered = [np.asarray(c.members) for c in result.clusters]
    if not clustered:
        return float("nan")
    agree = sum(Counter(theme[m].tolist()).most_common(1)[0][1] for m in clustered)
    return agree / sum(len(m) for m in clustered)


def best_time(fn: Callable[[], ClusteringResult], repeat: int) -> tuple[float, float, ClusteringResult]:
    """Best wall-clock and best CPU seconds (all threads of the process) over ``repeat`` runs.

    The CPU time is what the run costs when the machine is not shared: on a loaded machine
    the wall-clock time also holds the waits for a core.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    assert result is not None
    return min(walls), min(cpus), result


def random_purity(theme: np.ndarray) -> float:
    """Purity of random groups of CAP features (seed 0): what purity means by chance."""
    order = np.random.default_rng(0).permutation(theme.shape[0])
    groups = [order[i : i + CAP] for i in range(0, order.shape[0], CAP)]
    return sum(Counter(theme[g].tolist()).most_common(1)[0][1] for g in groups) / theme.shape[0]


def speed_table(repeat: int) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} cores; best of {repeat}")
    header = ("features", "edges", "texts", "wall s", "cpu s", "clusters", "unclust", "purity")
    print(" ".join(f"{h:>8}" for h in header))
    for n in SIZES:
        store = make_synthetic_graph(n_features=n, n_edges=20 * n, n_tokens=max(10, n // 100))
        theme = feature_theme(store.nodes.layer[:n], store.nodes.feature_idx[:n])
        with tempfile.TemporaryDirectory() as tmp:
            write_synthetic_autointerp(store, Path(tmp))
            source = open_description_source(Path(tmp) / "features")
            texts = node_texts(store, source, range(n))
        blank = f"{'':>8} " * 4
        print(f"{n:>8} {store.n_edges:>8} {'random':>8} {blank}{random_purity(theme):>8.3f}")
        for label, node_text in (("no", None), ("yes", texts)):
            seconds, cpu, result = best_time(
                lambda node_text=node_text, store=store: cluster_features(
                    store, texts=node_text, max_size=CAP
                ),
                repeat,
            )
            print(
                f"{n:>8} {store.n_edges:>8} {label:>8} {seconds:>8.3f} {cpu:>8.3f} {len(result.clusters):>8} "
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


class Labelled(NamedTuple):
    """A real graph and hand-made clusters of (some of) its features."""

    graph: str
    labels: Path
    who: str
    tuned: bool = True  # False: labelled after the weights were chosen (an unseen check)


LABELLED = (
    Labelled(
        "clt_b_mask__category_20_de.pt", REAL_DIR / "clusters_v2__category_20_de.json", "original app's users"
    ),
    Labelled("np_schema1__meow-clt.json", LABEL_DIR / "np_schema1__meow-clt.json", "benchmarks/labels"),
    Labelled(
        "np_schema1__the-opposite-of.json",
        LABEL_DIR / "np_schema1__the-opposite-of.json",
        "benchmarks/labels",
    ),
    Labelled(
        "np_schema0__3plus5-plt.json",
        LABEL_DIR / "np_schema0__3plus5-plt.json",
        "benchmarks/labels, unseen: labelled after the weights were chosen",
        tuned=False,
    ),
)


def baselines(store: GraphStore) -> dict[str, Callable[[int], object]]:
    """The groupings a researcher's first pass would give (issue #12), uncapped."""
    token = [store.token_at(int(p)) for p in store.nodes.pos]
    return {
        "by position": lambda i: int(store.nodes.pos[i]),
        "by token string": lambda i: token[i],
        f"by token string + {BAND}-layer band": lambda i: (token[i], int(store.nodes.layer[i]) // BAND),
    }


class Graded(NamedTuple):
    """A labelled graph loaded: the store, its labelled features and their hand clusters."""

    store: GraphStore
    labelled: list[int]
    truth: list[int]
    candidates: list[int]
    texts: list[str] | None  # the graph's own labels when it has any
    n_clusters: int


def load_labelled(item: Labelled) -> Graded:
    store = open_graph(REAL_DIR / item.graph)
    hand = load_cluster_file(item.labels.read_bytes(), store, source=str(item.labels)).state
    truth = {store.index_of[k]: j for j, c in enumerate(hand.clusters) for k in c.nodes}
    labelled = sorted(truth)
    candidates = default_candidates(store).tolist()
    texts = node_texts(store, None, range(store.n_nodes))
    has_text = any(texts[i] for i in candidates)
    return Graded(
        store,
        labelled,
        [truth[i] for i in labelled],
        candidates,
        texts if has_text else None,
        len(hand.clusters),
    )


def score(graded: Graded, label_of: Callable[[int], object]) -> float:
    """ARI on the labelled features of the labels ``label_of`` gives them."""
    return adjusted_rand(graded.truth, [label_of(i) for i in graded.labelled])


def ours(graded: Graded, max_size: int, weights: SimilarityParams | None = None) -> tuple[int, float]:
    """Number of clusters and ARI of :func:`cluster_features` (an unclustered node is alone)."""
    result = cluster_features(graded.store, texts=graded.texts, max_size=max_size, weights=weights)
    member_of = {i: j for j, c in enumerate(result.clusters) for i in c.members}
    return len(result.clusters), score(graded, lambda i: member_of.get(i, ("alone", i)))


def agreement(item: Labelled, graded: Graded) -> list[tuple[str, float]]:
    """ARI rows for one labelled graph: ours (cap 12, 20), the baselines, the ceiling at cap 12."""
    store, truth = graded.store, graded.truth
    sizes = Counter(truth)
    print(
        f"{item.graph}: {len(graded.candidates)} features, {len(truth)} hand-labelled in "
        f"{len(sizes)} clusters (largest {max(sizes.values())}; {item.who}); "
        f"texts: {'clerps / labels' if graded.texts else 'none'}"
    )
    rows = []
    for cap in (CAP, 20):
        n, value = ours(graded, cap)
        rows.append((f"ours (cap {cap}; {n} clusters)", value))
    for name, fn in baselines(store).items():
        rows.append((f"baseline: {name}", score(graded, fn)))
        cut_labels = capped_labels(store, graded.candidates, fn)
        rows.append((f"baseline: {name}, cut to {CAP} along layers", score(graded, cut_labels.__getitem__)))
        best = best_capped_split([fn(i) for i in graded.labelled], truth, CAP)
        rows.append(
            (f"bound: {name}, best split to {CAP} (knows the hand labels)", adjusted_rand(truth, best))
        )
    random_labels = np.random.default_rng(0).integers(0, graded.n_clusters, store.n_nodes)
    rows.append(
        (
            f"baseline: random ({graded.n_clusters} groups, seed 0)",
            score(graded, lambda i: int(random_labels[i])),
        )
    )
    rows.append(
        (f"ceiling at cap {CAP} (hand clusters cut into chunks of {CAP})", ceiling_at_cap(truth, CAP))
    )
    return rows


def weight_grid() -> list[SimilarityParams]:
    """The weights searched by ``--tune`` (the defaults are one of them)."""
    return [
        SimilarityParams(layer_scale=ls, role=role, latent=latent, same_token=same, generic_share=generic)
        for ls, role, latent, same, generic in itertools.product(
            (0.1, 0.2, 0.35), (0.0, 0.1, 0.25, 0.5), (0.5, 1.0, 1.5), (0.25, 0.5, 1.0), (0.75, 1.0)
        )
    ]


def tuning_table(graded: dict[str, Graded], unseen: dict[str, Graded]) -> None:
    """Leave one graph out: weights chosen on the others (best mean ARI, cap 12), scored on it.

    The ``unseen`` graphs take no part in any choice; they are scored with the weights
    tuned on all the others.
    """
    grid = weight_grid()
    names = list(graded)
    table = np.array([[ours(graded[g], CAP, w)[1] for g in names] for w in grid])
    default = table[grid.index(SimilarityParams())]
    searched = "layer_scale x role x latent x same_token x generic_share"
    print(f"weights searched: {len(grid)} ({searched}), cap {CAP}")
    print(f"  {'graph':<36} {'defaults':>9} {'tuned on all':>13} {'chosen without it':>18}  weights chosen")
    on_all = int(np.argmax(table.mean(axis=1)))
    for j, g in enumerate(names):
        others = [k for k in range(len(names)) if k != j]
        pick = int(np.argmax(table[:, others].mean(axis=1)))
        w = grid[pick]
        print(
            f"  {g:<36} {default[j]:>9.3f} {table[on_all, j]:>13.3f} {table[pick, j]:>18.3f}  "
            f"layer_scale {w.layer_scale}, role {w.role}, latent {w.latent}, same_token {w.same_token}, "
            f"generic_share {w.generic_share}"
        )
    w = grid[on_all]
    print(
        f"  tuned on all: layer_scale {w.layer_scale}, role {w.role}, latent {w.latent}, "
        f"same_token {w.same_token}, generic_share {w.generic_share}"
    )
    for g, item in unseen.items():
        print(
            f"  unseen {g}: defaults {ours(item, CAP)[1]:.3f}, weights tuned on all "
            f"{ours(item, CAP, grid[on_all])[1]:.3f}"
        )


def agreement_table(tune: bool) -> None:
    graded: dict[str, Graded] = {}
    unseen: dict[str, Graded] = {}
    for item in LABELLED:
        if not (REAL_DIR / item.graph).exists() or not item.labels.exists():
            print(f"(skipped {item.graph}: graph or labels absent under {REAL_DIR})")
            continue
        loaded = load_labelled(item)
        (graded if item.tuned else unseen)[item.graph] = loaded
        rows = agreement(item, loaded)
        width = max(len(name) for name, _ in rows)
        uncapped = max(v for name, v in rows if name.startswith("baseline") and "cut to" not in name)
        cut = max(v for name, v in rows if name.startswith("baseline") and "cut to" in name)
        bound = max(v for name, v in rows if name.startswith("bound"))
        ceiling = rows[-1][1]
        for name, value in rows:
            print(f"  {name:<{width}}  ARI {value:6.3f}")
        print(
            f"  ours (cap {CAP}) minus: best uncapped baseline {rows[0][1] - uncapped:+.3f}; best "
            f"baseline cut along layers {rows[0][1] - cut:+.3f}; best baseline's best split "
            f"{rows[0][1] - bound:+.3f}; ceiling {rows[0][1] - ceiling:+.3f}"
        )
        if ceiling < uncapped:
            print(
                f"  the ceiling at cap {CAP} is below the best uncapped baseline: no partition with "
                f"clusters of at most {CAP} can match it here"
            )
        print()
    if tune:
        tuning_table(graded, unseen)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Clustering benchmark: speed and agreement with hand-made clusters."
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is reported)")
    parser.add_argument(
        "--tune", action="store_true", help="also search weights, leaving one labelled graph out (~1 min)"
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the timing table")
    args = parser.parse_args()
    if not args.no_speed:
        speed_table(args.repeat)
        print()
    agreement_table(args.tune)


if __name__ == "__main__":
    main()
