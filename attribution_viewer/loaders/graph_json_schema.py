"""Graph JSON schema variants: how a feature node's ``feature`` field encodes (layer, index).

Part of the ``graph-json`` loader. Schema 1 (``metadata.schema_version == 1``) stores the
Cantor pair of (layer, feature_idx); schema 0 (no ``schema_version``) stores
``layer * 10**k + idx`` with one ``k`` for every feature. :func:`feature_indices` decodes
every feature node and checks the result against a ``{layer}_{idx}_{pos}`` node id.
"""

from __future__ import annotations

import math
from pathlib import Path

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders.graph_json_nodes import JsonNode

MAX_DIGITS = 18


def cantor_unpair(z: int) -> tuple[int, int]:
    """Inverse of the Cantor pairing ``(x + y)(x + y + 1)/2 + y`` -> ``(x, y)``."""
    w = (math.isqrt(8 * z + 1) - 1) // 2
    y = z - w * (w + 1) // 2
    return w - y, y


def schema0_digits(path: str | Path, feats: list[JsonNode]) -> int:
    """The ``k`` of ``feature = layer * 10**k + idx`` that fits every feature of layer > 0."""
    upper = [(n.feature, n.layer) for n in feats if n.layer > 0]
    if not upper:
        return 0
    for k in range(1, MAX_DIGITS + 1):
        if all(f // 10**k == layer for f, layer in upper):
            return k
    raise GraphFormatError(
        path, "nodes[].feature", "layer * 10**k + feature_idx with one k for every feature (schema 0)"
    )


def feature_indices(path: str | Path, schema: int, feats: list[JsonNode]) -> tuple[list[int], int]:
    """Decoded feature_idx per feature node, and the schema-0 digit count (0 for schema 1)."""
    digits = schema0_digits(path, feats) if schema == 0 else 0
    out: list[int] = []
    for n in feats:
        key = f"nodes[{n.index}].feature"
        if n.feature < 0:
            raise GraphFormatError(path, key, "a non-negative encoded feature", str(n.feature))
        if schema == 1:
            layer, idx = cantor_unpair(n.feature)
            if layer != n.layer:
                raise GraphFormatError(
                    path, key, f"the Cantor pair of (layer {n.layer}, feature_idx)", str(n.feature)
                )
        else:
            idx = n.feature - n.layer * 10**digits
        parts = n.node_id.split("_")
        if (
            len(parts) == 3
            and parts[0] == str(n.layer)
            and parts[2] == str(n.pos)
            and parts[1].isdigit()
            and int(parts[1]) != idx
        ):
            raise GraphFormatError(
                path, key, f"feature_idx {parts[1]} as in node_id {n.node_id!r}", f"decodes to {idx}"
            )
        out.append(idx)
    return out, digits
