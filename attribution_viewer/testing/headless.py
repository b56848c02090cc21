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


# What a desktop browser with a mouse reports (Blink's pointer / hover type settings:
# hover = 2, fine pointer = 4). Headless Chromium reports "(hover: none)" and no fine
# pointer, as a touch screen would: plotly.js then takes its touch path on a click (it
# sets the cursor on <html> at mousedown and back at mouseup, which restyles every element
# of the page twice per click), a cost no mouse user pays.
MOUSE_FLAG = (
    "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4"
)


def chrome_options(width: int = 1600, height: int = 950, mouse: bool = False) -> Any:
    """selenium ``ChromeOptions`` for the system Chromium, headless, at this window size;
    ``mouse``: its pages see a mouse (:data:`MOUSE_FLAG`), as on a desktop."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for arg in (*HEADLESS_FLAGS, f"--window-size={width},{height}", *([MOUSE_FLAG] if mouse else [])):
        options.add_argument(arg)
    return options
