"""``cluster`` command: group a graph's features into named clusters.

    python -m attribution_viewer cluster GRAPH [--autointerp DIR] [--max-size N]
        [--n-clusters K] [--method M] [--seed S] [--json]

Uses the app's defaults (``config/settings.py``: ``cluster_max_size``, ``cluster_seed``)
unless overridden. Descriptions from ``--autointerp DIR`` (any folder layout the app
reads) feed the text similarity and the names; without it the graph's own labels do.
``--json`` prints ``{"clusters": [{"name", "description", "nodes": [canonical keys]}]}``;
otherwise one block per cluster.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attribution_viewer.autointerp import open_description_source
from attribution_viewer.clustering import METHODS, ClusteringResult, cluster_features
from attribution_viewer.clustering.texts import node_texts
from attribution_viewer.loaders import open_graph
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cluster", help="group the features of a graph into named clusters")
    parser.add_argument("graph", metavar="GRAPH", help="graph file (.pt, .json, .npz)")
    parser.add_argument("--autointerp", metavar="DIR", type=Path, help="folder of feature description files")
    parser.add_argument(
        "--max-size",
        type=int,
        default=Settings.cluster_max_size,
        help="largest cluster (default %(default)s)",
    )
    parser.add_argument("--n-clusters", type=int, default=None, help="keep at most this many clusters")
    parser.add_argument("--method", choices=tuple(METHODS), default="auto", help="similarity (default auto)")
    parser.add_argument("--seed", type=int, default=Settings.cluster_seed, help="tie-break seed")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run, parser=parser)


def feature_texts(store: GraphStore, autointerp: Path | None) -> list[str] | None:
    """Description (else label) of every feature node, or None when all are empty."""
    source = open_description_source(autointerp) if autointerp is not None else None
    texts = node_texts(store, source, range(store.count(NodeKind.FEATURE)))
    return texts if any(t.strip() for t in texts) else None


def result_json(result: ClusteringResult, store: GraphStore) -> dict[str, list[dict[str, object]]]:
    keys = store.keys
    return {
        "clusters": [
            {"name": c.name, "description": c.description, "nodes": [keys[i] for i in c.members]}
            for c in result.clusters
        ]
    }


def run(args: argparse.Namespace) -> int:
    if args.max_size < 2:
        args.parser.error(f"--max-size must be >= 2, got {args.max_size}")
    if args.n_clusters is not None and args.n_clusters < 1:
        args.parser.error(f"--n-clusters must be >= 1, got {args.n_clusters}")
    store = open_graph(args.graph, max_bytes=args.max_graph_bytes)
    result = cluster_features(
        store,
        texts=feature_texts(store, args.autointerp),
        max_size=args.max_size,
        n_clusters=args.n_clusters,
        method=args.method,
        seed=args.seed,
    )
    doc = result_json(result, store)
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return 0
    for cluster in doc["clusters"]:
        sys.stdout.write(f"{cluster['name']}\n  {cluster['description']}\n  {' '.join(cluster['nodes'])}\n")  # type: ignore[arg-type]
    sys.stdout.write(f"{len(result.clusters)} clusters, {len(result.unclustered)} features unclustered\n")
    return 0
