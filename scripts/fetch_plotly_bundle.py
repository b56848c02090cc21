"""Download plotly.js's small "basic" bundle into the app's assets (see attribution_viewer.app.bundle)."""

from __future__ import annotations

import logging

from attribution_viewer.app.bundle import fetch_basic_bundle

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(fetch_basic_bundle())
