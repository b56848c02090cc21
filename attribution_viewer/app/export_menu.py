"""The "Export" menu of the top bar: the current view as PDF / SVG / PNG or Neuronpedia JSON.

The menu is a ``<details>`` element (opens without a callback). Its Download button runs
:func:`export_view`, which rebuilds the user's current view from the same controls and
browser stores as the graph (node size, errors toggle, pruning and frequency sliders,
selected node, pinned nodes, labels, the **Edges** control: strong and faint edges, active
clusters) and hands it to :func:`attribution_viewer.export.exporter.export_bytes`. The
menu's "node labels" box follows the page's labels toggle (``LABELS_FLAG_JS``, in the
browser; the user can still change it in the menu).

Figures need a Chromium browser on the server (kaleido). When none is found the menu
says what to install, and the graph's own camera button still saves SVG / PNG from the
browser.
"""

from __future__ import annotations

import logging
import re
from typing import Any, NamedTuple, cast

import numpy as np
from dash import Dash, Input, Output, State, dcc, html, no_update

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.controls import ViewControls, view_dependencies
from attribution_viewer.app.drawing import active_clusters
from attribution_viewer.app.node_labels import label_descriptions
from attribution_viewer.errors import MissingDependencyError
from attribution_viewer.export import image
from attribution_viewer.export.exporter import (
    EXPORT_FORMATS,
    MIME_TYPES,
    ExportFormat,
    ExportLimits,
    export_bytes,
)
from attribution_viewer.export.print_figure import PrintOptions, PrintView
from attribution_viewer.export.print_geometry import PRINT_MAX_EDGES
from attribution_viewer.scene import build_scene
from attribution_viewer.view import ViewState

log = logging.getLogger(__name__)

PRESETS: dict[str, PrintOptions] = {
    "two-column": PrintOptions.two_column(),
    "one-column": PrintOptions.one_column(),
}
FLAG_LABELS = "labels"
FLAG_CLUSTERS = "clusters"
# The menu's own inputs: export_view's keyword argument -> component id (property "value").
EXPORT_FORM: dict[str, str] = {
    "fmt": ids.EXPORT_FORMAT,
    "width": ids.EXPORT_WIDTH,
    "height": ids.EXPORT_HEIGHT,
    "font_size": ids.EXPORT_FONT_SIZE,
    "title": ids.EXPORT_TITLE,
    "flags": ids.EXPORT_FLAGS,
}
# The menu's flags with "node labels" set as the page's labels toggle is (others kept).
LABELS_FLAG_JS = """function (toggle, flags) {
    const rest = (flags || []).filter(f => f !== 'FLAG_LABELS');
    return (toggle || []).includes('labels') ? ['FLAG_LABELS'].concat(rest) : rest;
}""".replace("FLAG_LABELS", FLAG_LABELS)
MENU_STYLE = {
    "position": "absolute",
    "right": 0,
    "zIndex": 20,
    "background": "#ffffff",
    "border": "1px solid #d0d0d0",
    "borderRadius": "6px",
    "boxShadow": "0 4px 14px rgba(0,0,0,0.15)",
    "padding": "10px 12px",
    "width": "270px",
    "display": "grid",
    "gap": "6px",
    "fontSize": "13px",
}
ROW_STYLE = {"display": "flex", "gap": "6px", "alignItems": "center"}
NUMBER_STYLE = {"width": "64px"}


def _row(label: str, *children: Any) -> html.Div:
    return html.Div([html.Span(label, style={"width": "70px"}), *children], style=ROW_STYLE)


def _size_input(component_id: str, value: int) -> dcc.Input:
    return dcc.Input(id=component_id, type="number", min=100, max=4000, value=value, style=NUMBER_STYLE)


def layout() -> html.Details:
    """The Export button and its menu (format, preset, size, font, title, view), plus the
    ``export-download`` component."""
    default = PRESETS["two-column"]
    note = (
        []
        if image.find_chromium()
        else [
            html.Div(
                f"{image.CHROMIUM_HINT}. Until then, JSON works here and the graph's "
                "camera button saves SVG/PNG from the browser.",
                className="export-note",
                style={"color": "#a33"},
            )
        ]
    )
    menu = html.Div(
        [
            _row(
                "Format",
                dcc.RadioItems(
                    id=ids.EXPORT_FORMAT,
                    options=list(EXPORT_FORMATS),
                    value="pdf",
                    inline=True,
                    inputStyle={"marginRight": "2px"},
                    labelStyle={"marginRight": "8px"},
                ),
            ),
            _row(
                "Preset",
                dcc.Dropdown(
                    id=ids.EXPORT_PRESET,
                    options=[*PRESETS, "custom"],
                    value="two-column",
                    clearable=False,
                    style={"flex": "1"},
                ),
            ),
            _row(
                "Size (px)",
                _size_input(ids.EXPORT_WIDTH, default.width),
                html.Span("×"),
                _size_input(ids.EXPORT_HEIGHT, default.height),
            ),
            _row(
                "Font (px)",
                dcc.Input(
                    id=ids.EXPORT_FONT_SIZE,
                    type="number",
                    min=4,
                    max=48,
                    step=0.5,
                    value=default.font_size,
                    style=NUMBER_STYLE,
                ),
            ),
            _row(
                "Title",
                dcc.Input(
                    id=ids.EXPORT_TITLE, type="text", value="", placeholder="(none)", style={"flex": "1"}
                ),
            ),
            dcc.Checklist(
                id=ids.EXPORT_FLAGS,
                value=[],
                options=[
                    {"label": " node labels", "value": FLAG_LABELS},
                    {"label": " cluster view", "value": FLAG_CLUSTERS},
                ],
                inline=True,
                labelStyle={"marginRight": "10px"},
            ),
            html.Button("Download", id=ids.EXPORT_GO, n_clicks=0, className="export-go"),
            dcc.Loading(html.Div(id=ids.EXPORT_STATUS, className="export-status"), type="dot"),
            *note,
            dcc.Download(id=ids.EXPORT_DOWNLOAD),
        ],
        style=MENU_STYLE,
    )
    return html.Details(
        [
            html.Summary(
                "Export", id=ids.EXPORT_BUTTON, className="export-button", style={"cursor": "pointer"}
            ),
            menu,
        ],
        id=ids.EXPORT_MENU,
        className="export-menu",
        style={"position": "relative"},
    )


class ExportResult(NamedTuple):
    """The file to send, or a message explaining why there is none."""

    filename: str
    content: bytes | None
    mime: str
    message: str


def safe_filename(text: str) -> str:
    """``text`` reduced to a safe file-name stem."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "graph"


def export_view(
    app_ctx: AppContext,
    base: ViewState,
    *,
    fmt: str,
    width: float | None,
    height: float | None,
    font_size: float | None,
    title: str | None,
    flags: list[str] | None,
    controls: ViewControls,
    cluster_state: dict[str, Any] | None,
) -> ExportResult:
    """Export the view the controls describe.

    ``controls`` are read exactly as the graph callbacks read them, so the export shows
    what the user sees.
    """
    store = app_ctx.store
    flags = flags or []
    if fmt not in EXPORT_FORMATS:
        return ExportResult("", None, "", f"unknown format {fmt!r}")
    fmt_checked = cast(ExportFormat, fmt)
    c = controls
    view = c.view(base)
    try:
        options = PrintOptions(
            width=int(width or 0),
            height=int(height or 0),
            font_size=float(font_size or 0),
            title=title or "",
            show_labels=FLAG_LABELS in flags,
            max_edges=min(app_ctx.settings.max_drawn_edges, PRINT_MAX_EDGES),
        )
    except ValueError as exc:
        return ExportResult("", None, "", str(exc))
    scene = build_scene(store, view, app_ctx.frequencies.values)
    index_of = store.index_of
    print_view = PrintView(
        visible=scene.visible,
        selected=index_of.get(view.selected) if view.selected else None,
        clusters=tuple(active_clusters(app_ctx, cluster_state)),
        labels={index_of[k]: v for k, v in view.labels.items() if k in index_of and v},
        descriptions=label_descriptions(app_ctx, np.flatnonzero(scene.visible))
        if FLAG_LABELS in flags and fmt != "json"
        else {},
        node_size=view.node_size,
        show_errors=view.show_errors,
        edges_per_target=view.edges_per_target,
        faded_edges=view.faded_edges,
    )
    cluster_view = FLAG_CLUSTERS in flags and fmt != "json"
    stem = safe_filename(app_ctx.graph_id) + ("-clusters" if cluster_view else "")
    try:
        content = export_bytes(
            store,
            scene.layout,
            print_view,
            options,
            fmt_checked,
            cluster_view=cluster_view,
            pinned=view.pinned,
            scale=2.0 if fmt == "png" else 1.0,
            limits=ExportLimits(app_ctx.settings.max_export_px, app_ctx.settings.export_timeout_s),
        )
    except MissingDependencyError as exc:
        return ExportResult("", None, "", str(exc))
    except ValueError as exc:
        return ExportResult("", None, "", f"cannot export: {exc}")
    name = f"{stem}.{fmt}"
    return ExportResult(name, content, MIME_TYPES[fmt], f"{name}: {len(content) / 1024:.0f} KB")


def preset_values(preset: str | None) -> tuple[Any, Any, Any]:
    """(width, height, font size) of a preset; no change for "custom"."""
    options = PRESETS.get(preset or "")
    if options is None:
        return no_update, no_update, no_update
    return options.width, options.height, options.font_size


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the export menu's callbacks to ``app``."""
    base = ViewState()

    app.clientside_callback(  # in the browser; on the first call too: show_labels=1 ticks the box
        LABELS_FLAG_JS,
        Output(ids.EXPORT_FLAGS, "value"),
        Input(ids.SHOW_LABELS, "value"),
        State(ids.EXPORT_FLAGS, "value"),
    )

    app.callback(
        Output(ids.EXPORT_WIDTH, "value"),
        Output(ids.EXPORT_HEIGHT, "value"),
        Output(ids.EXPORT_FONT_SIZE, "value"),
        Input(ids.EXPORT_PRESET, "value"),
        prevent_initial_call=True,
    )(preset_values)

    def download(
        n_clicks: int | None, form: dict[str, Any], view: dict[str, Any], clusters: dict[str, Any] | None
    ) -> tuple[Any, str]:
        if not n_clicks:
            return no_update, ""
        result = export_view(app_ctx, base, **form, controls=ViewControls(**view), cluster_state=clusters)
        if result.content is None:
            log.warning("export failed: %s", result.message)
            return no_update, result.message
        return dcc.send_bytes(result.content, result.filename, type=result.mime), result.message

    app.callback(
        Output(ids.EXPORT_DOWNLOAD, "data"),
        Output(ids.EXPORT_STATUS, "children"),
        inputs={"n_clicks": Input(ids.EXPORT_GO, "n_clicks")},
        state={
            "form": {name: State(component, "value") for name, component in EXPORT_FORM.items()},
            "view": view_dependencies(State),
            "clusters": State(ids.CLUSTER_STATE, "data"),
        },
        # busy: Download is disabled and spins while the file is drawn
        running=[
            (Output(ids.EXPORT_GO, "disabled"), True, False),
            (Output(ids.EXPORT_GO, "className"), "export-go busy", "export-go"),
        ],
        prevent_initial_call=True,
    )(download)
