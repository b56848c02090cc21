"""The scene of a view: which nodes are visible, which edges are visible and drawn, and where
nodes sit. Pure numpy, no plotly and no Dash.

:func:`build_scene` is the one path from a :class:`~attribution_viewer.view.ViewState` to
what the figure, the edge canvas and the print figure show; :func:`counts_text` says it in
words for the top bar; :func:`selected_edge_selection` picks the selected node's edges.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from attribution_viewer.edges import edge_sources, edge_widths
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.layout import GraphLayout, compute_layout
from attribution_viewer.model import GraphStore
from attribution_viewer.view import ViewState, visible_edges, visible_mask

LOGIT_SPACING = 3.0  # minimum slots between logits, room for their "token / p" labels


LOGIT_LABEL_SHARE = 0.05  # a logit label is about this share of the plot's width


MAX_SELECTED_EDGES = 250


class Scene(NamedTuple):
    """What a view shows: visible nodes, visible edges and the edges drawn (masks over
    ``adjacency.data``; at most ``max_drawn`` are drawn), and positions. ``strong`` (a
    subset of ``drawn``) are the edges that matter, drawn strongly; the rest of ``drawn``
    is drawn faded."""

    visible: np.ndarray
    edge_mask: np.ndarray
    layout: GraphLayout
    drawn: np.ndarray
    strong: np.ndarray


def strongest_edges(store: GraphStore, edge_mask: np.ndarray, limit: int) -> np.ndarray:
    """``edge_mask`` reduced to its ``limit`` strongest edges: widest (per-target
    normalised) for weighted graphs, between the most influential nodes for masks."""
    idx = np.flatnonzero(edge_mask)
    if idx.size <= limit:
        return edge_mask
    if store.weighted:
        score = edge_widths(store)[idx]
    else:
        cumulative = cumulative_influence(store)
        score = -(cumulative[edge_sources(store)[idx]] + cumulative[store.adjacency.indices[idx]])
    keep = idx[np.argsort(-score, kind="stable")[:limit]]
    out = np.zeros_like(edge_mask)
    out[keep] = True
    return out


def strongest_inputs(store: GraphStore, edge_mask: np.ndarray, per_target: int) -> np.ndarray:
    """``edge_mask`` reduced to the ``per_target`` strongest inputs of each target (largest
    |weight|; for masks, from the most influential sources); ``per_target`` <= 0: all."""
    idx = np.flatnonzero(edge_mask)
    if per_target <= 0 or idx.size == 0:
        return edge_mask
    target = store.adjacency.indices[idx]
    if store.weighted:
        score = np.abs(store.adjacency.data[idx].astype(np.float64))
    else:
        score = -cumulative_influence(store)[edge_sources(store)[idx]]
    order = np.lexsort((idx, -score, target))  # by target, strongest first, then edge index
    grouped = target[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
    out = np.zeros_like(edge_mask)
    out[idx[order[rank < per_target]]] = True
    return out


def view_layout(store: GraphStore, visible: np.ndarray) -> GraphLayout:
    """Layout of the visible nodes, cells ordered by influence (most influential first).

    Logits are spread so that their labels (about ``LOGIT_LABEL_SHARE`` of a typical plot
    width each) do not collide: a first pass measures the graph's width in slots.
    """
    score = 1.0 - cumulative_influence(store)
    first = compute_layout(store, visible, score=score, logit_spacing=LOGIT_SPACING)
    spacing = max(LOGIT_SPACING, LOGIT_LABEL_SHARE * first.width)
    if spacing == LOGIT_SPACING:
        return first
    return compute_layout(store, visible, score=score, logit_spacing=spacing)


def build_scene(
    store: GraphStore, view: ViewState, frequencies: np.ndarray | None, max_drawn: int | None = None
) -> Scene:
    """Visible nodes and edges of ``view``, the edges drawn and their layout.

    The strong edges are each target's ``view.edges_per_target`` strongest inputs; when
    ``view.faded_edges``, the other visible edges are drawn too (faded). At most
    ``max_drawn`` edges are drawn (None: all): the strong ones first, the strongest of
    the rest in the room left.
    """
    visible = visible_mask(store, view, frequencies)
    edge_mask = visible_edges(store, visible)
    drawn, strong = drawn_edges(store, edge_mask, view.edges_per_target, view.faded_edges, max_drawn)
    return Scene(visible, edge_mask, view_layout(store, visible), drawn, strong)


def drawn_edges(
    store: GraphStore, edge_mask: np.ndarray, per_target: int, faded: bool, max_drawn: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(drawn, strong)`` masks of the edges ``edge_mask`` shows: strong = each target's
    ``per_target`` strongest inputs (<= 0: all); drawn = strong, plus the others when
    ``faded``; at most ``max_drawn`` in all (None: no cap), the strong ones first, then the
    strongest of the rest in the room left. The page and the exports both draw these."""
    strong = strongest_inputs(store, edge_mask, per_target)
    if max_drawn is not None:
        strong = strongest_edges(store, strong, max_drawn)
    drawn = strong
    if faded:
        rest = edge_mask & ~strong
        room = None if max_drawn is None else max_drawn - int(strong.sum())
        drawn = strong | (rest if room is None else strongest_edges(store, rest, room))
    return drawn, strong


def counts_text(store: GraphStore, scene: Scene) -> str:
    """``"412 / 889 nodes · 1,203 / 1,257 edges"`` for the top bar, and how many are
    drawn strongly (``"2,138 strong"``) or at all (``"2,138 drawn"``) when not all are."""
    shown, drawn, strong = int(scene.edge_mask.sum()), int(scene.drawn.sum()), int(scene.strong.sum())
    text = f"{int(scene.visible.sum()):,} / {store.n_nodes:,} nodes · {shown:,} / {store.n_edges:,} edges"
    parts = [f"{strong:,} strong"] if strong < drawn else []
    parts += [f"{drawn:,} drawn"] if drawn < shown else []
    return text + (f" ({', '.join(parts)})" if parts else "")


def selected_edge_selection(
    store: GraphStore, index: int | None, visible_edge_mask: np.ndarray
) -> np.ndarray:
    """Edge indices (into adjacency.data) entering or leaving ``index``, strongest first, capped."""
    if index is None:
        return np.zeros(0, dtype=np.int64)
    a = store.adjacency
    out_edges = np.arange(a.indptr[index], a.indptr[index + 1])
    in_edges = np.flatnonzero(a.indices == index)
    edges = np.concatenate([out_edges, in_edges])
    edges = edges[visible_edge_mask[edges]]
    if edges.size > MAX_SELECTED_EDGES:
        edges = edges[np.argsort(-np.abs(a.data[edges]), kind="stable")[:MAX_SELECTED_EDGES]]
    return edges
