"""Render a plotly figure to PDF, SVG or PNG bytes with kaleido (headless Chromium).

kaleido >= 1 drives a Chromium-based browser that must be installed separately; when none
is found :func:`render_figure` raises :class:`MissingDependencyError` whose message says
exactly what to install (:data:`CHROMIUM_HINT`).

Starting Chromium takes about 2 s. The app and the ``export`` command render in a child
process with a timeout (:mod:`attribution_viewer.export.isolated`), which calls
:func:`render_figure`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Literal

import plotly.graph_objects as go
import plotly.io as pio

from attribution_viewer.errors import MissingDependencyError

logger = logging.getLogger(__name__)

ImageFormat = Literal["pdf", "svg", "png"]
IMAGE_FORMATS: tuple[ImageFormat, ...] = ("pdf", "svg", "png")
CHROMIUM_HINT = (
    "PDF/SVG/PNG export needs a Chromium browser for kaleido: install one with "
    "`apt-get install chromium` (Debian/Ubuntu), or download one for kaleido with "
    "`plotly_get_chrome` (shell) / `kaleido.get_chrome_sync()` (Python)"
)


def find_chromium() -> str | None:
    """Path of the Chromium kaleido would use (``BROWSER_PATH``, its own download, PATH), or None."""
    from choreographer.browsers.chromium import Chromium

    return Chromium.find_browser(skip_local=False)


def render_figure(
    fig: go.Figure,
    fmt: ImageFormat,
    width: int,
    height: int,
    scale: float = 1.0,
) -> bytes:
    """The figure as ``fmt`` bytes, ``width`` x ``height`` CSS pixels times ``scale``.

    For PNG the image is ``round(width * scale)`` x ``round(height * scale)`` pixels; PDF and
    SVG are vector, their page is ``width`` x ``height`` px (96 px per inch).
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {fmt!r}")
    if find_chromium() is None:
        raise MissingDependencyError(CHROMIUM_HINT)
    from kaleido.errors import ChromeNotFoundError

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            data = pio.to_image(fig, format=fmt, width=width, height=height, scale=scale)
    except ChromeNotFoundError as exc:
        raise MissingDependencyError(CHROMIUM_HINT) from exc
    logger.debug("rendered %s %dx%d scale %g: %d bytes", fmt, width, height, scale, len(data))
    return data
