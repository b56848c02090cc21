"""The small plotly.js bundle (scatter, bar, pie: 1.2 MB instead of 4.8 MB).

Pages of graphs drawn with SVG traces only need plotly.js's "basic" partial bundle, which
parses and starts much faster than the full one. It is not committed: :func:`fetch_basic_bundle`
downloads the published npm tarball once, checks its pinned SHA-512 and writes the one
file into the app's assets. Without it the app falls back to the full bundle shipped with
the ``plotly`` Python package.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import tarfile
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
BASIC_BUNDLE = ASSETS_DIR / "vendor" / "plotly-basic.min.js"
BASIC_VERSION = "4.1.1"
BASIC_URL = (
    f"https://registry.npmjs.org/plotly.js-basic-dist-min/-/plotly.js-basic-dist-min-{BASIC_VERSION}.tgz"
)
BASIC_SHA512 = "1oNF8PeQx2hv/y7tqEVWKD3JGwn/MGEMQ8mL9HUwsaqG9FGy/OU5FHUHvzqbqxN4mnwZGI9abTiE775C4kkjMQ=="


def fetch_basic_bundle(dest: Path = BASIC_BUNDLE, url: str = BASIC_URL, timeout: float = 60.0) -> Path:
    """Download the basic bundle to ``dest`` (no-op when present); raises on a bad checksum."""
    if dest.exists():
        return dest
    with urllib.request.urlopen(url, timeout=timeout) as response:
        payload = response.read()
    digest = base64.b64encode(hashlib.sha512(payload).digest()).decode()
    if digest != BASIC_SHA512:
        raise ValueError(f"{url}: expected sha512 {BASIC_SHA512}, got {digest}")
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        member = tar.extractfile("package/plotly-basic.min.js")
        if member is None:
            raise ValueError(f"{url}: package/plotly-basic.min.js missing from the tarball")
        data = member.read()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    log.info("wrote %s (%d bytes)", dest, len(data))
    return dest
