"""AppContext: one scene per filter state, reused by clicks and overlay changes; the
description texts the search reads."""

from __future__ import annotations

import dataclasses

import numpy as np
from builders import build_tiny_store, example_context
from conftest import EXAMPLE_SETTINGS

from attribution_viewer.app.context import SCENES_KEPT, AppContext
from attribution_viewer.influence import cumulative_influence
from attribution_viewer.model import NodeKind
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


def test_search_texts_are_the_example_descriptions() -> None:
    ctx = example_context()
    source = ctx.descriptions
    assert source is not None
    nodes = ctx.store.nodes
    lunar = set()
    for i in np.flatnonzero(nodes.kind == NodeKind.FEATURE):
        details = source.get(int(nodes.layer[i]), int(nodes.feature_idx[i]))
        if details is not None and "lunar" in f"{details.description} {details.explanation}".lower():
            lunar.add(ctx.store.keys[int(i)])
    assert lunar  # the example describes some features with it
    assert {k for k, text in ctx.search_texts.items() if "lunar" in text.lower()} == lunar


def test_search_texts_are_bounded_to_the_most_influential_features() -> None:
    ctx = example_context(description_cache_size=3)
    store = ctx.store
    feature = np.flatnonzero(store.nodes.kind == NodeKind.FEATURE)
    top = feature[np.argsort(cumulative_influence(store)[feature], kind="stable")[:3]]
    assert set(ctx.search_texts) <= {store.keys[int(i)] for i in top}
    assert len(ctx.search_texts) >= 1
