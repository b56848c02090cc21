"""Server-side state of one app process: the graph and its lazily opened companions.

An :class:`AppContext` is built once per app (see :func:`attribution_viewer.app.create_app`)
and is read-only afterwards: everything a user changes lives in the browser. Companion data
is opened on first use, once, under a lock: the description folder is never listed or read
at start-up, the frequency file is read the first time a page needs it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from attribution_viewer.autointerp import (
    DescriptionSource,
    FeatureDetails,
    load_frequencies,
    open_description_source,
)
from attribution_viewer.clustering.texts import node_texts
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.library import GraphCache
from attribution_viewer.live.jobs import LiveSetup
from attribution_viewer.lru import LRU
from attribution_viewer.model import GraphStore, NodeKind
from attribution_viewer.scene import Scene, build_scene
from attribution_viewer.scores import GraphScores, graph_scores
from attribution_viewer.settings import Settings
from attribution_viewer.view import ViewState

log = logging.getLogger(__name__)

SCENES_KEPT = 8


@dataclass(frozen=True)
class FrequencyData:
    """Per-node frequencies, or why there are none (``error`` is None when fine or absent)."""

    values: np.ndarray | None
    error: str | None


@dataclass(frozen=True)
class DetailsResult:
    """A feature's description record, or why there is none."""

    details: FeatureDetails | None
    error: str | None


@dataclass(frozen=True, eq=False)
class LibraryGraph:
    """Where an app's graph sits in a folder of graphs (folder mode only).

    ``rel_path`` is the graph's id in URLs (``?graph=``); ``cache`` holds the library's
    index and its open graphs (shared by every graph's app of the process)."""

    cache: GraphCache
    rel_path: str


@dataclass(eq=False)
class AppContext:
    """The graph and companions shared by all requests of one process (read-only)."""

    settings: Settings
    store: GraphStore
    # The live model's job wiring (None: no model configured; see attribution_viewer.live.jobs).
    live: LiveSetup | None = None
    library: LibraryGraph | None = None  # set when the graph is one of a folder of graphs
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _scenes: LRU[tuple[object, ...], Scene] = field(default_factory=lambda: LRU(SCENES_KEPT), repr=False)

    @cached_property
    def graph_id(self) -> str:
        """Identifier of the graph in URLs: its path in the library, else the slug, else the file name."""
        if self.library is not None:
            return self.library.rel_path
        return self.store.metadata.slug or Path(self.store.metadata.source_path).name or "graph"

    @cached_property
    def scores(self) -> GraphScores:
        """Replacement and completeness scores of the whole graph (computed once, on first use)."""
        return graph_scores(self.store)

    @cached_property
    def descriptions(self) -> DescriptionSource | None:
        """The description folder (opened on first use; opening reads no file)."""
        path = self.settings.autointerp_dir
        if path is None:
            return None
        try:
            return open_description_source(
                path, cache_size=self.settings.description_cache_size, scan=self.store.metadata.scan
            )
        except GraphFormatError as exc:
            log.warning("descriptions unavailable: %s", exc)
            return None

    @cached_property
    def frequencies(self) -> FrequencyData:
        """Per-node firing frequency (NaN for non-features / unknown), read once on first use."""
        path = self.settings.resolved_frequency_path
        if path is None or not Path(path).exists():
            return FrequencyData(None, None)
        with self._lock:
            try:
                table = load_frequencies(path)
            except GraphFormatError as exc:
                log.warning("frequencies unavailable: %s", exc)
                return FrequencyData(None, str(exc))
        nodes = self.store.nodes
        values = np.full(self.store.n_nodes, np.nan)
        feat = self.store.kind_slices[NodeKind.FEATURE]
        values[feat] = table.for_features(nodes.layer[feat], nodes.feature_idx[feat])
        return FrequencyData(values, None)

    def scene(self, view: ViewState) -> Scene:
        """The scene of ``view`` (at most ``settings.max_drawn_edges`` edges drawn).

        It depends only on the filters and pins, so a click, a node-size change or a search
        reuses it: the last :data:`SCENES_KEPT` scenes are kept (deterministic derived data,
        shared by all users; the arrays are never modified)."""
        key = (
            view.prune_threshold,
            view.frequency_threshold,
            view.show_errors,
            view.pinned,
            view.edges_per_target,
            view.faded_edges,
        )
        scene = self._scenes.get(key)
        if scene is None:
            scene = build_scene(self.store, view, self.frequencies.values, self.settings.max_drawn_edges)
            self._scenes.put(key, scene)
        return scene

    def feature_details(self, index: int) -> DetailsResult:
        """The description record of feature node ``index`` (one file read, then cached)."""
        source = self.descriptions
        if source is None or self.store.kind_of(index) is not NodeKind.FEATURE:
            return DetailsResult(None, None)
        nodes = self.store.nodes
        try:
            return DetailsResult(source.get(int(nodes.layer[index]), int(nodes.feature_idx[index])), None)
        except GraphFormatError as exc:
            return DetailsResult(None, str(exc))

    @cached_property
    def search_texts(self) -> dict[str, str]:
        """Description text of the graph's features by key, for the search (read on the first
        text search, once per process). Bounded: at most ``settings.description_cache_size``
        features, the most influential first, so a huge graph reads a bounded number of files."""
        source = self.descriptions
        if source is None:
            return {}
        feat = self.store.kind_slices[NodeKind.FEATURE]
        indices = np.arange(feat.start, feat.stop)
        order = np.argsort(cumulative_influence(self.store)[indices], kind="stable")
        chosen = [int(i) for i in indices[order][: self.settings.description_cache_size]]
        texts = node_texts(self.store, source, chosen)
        nodes = self.store.nodes
        # node_texts falls back to the node's label: the search reads labels on its own
        return {self.store.keys[i]: t for i, t in zip(chosen, texts, strict=True) if t != nodes.label[i]}

    def descriptions_of(self, indices: Sequence[int]) -> dict[str, str]:
        """The description of each described feature among ``indices``, by key (at most
        ``settings.description_cache_size`` features, the first ones, are looked up: one file
        read each, then cached)."""
        out: dict[str, str] = {}
        features = [i for i in indices if self.store.kind_of(i) is NodeKind.FEATURE]
        for i in features[: self.settings.description_cache_size]:
            details = self.feature_details(i).details
            if details is not None and details.description.strip():
                out[self.store.keys[i]] = details.description.strip()
        return out

    def node_texts(self, indices: Sequence[int]) -> list[str]:
        """Description (or label) text of each node, for clustering."""
        return node_texts(self.store, self.descriptions, indices)
