"""AppContext.scene: one scene per filter state, reused by clicks and overlay changes."""

from __future__ import annotations

import dataclasses

import numpy as np
from builders import build_tiny_store
from conftest import EXAMPLE_SETTINGS

from attribution_viewer.app.context import SCENES_KEPT, AppContext
from attribution_viewer.scene import build_scene
from attribution_viewer.view import ViewState


def make_context() -> AppContext:
    return AppContext(
        settings=dataclasses.replace(EXAMPLE_SETTINGS, autointerp_dir=None), store=build_tiny_store()
    )


def test_scene_reused_across_selection_size_and_labels() -> None:
    ctx = make_context()
    view = ViewState(prune_threshold=1.0, show_errors=True)
    first = ctx.scene(view)
    again = ctx.scene(dataclasses.replace(view, selected="F:0:0:7", node_size=20, labels={"E:0": "x"}))
    assert again is first
    expected = build_scene(ctx.store, view, None, EXAMPLE_SETTINGS.max_drawn_edges)
    np.testing.assert_array_equal(first.visible, expected.visible)
    np.testing.assert_array_equal(first.drawn, expected.drawn)
    np.testing.assert_array_equal(first.layout.x, expected.layout.x)


def test_scene_differs_with_filters_and_the_cache_is_bounded() -> None:
    ctx = make_context()
    view = ViewState(prune_threshold=1.0, show_errors=True)
    with_errors = ctx.scene(view)
    without = ctx.scene(dataclasses.replace(view, show_errors=False))
    assert without is not with_errors
    assert int(with_errors.visible.sum()) == 7 and int(without.visible.sum()) == 6  # one error shown
    for i in range(SCENES_KEPT):
        ctx.scene(dataclasses.replace(view, prune_threshold=0.5 + i / 100))
    assert ctx.scene(view) is not with_errors  # evicted, rebuilt
