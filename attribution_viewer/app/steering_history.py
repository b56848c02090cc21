"""The steering panel's history: the runs of this tab, newest first, each re-runnable.

The history is the ``steer-history`` store (session storage: per tab, in the browser).
An entry is ``{"job": {"kind", "request", "label"}, "label"}``: the job exactly as it was
sent, so re-running it (:func:`rerun_job`) sends the same request under a new id. A run
already in the history moves to the top instead of being listed twice; at most
:data:`HISTORY_MAX` entries are kept. :func:`history_buttons` renders the list
(``{"type": "steer-history-item", "index": i}``).

The history is also in the URL (``steer=``, its newest runs that fit: ``view.state_to_query``),
so a shared link restores it in a new tab; :func:`history_from_url` keeps the entries of
such a link whose job is a steering run or an edge check with a valid request, and says
what it dropped. A tab's own session storage wins over the link on reload.
"""

from __future__ import annotations

from typing import Any

from dash import html

from attribution_viewer.live.backend import REQUEST_TYPES, from_json

HISTORY_MAX = 20
History = list[dict[str, Any]]
HISTORY_KINDS = ("steer", "check_edges")


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


def history_from_url(value: list[Any] | None) -> tuple[History, list[str]]:
    """The valid entries of a history read from a link, and one problem line if any were dropped."""
    history: History = []
    errors: list[str] = []
    for i, entry in enumerate((value or [])[:HISTORY_MAX]):
        try:
            job = entry["job"] if isinstance(entry, dict) else None
            if not isinstance(job, dict) or job.get("kind") not in HISTORY_KINDS:
                raise ValueError(f"expected a steering run or an edge check, got {str(entry)[:60]!r}")
            from_json(REQUEST_TYPES[job["kind"]], job.get("request"))
            label = job.get("label")
            if not isinstance(label, str):
                raise ValueError("expected a label")
        except (KeyError, TypeError, ValueError) as exc:
            errors.append(f"run {i}: {exc}")
            continue
        kept = {"kind": job["kind"], "request": job["request"], "label": label}
        history.append({"job": kept, "label": label})
    problems = [f"steer: {len(errors)} run(s) of the link's history dropped ({errors[0]})"] if errors else []
    return history, problems
