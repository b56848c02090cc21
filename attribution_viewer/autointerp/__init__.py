"""Feature descriptions (autointerp) for the node panel: lazy, cached, format-agnostic.

- :func:`open_description_source` opens a folder of per-feature files without reading
  it; :meth:`DescriptionSource.get` reads one file per new feature (LRU-cached) and
  returns a :class:`FeatureDetails`, whatever the record format.
- :func:`load_frequencies` reads the per-layer feature frequency file.
- :mod:`.download` and :mod:`.reconstruct` fetch published data and rebuild the folder
  layout (CLI: ``python -m attribution_viewer autointerp``); they are not imported here,
  so opening a source never pays for ``huggingface_hub`` or ``pyarrow``.

Pure: no Dash imports here.
"""

from __future__ import annotations

from attribution_viewer.autointerp.frequencies import FeatureFrequencies, load_frequencies
from attribution_viewer.autointerp.records import (
    Example,
    FeatureDetails,
    LogitEntry,
    TokenStat,
    model_mismatch,
)
from attribution_viewer.autointerp.source import (
    LAYOUT_NAMES,
    DescriptionSource,
    cantor_pair,
    open_description_source,
)

__all__ = [
    "LAYOUT_NAMES",
    "DescriptionSource",
    "Example",
    "FeatureDetails",
    "FeatureFrequencies",
    "LogitEntry",
    "TokenStat",
    "cantor_pair",
    "load_frequencies",
    "model_mismatch",
    "open_description_source",
]
