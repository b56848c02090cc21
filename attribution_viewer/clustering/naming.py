"""Short names and one-line descriptions for groups of feature nodes.

With descriptions (or labels such as Neuronpedia clerps): the name is the group's most
distinctive terms, scored class-based TF-IDF style (a term's frequency in the group's
texts times ``log(1 + A / f)``, ``A`` the average word count of a group and ``f`` the
term's count over all groups and the unclustered background), so terms common to every
group lose to terms typical of one.

Without them: what the data supports, token first, e.g. ``'Dallas' L0-3 → 'Austin'``:
the prompt token(s) the members sit on (``'"'@8`` when the group sits on one of several
positions holding that token), their layers, and the logit they act on most
(summed per-logit influence through the normalised graph; ``→`` when they promote it,
``⊣`` when they suppress it).

The description says what the group does in words a reader can check: size, token(s) and
positions, layers, the main output and its sign, and up to three typical member texts
(those sharing most of the group's distinctive terms).

Names are unique within one call (a repeated name gets a `` #2``, `` #3`` suffix; not
``(2)``, which would read as a size where the cluster graph writes ``name (size)``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from attribution_viewer.clustering.labels import short_label
from attribution_viewer.clustering.similarity import normalised_adjacency
from attribution_viewer.model import GraphStore, NodeKind, visible_token

N_NAME_TERMS = 2
N_TYPICAL = 3  # member texts quoted in a description
MAX_TYPICAL_CHARS = 40
MIN_OUTPUT_INFLUENCE = 0.01  # a group acting less on every logit names no output


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
    """``base``, or ``base #2``, ``base #3``, ... whichever is not in ``used``; adds it."""
    name, k = base, 1
    while name in used:
        k += 1
        name = f"{base} #{k}"
    used.add(name)
    return name


def _span(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


class Structure(NamedTuple):
    """What the graph alone says about a group (see :func:`structure`)."""

    tokens: str  # "'a'", "'a' + 'b'" or "'a'..'z'"
    positions: tuple[int, ...]
    layers: str  # "3" or "3-5"
    output: str  # quoted logit token, or "" when the group barely reaches any logit
    sign: float  # summed influence on that logit


def repeated(store: GraphStore, token: str) -> bool:
    """Whether ``token`` occurs at more than one position of the prompt."""
    return store.prompt_tokens.count(token) > 1


def structure(store: GraphStore, members: Sequence[int], influence: np.ndarray) -> Structure:
    """Tokens, positions, layers and main logit of a group of node indices."""
    positions = tuple(sorted({int(store.nodes.pos[i]) for i in members}))
    strings = list(dict.fromkeys(store.token_at(p) for p in positions))
    if len(positions) == 1 and repeated(store, strings[0]):
        tokens = f"{quoted(strings[0])}@{positions[0]}"  # which of the prompt's '"' it is
    elif len(strings) <= 2:
        tokens = " + ".join(quoted(t) for t in strings)
    else:
        tokens = quoted(store.token_at(positions[0])) + ".." + quoted(store.token_at(positions[-1]))
    output, sign = "", 0.0
    if influence.shape[1]:
        per_logit = influence[list(members)].sum(axis=0)
        best = int(np.argmax(np.abs(per_logit)))
        if abs(per_logit[best]) >= MIN_OUTPUT_INFLUENCE:
            output, sign = quoted(store.logits[best].token), float(per_logit[best])
    return Structure(tokens, positions, _span([int(store.nodes.layer[i]) for i in members]), output, sign)


def structural_name(parts: Structure) -> str:
    """``'Dallas' L0-3 → 'Austin'`` (``⊣`` when the group suppresses that logit)."""
    arrow = f" {'→' if parts.sign > 0 else '⊣'} {parts.output}" if parts.output else ""
    return f"{parts.tokens} L{parts.layers}{arrow}"


def typical_texts(texts: Sequence[str], terms: Sequence[tuple[str, float]], n: int) -> list[str]:
    """Up to ``n`` texts sharing most of the group's term scores, best first, distinct as shown
    (cut to ``MAX_TYPICAL_CHARS``)."""
    score = dict(terms)
    ranked: dict[str, float] = {}
    for text in texts:
        clean = " ".join(text.split())
        if clean and clean not in ranked:
            words = {w.lower() for w in re.findall(r"[^\W\d_]{2,}", clean)}
            ranked[clean] = math.fsum(score.get(w, 0.0) for w in words)  # any order: one value
    shown: list[str] = []
    for text in sorted(ranked, key=lambda t: (-ranked[t], len(t), t)):
        short = short_label(text, MAX_TYPICAL_CHARS)
        if short not in shown:
            shown.append(short)
    return shown[:n]


def describe(parts: Structure, n_features: int, typical: Sequence[str]) -> str:
    """One line: size, token(s) and positions, layers, main output and sign, typical texts."""
    where = ", ".join(str(p) for p in parts.positions[:4]) + (", …" if len(parts.positions) > 4 else "")
    line = (
        f"{n_features} feature{'s' if n_features != 1 else ''} on {parts.tokens} "
        f"(position{'s' if len(parts.positions) > 1 else ''} {where}), "
        f"layer{'s' if '-' in parts.layers else ''} {parts.layers}"
    )
    if parts.output:
        verb = "promotes" if parts.sign > 0 else "suppresses"
        line += f"; {verb} {parts.output} most (influence {parts.sign:+.2f})"
    if typical:
        line += "; typical: " + ", ".join(f'"{t}"' for t in typical)
    return line


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
        parts = structure(store, group, influence)
        named = [t for t, _ in group_terms[:N_NAME_TERMS]]
        name = unique_name(" / ".join(named) if named else structural_name(parts), used)
        typical = (
            typical_texts([texts[i] for i in group], group_terms, N_TYPICAL) if texts is not None else []
        )
        n_features = sum(1 for i in group if store.kind_of(i) is NodeKind.FEATURE)
        out.append(GroupName(name, describe(parts, n_features, typical)))
    return out
