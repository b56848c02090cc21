"""Sniffing torch.save files (LI-9): circuit-tracer ``.pt`` files whose pickle names library
classes are recognised from their bytes alone (needs torch to write them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from file_opens import recorded_opens
from test_loaders_circuit_tracer import ct_file  # noqa: F401  (the fixture)

from attribution_viewer.library.sniff import sniff_file

torch = pytest.importorskip("torch")


def test_li9_circuit_tracer_pt_sniffed_without_unpickling(ct_file: tuple[str, Path]) -> None:  # noqa: F811
    """Library classes in the pickle (cfg, logit targets) are never resolved: bytes only."""
    _version, path = ct_file
    with recorded_opens() as opened:
        found = sniff_file(path)
    assert found == ("circuit-tracer-pt", "a b c")
    assert opened == [str(path)]
    other = path.with_name("other.pt")
    torch.save({"weights": torch.zeros(2), "input_string": "hello"}, other)
    assert sniff_file(other) == ("torch", "hello")
