"""Every crafted input gets one clear line and exit code 2, within 5 s, with no traceback.

Each file is given to ``convert`` (prints the error on stderr) and a few to ``launch.py``
(the server must refuse them before it starts). The inputs are the ones of issue 15: deeply
nested JSON, an ``.npz`` whose header claims 10^10 values, a zip bomb larger than the
limit, malicious pickles (legacy stream and zip), a FIFO, a directory and a device.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from attribution_viewer.loaders import open_graph, save_native
from tests.builders import build_tiny_store
from tests.conftest import PROJECT_ROOT

MARKER = PROJECT_ROOT / "pwned-by-test"


class Evil:
    """Pickles as a call to ``os.system`` (would create MARKER if ever unpickled unsafely)."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {MARKER}",))


def _write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def crafted(tmp: Path, name: str) -> Path:
    """The crafted input ``name`` under ``tmp``."""
    path = tmp / name
    if name == "deep.json":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif name == "deep-inside.json":
        path.write_text('{"nodes": ' + "[" * 5000 + "]" * 5000 + ', "links": []}')
    elif name == "huge-header.npz":
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)}
        )
        _write_zip(path, {"adj_data.npy": b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 64})
    elif name == "bomb.npz":  # 64 MB of zeros in a ~64 KB file; the test limit is 8 MB
        data = np.zeros(8 << 20, np.float64)
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, data)
        _write_zip(path, {"adj_data.npy": buffer.getvalue()})
    elif name == "evil-legacy.pt":
        path.write_bytes(pickle.dumps({"adjacency_matrix": Evil()}, protocol=2))
    elif name == "refused-by-torch.pt":  # a global our scan lets through, torch's weights_only refuses
        torch = pytest.importorskip("torch")
        torch.save({"adjacency_matrix": torch.nn.Linear(2, 2)}, path, _use_new_zipfile_serialization=False)
    elif name == "evil-zip.pt":
        _write_zip(path, {"archive/data.pkl": pickle.dumps(Evil(), protocol=2), "archive/version": b"3\n"})
    elif name == "fifo":
        os.mkfifo(path)
    elif name == "directory":
        path.mkdir()
    elif name == "device":
        return Path("/dev/zero")
    else:
        raise KeyError(name)
    return path


CRAFTED = (
    "deep.json",
    "deep-inside.json",
    "huge-header.npz",
    "bomb.npz",
    "evil-legacy.pt",
    "evil-zip.pt",
    "refused-by-torch.pt",
    "fifo",
    "directory",
    "device",
)
EXPECTED = {
    "deep.json": "nested 100000 levels deep (at most 64 accepted)",
    "deep-inside.json": "nested 5001 levels deep",
    "huge-header.npz": "header claims 80,000,000,000 bytes",
    "bomb.npz": "(setting max_graph_bytes)",
    "evil-legacy.pt": "nothing from the file was run",
    "evil-zip.pt": "pickled global posix.system",
    "refused-by-torch.pt": "got pickled code or objects a safe load refuses (refused, nothing from the file",
    "fifo": "expected a regular file, got a FIFO (named pipe)",
    "directory": "expected a regular file, got a directory",
    "device": "expected a regular file, got a character device",
}
LIMIT = str(8 << 20)
# Only torch can refuse this one, so its time is torch's import time (not bounded here).
NEEDS_TORCH = {"refused-by-torch.pt"}


def _run(args: list[str]) -> tuple[int, str, str, float]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=PROJECT_ROOT, env=env)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def _assert_one_line(
    code: int, out: str, err: str, seconds: float, path: Path, expected: str, max_seconds: float = 5.0
) -> None:
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: ") and expected in lines[0], lines[0]
    assert seconds < max_seconds


@pytest.mark.parametrize("name", CRAFTED)
def test_ci1_convert_refuses_in_one_line(name: str, tmp_path: Path) -> None:
    path = crafted(tmp_path, name)
    cmd = [sys.executable, "-m", "attribution_viewer", "--max-graph-bytes", LIMIT, "convert", str(path)]
    limit = 30.0 if name in NEEDS_TORCH else 5.0
    _assert_one_line(*_run([*cmd, str(tmp_path / "out.npz")]), path, EXPECTED[name], limit)
    assert not MARKER.exists()


@pytest.mark.parametrize("name", ["fifo", "deep.json", "huge-header.npz", "evil-legacy.pt"])
def test_ci2_launch_refuses_before_serving(name: str, tmp_path: Path) -> None:
    path = crafted(tmp_path, name)
    result = _run([sys.executable, "launch.py", "--graph", str(path), "--port", "1"])
    _assert_one_line(*result, path, EXPECTED[name])
    assert not MARKER.exists()


def test_ci3_inspect_json_reports_each_file_on_its_line(tmp_path: Path) -> None:
    good = save_native(build_tiny_store(), tmp_path / "good.npz")
    fifo = crafted(tmp_path, "fifo")
    code, out, err, seconds = _run(
        [sys.executable, "-m", "attribution_viewer", "inspect", str(fifo), str(good), "--json"]
    )
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and err == "" and seconds < 5.0
    assert records[0] == {
        "path": str(fifo),
        "error": f"{fifo}: expected a regular file, got a FIFO (named pipe)",
    }
    assert records[1]["n_edges"] == 6 and records[1]["warnings"] == []


def test_ci4_limit_is_checked_against_the_real_size(tmp_path: Path) -> None:
    path = save_native(build_tiny_store(), tmp_path / "g.npz")
    size = path.stat().st_size
    assert open_graph(path, max_bytes=10 * size).n_edges == 6  # compressed: inflates beyond size
    with pytest.raises(ValueError, match=f"expected a file of at most {size - 1:,} bytes"):
        open_graph(path, max_bytes=size - 1)
    with pytest.raises(ValueError, match=r"expected arrays of at most [\d,]+ bytes in all"):
        open_graph(path, max_bytes=size)
