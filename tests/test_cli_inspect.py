"""``inspect`` (table, ``--json``, ``--edges``) and ``convert`` on small hand-made graphs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import graph_json_node

from attribution_viewer import cli


def _node(
    node_id: str, kind: str, layer: str, pos: int, feature: int, prob: float = 0.0
) -> dict[str, object]:
    return graph_json_node(
        node_id,
        kind,
        layer,
        pos,
        feature,
        token_prob=prob,
        is_target_logit=prob > 0.5,
        clerp="",
        influence=None,
        activation=None,
    )


@pytest.fixture
def graph_json(tmp_path: Path) -> Path:
    """1 layer, 2 tokens: E:0 -> F:0:1:4 (0.1), F:0:1:4 -> L:0 (-2.5), X:0:0 -> L:1 (1e-7)."""
    doc = {
        "metadata": {"slug": "t", "scan": "s", "prompt_tokens": ["a", "b"], "schema_version": 1},
        "qParams": {},
        "nodes": [
            _node("0_4_1", "cross layer transcoder", "0", 1, 14),  # Cantor(0, 4) = 14
            _node("0_0_0", "mlp reconstruction error", "0", 0, -1),
            _node("E_1_0", "embedding", "E", 0, 0),
            _node("E_2_1", "embedding", "E", 1, 0),
            _node("2_9_1", "logit", "2", 1, 9, prob=0.25),
            _node("2_8_1", "logit", "2", 1, 8, prob=0.75),
        ],
        "links": [
            {"source": "E_1_0", "target": "0_4_1", "weight": 0.1},
            {"source": "0_4_1", "target": "2_8_1", "weight": -2.5},
            {"source": "0_0_0", "target": "2_9_1", "weight": 1e-7},
        ],
    }
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    return path


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "COMMANDS", ("inspect", "convert"))
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


SUMMARY = {
    "format": "graph-json",
    "n_layers": 1,
    "n_tokens": 2,
    "n_features": 1,
    "n_errors": 1,
    "n_embeddings": 2,
    "n_logits": 2,
    "n_edges": 3,
    "weighted": True,
    "warnings": [],
}


def test_json_lines_with_a_failing_file(
    graph_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02 truncated")
    code, out, _ = run(monkeypatch, capsys, "inspect", str(graph_json), str(bad), str(graph_json), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert lines[0] == lines[2] == {"path": str(graph_json), **SUMMARY}
    assert list(lines[1]) == ["path", "error"]
    assert lines[1]["path"] == str(bad) and lines[1]["error"].startswith(f"{bad}: expected ")


def test_all_good_files_exit_zero(
    graph_json: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(monkeypatch, capsys, "inspect", str(graph_json), "--json")
    assert code == 0 and json.loads(out) == {"path": str(graph_json), **SUMMARY}


def test_table(
    graph_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    code, out, _ = run(monkeypatch, capsys, "inspect", str(graph_json), str(missing))
    header, row, error = out.splitlines()
    assert code == 2
    assert header.split() == [
        "path",
        "format",
        "layers",
        "tokens",
        "features",
        "errors",
        "emb",
        "logits",
        "edges",
        "weighted",
    ]
    assert row.split() == [str(graph_json), "graph-json", "1", "2", "1", "1", "2", "2", "3", "True"]
    assert error.startswith(f"{missing}  error: {missing}: expected a readable file")


def test_edges(graph_json: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(monkeypatch, capsys, "inspect", str(graph_json), "--edges")
    assert code == 0
    # logits by probability: L:0 = token 8 (0.75), L:1 = token 9; rows in node order
    assert out == "F:0:1:4\tL:0\t-2.5\nX:0:0\tL:1\t1e-07\nE:0\tF:0:1:4\t0.1\n"


def test_edges_of_a_bad_file_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [], "links": [], "metadata": {}}')
    code, out, err = run(monkeypatch, capsys, "inspect", str(bad), "--edges")
    assert (code, out) == (2, "")
    assert err == f"error: {bad}: metadata.prompt_tokens: expected the prompt's tokens, got missing\n"


def test_edges_takes_one_path(
    graph_json: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run(monkeypatch, capsys, "inspect", str(graph_json), str(graph_json), "--edges")
    assert info.value.code == 2


def test_convert_then_inspect(
    graph_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "g.npz"
    code, out, _ = run(monkeypatch, capsys, "convert", str(graph_json), str(out_path))
    assert code == 0 and out == f"wrote {out_path} (6 nodes, 3 edges)\n"
    _, original, _ = run(monkeypatch, capsys, "inspect", str(graph_json), "--edges")
    _, converted, _ = run(monkeypatch, capsys, "inspect", str(out_path), "--edges")
    assert converted == original
    _, summary, _ = run(monkeypatch, capsys, "inspect", str(out_path), "--json")
    assert json.loads(summary) == {"path": str(out_path), **SUMMARY, "format": "native-npz"}


def test_convert_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    code, _, err = run(monkeypatch, capsys, "convert", str(bad), str(tmp_path / "o.npz"))
    assert code == 2 and err.startswith(f"error: {bad}: expected ") and err.count("\n") == 1
    assert not (tmp_path / "o.npz").exists()
