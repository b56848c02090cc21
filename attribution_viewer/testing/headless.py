"""Headless Chromium settings shared by the browser tests, benchmarks and scripts.

The flags keep Chromium quiet on machines without a network or a GPU (no background
networking, no component updates); selenium is a development dependency and is imported
only by :func:`chrome_options`.
"""

from __future__ import annotations

import shutil
from typing import Any

HEADLESS_FLAGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chrome_options(width: int = 1600, height: int = 950) -> Any:
    """selenium ``ChromeOptions`` for the system Chromium, headless, at this window size."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for arg in (*HEADLESS_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(arg)
    return options
