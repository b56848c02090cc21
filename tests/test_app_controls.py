"""ViewControls: control values -> ViewState, and what forces a full figure (exact values)."""

from __future__ import annotations

from dash import Input, State

from attribution_viewer.app.controls import VIEW_CONTROLS, ViewControls, changes_scene, view_dependencies
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
    # the edge controls: the dropdown's value, the "others faint" checklist's values
    edges = ViewControls(edges=10, faded=[]).view(base)
    assert (edges.edges_per_target, edges.faded_edges) == (10, False)
    assert ViewControls(faded=["faded"]).view(ViewState(faded_edges=False)).faded_edges is True
    assert ViewControls().view(ViewState(faded_edges=False)).faded_edges is False  # None: the base's


def test_scene_changes_ignore_size_selection_search_and_focus() -> None:
    for overlay in ("node-size", "selected-node", "search-results", "token-focus"):
        assert not changes_scene({overlay})
    for control in (
        "prune-value",
        "frequency-value",
        "error-toggle",
        "pinned-nodes",
        "node-labels",
        "edges-per-target",
        "edges-faded",
    ):
        assert changes_scene({control}) and changes_scene({control, "node-size"})
    assert changes_scene(set())  # a page's first call: nothing triggered


def test_dependencies_by_field_name() -> None:
    deps = view_dependencies(State)
    assert {n: (d.component_id, d.component_property) for n, d in deps.items()} == VIEW_CONTROLS
    assert list(deps) == list(ViewControls._fields)
    assert all(isinstance(d, State) for d in deps.values())
    assert isinstance(view_dependencies()["prune"], Input)
    mixed = view_dependencies(selected_kind=State)
    assert isinstance(mixed["selected"], State) and isinstance(mixed["prune"], Input)
