"""A folder of graphs: index without opening, safe path resolution, a bounded LRU of open graphs.

* :class:`GraphIndex` (:mod:`.index`): the graph files under a folder, recursively, with
  format and prompt sniffed from their first bytes (:mod:`.sniff`); ``rescan`` picks up
  new, changed and removed files cheaply; ``resolve`` is the only way from a user's
  relative path to a file (:class:`GraphPathError` otherwise, nothing read).
* :class:`GraphCache` (:mod:`.cache`): at most ``open_graphs_max`` open stores.

Pure: no Dash; the app calls these per request.
"""

from attribution_viewer.library.cache import GraphCache, default_opener
from attribution_viewer.library.index import GraphEntry, GraphIndex, GraphPathError, RescanResult

__all__ = ["GraphCache", "GraphEntry", "GraphIndex", "GraphPathError", "RescanResult", "default_opener"]
