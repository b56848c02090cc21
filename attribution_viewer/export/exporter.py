"""One entry point for every export, shared by the ``export`` command and the app.

:func:`export_bytes` turns a view of a graph into the bytes of a PDF, SVG or PNG figure
(graph view or cluster view) or of a Neuronpedia graph JSON.
"""

from __future__ import annotations

import json
from typing import Literal

from attribution_viewer.export.image import render_figure
from attribution_viewer.export.neuronpedia import to_neuronpedia_json
from attribution_viewer.export.print_figure import (
    PrintOptions,
    PrintView,
    build_cluster_print_figure,
    build_print_figure,
)
from attribution_viewer.layout import GraphLayout
from attribution_viewer.model import GraphStore

ExportFormat = Literal["pdf", "svg", "png", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("pdf", "svg", "png", "json")
MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "png": "image/png",
    "json": "application/json",
}


def export_bytes(
    store: GraphStore,
    layout: GraphLayout,
    view: PrintView,
    options: PrintOptions,
    fmt: ExportFormat,
    *,
    cluster_view: bool = False,
    pinned: tuple[str, ...] = (),
    scale: float = 1.0,
    keep_browser: bool = False,
) -> bytes:
    """The export of ``view`` as ``fmt`` bytes.

    ``json``: the whole graph as Neuronpedia JSON with the view's labels, its clusters as
    supernodes (the graph's own supernodes when the view has none) and ``pinned`` keys.
    Figures: the graph view, or the cluster view of ``view.clusters`` when ``cluster_view``
    (``ValueError`` when there are no clusters); ``scale`` multiplies the PNG resolution;
    ``keep_browser`` keeps kaleido's Chromium running for the next export (see
    :func:`~attribution_viewer.export.image.render_figure`).
    """
    if fmt == "json":
        keys = store.keys
        supernodes = [(c.name, [keys[m] for m in c.members]) for c in view.clusters] or None
        doc = to_neuronpedia_json(
            store,
            labels={keys[i]: text for i, text in view.labels.items()},
            pinned=pinned,
            supernodes=supernodes,
        )
        return json.dumps(doc, allow_nan=False, separators=(",", ":")).encode()
    if cluster_view:
        if not view.clusters:
            raise ValueError("the cluster view needs at least one active cluster")
        fig = build_cluster_print_figure(store, view.clusters, options)
    else:
        fig = build_print_figure(store, layout, view, options)
    return render_figure(fig, fmt, options.width, options.height, scale, keep_browser=keep_browser)
