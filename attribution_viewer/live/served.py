"""What one server process serves, decided alike for ``launch.py`` and ``wsgi.py``.

A folder of graphs, ONE graph file with a model together with the graphs made from prompts
beside it (:func:`attribution_viewer.live.new_graph.new_graphs_library`), or one file alone.
No Dash import here: ``launch.py`` decides before it starts a ``.pt`` conversion.
"""

from __future__ import annotations

from attribution_viewer.library import GraphIndex
from attribution_viewer.library.start import library_settings
from attribution_viewer.live.jobs import model_spec
from attribution_viewer.live.new_graph import new_graphs_library
from attribution_viewer.settings import Settings


def served_graphs(settings: Settings) -> tuple[Settings, GraphIndex | None]:
    """What a server of ``settings`` serves (``launch.py`` and ``wsgi.py`` alike): a folder
    (:func:`~attribution_viewer.library.start.library_settings`), ONE file with the graphs
    made beside it when it has a model
    (:func:`~attribution_viewer.live.new_graph.new_graphs_library`), or the file alone
    (index None). ValueError names the setting of a missing or empty folder."""
    settings, index = library_settings(settings)
    if index is None and settings.graph_path is not None:
        has_model = model_spec(settings, settings.graph_path) is not None
        settings, index = new_graphs_library(settings, has_model) or (settings, None)
    return settings, index
