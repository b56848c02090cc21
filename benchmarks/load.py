"""Graph loading benchmark: time to ``open_graph`` and peak memory, per file.

    python benchmarks/load.py [--repeat 3] [--features 10000] [--edges 1000000] [--large-pt]

For every graph in ``../shared/real_graphs`` (``clusters_*.json`` skipped) and for
synthetic graphs written to a temporary folder first -- a 10k-feature / 1M-edge graph in
the native ``.npz`` format, and a 2k-feature / 100k-edge graph both as native ``.npz``
and as a circuit-tracer ``.pt`` (dense ``[target, source]`` float32 matrix, as
``Graph.to_pt`` writes it; ``--large-pt`` also writes the 1M-edge graph that way, a
~440 MB file) -- each measurement runs in a FRESH Python process so no cache helps:

* ``open s``: wall time of ``open_graph(path)`` (median of ``--repeat`` processes); it
  includes importing torch for ``.pt`` files, as the app pays that too (``torch import s``
  shows that part alone);
* ``influence s``: then ``influence(store)`` (the file's values when it carries them for
  every node, else :func:`attribution_viewer.pruning.node_influence`);
* ``peak MB``: the process's peak RSS (``VmHWM``), and ``base MB`` the peak after the
  imports (torch included for ``.pt``), before opening: the difference is what the graph costs.

Target: the 1M-edge synthetic graph opens in < 1 s and < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from attribution_viewer.loaders import save_native
from attribution_viewer.loaders.torch_io import require_torch
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.testing.synthetic import make_synthetic_graph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_GRAPHS = PROJECT_ROOT.parent / "shared" / "real_graphs"

# Runs in a fresh interpreter: open one graph, print one JSON line of measurements.
_CHILD = """
import json, sys, time

def high_water_kb():
    # VmHWM: peak RSS of this process image (ru_maxrss would carry the parent's over exec).
    with open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith("VmHWM")).split()[1])

t0 = time.perf_counter()
if sys.argv[1].endswith(".pt"):
    import torch  # counted in "open", and reported on its own
t_torch = time.perf_counter() - t0
from attribution_viewer.influence import influence
from attribution_viewer.loaders import open_graph
base = high_water_kb()
t0 = time.perf_counter()
store = open_graph(sys.argv[1])
t1 = time.perf_counter()
influence(store)
t2 = time.perf_counter()
print(json.dumps({
    "open": t1 - t0 + t_torch, "torch": t_torch, "influence": t2 - t1,
    "peak_kb": high_water_kb(), "base_kb": base,
    "format": store.metadata.source_format, "nodes": store.n_nodes, "edges": store.n_edges,
}))
"""


class Row(NamedTuple):
    """Median measurements of one file."""

    name: str
    fmt: str
    size_mb: float
    nodes: int
    edges: int
    open_s: float
    torch_s: float
    influence_s: float
    peak_mb: float
    base_mb: float


def measure(path: Path, repeat: int) -> Row:
    """Open ``path`` in ``repeat`` fresh processes; medians of every measurement."""
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{path.name}: {done.stderr.strip().splitlines()[-1]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    return Row(
        name=path.name,
        fmt=str(runs[0]["format"]),
        size_mb=path.stat().st_size / 1e6,
        nodes=int(runs[0]["nodes"]),
        edges=int(runs[0]["edges"]),
        open_s=med("open"),
        torch_s=med("torch"),
        influence_s=med("influence"),
        peak_mb=med("peak_kb") / 1024,
        base_mb=med("base_kb") / 1024,
    )


def save_circuit_tracer_pt(store: GraphStore, path: Path) -> Path:
    """Write ``store`` as circuit-tracer's ``Graph.to_pt`` would (dense ``[target, source]``)."""
    torch = require_torch()
    features = store.kind_slices[NodeKind.FEATURE]
    n_features = features.stop - features.start
    active = np.stack(
        [store.nodes.layer[features], store.nodes.pos[features], store.nodes.feature_idx[features]], axis=1
    )
    dense = np.zeros((store.n_nodes, store.n_nodes), dtype=np.float32)
    coo = store.adjacency.tocoo()
    dense[coo.col, coo.row] = coo.data
    embeddings = store.kind_slices[NodeKind.EMBEDDING]
    payload = {
        "input_string": "".join(store.prompt_tokens[1:]),
        "adjacency_matrix": torch.from_numpy(dense),
        "cfg": {"n_layers": store.n_layers},
        "active_features": torch.from_numpy(active.astype(np.int64)),
        "selected_features": torch.arange(n_features),
        "activation_values": torch.from_numpy(store.nodes.activation[features].astype(np.float32)),
        "logit_tokens": torch.tensor([lg.token_id for lg in store.logits]),
        "logit_probabilities": torch.tensor([lg.probability for lg in store.logits], dtype=torch.float32),
        "input_tokens": torch.from_numpy(store.nodes.token_id[embeddings].astype(np.int64)),
        "scan": store.metadata.scan,
    }
    torch.save(payload, path)
    return path


def synthetic_files(folder: Path, n_features: int, n_edges: int, large_pt: bool) -> list[Path]:
    """Write the synthetic graphs to ``folder``; return their paths."""
    big = make_synthetic_graph(n_features=n_features, n_edges=n_edges, n_tokens=40)
    medium = make_synthetic_graph(n_features=2000, n_edges=100_000, n_tokens=20)
    paths = [
        save_native(big, folder / f"synthetic_{n_features // 1000}k_{n_edges // 1000}k.npz"),
        save_native(medium, folder / "synthetic_2k_100k.npz"),
        save_circuit_tracer_pt(medium, folder / "synthetic_2k_100k.pt"),
    ]
    if large_pt:
        paths.append(
            save_circuit_tracer_pt(big, folder / f"synthetic_{n_features // 1000}k_{n_edges // 1000}k.pt")
        )
    return paths


def table(rows: list[Row]) -> str:
    header = (
        "file",
        "format",
        "MB",
        "nodes",
        "edges",
        "open s",
        "torch import s",
        "influence s",
        "peak MB",
        "base MB",
    )
    lines = [
        (
            r.name,
            r.fmt,
            f"{r.size_mb:.1f}",
            f"{r.nodes:,}",
            f"{r.edges:,}",
            f"{r.open_s:.3f}",
            f"{r.torch_s:.3f}" if r.name.endswith(".pt") else "-",
            f"{r.influence_s:.3f}",
            f"{r.peak_mb:.0f}",
            f"{r.base_mb:.0f}",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Time open_graph and peak RSS per graph file.")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per file (median)")
    parser.add_argument("--features", type=int, default=10_000, help="features of the big synthetic graph")
    parser.add_argument("--edges", type=int, default=1_000_000, help="edges of the big synthetic graph")
    parser.add_argument("--large-pt", action="store_true", help="also write the big graph as a dense .pt")
    args = parser.parse_args(argv)

    real = (
        sorted(
            p
            for p in REAL_GRAPHS.iterdir()
            if p.suffix in {".pt", ".json"} and not p.name.startswith("clusters_")
        )
        if REAL_GRAPHS.is_dir()
        else []
    )
    if not real:
        print(f"({REAL_GRAPHS} absent: synthetic graphs only)")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        synthetic = synthetic_files(Path(tmp), args.features, args.edges, args.large_pt)
        print(f"synthetic graphs written in {time.perf_counter() - t0:.1f} s", flush=True)
        for path in [*real, *synthetic]:
            rows.append(measure(path, args.repeat))
            print(f"  {path.name}: open {rows[-1].open_s:.3f} s", flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
