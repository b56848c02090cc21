"""attribution-viewer: a local Dash viewer for attribution graphs.

Layers, bottom up: ``loaders`` (file formats -> :class:`~attribution_viewer.model.GraphStore`),
pure computation (``pruning``, ``layout``, ``clustering``, ``figures``, ``export``), and
the Dash app (``app``), whose callbacks only wire component ids to those functions.
"""

from attribution_viewer.model import GraphStore, NodeKind

__all__ = ["GraphStore", "NodeKind"]
__version__ = "0.1.0"
