"""Settings: precedence CLI > environment > file, validation with clear messages; launch errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import launch
from attribution_viewer.settings import Settings, resolve_settings
from config.settings import DEFAULTS


def test_defaults_are_safe() -> None:
    assert DEFAULTS.host == "127.0.0.1"
    assert DEFAULTS.debug is False
    assert DEFAULTS.graph_path is not None and DEFAULTS.graph_path.name == "sum-37-45-tens.npz"


def test_precedence_cli_over_env_over_file() -> None:
    env = {"ATTRVIEW_PORT": "9001", "ATTRVIEW_NODE_SIZE": "7.5", "ATTRVIEW_DEBUG": "yes"}
    assert resolve_settings(None, env, DEFAULTS).port == 9001
    merged = resolve_settings({"port": 9002, "graph_path": "x.json"}, env, DEFAULTS)
    assert merged.port == 9002
    assert merged.node_size == 7.5
    assert merged.debug is True
    assert merged.graph_path == Path("x.json")


def test_none_disables_optional_paths() -> None:
    assert resolve_settings({"autointerp_dir": "none"}).autointerp_dir is None
    assert resolve_settings({"autointerp_dir": "none"}).resolved_frequency_path is None


def test_frequency_path_defaults_beside_autointerp() -> None:
    s = resolve_settings({"autointerp_dir": "/data/auto/features"})
    assert s.resolved_frequency_path == Path("/data/auto/feature_frequency.json")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ATTRVIEW_PORT": "eighty"}, "ATTRVIEW_PORT port='eighty'"),
        ({"ATTRVIEW_COLOUR": "red"}, "unknown setting"),
        ({"ATTRVIEW_DEBUG": "maybe"}, "expected one of"),
    ],
)
def test_bad_environment_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_settings(None, env)


def test_validation_in_post_init() -> None:
    with pytest.raises(ValueError, match="frequency_threshold"):
        Settings(frequency_threshold=2.0)
    with pytest.raises(ValueError, match="port"):
        Settings(port=0)


def test_launch_bad_graph_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "graph.json"
    bad.write_text("{not json")
    assert launch.main(["--graph", str(bad), "--autointerp", "none"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("flag", "setting"), [("--autointerp", "autointerp_dir"), ("--frequencies", "frequency_path")]
)
def test_launch_missing_companion_path_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, setting: str
) -> None:
    missing = tmp_path / "nope"
    assert launch.main([flag, str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and setting in err


def test_launch_port_in_use_exits_2_before_serving(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert launch.main(["--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err and "free port" in err


def test_open_flag_opens_the_page_once_the_server_is_up(tmp_path: Path) -> None:
    """``--open`` hands the URL to the browser named by $BROWSER once the port answers."""
    opened = tmp_path / "opened.txt"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "BROWSER": f"{sys.executable} -c \"import sys; open('{opened}', 'w').write(sys.argv[1])\" %s",
    }
    proc = subprocess.Popen(
        [sys.executable, "launch.py", "--open", "--port", str(port)],
        cwd=Path(launch.__file__).parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited"
            time.sleep(0.2)
        assert opened.read_text() == f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
