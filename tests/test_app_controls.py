"""ViewControls: control values -> ViewState, and what forces a full figure (exact values)."""

from __future__ import annotations

from dash import Input, State

from attribution_viewer.app.controls import VIEW_CONTROLS, ViewControls, view_dependencies
from attribution_viewer.view import ViewState


def test_view_from_values_and_defaults() -> None:
    base = ViewState(prune_threshold=0.7, frequency_threshold=0.3, node_size=9)
    view = ViewControls(None, 0.5, ["errors"], None, "E:0", ["E:1"], {"E:0": "x"}).view(base)
    assert view == ViewState(
        prune_threshold=0.7,
        frequency_threshold=0.5,
        show_errors=True,
        node_size=9,
        selected="E:0",
        pinned=("E:1",),
        labels={"E:0": "x"},
        show_highlighted=False,
    )


def test_signature_ignores_size_and_selection() -> None:
    a = ViewControls(0.8, 1.0, ["errors"], 10, "E:0", [], {})
    b = ViewControls(0.8, 1.0, ["errors"], 14, "E:1", [], {})
    c = ViewControls(0.8, 1.0, [], 10, "E:0", [], {})
    assert a.scene_signature() == b.scene_signature()
    assert a.scene_signature() != c.scene_signature()


def test_dependencies_follow_field_order() -> None:
    deps = view_dependencies(State)
    assert [(d.component_id, d.component_property) for d in deps] == list(VIEW_CONTROLS)
    assert all(isinstance(d, State) for d in deps)
    assert isinstance(view_dependencies()[0], Input)
    assert len(VIEW_CONTROLS) == len(ViewControls._fields)
    mixed = view_dependencies(selected_from="panel-node", selected_kind=State)
    kinds = {d.component_id: type(d) for d in mixed}
    assert kinds["panel-node"] is State and kinds["prune-slider"] is Input and "selected-node" not in kinds


def test_signature_same_for_numbers_as_the_browser_sends_them() -> None:
    assert ViewControls(1.0, 1.0, [], 10, None, [], {}).scene_signature() == (
        ViewControls(1, 1, [], 10, None, [], {}).scene_signature()
    )
