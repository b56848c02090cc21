"""Folder-of-graphs server benchmark (HTTP layer, in-process WSGI client; no browser).

    python benchmarks/folder_ui.py [--files 200] [--repeat 3]

Builds the 200-file folder of ``library.py`` (real graphs + synthetic native / JSON / .pt in
sub-folders), then measures (median of ``--repeat``, ms):

1. **page up**: a fresh server answering ``/`` and ``/_dash-layout`` for its default graph:
   single-graph (``create_app`` on an opened graph) vs folder (``GraphIndex.scan`` of the
   200 files + ``build_folder_server`` + the default graph opened and its app built);
2. **switch vs first load**: in a running folder server, the first ``/_dash-layout?graph=X``
   of a graph not open yet (open + app build + layout) vs a first load of the same graph in
   a fresh single-graph app (open + ``create_app`` + layout); synthetic ``.npz`` graphs
   (a ``.pt`` would add the same child-process conversion to both);
3. **memory**: in a fresh process per row, RSS after the layouts of N distinct graphs
   (``open_graphs_max`` 4): N = 4 and N = 30.

Not measured here: the browser's drawing time (the figure callback and plotly) which is the
same code for both modes once the app is built.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from library import build_index_folder

# benchmarks/click.py would shadow the click package that Flask imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.modules.pop("click", None)

from werkzeug.test import Client  # noqa: E402

from attribution_viewer.app import create_app, open_app_graph  # noqa: E402
from attribution_viewer.app.folder import build_folder_server  # noqa: E402
from attribution_viewer.library import GraphIndex  # noqa: E402
from attribution_viewer.settings import Settings  # noqa: E402

_CHILD = """
import sys
from pathlib import Path
from werkzeug.test import Client
from attribution_viewer.app.folder import build_folder_server
from attribution_viewer.library import GraphIndex
from attribution_viewer.settings import Settings

root, n = Path(sys.argv[1]), int(sys.argv[2])
index = GraphIndex.scan(root)
server = build_folder_server(Settings(graphs_dir=root, conversion_cache_dir=None), index)
client = Client(server)
paths = [p for p in index.entries if p.endswith(".npz")][:n]
for p in paths:
    assert client.get("/_dash-layout", query_string={"graph": p}).status_code == 200
with open("/proc/self/status") as fh:
    print(next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024)
"""


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def page_up_single(path: Path) -> float:
    start = time.perf_counter()
    settings = Settings(graph_path=path, conversion_cache_dir=None)
    client = Client(create_app(settings, open_app_graph(settings, path)).server)
    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200
    return ms(start)


def page_up_folder(root: Path) -> float:
    start = time.perf_counter()
    server = build_folder_server(Settings(graphs_dir=root, conversion_cache_dir=None), GraphIndex.scan(root))
    client = Client(server)
    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200
    return ms(start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Folder-of-graphs server benchmark.")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_index_folder(root, args.files)
        index = GraphIndex.scan(root)
        npz = [p for p in index.entries if p.endswith(".npz")]
        first = index.path_of(index.entries[next(iter(index.entries))])
        single = statistics.median(page_up_single(first) for _ in range(args.repeat))
        folder = statistics.median(page_up_folder(root) for _ in range(args.repeat))
        print(f"| page up, one graph ({first.name}) | {single:.0f} |")
        print(f"| page up, folder of {len(index)} graphs | {folder:.0f} |")
        server = build_folder_server(Settings(graphs_dir=root, conversion_cache_dir=None), index)
        client = Client(server)
        switches, firsts = [], []
        for rel in npz[: args.repeat * 2]:
            start = time.perf_counter()
            assert client.get("/_dash-layout", query_string={"graph": rel}).status_code == 200
            switches.append(ms(start))
            firsts.append(page_up_single(index.path_of(index.entries[rel])))
        switch, first_load = statistics.median(switches), statistics.median(firsts)
        print(f"| switch to a graph not open (folder server) | {switch:.0f} |")
        print(f"| first load of the same graphs (one-graph app) | {first_load:.0f} |")
        print(f"| switch / first load | {switch / first_load:.2f} x |")
        for n in (4, 30):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(root), str(n)], capture_output=True, text=True, check=True
            )
            print(f"| RSS after browsing {n} graphs (open_graphs_max 4) | {float(out.stdout):.0f} MB |")


if __name__ == "__main__":
    main()
