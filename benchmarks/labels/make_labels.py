"""Writes the hand labels (benchmarks/labels/*.json) from the groups listed below.

The groups were decided by hand by reading each feature's token, layer, clerp (when the
graph has one) and strongest edges; see README.md beside this file. This script only turns
the lists below into cluster files of our format; it computes nothing.

    python benchmarks/labels/make_labels.py ../shared/real_graphs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from attribution_viewer.loaders import open_graph
from attribution_viewer.model import NodeKind

HERE = Path(__file__).resolve().parent

# meow-clt: "If dog is to bark, then cat is to" -> ' meow'. Explicit node keys.
MEOW: dict[str, list[str]] = {
    "'bark' (token)": [
        "F:0:5:49610",
        "F:0:5:95475",
        "F:1:5:52044",
        "F:1:5:57794",
        "F:1:5:72774",
        "F:2:5:20752",
    ],
    "'cat' (token)": [
        "F:0:8:14258",
        "F:0:8:23304",
        "F:0:8:95475",
        "F:1:8:12928",
        "F:1:8:57794",
        "F:4:8:9496",
        "F:4:8:55499",
        "F:5:8:12573",
    ],
    "cat concept -> 'meow'": [
        "F:16:8:18340",
        "F:18:8:55689",
        "F:18:10:55689",
        "F:18:10:62010",
        "F:19:10:31665",
        "F:22:10:79694",
        "F:22:10:40022",
        "F:19:10:74778",
    ],
    "'to' (token)": [
        "F:0:10:18753",
        "F:0:10:39122",
        "F:0:10:40780",
        "F:0:10:93533",
        "F:0:10:96631",
        "F:1:10:12928",
        "F:1:10:52044",
        "F:1:10:57794",
        "F:1:10:72774",
    ],
    "sounds / noises": ["F:17:10:37994", "F:18:10:2068", "F:18:10:51775", "F:21:10:9163"],
    "code / text genre (late)": ["F:20:10:90081", "F:22:10:59138"],
}

# the-opposite-of: '<bos>The opposite of "small" is "' -> 'large' / 'big'.
# Cells (position, first layer, last layer) -> group; every feature in a listed cell is
# labelled, except the keys in OPPOSITE_MOVED, which go to the named group instead.
OPPOSITE_CELLS: dict[str, list[tuple[int, int, int]]] = {
    "'The'": [(1, 0, 5)],
    "'opposite' (token)": [(2, 0, 2)],
    "' of' (token)": [(3, 0, 2)],
    "'opposite of' (relation)": [(3, 3, 5)],
    "opening quote": [(4, 0, 1)],
    "closing quote": [(6, 0, 4)],
    "'small' (token)": [(5, 0, 2)],
    "'small' (size concept)": [(5, 3, 8)],
    "'small' late, to the logits": [(5, 13, 19)],
    "' is' (token)": [(7, 0, 5)],
    "quote after 'is' (token)": [(8, 0, 2)],
    "last quote, mid layers": [(8, 6, 12)],
    "last quote, late: say the antonym": [(8, 14, 25)],
}
OPPOSITE_MOVED: dict[str, list[str]] = {
    # the same latents at ' is' and the last quote, fed by the closing-quote hub 6:6:2580
    "'is' -> answer, mid layers": [
        "F:6:6:2580",
        "F:7:7:94036",
        "F:7:8:94036",
        "F:8:7:88237",
        "F:9:7:53080",
        "F:9:8:53080",
        "F:9:8:46198",
    ],
}


def cluster_file(graph: str, groups: dict[str, list[str]]) -> str:
    clusters = [
        {"id": f"h{i + 1}", "name": name, "description": "hand label", "color": "#888888", "nodes": keys}
        for i, (name, keys) in enumerate(groups.items())
    ]
    doc = {
        "format": "attribution-viewer-clusters",
        "version": 1,
        "graph": graph,
        "clusters": clusters,
        "active": [],
    }
    return json.dumps(doc, indent=1) + "\n"


def opposite_groups(real_dir: Path) -> dict[str, list[str]]:
    store = open_graph(real_dir / "np_schema1__the-opposite-of.json")
    moved = {k for keys in OPPOSITE_MOVED.values() for k in keys}
    groups: dict[str, list[str]] = {name: [] for name in OPPOSITE_CELLS}
    for i in range(store.count(NodeKind.FEATURE)):
        key, layer, pos = store.keys[i], int(store.nodes.layer[i]), int(store.nodes.pos[i])
        if key in moved:
            continue
        for name, cells in OPPOSITE_CELLS.items():
            if any(p == pos and lo <= layer <= hi for p, lo, hi in cells):
                groups[name].append(key)
    groups.update(OPPOSITE_MOVED)
    return groups


def main() -> None:
    real_dir = Path(sys.argv[1])
    (HERE / "np_schema1__meow-clt.json").write_text(cluster_file("np_schema1__meow-clt.json", MEOW))
    (HERE / "np_schema1__the-opposite-of.json").write_text(
        cluster_file("np_schema1__the-opposite-of.json", opposite_groups(real_dir))
    )


if __name__ == "__main__":
    main()
