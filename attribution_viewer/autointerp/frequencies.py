"""Feature firing frequencies: ``{"<layer>": [freq_of_feature_0, ...]}`` (data-formats §5).

:func:`load_frequencies` reads the file once into one float array per layer;
:class:`FeatureFrequencies` answers single look-ups and vectorised look-ups for all the
features of a graph. ``null`` entries and features beyond a layer's list are unknown
(``None`` / NaN).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from attribution_viewer.errors import GraphFormatError


class FeatureFrequencies:
    """Per-layer frequency arrays (float64, NaN where unknown)."""

    def __init__(self, by_layer: Mapping[int, np.ndarray], path: str = "") -> None:
        self._by_layer = {int(k): np.asarray(v, dtype=np.float64) for k, v in by_layer.items()}
        self.path = path

    @property
    def layers(self) -> tuple[int, ...]:
        return tuple(sorted(self._by_layer))

    def get(self, layer: int, feature_idx: int) -> float | None:
        """Frequency of one feature; None when the file does not know it."""
        arr = self._by_layer.get(int(layer))
        if arr is None or not 0 <= feature_idx < arr.shape[0]:
            return None
        value = float(arr[feature_idx])
        return None if math.isnan(value) else value

    def for_features(self, layers: np.ndarray, feature_idxs: np.ndarray) -> np.ndarray:
        """Frequencies of many features at once (float64, NaN where unknown)."""
        layers = np.asarray(layers, dtype=np.int64)
        idxs = np.asarray(feature_idxs, dtype=np.int64)
        if layers.shape != idxs.shape:
            raise ValueError(f"layers {layers.shape} and feature_idxs {idxs.shape} differ in shape")
        out = np.full(layers.shape, np.nan, dtype=np.float64)
        for layer in np.unique(layers):
            arr = self._by_layer.get(int(layer))
            if arr is None:
                continue
            sel = (layers == layer) & (idxs >= 0) & (idxs < arr.shape[0])
            out[sel] = arr[idxs[sel]]
        return out


def load_frequencies(path: str | Path) -> FeatureFrequencies:
    """Read a frequency file; GraphFormatError naming the file and key on bad input."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except FileNotFoundError as exc:
        raise GraphFormatError(path, "", "a feature frequency JSON file", "no such file") from exc
    except json.JSONDecodeError as exc:
        raise GraphFormatError(path, "", "valid JSON", f"{exc.msg} at line {exc.lineno}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphFormatError(path, "", "a readable UTF-8 JSON file", str(exc)) from exc
    if not isinstance(data, dict):
        raise GraphFormatError(path, "", 'an object {"<layer>": [frequency, ...]}', type(data).__name__)
    by_layer: dict[int, np.ndarray] = {}
    for key, values in data.items():
        try:
            layer = int(key)
        except ValueError:
            raise GraphFormatError(path, str(key), "a layer number as key") from None
        if not isinstance(values, list):
            raise GraphFormatError(path, str(key), "a list of frequencies", type(values).__name__)
        bad = next(
            (
                i
                for i, v in enumerate(values)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float))
            ),
            None,
        )
        if bad is not None:
            raise GraphFormatError(path, f"{key}[{bad}]", "a number or null", repr(values[bad])[:40])
        by_layer[layer] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return FeatureFrequencies(by_layer, str(path))
