"""Short names and one-line descriptions for groups of feature nodes.

With descriptions: the name is the group's most distinctive terms, scored class-based
TF-IDF style (a term's frequency in the group's texts times ``log(1 + A / f)``, ``A`` the
average word count of a group and ``f`` the term's count over all groups and the
unclustered background), so terms common to every group lose to terms typical of one.

Without descriptions (or when a group's members have none): the layers, the prompt
token(s) the members sit on, and the logit they feed most (summed per-logit influence
through the normalised graph), e.g. ``L3-5 @ 'Austin' → '·Texas'``.

Names are unique within one call (a repeated name gets a `` (2)``, `` (3)`` suffix).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.clustering.similarity import normalised_adjacency
from attribution_viewer.model import GraphStore, NodeKind, visible_token

N_NAME_TERMS = 2
N_DESCRIPTION_TERMS = 4


class GroupName(NamedTuple):
    name: str
    description: str


def quoted(token: str) -> str:
    return "'" + visible_token(token) + "'"


def logit_influence(store: GraphStore) -> np.ndarray:
    """``n_nodes x n_logits``: signed influence of every node on every logit.

    Sum over all paths of the products of per-target-normalised edge weights
    (``A_n + A_n^2 + ...``), the same normalisation circuit-tracer prunes with.
    """
    logits = store.logit_indices
    if logits.size == 0:
        return np.zeros((store.n_nodes, 0))
    norm = normalised_adjacency(store)
    step = np.asarray(norm[:, logits].toarray())
    total = step.copy()
    for _ in range(store.n_layers + 4):  # attribution graphs are DAGs of depth <= n_layers + 2
        step = norm @ step
        if not np.any(np.abs(step) > 1e-12):
            break
        total += step
    return total


def distinctive_terms(documents: Sequence[str], n_named: int) -> list[list[tuple[str, float]]]:
    """Per document (the first ``n_named``), its terms by c-TF-IDF score, best first.

    Documents after ``n_named`` are background: they count for the term frequencies but
    get no terms. Terms are lowercase words of 2+ letters, English stop words removed.
    """
    if not any(d.strip() for d in documents):
        return [[] for _ in range(n_named)]
    # scikit-learn is imported on first use: it costs ~0.7 s, and the server must start fast.
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(lowercase=True, stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{2,}\b")
    try:
        counts = sp.csr_matrix(vectorizer.fit_transform(list(documents))).toarray().astype(np.float64)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(n_named)]
    vocab = vectorizer.get_feature_names_out()
    words = counts.sum(axis=1)
    avg_words = float(words[words > 0].mean())
    idf = np.log1p(avg_words / counts.sum(axis=0))
    tf = counts / np.maximum(words, 1.0)[:, None]
    scores = tf * idf[None, :]
    out: list[list[tuple[str, float]]] = []
    for row in range(n_named):
        order = np.lexsort((vocab, -scores[row]))  # score desc, then alphabetical
        out.append([(str(vocab[j]), float(scores[row, j])) for j in order if counts[row, j] > 0])
    return out


def unique_name(base: str, used: set[str]) -> str:
    """``base``, or ``base (2)``, ``base (3)``, ... whichever is not in ``used``; adds it."""
    name, k = base, 1
    while name in used:
        k += 1
        name = f"{base} ({k})"
    used.add(name)
    return name


def _span(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def _structure(store: GraphStore, members: Sequence[int], influence: np.ndarray) -> tuple[str, str, str]:
    """(layers ``"3-5"``, positions ``"'a'..'b'"`` or ``"@ 'a'"``, fed logit or "")."""
    layers = [int(store.nodes.layer[i]) for i in members]
    positions = sorted(int(store.nodes.pos[i]) for i in members)
    if positions[0] == positions[-1]:
        where = "@ " + quoted(store.token_at(positions[0]))
    else:
        where = quoted(store.token_at(positions[0])) + ".." + quoted(store.token_at(positions[-1]))
    fed = ""
    if influence.shape[1]:
        per_logit = influence[list(members)].sum(axis=0)
        best = int(np.argmax(per_logit))
        if per_logit[best] > 0:
            fed = quoted(store.logits[best].token)
    return _span(layers), where, fed


def name_groups(
    store: GraphStore,
    groups: Sequence[Sequence[int]],
    *,
    texts: Sequence[str] | None = None,
    background: Collection[int] = (),
    taken: Collection[str] = (),
) -> list[GroupName]:
    """A unique name and a one-line description for each group of feature node indices.

    ``texts`` holds one description per node index (or None); ``background`` lists
    nodes outside the groups whose texts count as "everything else" for the term
    scores; ``taken`` are names already in use elsewhere (they are avoided too).
    """
    influence = logit_influence(store) if groups else np.zeros((store.n_nodes, 0))
    terms: list[list[tuple[str, float]]] = [[] for _ in groups]
    if texts is not None:
        documents = [" ".join(texts[i] for i in g) for g in groups]
        documents.append(" ".join(texts[i] for i in background))
        terms = distinctive_terms(documents, len(groups))
    used = set(taken)
    out: list[GroupName] = []
    for group, group_terms in zip(groups, terms, strict=True):
        layers, where, fed = _structure(store, group, influence)
        arrow = f" → {fed}" if fed else ""
        named = [t for t, _ in group_terms[:N_NAME_TERMS]]
        base = " / ".join(named) if named else f"L{layers} {where}{arrow}"
        name = unique_name(base, used)
        n_kind = sum(1 for i in group if store.kind_of(i) is NodeKind.FEATURE)
        parts = [
            f"{n_kind} feature{'s' if n_kind != 1 else ''}",
            f"layer{'s' if '-' in layers else ''} {layers}",
        ]
        parts.append(("position " if where.startswith("@") else "positions ") + where.removeprefix("@ "))
        if fed:
            parts.append(f"mostly feeding {fed}")
        description = ", ".join(parts)
        top = [t for t, _ in group_terms[:N_DESCRIPTION_TERMS]]
        if top:
            description += "; top terms: " + ", ".join(top)
        out.append(GroupName(name, description))
    return out
