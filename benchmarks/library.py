"""Graph library benchmark: index time for a folder of 200 graphs, memory of browsing through the LRU.

    python benchmarks/library.py [--files 200] [--repeat 5] [--browse-edges 200000]

1. **Index**: a temporary folder of ``--files`` graphs in sub-folders: the real graphs of
   ``../shared/real_graphs`` (copied, when present) plus synthetic ones from
   :mod:`attribution_viewer.synthetic` in three formats (native ``.npz``, graph JSON,
   circuit-tracer ``.pt``), and a few non-graph files. Timed (median of ``--repeat``):
   ``GraphIndex.scan`` (every file sniffed) with the page cache warm (the files were just
   written) and after evicting the files from it (``posix_fadvise``, as ``click.py``),
   ``rescan`` with nothing changed, and ``rescan`` after one new file. Target < 200 ms.
2. **Browse**: in a FRESH process per row, open N distinct synthetic graphs
   (``--browse-edges`` edges each, native ``.npz``) one after the other through a
   :class:`~attribution_viewer.library.GraphCache` of ``open_graphs_max`` 4, computing what
   the app computes on a first view (influence, keys, reverse adjacency, layout); then
   ``RSS MB`` is the process's current resident memory (after ``gc.collect()``), ``peak
   MB`` its VmHWM, ``base MB`` its RSS after the imports. Rows: 4 graphs and 30 graphs with
   the bound 4, and 30 graphs with a bound of 30 (what an unbounded cache would hold).
   Target: RSS after 30 < 1.5 x RSS after 4.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from load import save_circuit_tracer_pt

from attribution_viewer.export.neuronpedia import to_neuronpedia_json
from attribution_viewer.library import GraphIndex
from attribution_viewer.loaders import save_native
from attribution_viewer.testing.synthetic import make_synthetic_graph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_GRAPHS = PROJECT_ROOT.parent / "shared" / "real_graphs"

# Runs in a fresh interpreter: browse N graphs through the LRU, print one JSON line.
_CHILD = """
import gc, json, sys
from pathlib import Path

def status_kb(field):
    with open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith(field)).split()[1])

from attribution_viewer.influence import influence
from attribution_viewer.scene import build_scene
from attribution_viewer.library import GraphCache, GraphIndex, default_opener
from attribution_viewer.view import ViewState, default_prune_threshold

folder, n_graphs, max_open = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
gc.collect()
base = status_kb("VmRSS")
index = GraphIndex.scan(folder)
cache = GraphCache(index, max_open, default_opener(None))
for rel in list(index.entries)[:n_graphs]:
    store = cache.open(rel)
    influence(store), store.keys, store.adjacency_in
    build_scene(store, ViewState(prune_threshold=default_prune_threshold(store)), None)
del store
gc.collect()
print(json.dumps({"rss_kb": status_kb("VmRSS"), "peak_kb": status_kb("VmHWM"), "base_kb": base,
                  "open": len(cache.open_paths)}))
"""


def build_index_folder(root: Path, n_files: int) -> int:
    """Real graphs (copied) + synthetic ones in three formats and sub-folders; returns the
    number of graph files written."""
    written = 0
    if REAL_GRAPHS.is_dir():
        for path in sorted(REAL_GRAPHS.iterdir()):
            if path.suffix in {".pt", ".json"}:
                (root / "real").mkdir(parents=True, exist_ok=True)
                shutil.copy(path, root / "real" / path.name)
                written += not path.name.startswith("clusters_")
    i = 0
    while written < n_files:
        store = make_synthetic_graph(n_tokens=8, n_features=300, n_edges=3000, seed=i)
        folder = root / f"lang_{i % 5}" / f"threshold_{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = i % 3
        if kind == 0:
            save_native(store, folder / f"g{i}.npz")
        elif kind == 1:
            (folder / f"g{i}.json").write_text(json.dumps(to_neuronpedia_json(store)))
        else:
            save_circuit_tracer_pt(store, folder / f"g{i}.pt")
        written += 1
        i += 1
    (root / "notes.md").write_text("not a graph")
    (root / "lang_0" / "feature_frequency.json").write_text(json.dumps({"0": [0.1] * 30000}))
    return written


def evict(paths: list[Path]) -> None:
    """Drop these files from the page cache (click.py does the same; a script named like the
    ``click`` package cannot be imported from here)."""
    for fd in (os.open(path, os.O_RDONLY) for path in paths):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def index_times(n_files: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="library-bench-") as tmp:
        root = Path(tmp)
        written = build_index_folder(root, n_files)
        index = GraphIndex.scan(root)
        formats: dict[str, int] = {}
        for entry in index.entries.values():
            formats[entry.format] = formats.get(entry.format, 0) + 1
        with_prompt = sum(entry.prompt is not None for entry in index.entries.values())
        n_indexed = len(index)
        scan_ms = median_ms(lambda: GraphIndex.scan(root), repeat)
        files = [p for p in root.rglob("*") if p.is_file()]
        cold_ms = []
        for _ in range(repeat):
            evict(files)
            cold_ms.append(median_ms(lambda: GraphIndex.scan(root), 1))
        rescan_ms = median_ms(index.rescan, repeat)
        extra = make_synthetic_graph(n_tokens=8, n_features=300, n_edges=3000, seed=10_000)
        new_file_ms: list[float] = []
        for k in range(repeat):
            save_native(extra, root / f"new_{k}.npz")
            start = time.perf_counter()
            result = index.rescan()
            new_file_ms.append((time.perf_counter() - start) * 1000)
            assert result.added == (f"new_{k}.npz",), result
        print(f"index: {written} graph files ({n_indexed} indexed: {formats}; {with_prompt} with a prompt)")
        print("| operation | median ms |")
        print("|---|---|")
        print(f"| scan ({n_indexed} graphs, every file sniffed) | {scan_ms:.1f} |")
        print(f"| scan, files evicted from the page cache first | {statistics.median(cold_ms):.1f} |")
        print(f"| rescan, nothing changed | {rescan_ms:.1f} |")
        print(f"| rescan after one new file | {statistics.median(new_file_ms):.1f} |")


def browse(folder: Path, n_graphs: int, max_open: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), str(n_graphs), str(max_open)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def browse_memory(n_edges: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="library-browse-") as tmp:
        root = Path(tmp)
        for i in range(30):
            store = make_synthetic_graph(n_tokens=12, n_features=4000, n_edges=n_edges, seed=i)
            save_native(store, root / f"g{i:02d}.npz")
        print(f"\nbrowse: 30 synthetic graphs of 4,000 features / {n_edges:,} edges (native .npz)")
        print("| graphs browsed | open_graphs_max | open at end | RSS MB | peak MB | base MB |")
        print("|---|---|---|---|---|---|")
        rss: dict[tuple[int, int], float] = {}
        for n_graphs, max_open in ((4, 4), (30, 4), (30, 30)):
            runs = [browse(root, n_graphs, max_open) for _ in range(repeat)]

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(r[key] for r in runs) / 1024

            rss[(n_graphs, max_open)] = med("rss_kb")
            print(
                f"| {n_graphs} | {max_open} | {int(runs[0]['open'])} | {med('rss_kb'):.0f} | "
                f"{med('peak_kb'):.0f} | {med('base_kb'):.0f} |"
            )
        print(f"\nRSS after 30 / after 4 (bound 4): {rss[(30, 4)] / rss[(4, 4)]:.2f} (target < 1.5)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="graph files in the indexed folder")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions (median)")
    parser.add_argument("--browse-edges", type=int, default=200_000, help="edges of each browsed graph")
    args = parser.parse_args(argv)
    index_times(args.files, args.repeat)
    browse_memory(args.browse_edges, max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
