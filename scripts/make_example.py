"""Regenerate the bundled SYNTHETIC example in ``data/example/``.

Writes ``graph.npz`` (native format), ``autointerp/features/layer{L}/feature_{idx}_complete.json``
for every feature of the graph and ``autointerp/feature_frequency.json``. Everything is
made up by :mod:`attribution_viewer.testing.synthetic` from a fixed seed, so running this twice
gives the same files.

    python scripts/make_example.py [--out data/example] [--seed 0]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from attribution_viewer.loaders import save_native
from attribution_viewer.model import GraphStore
from attribution_viewer.testing.autointerp import write_synthetic_autointerp
from attribution_viewer.testing.synthetic import make_synthetic_graph
from config.settings import EXAMPLE_DIR


def make_example_graph(seed: int = 0) -> GraphStore:
    """The example graph. A small transcoder width keeps feature_frequency.json small."""
    return make_synthetic_graph(
        n_layers=12,
        n_tokens=10,
        n_features=400,
        n_edges=8000,
        n_logits=5,
        d_transcoder=4096,
        weighted=True,
        seed=seed,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the bundled synthetic example.")
    parser.add_argument("--out", type=Path, default=EXAMPLE_DIR, help="output folder (default: data/example)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    store = make_example_graph(args.seed)
    save_native(store, out / "graph.npz")
    autointerp = out / "autointerp"
    if autointerp.exists():
        shutil.rmtree(autointerp)  # no stale feature files from an earlier seed
    write_synthetic_autointerp(store, autointerp, seed=args.seed)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({store.n_nodes} nodes, {store.n_edges} edges, {size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
