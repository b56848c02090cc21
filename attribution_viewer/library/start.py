"""Which graph a server opens first when it is given a folder of graphs.

``graphs_dir`` is the library folder; ``graph_path`` the graph opened first. ``--graph``
given a FOLDER means "this folder is the library" (``graphs_dir`` = it) and the first graph
of its index (by sub-folder, then name) opens first; an explicit ``graph_path`` file
opens first otherwise.

One graph FILE is served as a library of its own too when its server makes new graphs
beside it (:func:`single_graph_library`): the file and the graphs made from prompts in its
folder, so that a new graph opens on the same server (``?graph=<its name>``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from attribution_viewer.library.index import GraphIndex
from attribution_viewer.settings import Settings

log = logging.getLogger(__name__)


def library_settings(settings: Settings) -> tuple[Settings, GraphIndex | None]:
    """``settings`` with ``graph_path`` a file (and ``graphs_dir`` set from a folder ``graph_path``),
    and the library's index (None without ``graphs_dir``).

    Raises ValueError naming the setting when the folder is missing or holds no graph.
    """
    if settings.graph_path is not None and settings.graph_path.is_dir():
        settings = dataclasses.replace(settings, graphs_dir=settings.graph_path, graph_path=None)
    if settings.graphs_dir is None:
        return settings, None
    try:
        index = GraphIndex.scan(settings.graphs_dir)
    except ValueError as exc:
        raise ValueError(f"settings.graphs_dir: {exc}") from exc
    if settings.graph_path is None:
        if not len(index):
            raise ValueError(
                f"settings.graphs_dir: expected graph files in {settings.graphs_dir}, found none"
            )
        first = next(iter(index.entries.values()))
        settings = dataclasses.replace(settings, graph_path=index.path_of(first))
    log.info("%d graphs indexed in %s", len(index), settings.graphs_dir)
    return settings, index


def single_graph_library(
    settings: Settings, is_new_graph: Callable[[str], bool]
) -> tuple[Settings, GraphIndex] | None:
    """The library of a server of ONE graph file that saves new graphs beside it: the
    file's folder, indexed for that file and the names ``is_new_graph`` accepts (graphs
    made from a prompt) only, no sub-folder; ``settings`` with ``graphs_dir`` that folder.
    None when ``settings.graph_path`` is not a graph file the index lists (then it is
    served alone, as before)."""
    graph = settings.graph_path
    if graph is None or not graph.is_file():
        return None
    name = graph.name
    index = GraphIndex.scan(graph.parent, include=lambda other: other == name or is_new_graph(other))
    if name not in index.entries:
        return None
    log.info("serving %s and the graphs made from prompts beside it (%d)", name, len(index) - 1)
    return dataclasses.replace(settings, graphs_dir=graph.parent), index
