"""The steering panel's results: a steering run and an edge check as Dash components.

:func:`steer_result_view` shows the default and the steered continuation side by side, the
next-token probability changes as a bar chart (:func:`changes_figure`) and a table whose
rows carry the exact values in ``data-*`` attributes (``data-token-id``, ``data-before``,
``data-after``; for scripts and tests); :func:`edge_result_view` the measured effect of each
checked edge next to its graph weight (rows ``data-weight``, ``data-measured``). Both end
with the run mode (how attention and LayerNorm were frozen) and the time taken.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from attribution_viewer.live.backend import EdgeCheckResult, SteerResult
from attribution_viewer.model import visible_token


def _data(**values: str) -> dict[str, Any]:
    """``data-*`` attributes (exact values for scripts and tests): ``token_id`` -> ``data-token-id``."""
    return {"data-" + name.replace("_", "-"): value for name, value in values.items()}


def _continuation(title: str, prompt: str, text: str) -> html.Div:
    return html.Div(
        [
            html.Div(title, className="steer-subtitle"),
            html.Span(prompt, className="steer-prompt"),
            html.Span(visible_token(text) or "∅", className="steer-continuation"),
        ],
        className="steer-column",
    )


def changes_figure(result: SteerResult) -> go.Figure:
    """Horizontal bars: next-token probability change per token (after - before)."""
    changes = list(reversed(result.changes[:12]))
    labels = [f"'{visible_token(c.token)}'" for c in changes]
    values = [c.change for c in changes]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=["#1a9850" if v >= 0 else "#762a83" for v in values],
            customdata=[[c.before, c.after] for c in changes],
            hovertemplate="%{y}: %{customdata[0]:.3f} → %{customdata[1]:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=40 + 18 * len(changes),
        margin={"l": 60, "r": 10, "t": 24, "b": 20},
        title={"text": "next-token probability change", "font": {"size": 12}},
        xaxis={"zeroline": True, "zerolinecolor": "#888"},
        plot_bgcolor="white",
    )
    return figure


def steer_result_view(result: SteerResult, prompt: str, label: str, job_id: str = "") -> list[Any]:
    """A steering run: continuations, the probability-change chart and table, the run mode."""
    rows = [
        html.Tr(
            [
                html.Td(f"'{visible_token(c.token)}'"),
                html.Td(f"{c.before:.3f}"),
                html.Td(f"{c.after:.3f}"),
                html.Td(f"{c.change:+.3f}", className="pos" if c.change >= 0 else "neg"),
            ],
            className="steer-change-row",
            # Exact values, for scripts and tests.
            **_data(token_id=str(c.token_id), before=repr(c.before), after=repr(c.after)),
        )
        for c in result.changes
    ]
    return [
        html.Div(label, className="steer-note"),
        html.Div(
            [
                _continuation("Default", prompt, result.baseline.text),
                _continuation("Steered", prompt, result.steered.text),
            ],
            className="steer-columns",
        ),
        dcc.Graph(id="steer-chart", figure=changes_figure(result), config={"displayModeBar": False}),
        html.Table(
            [
                html.Thead(
                    html.Tr([html.Th("token"), html.Th("before"), html.Th("after"), html.Th("change")])
                ),
                html.Tbody(rows),
            ],
            className="steer-table",
        ),
        html.Div(
            f"Run mode: {result.freeze_mode} · {result.seconds:.2f} s",
            className="steer-note steer-mode",
            **_data(job=job_id),
        ),
    ]


def edge_result_view(result: EdgeCheckResult) -> list[Any]:
    """An edge check: per edge its graph weight, the measured effect and their ratio."""
    rows = []
    for edge in result.edges:
        ratio = edge.ratio
        rows.append(
            html.Tr(
                [
                    html.Td(edge.source),
                    html.Td(edge.target),
                    html.Td(f"{edge.graph_weight:.4g}"),
                    html.Td(f"{edge.measured:.4g}"),
                    html.Td("-" if ratio is None else f"{ratio:.3f}"),
                ],
                className="edge-check-row",
                **_data(weight=repr(edge.graph_weight), measured=repr(edge.measured)),
            )
        )
    header = html.Tr([html.Th(t) for t in ("source", "target", "graph weight", "measured", "ratio")])
    return [
        html.Table([html.Thead(header), html.Tbody(rows)], className="steer-table"),
        html.Div(
            f"Run mode: {result.freeze_mode} · {result.seconds:.2f} s", className="steer-note steer-mode"
        ),
    ]
