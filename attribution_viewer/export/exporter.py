"""One entry point for every export, shared by the ``export`` command and the app.

:func:`export_bytes` turns a view of a graph into the bytes of a PDF, SVG or PNG figure
(graph view or cluster view) or of a Neuronpedia graph JSON, within :class:`ExportLimits`:
a figure larger than ``max_px`` is refused before any work, and rendering runs in a child
process stopped after ``timeout_s`` (:mod:`attribution_viewer.export.isolated`).
"""

from __future__ import annotations

import json
from typing import Literal, NamedTuple

from attribution_viewer.errors import ExportError
from attribution_viewer.export.cluster_figure import build_cluster_print_figure
from attribution_viewer.export.isolated import render_isolated
from attribution_viewer.export.neuronpedia import to_neuronpedia_json
from attribution_viewer.export.print_figure import PrintOptions, PrintView, build_print_figure
from attribution_viewer.layout import GraphLayout
from attribution_viewer.limits import EXPORT_TIMEOUT_S, MAX_EXPORT_PX
from attribution_viewer.model import GraphStore

ExportFormat = Literal["pdf", "svg", "png", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("pdf", "svg", "png", "json")
MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "png": "image/png",
    "json": "application/json",
}


class ExportLimits(NamedTuple):
    """Bounds on one export (settings ``max_export_px``, ``export_timeout_s``)."""

    max_px: int = MAX_EXPORT_PX  # largest side in output pixels (device px for PNG)
    timeout_s: float = EXPORT_TIMEOUT_S


DEFAULT_LIMITS = ExportLimits()


def check_size(options: PrintOptions, fmt: ExportFormat, scale: float, max_px: int) -> None:
    """ExportError when the figure would be larger than ``max_px`` on a side (JSON: no limit)."""
    if fmt == "json":
        return
    factor = scale if fmt == "png" else 1.0
    width, height = round(options.width * factor), round(options.height * factor)
    if max(width, height) > max_px:
        unit = "pixels" if fmt == "png" else "px"
        raise ExportError(
            f"{fmt.upper()} of {width} x {height} {unit} is larger than the limit of {max_px} "
            "on a side (setting max_export_px, export --max-px)"
        )


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
    limits: ExportLimits = DEFAULT_LIMITS,
) -> bytes:
    """The export of ``view`` as ``fmt`` bytes.

    ``json``: the whole graph as Neuronpedia JSON with the view's labels, its clusters as
    supernodes (the graph's own supernodes when the view has none) and ``pinned`` keys.
    Figures: the graph view, or the cluster view of ``view.clusters`` when ``cluster_view``
    (``ValueError`` when there are no clusters); ``scale`` multiplies the PNG resolution;
    ``limits``: figures beyond ``limits.max_px`` raise ExportError (a ``ValueError``) before
    any work; rendering is stopped after ``limits.timeout_s`` (ExportError).
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
    check_size(options, fmt, scale, limits.max_px)
    if cluster_view:
        if not view.clusters:
            raise ValueError("the cluster view needs at least one active cluster")
        fig = build_cluster_print_figure(store, view.clusters, options)
    else:
        fig = build_print_figure(store, layout, view, options)
    return render_isolated(fig, fmt, options.width, options.height, scale, limits.timeout_s)
