"""The viewer's settings: one frozen, validated dataclass and the merge of its sources.

Library code receives a :class:`Settings` as an argument; it never reads the project's
``config/settings.py`` (that file holds the user's local values and is read by
``launch.py`` and the command line, see :func:`load_settings_file`).

Precedence, highest first: command-line flags > environment variables ``ATTRVIEW_<FIELD>``
(for example ``ATTRVIEW_GRAPH_PATH=/data/g.pt``) > the settings file > the defaults below.
:func:`resolve_settings` merges them and validates the result; a bad value raises
``ValueError`` naming the field and the source it came from.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attribution_viewer import limits

ENV_PREFIX = "ATTRVIEW_"
USER_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "attribution-viewer"


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start. Paths may be relative to the working directory."""

    # The attribution graph to open (any supported format: .pt, .json, .npz).
    graph_path: Path | None = None
    # A folder of graphs served as a library (searched recursively; see
    # attribution_viewer.library). None: only graph_path. ``--graph FOLDER`` sets it.
    graphs_dir: Path | None = None
    # Graphs of the library kept open in memory at once (least recently used ones are closed).
    open_graphs_max: int = 4
    # Autointerp folder holding layer{L}/feature_{idx}_complete.json. None: the graph's own
    # companions (an ``attribution-viewer.json`` manifest beside the graph), else none.
    autointerp_dir: Path | None = None
    # Feature frequencies {"<layer>": [freq, ...]}; None: <autointerp_dir>/../feature_frequency.json.
    frequency_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    # Open the page in the default web browser once the server is up (launch.py --open).
    open_browser: bool = False
    # Graph view defaults.
    show_errors: bool = False
    node_size: float = 10.0
    # Hide features firing on more than this fraction of tokens (always-on features).
    frequency_threshold: float = 0.25
    # Base edges drawn at most (the strongest visible ones, on a canvas under the figure;
    # all are counted and listed in the panel). More edges cost bytes and paint time.
    max_drawn_edges: int = 20_000
    # Native copies of converted .pt graphs (keyed by path, size and modification time), so
    # that opening the same .pt again skips torch; None (or "none"): no cache.
    conversion_cache_dir: Path | None = USER_CACHE_DIR / "converted"
    # Tokenizer naming the tokens of graphs that store ids only (circuit-tracer .pt): a local
    # folder holding tokenizer.json, or a model name whose tokenizer is already in the Hugging
    # Face cache (never downloaded). "": the graph's manifest's tokenizer, else "#<id>".
    tokenizer: str = ""
    # Node-description files kept in memory (LRU).
    description_cache_size: int = 4096
    # Clustering defaults.
    cluster_max_size: int = 12
    cluster_seed: int = 0
    # Neuronpedia ids for feature links, e.g. model "gpt2-small", source set "clt-hp"; "" = no links.
    neuronpedia_model: str = ""
    neuronpedia_source: str = ""
    # -- limits and serving (README "Limits and serving") ------------------------------
    # Largest graph file read, and the most a native .npz's arrays may inflate to (bytes).
    max_graph_bytes: int = limits.MAX_GRAPH_BYTES
    # Largest HTTP request body accepted (bytes); larger requests get 413.
    max_request_bytes: int = limits.MAX_REQUEST_BYTES
    # Largest inflated size of one URL state value (labels=, clusters=); larger ones are
    # ignored and the page says so.
    max_url_state_bytes: int = limits.MAX_URL_STATE_BYTES
    # Largest exported figure side in output pixels (CSS px for PDF / SVG, device px for PNG).
    max_export_px: int = limits.MAX_EXPORT_PX
    # Seconds a figure export may run before it is stopped (it runs in a child process).
    export_timeout_s: float = limits.EXPORT_TIMEOUT_S
    # Host header values served (port ignored; "*" = any). Others get 400, so a page on
    # another site cannot reach the server through DNS rebinding. Add your host name when
    # serving to a lab (comma-separated in ATTRVIEW_ALLOWED_HOSTS / --allowed-hosts).
    allowed_hosts: tuple[str, ...] = limits.LOCAL_HOSTS
    # Worker threads of the production server (waitress).
    server_threads: int = 8
    # -- live model (steering, edge checks, new graphs; see attribution_viewer/live) --------
    # The model and its transcoders: a local folder each (a bundle, see live/bundle.py, whose
    # tokenizer is the `tokenizer` setting or the manifest's) or names circuit-tracer resolves
    # (e.g. "google/gemma-2-2b" + "gemma"). None: the graph's manifest companions; no model
    # at all: the live features are off.
    model: str | None = None
    transcoders: str | None = None
    # circuit-tracer backend: "transformerlens" or "nnsight" (needs the `live` extra's nnsight).
    model_backend: str = "transformerlens"
    # Where jobs run: "diskcache" (one machine: a model worker process started on first use)
    # or "celery" (Celery workers fed through Redis at redis_url; each worker holds the model).
    jobs: str = "diskcache"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Address-space cap of the process holding the model, in GB (0: none). Attribution of a
    # prompt with many active features can take 20+ GB; over the cap a job fails cleanly.
    job_memory_gb: float = 16.0
    # -- new graphs from a prompt (the "New graph" menu; attribution_viewer/live/new_graph.py) --
    # Folder new graphs are written to. None: the folder of the graph being viewed (so its
    # attribution-viewer.json manifest, hence its model, tokenizer and descriptions, applies
    # to the new graph too). Serving a folder, only a folder inside it opens the new graph.
    new_graphs_dir: Path | None = None
    # Longest prompt accepted for a new graph, in characters.
    attribute_max_prompt_chars: int = 500
    # Most feature nodes a new graph may have (the menu's default and upper bound; the cost
    # of attribution grows with it).
    attribute_max_feature_nodes: int = 4096

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"settings.port: expected 1..65535, got {self.port}")
        if not 0.0 <= self.frequency_threshold <= 1.0:
            raise ValueError(f"settings.frequency_threshold: expected 0..1, got {self.frequency_threshold}")
        if self.node_size <= 0:
            raise ValueError(f"settings.node_size: expected > 0, got {self.node_size}")
        if self.description_cache_size < 1:
            raise ValueError(
                f"settings.description_cache_size: expected >= 1, got {self.description_cache_size}"
            )
        if self.max_drawn_edges < 1:
            raise ValueError(f"settings.max_drawn_edges: expected >= 1, got {self.max_drawn_edges}")
        if self.open_graphs_max < 1:
            raise ValueError(f"settings.open_graphs_max: expected >= 1, got {self.open_graphs_max}")
        if self.cluster_max_size < 2:
            raise ValueError(f"settings.cluster_max_size: expected >= 2, got {self.cluster_max_size}")
        for name, least in _LEAST_LIMITS.items():
            if getattr(self, name) < least:
                raise ValueError(f"settings.{name}: expected >= {least}, got {getattr(self, name)}")
        if not self.export_timeout_s > 0:
            raise ValueError(f"settings.export_timeout_s: expected > 0 seconds, got {self.export_timeout_s}")
        if not self.allowed_hosts or not all(isinstance(h, str) and h for h in self.allowed_hosts):
            raise ValueError(
                f"settings.allowed_hosts: expected host names (or '*'), got {self.allowed_hosts!r}"
            )
        if self.server_threads < 1:
            raise ValueError(f"settings.server_threads: expected >= 1, got {self.server_threads}")
        if self.model_backend not in ("transformerlens", "nnsight"):
            raise ValueError(
                f"settings.model_backend: expected transformerlens or nnsight, got {self.model_backend!r}"
            )
        if self.jobs not in ("diskcache", "celery"):
            raise ValueError(f"settings.jobs: expected diskcache or celery, got {self.jobs!r}")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"settings.redis_url: expected a redis:// URL, got {self.redis_url!r}")
        if self.job_memory_gb < 0:
            raise ValueError(f"settings.job_memory_gb: expected >= 0 (0 = no cap), got {self.job_memory_gb}")
        if self.attribute_max_prompt_chars < 1:
            raise ValueError(
                f"settings.attribute_max_prompt_chars: expected >= 1, got {self.attribute_max_prompt_chars}"
            )
        if self.attribute_max_feature_nodes < 1:
            raise ValueError(
                f"settings.attribute_max_feature_nodes: expected >= 1, got {self.attribute_max_feature_nodes}"
            )
        if (self.model is None) != (self.transcoders is None):
            raise ValueError("settings.model / settings.transcoders: expected both or neither")

    @property
    def resolved_frequency_path(self) -> Path | None:
        """The frequency file to use: the explicit one or the one beside the autointerp folder."""
        if self.frequency_path is not None:
            return self.frequency_path
        if self.autointerp_dir is None:
            return None
        return self.autointerp_dir.parent / "feature_frequency.json"


# The smallest value each size limit may take (smaller would refuse every real input).
_LEAST_LIMITS = {
    "max_graph_bytes": 1024,
    "max_request_bytes": 1024,
    "max_url_state_bytes": 1024,
    "max_export_px": 100,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: Any, source: str) -> Any:
    """Turn a raw (string) value into the type of field ``name``."""
    field_type = str({f.name: f.type for f in dataclasses.fields(Settings)}[name])
    if raw is None or isinstance(raw, bool | int | float | Path | tuple):
        return raw
    text = str(raw).strip()
    try:
        if field_type == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError("expected one of 1/0/true/false/yes/no/on/off")
        if field_type == "int":
            return int(text)
        if field_type == "float":
            return float(text)
        if "None" in field_type and text.lower() in {"", "none"}:
            return None
        if "Path" in field_type:
            return Path(text)
        if field_type.startswith("tuple"):
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return text
    except ValueError as exc:
        raise ValueError(f"{source} {name}={text!r}: {exc}") from exc


def resolve_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    base: Settings | None = None,
) -> Settings:
    """Merge ``base`` < environment (``ATTRVIEW_*``) < ``cli`` (None values ignored)."""
    names = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for key, raw in (env or {}).items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name not in names:
                raise ValueError(f"environment {key}: unknown setting (known: {', '.join(sorted(names))})")
            values[name] = _convert(name, raw, f"environment {ENV_PREFIX}{name.upper()}")
    for name, raw in (cli or {}).items():
        if raw is None:
            continue
        if name not in names:
            raise ValueError(f"command line: unknown setting {name!r}")
        values[name] = _convert(name, raw, "command line")
    return dataclasses.replace(base or Settings(), **values)


def load_settings_file(path: Path) -> Settings:
    """The ``DEFAULTS`` of a settings file such as the project's ``config/settings.py``.

    The file is the user's own Python (like any config module); it must define
    ``DEFAULTS = Settings(...)``. Raises ValueError naming the file when it does not.
    """
    spec = importlib.util.spec_from_file_location("_attribution_viewer_user_settings", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: not a Python settings file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: settings file not found") from exc
    defaults = getattr(module, "DEFAULTS", None)
    if not isinstance(defaults, Settings):
        raise ValueError(f"{path}: expected DEFAULTS = Settings(...), found {type(defaults).__name__}")
    return defaults
