"""New graphs from a prompt, without torch: where they are written, their names, their settings.

The app's "New graph" menu (:mod:`attribution_viewer.app.new_graph`) and the ``attribute``
command send the same :class:`~attribution_viewer.live.backend.AttributeRequest` to the
same job body (:func:`attribution_viewer.live.jobs.run_job`). This module builds the
menu's request from what a user typed, within bounds (:func:`attribute_request`), picks
the folder (:func:`new_graph_folder`) and a name that says what the graph is
(:func:`new_graph_path`), and publishes the finished file without ever replacing an
existing one (:func:`publish`; the model process calls it). A server of one graph file
serves the graphs made beside it too (:func:`new_graphs_library`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from attribution_viewer.library import GraphIndex
from attribution_viewer.library.start import single_graph_library
from attribution_viewer.live.backend import AttributeRequest, LiveModelError
from attribution_viewer.settings import Settings

MAX_LOGITS = 100  # most logit nodes a new graph may have
MAX_BATCH_SIZE = 4096  # most sources per backward pass
NAME_PROMPT_CHARS = 40  # prompt characters kept in a new graph's file name
MAX_NAME_TRIES = 1000  # name.pt, name-2.pt, ... name-1000.pt


def new_graph_folder(settings: Settings, graph_path: Path | None) -> Path | None:
    """Where new graphs go: ``settings.new_graphs_dir``, else the folder of the graph being
    viewed (``graph_path``; its manifest then names the new graph's model, tokenizer and
    descriptions too); None when neither is known."""
    if settings.new_graphs_dir is not None:
        return settings.new_graphs_dir
    return None if graph_path is None else graph_path.parent


def new_graph_path(folder: Path, prompt: str, now: datetime) -> Path:
    """``folder/new-<prompt>-<YYYYmmdd-HHMMSS>.pt``: the prompt's letters and digits (at most
    :data:`NAME_PROMPT_CHARS`, runs of anything else as one ``-``), then the time; the first
    of :func:`candidate_paths` not taken."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", prompt)[:NAME_PROMPT_CHARS].strip("-") or "prompt"
    first = folder / f"new-{slug}-{now:%Y%m%d-%H%M%S}.pt"
    return next((p for p in candidate_paths(first) if not p.exists()), first)


NEW_GRAPH_NAME = re.compile(r"new-[A-Za-z0-9-]+-\d{8}-\d{6}(-\d+)?\.pt")


def is_new_graph_name(name: str) -> bool:
    """Whether a file name is one :func:`new_graph_path` (and :func:`publish`) gives."""
    return NEW_GRAPH_NAME.fullmatch(name) is not None


def new_graphs_library(settings: Settings, has_model: bool) -> tuple[Settings, GraphIndex] | None:
    """A server of ONE graph file that has a model (``has_model``: see
    :func:`attribution_viewer.live.jobs.model_spec`) and saves new graphs beside it (no
    ``new_graphs_dir`` elsewhere) serves them too: the settings and index of
    :func:`~attribution_viewer.library.start.single_graph_library` (the file and the
    :func:`is_new_graph_name` files of its folder). None otherwise: the file alone."""
    graph = settings.graph_path
    if graph is None or settings.graphs_dir is not None or not has_model:
        return None
    folder = new_graph_folder(settings, graph)
    if folder is None or folder.resolve() != graph.parent.resolve():
        return None
    return single_graph_library(settings, is_new_graph_name)


def candidate_paths(path: Path) -> Iterator[Path]:
    """``path``, then ``<stem>-2<suffix>``, ``<stem>-3<suffix>`` ... (:data:`MAX_NAME_TRIES` in all)."""
    yield path
    for n in range(2, MAX_NAME_TRIES + 1):
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")


def publish(partial: Path, out: Path, exclusive: bool) -> Path:
    """Give the finished file ``partial`` its name ``out`` and return the final path.

    ``exclusive``: never replace a file; the first free of :func:`candidate_paths` is taken,
    atomically (a hard link fails when the name exists, so two jobs never share one), and
    ``partial`` is removed. Otherwise ``out`` is replaced (the command line's ``--out``)."""
    if not exclusive:
        partial.replace(out)
        return out
    try:
        for candidate in candidate_paths(out):
            try:
                os.link(partial, candidate)
            except FileExistsError:
                continue
            return candidate
    finally:
        partial.unlink(missing_ok=True)
    raise LiveModelError(f"{out}: {MAX_NAME_TRIES} names taken, the new graph was not saved")


def _bounded_int(name: str, value: Any, low: int, high: int) -> int:
    number = _number(name, value, f"an integer {low}..{high}")
    if number != int(number) or not low <= number <= high:
        raise ValueError(f"{name}: expected an integer {low}..{high}, got {value!r}")
    return int(number)


def _number(name: str, value: Any, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}: expected {expected}, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return number


def attribute_request(
    settings: Settings,
    out_path: Path,
    *,
    prompt: Any,
    max_logits: Any,
    desired_prob: Any,
    max_features: Any,
    batch_size: Any,
) -> AttributeRequest:
    """The request for the menu's values (as the browser sends them: numbers, strings or None),
    written exclusively to ``out_path`` (:func:`publish`). ValueError names the first bad
    value and the range it must be in: a prompt of 1..``settings.attribute_max_prompt_chars``
    characters, not only whitespace, without NUL; at most :data:`MAX_LOGITS` logits; a
    probability in (0, 1]; 1..``settings.attribute_max_feature_nodes`` features; a batch
    size of 1..:data:`MAX_BATCH_SIZE`."""
    limit = settings.attribute_max_prompt_chars
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt: expected some text to attribute")
    if len(prompt) > limit:
        raise ValueError(f"prompt: expected at most {limit} characters, got {len(prompt)}")
    if "\x00" in prompt:
        raise ValueError("prompt: expected text without NUL characters")
    probability = _number("desired logit probability", desired_prob, "a number in (0, 1]")
    if not 0.0 < probability <= 1.0:
        raise ValueError(f"desired logit probability: expected a number in (0, 1], got {desired_prob!r}")
    return AttributeRequest(
        prompt,
        str(out_path),
        max_n_logits=_bounded_int("max logits", max_logits, 1, MAX_LOGITS),
        desired_logit_prob=probability,
        max_feature_nodes=_bounded_int(
            "max feature nodes", max_features, 1, settings.attribute_max_feature_nodes
        ),
        batch_size=_bounded_int("batch size", batch_size, 1, MAX_BATCH_SIZE),
        exclusive=True,
    )
