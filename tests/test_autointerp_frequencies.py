"""Feature frequencies: single and vectorised look-ups, errors naming file and key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attribution_viewer.autointerp import load_frequencies
from attribution_viewer.errors import GraphFormatError


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "feature_frequency.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_get_and_for_features(tmp_path: Path) -> None:
    freqs = load_frequencies(write(tmp_path, {"0": [0.1, 0.5, None], "2": [0.25]}))
    assert freqs.layers == (0, 2)
    assert freqs.get(0, 1) == 0.5
    assert freqs.get(0, 2) is None  # null
    assert freqs.get(0, 3) is None  # beyond the list
    assert freqs.get(1, 0) is None  # unknown layer
    assert freqs.get(0, -1) is None
    out = freqs.for_features(np.array([0, 2, 0, 1, 0, 2]), np.array([0, 0, 1, 0, 9, -1]))
    np.testing.assert_array_equal(out, [0.1, 0.25, 0.5, np.nan, np.nan, np.nan])
    assert out.dtype == np.float64


def test_for_features_shape_mismatch(tmp_path: Path) -> None:
    freqs = load_frequencies(write(tmp_path, {"0": [0.1]}))
    with pytest.raises(ValueError, match="shape"):
        freqs.for_features(np.array([0, 0]), np.array([0]))


@pytest.mark.parametrize(
    ("data", "key", "expected"),
    [
        ([0.1], "", 'an object {"<layer>": [frequency, ...]}'),
        ({"zero": [0.1]}, "zero", "a layer number as key"),
        ({"0": 0.1}, "0", "a list of frequencies"),
        ({"0": [0.1, "x"]}, "0[1]", "a number or null"),
        ({"3": [0.1, True]}, "3[1]", "a number or null"),
    ],
)
def test_bad_content(tmp_path: Path, data: object, key: str, expected: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(GraphFormatError) as info:
        load_frequencies(path)
    assert (info.value.path, info.value.key, info.value.expected) == (str(path), key, expected)


def test_missing_and_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(GraphFormatError, match="no such file"):
        load_frequencies(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(GraphFormatError) as info:
        load_frequencies(bad)
    assert info.value.expected == "valid JSON"
