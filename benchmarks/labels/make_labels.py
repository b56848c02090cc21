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


# 3plus5-plt: '<bos>3 + 5 = ' -> '8' (PLT, clerps). Only the 70 features of highest
# influence were read; 64 are labelled, 6 left out (lone '5' 15:4:3610 and ' =' 2:5:3014,
# off-topic '[' 18:6:15406, 'hyphens' 19:6:1341, 'dialogue' 23:6:9832, '-' 25:6:6645).
# Labelled after the algorithm's weights were fixed, before clustering this graph.
PLUS: dict[str, list[str]] = {
    "'3' (token, L0-7)": ["F:0:1:12914", "F:3:1:373", "F:5:1:3992", "F:7:1:462"],
    "last ' ' (token, L0-1)": ["F:0:6:3084", "F:0:6:3850", "F:0:6:3772", "F:1:6:1208"],
    "numbers / digits, mid layers": [
        "F:8:6:13204",
        "F:12:6:6768",
        "F:13:6:10982",
        "F:14:6:7947",
        "F:14:6:5044",
        "F:15:6:15323",
        "F:15:6:15686",
        "F:16:6:5003",
        "F:16:6:483",
    ],
    "calculations (L17-20)": [
        "F:17:6:15809",
        "F:18:6:14883",
        "F:18:6:969",
        "F:18:6:11535",
        "F:19:6:14422",
        "F:19:6:7492",
        "F:19:6:2975",
        "F:19:6:10520",
        "F:20:6:10440",
        "F:20:6:11293",
        "F:20:6:5598",
    ],
    # the same latent at ' =' and the last ' ' goes together
    "ordinal numbers": ["F:20:5:10358", "F:20:6:10358", "F:20:6:14337"],
    "say 8 (numbers 6-9, say 8, say 7)": [
        "F:22:5:1234",
        "F:22:6:1234",
        "F:23:6:7746",
        "F:24:5:2998",
        "F:24:6:2998",
        "F:25:6:14682",
        "F:25:6:13723",
        "F:25:6:14578",
    ],
    "code / technical context (late)": [
        "F:19:6:8824",
        "F:20:6:4320",
        "F:20:6:1053",
        "F:21:6:8824",
        "F:22:6:10520",
        "F:23:6:9657",
        "F:23:6:15735",
        "F:23:6:8012",
        "F:24:6:13541",
        "F:24:6:14792",
        "F:25:6:6324",
    ],
    "foreign / archaic words (late)": [
        "F:21:6:6231",
        "F:23:6:8967",
        "F:24:6:1857",
        "F:25:6:8798",
        "F:25:6:8803",
        "F:25:6:14647",
    ],
    "numbers, late": [
        "F:21:6:1872",
        "F:22:6:13925",
        "F:22:6:2984",
        "F:22:6:10470",
        "F:23:6:6720",
        "F:24:6:14176",
        "F:25:6:8087",
        "F:25:6:12686",
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
    (HERE / "np_schema0__3plus5-plt.json").write_text(cluster_file("np_schema0__3plus5-plt.json", PLUS))


if __name__ == "__main__":
    main()
