"""circuit-tracer ``Graph.to_pt`` files, current (>= 0.4) and pre-0.4 key sets.

No real file of this format is available, so the fixture writes one with ``torch.save`` the
way ``Graph.to_pt`` does, pickling stand-ins of the library classes under their real
qualified names (fake modules placed in ``sys.modules`` only while saving). Loading then
happens without those modules: the loader must not need circuit-tracer.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from attribution_viewer.errors import GraphFormatError
from attribution_viewer.loaders import detect_format, open_graph

torch = pytest.importorskip("torch")

# 2 layers, 3 positions, 2 logits; active features (layer, pos, idx); selected = rows 2, 0
ACTIVE = [[1, 2, 11], [1, 2, 22], [0, 1, 33]]
SELECTED = [2, 0]
ACTIVATIONS = [1.5, 2.5, 3.5]
N_LAYERS, N_POS, N_LOGITS = 2, 3, 2
N = len(SELECTED) + N_LAYERS * N_POS + N_POS + N_LOGITS  # 2 + 6 + 3 + 2 = 13
SIDE_EFFECTS: list[str] = []


def _install(m: pytest.MonkeyPatch, name: str, **attrs: Any) -> None:
    """Put module ``name`` (and empty parent packages) into sys.modules, holding ``attrs``.

    Each object is renamed to ``name.attr`` so pickle writes that qualified name.
    """
    parts = name.split(".")
    for i in range(1, len(parts)):
        parent = ".".join(parts[:i])
        if parent not in sys.modules:
            m.setitem(sys.modules, parent, types.ModuleType(parent))
    module = types.ModuleType(name)
    for attr, value in attrs.items():
        value.__module__ = name
        value.__qualname__ = attr
        setattr(module, attr, value)
    m.setitem(sys.modules, name, module)


class LogitTarget(NamedTuple):
    token_str: str
    vocab_idx: int


@dataclass
class UnifiedConfig:
    n_layers: int
    d_vocab: int
    tokenizer_name: str


def _adjacency() -> Any:
    """[target, source]: E:0 -> F0 (0.5), F0 -> F1 (-2.0), X:1:2 -> L:0 (0.25), F1 -> L:1 (4.0)."""
    adj = torch.zeros(N, N)
    emb0, err_1_2, logit0 = 2 + 6, 2 + 1 * N_POS + 2, 2 + 6 + 3
    adj[0, emb0] = 0.5
    adj[1, 0] = -2.0
    adj[logit0, err_1_2] = 0.25
    adj[logit0 + 1, 1] = 4.0
    return adj


def _payload(version: str) -> dict[str, Any]:
    d: dict[str, Any] = {
        "input_string": "a b c",
        "adjacency_matrix": _adjacency(),
        "active_features": torch.tensor(ACTIVE),
        "logit_probabilities": torch.tensor([0.75, 0.125]),
        "input_tokens": torch.tensor([5, 6, 7]),
        "selected_features": torch.tensor(SELECTED),
        "activation_values": torch.tensor(ACTIVATIONS),
    }
    if version == "current":
        d["cfg"] = UnifiedConfig(n_layers=N_LAYERS, d_vocab=100, tokenizer_name="tok")
        d["logit_targets"] = [LogitTarget(" x", 40), LogitTarget(" y", 41)]
        d["vocab_size"] = 100
        d["scan_name"] = "gemma-clt"
    else:
        d["cfg"] = UnifiedConfig(n_layers=N_LAYERS, d_vocab=100, tokenizer_name="tok")
        d["logit_tokens"] = torch.tensor([40, 41])
        d["scan"] = ["t0", "t1"]
    return d


def _save(path: Path, payload: Any, monkeypatch: pytest.MonkeyPatch, cfg_module: str) -> Path:
    """torch.save with the classes resolvable under the library's names, then remove them."""
    with monkeypatch.context() as m:
        _install(m, "circuit_tracer.attribution.targets", LogitTarget=LogitTarget)
        cfg_name = (
            cfg_module.rsplit(".", 1)[-1] if cfg_module.startswith("transformer_lens") else "UnifiedConfig"
        )
        _install(m, cfg_module, **{cfg_name: UnifiedConfig})
        torch.save(payload, path)
    return path


@pytest.fixture(params=["current", "pre-0.4"])
def ct_file(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Path]:
    version = str(request.param)
    cfg_module = (
        "circuit_tracer.utils.tl_nnsight_mapping"
        if version == "current"
        else "transformer_lens.HookedTransformerConfig"
    )
    return version, _save(tmp_path / "graph.pt", _payload(version), monkeypatch, cfg_module)


def test_circuit_tracer_pt_loads_without_the_library(ct_file: tuple[str, Path]) -> None:
    version, path = ct_file
    assert "circuit_tracer" not in sys.modules
    assert detect_format(path) == "circuit-tracer-pt"
    g = open_graph(path)
    assert g.summary() == {
        "format": "circuit-tracer-pt",
        "n_layers": 2,
        "n_tokens": 3,
        "n_features": 2,
        "n_errors": 6,
        "n_embeddings": 3,
        "n_logits": 2,
        "n_edges": 4,
        "weighted": True,
        "warnings": [],
    }
    # feature row i = active_features[selected_features[i]]; activation indexed like active_features
    assert g.keys[:2] == ("F:0:1:33", "F:1:2:11")
    assert g.nodes.activation[:2].tolist() == [3.5, 1.5]
    edges = {(g.keys[s], g.keys[t]): w for s, t, w in zip(*_coo(g), strict=True)}
    assert edges == {
        ("E:0", "F:0:1:33"): 0.5,
        ("F:0:1:33", "F:1:2:11"): -2.0,
        ("X:1:2", "L:0"): 0.25,
        ("F:1:2:11", "L:1"): 4.0,
    }
    assert [lg.token_id for lg in g.logits] == [40, 41]
    assert [lg.probability for lg in g.logits] == [0.75, 0.125]
    assert [lg.is_target for lg in g.logits] == [True, False]
    assert g.nodes.token_id[g.index_of["E:2"]] == 7
    if version == "current":
        assert [lg.token for lg in g.logits] == [" x", " y"]
        assert g.metadata.scan == "gemma-clt"
        assert g.metadata.extra["vocab_size"] == 100
    else:
        assert [lg.token for lg in g.logits] == ["#40", "#41"]
        assert g.metadata.scan == "t0-t1"
    assert g.prompt_tokens == ("#5", "#6", "#7")


def _coo(g: Any) -> tuple[list[int], list[int], list[float]]:
    coo = g.adjacency.tocoo()
    return coo.row.tolist(), coo.col.tolist(), coo.data.tolist()


def test_n_layers_inferred_when_cfg_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = _payload("current")
    payload["cfg"] = "not a config"
    g = open_graph(_save(tmp_path / "g.pt", payload, monkeypatch, "circuit_tracer.utils.tl_nnsight_mapping"))
    assert g.n_layers == 2


def test_adjacency_size_must_match_cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = _payload("current")
    payload["cfg"] = UnifiedConfig(n_layers=3, d_vocab=100, tokenizer_name="tok")
    path = _save(tmp_path / "g.pt", payload, monkeypatch, "circuit_tracer.utils.tl_nnsight_mapping")
    with pytest.raises(GraphFormatError, match=r"g\.pt: adjacency_matrix: expected 16 nodes"):
        open_graph(path)


def test_selected_features_out_of_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = _payload("current")
    payload["selected_features"] = torch.tensor([2, 3])
    path = _save(tmp_path / "g.pt", payload, monkeypatch, "circuit_tracer.utils.tl_nnsight_mapping")
    with pytest.raises(GraphFormatError, match="selected_features"):
        open_graph(path)


def _record_side_effect(tag: str) -> str:
    SIDE_EFFECTS.append(tag)
    return tag


class Sneaky:
    """Pickles as a call to a library function: a stand-in must record it, not call it."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_record_side_effect, ("ran",))


def _save_sneaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> Path:
    """A graph file that also holds a :class:`Sneaky` whose function is pickled as ``module``'s."""
    payload = _payload("current")
    payload["extra_object"] = Sneaky()
    with monkeypatch.context() as m:
        _install(m, module, _record_side_effect=_record_side_effect)
        path = _save(tmp_path / "g.pt", payload, m, "circuit_tracer.utils.tl_nnsight_mapping")
    SIDE_EFFECTS.clear()
    return path


def test_library_callables_are_recorded_never_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save_sneaky(tmp_path, monkeypatch, "circuit_tracer.evil")
    assert open_graph(path).n_edges == 4
    assert SIDE_EFFECTS == []


def test_classes_of_other_packages_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save_sneaky(tmp_path, monkeypatch, "evil_pkg")
    with pytest.raises(GraphFormatError, match=r"g\.pt: .*pickled global evil_pkg\._record_side_effect"):
        open_graph(path)
    assert SIDE_EFFECTS == []
