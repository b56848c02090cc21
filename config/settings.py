"""Local paths and defaults of the viewer: edit the values in ``DEFAULTS`` below.

``launch.py`` and ``python -m attribution_viewer`` read this file. Precedence, highest
first: command-line flags > environment variables ``ATTRVIEW_<FIELD>`` > this file > the
library's defaults (:class:`attribution_viewer.settings.Settings`, where every field is
documented).
"""

from __future__ import annotations

from pathlib import Path

from attribution_viewer.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The synthetic example (tests and benchmarks) and the tiny real model (the default graph).
EXAMPLE_DIR = PROJECT_ROOT / "data" / "example"
TINY_DIR = PROJECT_ROOT / "data" / "tiny-addition"

DEFAULTS = Settings(
    # The graph opened by default. Its descriptions and frequencies come from the
    # attribution-viewer.json manifest beside it (they apply to that graph only).
    graph_path=TINY_DIR / "sum-37-45-tens.npz",
    # A description folder for every graph you open (None: each graph's own manifest).
    autointerp_dir=None,
    host="127.0.0.1",
    port=8050,
)
