"""Default limits on the work one input or one request may cause (constants only).

They are the defaults of the matching :class:`~attribution_viewer.settings.Settings`
fields and of the library functions that take a limit as an argument; they live here so
that loaders and pure modules need not import the settings module.
"""

from __future__ import annotations

# Largest graph file read (and the most its arrays may inflate to): 1 GiB. The largest real
# graphs we know are tens of MB (a dense 0/1 mask of 10k nodes is 400 MB as float32).
MAX_GRAPH_BYTES = 1 << 30
# Largest HTTP request body the server accepts (a cluster-file upload is the biggest).
MAX_REQUEST_BYTES = 20 << 20
# Largest inflated size of one URL state value (labels=, clusters=).
MAX_URL_STATE_BYTES = 256 << 10
# Largest exported figure side in output pixels (CSS px for PDF / SVG, device px for PNG);
# headless Chromium stops producing PNGs somewhere above 8000 px.
MAX_EXPORT_PX = 4096
# Seconds an export may take before its child process is stopped.
EXPORT_TIMEOUT_S = 60.0
# Host header values served by default: this machine's own names only.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
