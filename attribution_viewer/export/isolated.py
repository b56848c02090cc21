"""Render a figure in a child process with a timeout, so a stuck render blocks nothing.

kaleido drives a headless Chromium; a figure it cannot render (a huge PNG, a browser that
hangs) may never return. :func:`render_isolated` therefore renders each figure in its own
child process (``python -m attribution_viewer.export.isolated``, figure JSON on stdin, the
file's bytes on stdout) in a new process group, and kills the whole group (Chromium
included) when ``timeout_s`` passes. At most :data:`MAX_CONCURRENT_RENDERS` renders run at
once per server process; a further request is refused at once with a message rather than
queued. The bytes are checked to be a real PDF / SVG / PNG before they are returned.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import plotly.graph_objects as go
import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from attribution_viewer.errors import ExportError, MissingDependencyError, one_line
from attribution_viewer.export import image
from attribution_viewer.export.image import CHROMIUM_HINT, ImageFormat, render_figure

# Renders running at once in one process (each is a Chromium); more are refused, not queued.
MAX_CONCURRENT_RENDERS = 2
_EXIT_MISSING = 3
_renders = threading.BoundedSemaphore(MAX_CONCURRENT_RENDERS)


_MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "svg": (b"<svg", b"<?xml"),
}
# Smallest plausible file (a blank page is larger than this in every format).
_MIN_BYTES = 64


def check_output(data: bytes, fmt: str) -> bytes:
    """``data`` when it looks like a complete ``fmt`` file; ExportError otherwise."""
    if len(data) < _MIN_BYTES or not data.lstrip().startswith(_MAGIC[fmt]):
        raise ExportError(f"the renderer returned {len(data)} bytes that are not a {fmt.upper()} file")
    return data


def render_isolated(
    fig: go.Figure, fmt: ImageFormat, width: int, height: int, scale: float, timeout_s: float
) -> bytes:
    """The figure as ``fmt`` bytes, rendered in a child process stopped after ``timeout_s``."""
    if image.find_chromium() is None:
        raise MissingDependencyError(CHROMIUM_HINT)
    if not _renders.acquire(blocking=False):
        raise ExportError(f"{MAX_CONCURRENT_RENDERS} exports are already running; try again when one ends")
    try:
        request = json.dumps(
            {"figure": fig, "fmt": fmt, "width": width, "height": height, "scale": scale},
            cls=PlotlyJSONEncoder,
        ).encode()
        child = subprocess.Popen(
            [sys.executable, "-m", "attribution_viewer.export.isolated"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: Chromium is killed with it
        )
        try:
            out, err = child.communicate(request, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            raise ExportError(
                f"rendering took longer than {timeout_s:g} s and was stopped "
                "(setting export_timeout_s, export --timeout)"
            ) from None
    finally:
        _renders.release()
    message = one_line(err.decode(errors="replace").strip().splitlines()[-1] if err.strip() else "")
    if child.returncode == _EXIT_MISSING:
        raise MissingDependencyError(message)
    if child.returncode != 0:
        raise ExportError(f"rendering failed (exit code {child.returncode}): {message}")
    return check_output(out, fmt)


def _main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    fig = pio.from_json(json.dumps(request["figure"]), skip_invalid=True)
    try:
        data = render_figure(fig, request["fmt"], request["width"], request["height"], request["scale"])
    except MissingDependencyError as exc:
        sys.stderr.write(f"{exc}\n")
        return _EXIT_MISSING
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
