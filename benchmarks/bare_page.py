"""The floor of ``benchmarks/ui.py``: a bare Dash page measured the same way as the app.

    python -P benchmarks/bare_page.py --port 8060   # -P: benchmarks/click.py shadows click

As ``../shared/docs/perf-notes.md`` defines it: a minimal Dash page with one ``dcc.Graph``
of 500 SVG markers (``go.Scatter``, plotly's default bundle) and one click callback that
writes the clicked point's key (``N:{index}``) into ``#node-panel`` as ``.node-key``, so
``ui.py``'s in-page click timer (mousedown -> the frame after the panel shows the key)
works unchanged. ``#bare-page`` tells the timer there is no edge canvas to wait for.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

N_MARKERS = 500
SEED = 0


def create_bare_app() -> Dash:
    """The bare page: 500 markers on a 25 x 20 grid with jitter, one click callback."""
    rng = np.random.default_rng(SEED)
    cols, rows = 25, N_MARKERS // 25
    x = np.tile(np.arange(cols), rows) + rng.uniform(-0.2, 0.2, N_MARKERS)
    y = np.repeat(np.arange(rows), cols) + rng.uniform(-0.2, 0.2, N_MARKERS)
    figure = go.Figure(
        go.Scatter(x=x, y=y, mode="markers", customdata=list(range(N_MARKERS)), marker={"size": 10}),
        layout={"margin": {"l": 40, "r": 10, "t": 40, "b": 40}, "dragmode": "pan"},
    )
    app = Dash(__name__, title="bare Dash page", update_title="")
    app.layout = html.Div(
        [
            html.Div(id="bare-page"),
            dcc.Graph(id="attribution-graph", figure=figure, style={"height": "90vh", "width": "70vw"}),
            html.Div(id="node-panel"),
        ],
        style={"display": "flex"},
    )

    def show(click: dict[str, Any] | None) -> Any:
        points = (click or {}).get("points") or []
        if not points:
            return "Click a marker."
        return html.Code(f"N:{points[0]['customdata']}", className="node-key")

    app.callback(Output("node-panel", "children"), Input("attribution-graph", "clickData"))(show)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8060)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_bare_app().run(host="127.0.0.1", port=args.port, debug=False)


if __name__ == "__main__":
    main()
