"""Automatic and manual clustering of feature nodes into named groups ("supernodes").

- :func:`cluster_features`: group features by a similarity mixing signed connectivity,
  layer/position proximity and description text; hard size cap; named clusters.
- :mod:`.state`: the browser's cluster state and pure edit operations on it, including
  re-clustering that keeps manual edits.
- :mod:`.overview`: cluster positions and flows for the cluster-level graph.
- :mod:`.labels`: names of highlighted clusters placed beside them in the main graph.
- :mod:`.files`: save / load cluster files; import the original app's v2.0 files and
  Neuronpedia supernodes.

Pure computation: numpy, scipy and scikit-learn only, no Dash.
"""

from __future__ import annotations

from attribution_viewer.clustering.core import (
    DEFAULT_MIN_SIMILARITY,
    Cluster,
    ClusteringResult,
    cluster_features,
    default_candidates,
    split_members,
)
from attribution_viewer.clustering.files import (
    dump_state,
    import_original,
    import_supernodes,
    load_cluster_file,
)
from attribution_viewer.clustering.naming import GroupName, name_groups
from attribution_viewer.clustering.similarity import METHODS, SimilarityParams, TextEmbedder, TfidfEmbedder
from attribution_viewer.clustering.state import (
    ClusterEntry,
    ClusterState,
    ValidatedState,
    active_node_colors,
    add_nodes,
    create_cluster,
    delete_cluster,
    manual_nodes,
    merge_clusters,
    recluster,
    recolor_cluster,
    remove_nodes,
    rename_cluster,
    split_cluster,
    state_from_groups,
    state_from_result,
    toggle_active,
    validate_state,
)

__all__ = [
    "DEFAULT_MIN_SIMILARITY",
    "METHODS",
    "Cluster",
    "ClusterEntry",
    "ClusterState",
    "ClusteringResult",
    "GroupName",
    "SimilarityParams",
    "TextEmbedder",
    "TfidfEmbedder",
    "ValidatedState",
    "active_node_colors",
    "add_nodes",
    "cluster_features",
    "create_cluster",
    "default_candidates",
    "delete_cluster",
    "dump_state",
    "import_original",
    "import_supernodes",
    "load_cluster_file",
    "manual_nodes",
    "merge_clusters",
    "name_groups",
    "recluster",
    "recolor_cluster",
    "remove_nodes",
    "rename_cluster",
    "split_cluster",
    "split_members",
    "state_from_groups",
    "state_from_result",
    "toggle_active",
    "validate_state",
]
