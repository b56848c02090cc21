"""Node search: pure matching of a query against the graph's nodes.

Query forms (case-insensitive, whitespace around them ignored):

* ``L5`` -- every feature / error in layer 5;
* ``L5/1234`` -- feature 1234 of layer 5 (any position);
* ``F:5:3:1234`` or any other canonical key -- that node;
* ``'Austin'`` or ``"Austin"`` -- nodes at positions whose token is exactly ``Austin``
  (surrounding whitespace of the token ignored), plus logits with that token; tokens may be
  typed as the app displays them (``'·Austin'``: ``·`` for a space, ``⏎`` for a newline);
* anything else -- substring of the node's label (user label, the graph's own label or the
  one built from its fields), of its description text, or of its token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from attribution_viewer.model import GraphStore, NodeKind

_LAYER = re.compile(r"^l(\d+)$")
_LAYER_FEATURE = re.compile(r"^l(\d+)\s*/\s*(\d+)$")


def search_nodes(
    store: GraphStore,
    query: str,
    labels: Mapping[str, str] | None = None,
    candidates: np.ndarray | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Indices of nodes matching ``query`` (sorted), restricted to ``candidates`` if given.

    ``labels`` (user labels) and ``descriptions`` map canonical keys to extra text to search in.
    """
    text = query.strip()
    if not text:
        return np.zeros(0, dtype=np.int64)
    nodes = store.nodes
    lowered = text.lower()
    match = np.zeros(store.n_nodes, dtype=bool)
    inner = nodes.kind <= NodeKind.ERROR
    if (m := _LAYER_FEATURE.match(lowered)) is not None:
        match = (
            (nodes.kind == NodeKind.FEATURE) & (nodes.layer == int(m[1])) & (nodes.feature_idx == int(m[2]))
        )
    elif (m := _LAYER.match(lowered)) is not None:
        match = inner & (nodes.layer == int(m[1]))
    elif text in store.index_of:
        match[store.index_of[text]] = True
    elif len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        token = typed_token(text[1:-1]).strip().lower()
        positions = [p for p, tok in enumerate(store.prompt_tokens) if tok.strip().lower() == token]
        match = np.isin(nodes.pos, positions) & (nodes.kind != NodeKind.LOGIT)
        for i in store.logit_indices:
            if store.logit_info(int(i)).token.strip().lower() == token:
                match[i] = True
    else:
        labels = labels or {}
        descriptions = descriptions or {}
        for i, key in enumerate(store.keys):
            extra = f"{labels.get(key, '')}\n{descriptions.get(key, '')}"
            haystack = f"{extra}\n{store.display_labels[i]}".lower()
            if lowered in haystack:
                match[i] = True
    if candidates is not None:
        match &= candidates
    return np.flatnonzero(match)


def typed_token(text: str) -> str:
    """A token typed as the app displays it, back to its text (inverse of ``visible_token``)."""
    return text.replace("\u00b7", " ").replace("\u23ce", "\n").replace("\u21e5", "\t")


def search_status(found: np.ndarray, visible: np.ndarray) -> str:
    """The top bar's count of ``found`` (node indices) split by ``visible`` (boolean mask):
    ``"N shown / M hidden"``, the hidden ones being the matches a filter hides."""
    shown = int(visible[found].sum()) if len(found) else 0
    return f"{shown} shown / {len(found) - shown} hidden"
