"""The steering panel's history: the runs of this tab, newest first, each re-runnable.

The history is the ``steer-history`` store (session storage: per tab, in the browser).
An entry is ``{"job": {"kind", "request", "label"}, "label"}``: the job exactly as it was
sent, so re-running it (:func:`rerun_job`) sends the same request under a new id. A run
already in the history moves to the top instead of being listed twice; at most
:data:`HISTORY_MAX` entries are kept. :func:`history_buttons` renders the list
(``{"type": "steer-history-item", "index": i}``).
"""

from __future__ import annotations

from typing import Any

from dash import html

HISTORY_MAX = 20
History = list[dict[str, Any]]


def with_run(history: History | None, job: dict[str, Any]) -> History:
    """``history`` with the finished ``job`` first (moved there if it was already listed)."""
    entry = {"job": {k: job[k] for k in ("kind", "request", "label")}, "label": job.get("label", "")}
    return ([entry] + [h for h in (history or []) if h.get("job") != entry["job"]])[:HISTORY_MAX]


def rerun_job(history: History | None, index: int, job_id: float) -> dict[str, Any]:
    """The job of history entry ``index``, to send again under ``job_id``."""
    return {**(history or [])[index]["job"], "id": job_id}


def history_buttons(history: History | None) -> list[html.Button]:
    """One button per entry: ``steer: <label>`` or ``edges: <label>``; a click re-runs it."""
    return [
        html.Button(
            f"{'steer' if h['job']['kind'] == 'steer' else 'edges'}: {h['label']}",
            id={"type": "steer-history-item", "index": i},
            n_clicks=0,
            className="steer-history-item",
            title="run again",
        )
        for i, h in enumerate(history or [])
    ]
