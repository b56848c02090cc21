"""Graph JSON links and ``qParams``: the adjacency and the saved supernodes / pinned ids.

Part of the ``graph-json`` loader. :func:`link_adjacency` builds the CSR ``[source, target]``
float64 matrix from ``links``: weight-0 links are no edge, duplicate (source, target) pairs
are summed (and logged), links naming a node id that two nodes share are dropped and
counted. :func:`q_params` maps ``qParams`` node ids to canonical keys (unknown ids are
logged and ignored).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.errors import GraphFormatError

log = logging.getLogger(__name__)


class Links(NamedTuple):
    """The adjacency built from ``links`` and what was merged or dropped on the way."""

    adjacency: sp.csr_matrix
    duplicates: int  # links repeating a (source, target) pair: weights summed
    ambiguous: int  # links naming a node id two nodes share: dropped


def link_adjacency(
    path: str | Path, links: Any, index_of_id: Mapping[str, int], n: int, ambiguous_ids: set[str]
) -> Links:
    """CSR ``[source, target]`` float64 from ``links``; links naming ``ambiguous_ids`` dropped."""
    if not isinstance(links, list):
        raise GraphFormatError(path, "links", "a list of {source, target, weight}", type(links).__name__)
    src = np.empty(len(links), np.int64)
    tgt = np.empty(len(links), np.int64)
    weight = np.empty(len(links), np.float64)
    ambiguous = np.zeros(len(links), np.bool_)
    for i, link in enumerate(links):
        if not isinstance(link, dict):
            raise GraphFormatError(
                path, f"links[{i}]", "an object {source, target, weight}", type(link).__name__
            )
        for end, out in (("source", src), ("target", tgt)):
            node_id = link.get(end)
            if isinstance(node_id, str) and node_id in ambiguous_ids:
                ambiguous[i] = True
                out[i] = 0
                continue
            if not isinstance(node_id, str) or node_id not in index_of_id:
                raise GraphFormatError(
                    path, f"links[{i}].{end}", "the node_id of a node in nodes", repr(node_id)
                )
            out[i] = index_of_id[node_id]
        w = link.get("weight")
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
            raise GraphFormatError(path, f"links[{i}].weight", "a finite number", repr(w))
        weight[i] = w
    keep = (weight != 0) & ~ambiguous
    flat = src[keep] * n + tgt[keep]
    duplicates = int(flat.size - np.unique(flat).size)
    adjacency = sp.csr_matrix((weight[keep], (src[keep], tgt[keep])), shape=(n, n))
    adjacency.sum_duplicates()
    adjacency.eliminate_zeros()  # duplicates may cancel
    if duplicates:
        log.warning(
            "%s: %d duplicate links (same source and target); their weights were summed", path, duplicates
        )
    return Links(adjacency, duplicates, int(ambiguous.sum()))


def q_params(
    path: str | Path, q: Any, key_of_id: Mapping[str, str]
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]]:
    """(supernodes, pinned) from ``qParams``, node ids mapped to canonical keys."""
    if not isinstance(q, dict):
        return (), ()

    def keys(ids: list[Any], where: str) -> tuple[str, ...]:
        unknown = [i for i in ids if i not in key_of_id]
        if unknown:
            log.warning(
                "%s: %s names %d unknown node ids (ignored): %s", path, where, len(unknown), unknown[:5]
            )
        return tuple(key_of_id[i] for i in ids if i in key_of_id)

    supernodes: list[tuple[str, tuple[str, ...]]] = []
    for j, group in enumerate(q.get("supernodes") or []):
        if not isinstance(group, list) or not group or not isinstance(group[0], str):
            raise GraphFormatError(path, f"qParams.supernodes[{j}]", "[label, node_id, ...]", repr(group))
        supernodes.append((group[0], keys(group[1:], f"qParams.supernodes[{j}]")))
    pinned_raw = q.get("pinnedIds") or []
    if isinstance(pinned_raw, str):
        pinned_raw = [p for p in pinned_raw.split(",") if p]
    if not isinstance(pinned_raw, list):
        raise GraphFormatError(path, "qParams.pinnedIds", "a list of node ids", repr(pinned_raw))
    return tuple(supernodes), keys(pinned_raw, "qParams.pinnedIds")
