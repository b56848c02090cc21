"""The dash_duo server stops without killing request threads (RN-*).

Dash's own ThreadedRunner raises ``SystemExit`` in every thread started after it, so a
request still being answered when a test ends dies with it (pytest then prints
``PytestUnhandledThreadExceptionWarning ... SystemExit``); conftest's
GracefulThreadedRunner shuts the server down instead. Both are run here on a request held
open across the stop, with the thread exceptions recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import GracefulThreadedRunner
from dash import Dash, html
from dash.testing.application_runners import ThreadedRunner


@pytest.fixture
def thread_exceptions() -> Iterator[list[tuple[type[BaseException], str]]]:
    """The exceptions that end threads while the test runs: (type, thread name).

    The threads the test started are joined before the hook is put back: under load, a
    request thread hit by Dash's runner may die after the test body has returned, and its
    SystemExit would otherwise be reported against a later test."""
    seen: list[tuple[type[BaseException], str]] = []
    before = set(threading.enumerate())
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append((args.exc_type, args.thread.name if args.thread else ""))
    yield seen
    for thread in set(threading.enumerate()) - before:
        thread.join(20)
    threading.excepthook = previous


def stop_during_a_request(runner: ThreadedRunner) -> requests.Response | None:
    """Start a tiny app, stop the runner while a request is being answered, then let the
    request finish; its response (None when the request failed)."""
    app = Dash(__name__)
    app.layout = html.Div("x")
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        release.wait(10)
        return "done"

    app.server.add_url_rule("/slow", "slow", slow)
    runner.start(app)
    result: dict[str, Any] = {}

    def client() -> None:
        try:
            result["response"] = requests.get(runner.url + "/slow", timeout=20)
        except requests.RequestException:
            result["response"] = None

    thread = threading.Thread(target=client)
    thread.start()
    assert entered.wait(10)
    stopper = threading.Thread(target=runner.stop)
    stopper.start()
    release.set()
    stopper.join(20)
    thread.join(20)
    return result.get("response")  # absent: the client thread was killed too


def test_rn1_graceful_runner_lets_the_request_finish(
    thread_exceptions: list[tuple[type[BaseException], str]],
) -> None:
    response = stop_during_a_request(GracefulThreadedRunner())
    assert response is not None and response.text == "done"
    assert thread_exceptions == []


def test_rn2_dash_runner_ends_threads_with_system_exit(
    thread_exceptions: list[tuple[type[BaseException], str]],
) -> None:
    # The cause of the warnings, shown on Dash's runner (documents why conftest replaces it):
    # every thread started after it (the request's, and this test's own client and stopper
    # threads; which of them are hit first is a race) is ended with SystemExit.
    stop_during_a_request(ThreadedRunner())
    assert SystemExit in {exc_type for exc_type, _ in thread_exceptions}
