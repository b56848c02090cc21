"""The compare view (folder mode): this graph and a second one of the library, side by side.

Below the graph view: a ``compare-picker`` for the second graph, then one figure with both
graphs (the print figure of each,
:func:`~attribution_viewer.export.compare_figure.build_compare_print_figure`, each at its
default pruning threshold; static: no canvases, no click-through to the node panel), the
features present in both marked in both, and the ``compare-table`` of shared / only-left /
only-right features (layer, index, influence in each graph; sortable, filterable).
Clicking a row selects that feature in both halves (its most influential node in each,
drawn as "Selected" with its edges emphasised); so does clicking a shared feature's marker in
either half. Hovering one rings its twins in the other half until the pointer leaves it;
a click (marker or row) pins the feature, its markers ringed in both halves, until a click
elsewhere (in the browser: ``compare-twin`` holds what is ringed and whether it is pinned).
An Export button downloads the comparison as PDF / SVG / PNG
(:func:`~attribution_viewer.export.compare_figure.export_compare_bytes`).

The second graph is opened through the library's :class:`~attribution_viewer.library.GraphCache`
(a bad path: a message, nothing read); the last comparisons are kept per process
(derived, read-only). Absent in single-graph mode.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, callback_context, dash_table, dcc, html, no_update

from attribution_viewer.app import ids
from attribution_viewer.app.context import AppContext
from attribution_viewer.app.export_menu import safe_filename
from attribution_viewer.app.picker import graph_options
from attribution_viewer.compare import FeatureId, FeatureRow, GraphComparison, Side, compare_graphs
from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.export.compare_figure import (
    SHARED_NAME,
    TWIN_NAME,
    ComparePanel,
    build_compare_screen_figure,
    export_compare_bytes,
    panel_shown,
    print_view_of,
    ring_feature,
)
from attribution_viewer.export.exporter import MIME_TYPES, ExportLimits
from attribution_viewer.export.image import IMAGE_FORMATS
from attribution_viewer.export.print_figure import PrintOptions
from attribution_viewer.library import GraphPathError
from attribution_viewer.lru import LRU

log = logging.getLogger(__name__)

COMPARISONS_KEPT = 2
SCREEN = PrintOptions(width=1200, height=520, font_size=11.0)  # the on-screen figure
PAGE = PrintOptions.two_column()  # the exported page
COLUMNS = (
    ("status", "In"),
    ("layer", "Layer"),
    ("feature", "Feature"),
    ("left_influence", "Influence here"),
    ("right_influence", "Influence there"),
    ("left_nodes", "Nodes here"),
    ("right_nodes", "Nodes there"),
)
STATUS_TEXT = {"shared": "both", "left": "only here", "right": "only there"}


@dataclass(frozen=True, eq=False)
class Comparison:
    """This graph against a second one: both panels and the feature comparison."""

    other_path: str
    left: ComparePanel
    right: ComparePanel
    features: GraphComparison


def table_rows(comparison: GraphComparison) -> list[dict[str, Any]]:
    """The table's rows (``id`` = ``layer/feature``, so a click is found after sorting)."""
    return [_row(row) for row in comparison.rows]


def _row(row: FeatureRow) -> dict[str, Any]:
    return {
        "id": f"{row.layer}/{row.feature_idx}",
        "status": STATUS_TEXT[row.status],
        "layer": row.layer,
        "feature": row.feature_idx,
        "left_influence": round(row.left_influence, 6),
        "right_influence": round(row.right_influence, 6),
        "left_nodes": row.left_nodes,
        "right_nodes": row.right_nodes,
    }


def parse_feature(row_id: str | None) -> FeatureId | None:
    """``"layer/feature"`` -> (layer, feature); None for anything else."""
    if not isinstance(row_id, str):
        return None
    layer, _, feature = row_id.partition("/")
    try:
        return int(layer), int(feature)
    except ValueError:
        return None


def clicked_feature(click: dict[str, Any] | None) -> FeatureId | None:
    """The feature of a clicked shared-feature marker (``customdata`` ``"layer/feature"``)."""
    points = (click or {}).get("points") or [{}]
    return parse_feature(points[0].get("customdata"))


# The twin rings, in the browser (no request). Hovering a shared feature rings its twins
# (the other half's markers with its id; cleared when the pointer leaves the plot: the
# graph's hoverData is cleared on unhover); clicking it, or a table row, pins the feature:
# its markers ringed in both halves (the server's new figure rings them too, ring_feature)
# whatever the pointer does, until a click on anything else in the plot (a DOM listener:
# a click that is not on a shared marker; it also clears the figure's clickData, so the
# server's figure shows no feature selected) or on another row. Returns what it ringed, whether
# it is pinned and the hovered feature (None once the pointer has left).
TWIN_JS = (
    """function (hover, click, cell, state) {
    const none = window.dash_clientside.no_update;
    const gd = document.querySelector('#COMPARE_FIGURE .js-plotly-plot');
    if (!gd || !gd._fullData) {
        return none;
    }
    // _fullData: the traces as drawn (arrays decoded); .index is the trace's place in gd.data.
    const axis = t => t.xaxis || 'x';
    const ring = (feature, axes) => {
        const traces = gd._fullData, rings = traces.filter(t => t.name === 'TWIN_NAME');
        const x = [], y = [];
        rings.forEach(r => {
            const shared = traces.find(t => t.name === 'SHARED_NAME' && axis(t) === axis(r));
            const xs = [], ys = [];
            if (feature && axes.includes(axis(r))) {
                Array.from((shared && shared.customdata) || []).forEach((key, k) => {
                    if (key === feature) { xs.push(shared.x[k]); ys.push(shared.y[k]); }
                });
            }
            x.push(xs); y.push(ys);
        });
        if (rings.length) {
            window.Plotly.restyle(gd, {x: x, y: y}, rings.map(t => t.index));
        }
        return x.reduce((n, xs) => n + xs.length, 0);
    };
    const point = hover && hover.points && hover.points[0];
    const hovered = point && typeof point.customdata === 'string' ? point.customdata : null;
    const result = (feature, where, twins, pinned) => {
        gd.__twinPinned = pinned;
        return {feature: feature, axis: where, twins: twins, pinned: pinned, hover: hovered};
    };
    const hooks = window.__compareTwin || (window.__compareTwin = {onPoint: () => { hooks.point = true; }});
    if (gd.removeListener) {  // a click on a shared marker comes first as plotly_click
        gd.removeListener('plotly_click', hooks.onPoint);
        gd.on('plotly_click', hooks.onPoint);
    }
    if (!gd.__twinClickOff) {
        gd.__twinClickOff = true;
        gd.addEventListener('click', () => {
            if (hooks.point) { hooks.point = false; return; }
            if (gd.__twinPinned) {  // a click elsewhere in the plot: unpinned
                ring(null, []);
                const cleared = Object.assign(result(null, null, 0, false), {hover: null});
                window.dash_clientside.set_props('COMPARE_TWIN', {data: cleared});
                // ... and the server's figure drops the feature's selection (show: no feature)
                window.dash_clientside.set_props('COMPARE_FIGURE', {clickData: null});
            }
        });
    }
    const ctx = window.dash_clientside.callback_context;
    const trigger = ((ctx.triggered || [])[0] || {}).prop_id || '';
    if (trigger.endsWith('.clickData') || trigger.endsWith('.active_cell')) {
        const picked = trigger.endsWith('.clickData')
            ? ((click && click.points && click.points[0]) || {}).customdata
            : (cell || {}).row_id;
        if (typeof picked !== 'string') {
            ring(null, []);
            return result(null, null, 0, false);
        }
        return result(picked, 'both', ring(picked, ['x', 'x2']), true);
    }
    if (state && state.pinned) {  // pinned: hovering and leaving change no ring
        return result(state.feature, state.axis, state.twins, true);
    }
    if (!hovered) {
        ring(null, []);
        return result(null, null, 0, false);
    }
    const here = axis(gd._fullData.find(t => t.index === point.curveNumber) || {});
    const there = here === 'x' ? 'x2' : 'x';
    return result(hovered, there, ring(hovered, [there]), false);
}""".replace("COMPARE_FIGURE", ids.COMPARE_FIGURE)
    .replace("COMPARE_TWIN", ids.COMPARE_TWIN)
    .replace("SHARED_NAME", SHARED_NAME)
    .replace("TWIN_NAME", TWIN_NAME)
)


def open_comparison(app_ctx: AppContext, other_path: str) -> Comparison:
    """Open the second graph of ``app_ctx``'s library (GraphPathError / GraphFormatError) and compare."""
    library = app_ctx.library
    if library is None:
        raise ValueError("compare: expected a graph of a folder (graphs_dir), got a single graph")
    other = library.cache.open(other_path)
    store = app_ctx.store
    left_layout, left_view = print_view_of(store, None, app_ctx.settings.show_errors)
    right_layout, right_view = print_view_of(other, None, app_ctx.settings.show_errors)
    return Comparison(
        other_path,
        ComparePanel(store, left_layout, left_view, library.rel_path),
        ComparePanel(other, right_layout, right_view, other_path),
        compare_graphs(store, other),
    )


def selected_panels(comparison: Comparison, feature: FeatureId | None) -> tuple[ComparePanel, ComparePanel]:
    """Both panels with ``feature``'s strongest shown node selected in each (none where the
    feature is absent or pruned away at the graph's default threshold)."""
    panels = []
    sides: tuple[tuple[Side, ComparePanel], ...] = (("left", comparison.left), ("right", comparison.right))
    for side, panel in sides:
        shown = panel_shown(panel)  # placed at the graph's default pruning
        node = (
            None if feature is None else comparison.features.strongest_node(side, panel.store, feature, shown)
        )
        view = dataclasses.replace(panel.view, selected=node)
        panels.append(dataclasses.replace(panel, view=view))
    return panels[0], panels[1]


def summary_text(comparison: Comparison) -> str:
    counts = comparison.features.counts
    text = (
        f"{counts.shared} features in both, {counts.only_left} only in {comparison.left.title}, "
        f"{counts.only_right} only in {comparison.other_path}"
    )
    names: tuple[tuple[Side, str], ...] = (("left", comparison.left.title), ("right", comparison.other_path))
    for side, name in names:
        stored = comparison.features.stored_agreement(side)
        if stored is not None:
            text += (
                f"; {name}'s stored intersection: {stored.stored} features, {stored.both} found shared here, "
                f"{stored.stored_only} not, {stored.computed_only} shared but not stored"
            )
    return text


def layout(app_ctx: AppContext) -> list[Any]:
    """The compare section (nothing in single-graph mode), placed under the graph by the page."""
    library = app_ctx.library
    if library is None:
        return []
    return [
        html.Section(
            [
                html.Div(
                    [
                        html.Label("Compare with", className="control-label"),
                        dcc.Dropdown(
                            id=ids.COMPARE_PICKER,
                            options=graph_options(library.cache.index, rich=False),
                            placeholder="a second graph of the folder",
                            className="compare-picker",
                        ),
                        dcc.Dropdown(
                            id=ids.COMPARE_EXPORT_FORMAT,
                            options=list(IMAGE_FORMATS),
                            value="pdf",
                            clearable=False,
                            searchable=False,
                            className="compare-export-format",
                        ),
                        html.Button("Export comparison", id=ids.COMPARE_EXPORT_GO, className="btn"),
                        html.Span(id=ids.COMPARE_STATUS, className="compare-status"),
                        dcc.Download(id=ids.COMPARE_DOWNLOAD),
                    ],
                    className="compare-bar",
                ),
                html.Div(id=ids.COMPARE_SUMMARY, className="compare-summary"),
                dcc.Store(id=ids.COMPARE_TWIN),
                dcc.Graph(
                    id=ids.COMPARE_FIGURE,
                    figure=go.Figure(),
                    config={"displaylogo": False, "responsive": True},
                    clear_on_unhover=True,  # hoverData None when the pointer leaves: rings cleared
                    style={"display": "none"},
                ),
                dash_table.DataTable(
                    id=ids.COMPARE_TABLE,
                    columns=[{"id": key, "name": name} for key, name in COLUMNS],
                    data=[],
                    sort_action="native",
                    filter_action="native",
                    page_size=15,
                    style_table={"overflowX": "auto"},
                    style_cell={"fontSize": 12, "padding": "2px 6px"},
                ),
            ],
            id=ids.COMPARE_VIEW,
            className="compare-view",
        )
    ]


def register(app: Dash, app_ctx: AppContext) -> None:
    """Attach the compare callbacks (none in single-graph mode)."""
    library = app_ctx.library
    if library is None:
        return
    kept: LRU[str, Comparison] = LRU(COMPARISONS_KEPT)

    def comparison_of(other_path: str) -> Comparison:
        found = kept.get(other_path)
        if found is None:
            found = open_comparison(app_ctx, other_path)
            kept.put(other_path, found)
        return found

    def show(
        other_path: str | None, active: dict[str, Any] | None, clicked: dict[str, Any] | None
    ) -> tuple[Any, ...]:
        """Picker change: the comparison; a table row or a shared feature clicked in either
        half: the same figure with that feature selected in both halves."""
        hidden = {"display": "none"}
        if not other_path:
            return go.Figure(), hidden, [], ""
        try:
            comparison = comparison_of(other_path)
        except (GraphPathError, GraphFormatError) as exc:
            return go.Figure(), hidden, [], f"cannot compare: {exc}"
        trigger = callback_context.triggered_id
        picked = trigger == ids.COMPARE_PICKER
        feature = None
        if trigger == ids.COMPARE_TABLE and active:
            feature = parse_feature(active.get("row_id"))
        elif trigger == ids.COMPARE_FIGURE:
            feature = clicked_feature(clicked)
        left, right = selected_panels(comparison, feature)
        figure = build_compare_screen_figure(left, right, comparison.features, SCREEN)
        if feature is not None:  # pinned: its markers ringed in both halves (as TWIN_JS does)
            ring_feature(figure, f"{feature[0]}/{feature[1]}")
        rows = table_rows(comparison.features) if picked else no_update
        return figure, {}, rows, summary_text(comparison)

    app.callback(
        Output(ids.COMPARE_FIGURE, "figure"),
        Output(ids.COMPARE_FIGURE, "style"),
        Output(ids.COMPARE_TABLE, "data"),
        Output(ids.COMPARE_SUMMARY, "children"),
        Input(ids.COMPARE_PICKER, "value"),
        Input(ids.COMPARE_TABLE, "active_cell"),
        Input(ids.COMPARE_FIGURE, "clickData"),
        prevent_initial_call=True,
    )(show)
    # The twin rings (hover, pin on click, unpin on a click elsewhere), in the browser.
    app.clientside_callback(
        TWIN_JS,
        Output(ids.COMPARE_TWIN, "data"),
        Input(ids.COMPARE_FIGURE, "hoverData"),
        Input(ids.COMPARE_FIGURE, "clickData"),
        Input(ids.COMPARE_TABLE, "active_cell"),
        State(ids.COMPARE_TWIN, "data"),
        prevent_initial_call=True,
    )

    def export(n_clicks: int | None, other_path: str | None, fmt: str | None) -> tuple[Any, str]:
        if not n_clicks or not other_path:
            return no_update, "choose a graph to compare with first" if n_clicks else ""
        if fmt not in IMAGE_FORMATS:
            return no_update, f"format: expected one of {', '.join(IMAGE_FORMATS)}"
        try:
            comparison = comparison_of(other_path)
            content = export_compare_bytes(
                comparison.left,
                comparison.right,
                comparison.features,
                PAGE,
                fmt,
                scale=2.0 if fmt == "png" else 1.0,
                limits=ExportLimits(app_ctx.settings.max_export_px, app_ctx.settings.export_timeout_s),
            )
        except (GraphPathError, GraphFormatError, MissingDependencyError, ValueError) as exc:
            log.warning("compare export failed: %s", exc)
            return no_update, f"cannot export: {exc}"
        name = f"{safe_filename(library.rel_path)}-vs-{safe_filename(other_path)}.{fmt}"
        return dcc.send_bytes(content, name, type=MIME_TYPES[fmt]), f"{name}: {len(content) / 1024:.0f} KB"

    app.callback(
        Output(ids.COMPARE_DOWNLOAD, "data"),
        Output(ids.COMPARE_STATUS, "children"),
        Input(ids.COMPARE_EXPORT_GO, "n_clicks"),
        State(ids.COMPARE_PICKER, "value"),
        State(ids.COMPARE_EXPORT_FORMAT, "value"),
        prevent_initial_call=True,
    )(export)
