"""Server-side cost of a click on a feature node: description read + panel rendering.

    python benchmarks/click.py [--clicks 200] [--d-transcoder 24576] [--layers 12] [--cache DIR]

Builds (once, cached under ``benchmarks/_cache/``) a synthetic autointerp folder with one
file per feature of ``layers x d_transcoder`` (295k files by default), then times:

* start-up: opening a :class:`DescriptionSource` on that folder vs on an empty folder;
* cold clicks: ``source.get`` + ``render_feature_details`` (+ the JSON encoding Dash does)
  for random feature nodes never read before. The OS page cache of those files is dropped
  first (``posix_fadvise DONTNEED``, our files only), so each read goes to the disk;
* warm clicks: the same nodes again (LRU hits, no file read);
* the first use of the frequency file (``load_frequencies`` + ``for_features``).

Targets: cold p95 < 20 ms, warm p95 < 5 ms, start-up independent of the folder size.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0] and this "click.py" would shadow the
# "click" package that Flask (hence Dash) imports: take the folder off the path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
from plotly.io.json import to_json_plotly  # noqa: E402

from attribution_viewer.app.node_details import render_feature_details  # noqa: E402
from attribution_viewer.app.node_panel import neuronpedia_url  # noqa: E402
from attribution_viewer.autointerp import load_frequencies, open_description_source  # noqa: E402
from attribution_viewer.model import GraphStore, NodeKind  # noqa: E402
from attribution_viewer.testing.autointerp import write_synthetic_autointerp  # noqa: E402
from attribution_viewer.testing.synthetic import make_synthetic_graph  # noqa: E402

CACHE_DIR = Path(__file__).resolve().parent / "_cache"
COLD_P95_MS, WARM_P95_MS = 20.0, 5.0


def synthetic_folder(cache: Path, n_layers: int, d_transcoder: int) -> Path:
    """The cached synthetic autointerp folder (written on first run; a marker says it is complete)."""
    out = cache / f"autointerp_{n_layers}x{d_transcoder}"
    marker = out / ".complete"
    if not marker.exists():
        print(
            f"writing {n_layers * d_transcoder:,} synthetic description files to {out} (once) ...", flush=True
        )
        t0 = time.perf_counter()
        write_synthetic_autointerp(
            [(0, 0)], out, all_features=True, n_layers=n_layers, d_transcoder=d_transcoder, seed=0
        )
        marker.write_text("ok\n", encoding="utf-8")
        print(f"  written in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def drop_page_cache(paths: list[Path]) -> None:
    """Evict these files (only) from the OS page cache, so the next read hits the disk."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def percentiles(samples_ms: list[float]) -> str:
    arr = np.asarray(samples_ms)
    p50, p95, worst = np.percentile(arr, [50, 95, 100])
    return f"p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {worst:6.2f} ms"


def median_time_us(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def click_times(store: GraphStore, folder: Path, nodes: np.ndarray, cache_size: int) -> None:
    source = open_description_source(folder, cache_size=cache_size)
    layers, idxs = store.nodes.layer, store.nodes.feature_idx
    paths = [source.root / f"layer{layers[i]}" / f"feature_{idxs[i]}_complete.json" for i in nodes]
    drop_page_cache(paths)

    def one_click(i: int) -> tuple[float, float]:
        t0 = time.perf_counter()
        details = source.get(int(layers[i]), int(idxs[i]))
        components = render_feature_details(
            details,
            store=store,
            index=int(i),
            label=store.display_labels[i],
            frequency=None,
            neuronpedia_url=neuronpedia_url("gpt2-small", "clt", int(layers[i]), int(idxs[i])),
            error=None,
        )
        t1 = time.perf_counter()
        to_json_plotly(components)
        t2 = time.perf_counter()
        return (t1 - t0) * 1e3, (t2 - t0) * 1e3

    store.display_labels  # noqa: B018 - built once at graph load in the app, not per click
    store.interventions_by_key  # noqa: B018
    one_click(int(nodes[0]))  # warm the code paths once, on a feature not timed below
    clicked = nodes[1:]
    before = source.files_read
    cold = [one_click(int(i)) for i in clicked]
    reads_cold = source.files_read - before
    warm = [one_click(int(i)) for i in clicked]
    reads_warm = source.files_read - before - reads_cold
    print(f"clicks on {len(clicked)} distinct feature nodes (get + render; + JSON encoding):")
    print(f"  cold  get+render   {percentiles([c[0] for c in cold])}   files read: {reads_cold}")
    print(f"  cold  +json        {percentiles([c[1] for c in cold])}")
    print(f"  warm  get+render   {percentiles([w[0] for w in warm])}   files read: {reads_warm}")
    print(f"  warm  +json        {percentiles([w[1] for w in warm])}")
    cold_p95 = float(np.percentile([c[1] for c in cold], 95))
    warm_p95 = float(np.percentile([w[1] for w in warm], 95))
    verdict = "OK" if cold_p95 < COLD_P95_MS and warm_p95 < WARM_P95_MS else "MISSED"
    print(f"  targets: cold p95 < {COLD_P95_MS} ms, warm p95 < {WARM_P95_MS} ms (with JSON): {verdict}")


def startup_times(folder: Path, empty: Path) -> None:
    repeat = 2000
    big = median_time_us(lambda: open_description_source(folder), repeat)
    small = median_time_us(lambda: open_description_source(empty), repeat)
    fresh = open_description_source(folder)
    print(
        f"start-up (open source, median of {repeat}): {big:.1f} us on {folder.name}, {small:.1f} us on empty"
    )
    print(f"  files read by opening: {fresh.files_read}")


def frequency_times(folder: Path, store: GraphStore) -> None:
    feat = store.kind_slices[NodeKind.FEATURE]
    t0 = time.perf_counter()
    freqs = load_frequencies(folder / "feature_frequency.json")
    t1 = time.perf_counter()
    freqs.for_features(store.nodes.layer[feat], store.nodes.feature_idx[feat])
    t2 = time.perf_counter()
    print(f"frequency file (first use): load {1e3 * (t1 - t0):.0f} ms, for_features {1e3 * (t2 - t1):.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--d-transcoder", type=int, default=24576)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="where the synthetic folder is kept")
    parser.add_argument(
        "--cache-size", type=int, default=4096, help="LRU size (settings.description_cache_size)"
    )
    args = parser.parse_args(argv)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work inflates the tails)")
    root = synthetic_folder(args.cache, args.layers, args.d_transcoder)
    empty = args.cache / "empty_folder"
    empty.mkdir(parents=True, exist_ok=True)
    store = make_synthetic_graph(
        n_layers=args.layers, d_transcoder=args.d_transcoder, n_features=max(2000, args.clicks), n_edges=20000
    )
    feat = store.kind_slices[NodeKind.FEATURE]
    pairs = np.stack([store.nodes.layer[feat], store.nodes.feature_idx[feat]], axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)  # one node per distinct feature
    rng = np.random.default_rng(1)
    nodes = feat.start + rng.choice(first, size=args.clicks + 1, replace=False)

    startup_times(root / "features", empty)
    click_times(store, root / "features", nodes, args.cache_size)
    frequency_times(root, store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
