"""The graph picker (folder mode): every graph of the library, in the top bar.

One dropdown (``graph-picker``), searchable by file name, sub-folder and prompt, grouped by
sub-folder (a disabled heading option per folder), each option showing the name, the
format, the size and the prompt. Clicking it (opening) rescans the folder, so new files
appear without a restart (only new or changed files are sniffed); choosing a graph loads
``?graph=<relative path>``, a new page served by that graph's app
(:mod:`attribution_viewer.app.folder`). Absent in single-graph mode.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.library import GraphEntry, GraphIndex

_FOLDER_VALUE = "\x00folder:"  # heading options' values (never a path: resolve refuses NUL)


def size_text(size: int) -> str:
    """A file size for people: ``812 B``, ``4.2 kB``, ``31.0 MB``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _option(entry: GraphEntry, rich: bool) -> dict[str, Any]:
    prompt = entry.prompt or ""
    meta = f"{entry.format} · {size_text(entry.size)}"
    detail = f"{meta} · {prompt[:100]}" if prompt else meta
    label: Any = f"{entry.rel_path} ({meta})"
    if rich:
        label = html.Div([entry.name, html.Small(detail, className="pick-meta")])
    return {"label": label, "value": entry.rel_path, "search": f"{entry.rel_path} {prompt}"}


def graph_options(index: GraphIndex, rich: bool = True) -> list[dict[str, Any]]:
    """The dropdown's options: per sub-folder, a disabled heading then its graphs (``rich``:
    name over format, size and prompt; else one line of text, lighter for long lists)."""
    options: list[dict[str, Any]] = []
    folder: str | None = None
    for entry in index.entries.values():
        if entry.folder != folder:
            folder = entry.folder
            options.append(
                {
                    "label": f"{folder}/" if folder else "(top folder)",
                    "value": _FOLDER_VALUE + folder,
                    "search": folder,
                    "disabled": True,
                }
            )
        options.append(_option(entry, rich))
    return options


def layout(app_ctx: AppContext) -> list[Any]:
    """The picker (nothing in single-graph mode), placed in the top bar by the page."""
    library = app_ctx.library
    if library is None:
        return []
    return [
        html.Div(
            [
                dcc.Dropdown(
                    id=ids.GRAPH_PICKER,
                    options=graph_options(library.cache.index),
                    value=library.rel_path,
                    clearable=False,
                    searchable=True,
                    placeholder="Graph: name or prompt",
                    maxHeight=420,
                    className="graph-picker",
                ),
                dcc.Store(id=ids.GRAPH_NAV, data=library.rel_path),
            ],
            id=ids.GRAPH_PICKER_BOX,
            className="graph-picker-box",
            title="Graphs of the folder (search by name or prompt)",
        )
    ]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the rescan and navigation callbacks (none in single-graph mode)."""
    library = app_ctx.library
    if library is None:
        return
    index = library.cache.index

    def rescan(_clicks: int | None) -> tuple[Any, Any]:
        found = index.rescan()
        if not (found.added or found.removed or found.changed):
            return no_update, no_update
        return graph_options(index), graph_options(index, rich=False)

    app.callback(
        Output(ids.GRAPH_PICKER, "options"),
        Output(ids.COMPARE_PICKER, "options"),  # the compare view's list (same folder)
        Input(ids.GRAPH_PICKER_BOX, "n_clicks"),
        prevent_initial_call=True,
    )(rescan)
    app.clientside_callback(  # a new page, served by the chosen graph's app
        """function (value, current) {
            if (!value || value === current || value.charAt(0) === "\\u0000") {
                return window.dash_clientside.no_update;
            }
            window.location.assign("?graph=" + encodeURIComponent(value).replace(/%2F/g, "/"));
            return value;
        }""",
        Output(ids.GRAPH_NAV, "data"),
        Input(ids.GRAPH_PICKER, "value"),
        State(ids.GRAPH_NAV, "data"),
        prevent_initial_call=True,
    )
