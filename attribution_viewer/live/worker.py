"""The model worker: a long-lived process that holds the model and answers live requests.

Dash's ``DiskcacheManager`` runs every background callback in a new process, so a job
cannot keep a model warm. Instead the job is a thin :class:`WorkerClient`: it connects to
the model worker over ``multiprocessing.connection`` (a Unix socket in the server's run
folder, with an authentication key that only the server and its jobs hold), starting
the worker when none answers. The worker:

- is started detached (``--detach``: a short-lived launcher starts it in a new session and
  exits), so that cancelling the job that started it does not kill it;
- loads the model on its first request (``CircuitTracerBackend``), under the memory cap;
- answers one connection at a time (one model, one request at a time; others wait);
- sends ``{"progress": [done, total, what]}`` messages, then ``{"result": ...}`` or
  ``{"error": "one line"}``; a client that closes its connection (a cancelled job) stops
  the request at the next step;
- exits when the server process that owns it is gone;
- writes its log to ``worker.log`` in the run folder.

Run by the client as ``python -m attribution_viewer.live.worker --address SOCKET ...``;
the key arrives on stdin (never on the command line).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from attribution_viewer.live.backend import (
    REQUEST_TYPES,
    RESULT_TYPES,
    ForwardingBackend,
    JobCancelled,
    JobHooks,
    LiveModelError,
    ModelSpec,
    from_json,
    to_json,
)

log = logging.getLogger(__name__)

SOCKET_NAME = "model.sock"
START_LOCK = "start.lock"
WORKER_LOG = "worker.log"
START_TIMEOUT_S = 30.0
OWNER_POLL_S = 2.0


@dataclass(frozen=True)
class WorkerClient(ForwardingBackend):
    """An :class:`~attribution_viewer.live.backend.InterventionBackend` answered by the model worker.

    Holds no connection: every request connects (starting the worker if needed), so it is
    safe to use from the short-lived processes Dash runs jobs in.
    """

    spec: ModelSpec
    run_dir: Path
    authkey: bytes
    owner_pid: int
    memory_gb: float = 0.0

    @property
    def address(self) -> str:
        return str(self.run_dir / SOCKET_NAME)

    def _try_connect(self) -> Connection | None:
        try:
            return Client(self.address, family="AF_UNIX", authkey=self.authkey)
        except (FileNotFoundError, ConnectionRefusedError):
            return None

    def connect(self) -> Connection:
        """A connection to the worker, started first when none answers."""
        conn = self._try_connect()
        if conn is not None:
            return conn
        with open(self.run_dir / START_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            conn = self._try_connect()
            if conn is not None:
                return conn
            self._start()
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                conn = self._try_connect()
                if conn is not None:
                    return conn
                time.sleep(0.02)
        raise LiveModelError(f"the model worker did not start within {START_TIMEOUT_S:.0f} s")

    def _start(self) -> None:
        Path(self.address).unlink(missing_ok=True)
        command = [sys.executable, "-m", "attribution_viewer.live.worker", "--detach", *worker_args(self)]
        # The worker logs to its own file: it must not hold this (short-lived) process's pipes.
        with open(self.run_dir / WORKER_LOG, "ab") as log_file:
            launcher = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=log_file, stderr=log_file, start_new_session=True
            )
        assert launcher.stdin is not None
        launcher.stdin.write(self.authkey.hex().encode() + b"\n")
        launcher.stdin.close()
        launcher.wait()
        log.info("model worker started (%s)", self.address)

    def forward(self, kind: str, request: Any, hooks: JobHooks) -> Any:
        """Send one request, relay its progress, return its decoded result."""
        conn = self.connect()
        try:
            conn.send({"kind": kind, "request": to_json(request)})
            while True:
                if hooks.cancelled():
                    raise JobCancelled("cancelled")
                if not conn.poll(0.05):
                    continue
                message = conn.recv()
                if "progress" in message:
                    hooks.progress(*message["progress"])
                elif "error" in message:
                    if message.get("cancelled"):
                        raise JobCancelled(message["error"])
                    raise LiveModelError(message["error"])
                else:
                    return from_json(RESULT_TYPES[kind], message["result"])
        except (EOFError, ConnectionResetError, BrokenPipeError) as exc:
            raise LiveModelError(
                "the model worker stopped during the request (over the memory cap?); "
                "it restarts on the next one"
            ) from exc
        finally:
            conn.close()


def worker_args(client: WorkerClient) -> list[str]:
    spec = client.spec
    args = [
        "--address", client.address,
        "--owner-pid", str(client.owner_pid),
        "--memory-gb", str(client.memory_gb),
        "--model", spec.model,
        "--transcoders", spec.transcoders,
        "--backend", spec.backend,
    ]  # fmt: skip
    if spec.tokenizer:
        args += ["--tokenizer", spec.tokenizer]
    return args


def _hooks(conn: Connection) -> JobHooks:
    """Progress goes to the client; the request is cancelled when the client goes away."""

    def progress(done: int, total: int, what: str) -> None:
        conn.send({"progress": [done, total, what]})

    def cancelled() -> bool:
        # A client never sends a second message: anything readable is EOF (it closed).
        return conn.poll(0)

    return JobHooks(progress, cancelled)


def _answer(conn: Connection, backend: Any) -> None:
    message = conn.recv()
    kind = message.get("kind")
    try:
        if kind not in REQUEST_TYPES:
            raise LiveModelError(f"unknown request kind {kind!r}")
        request = from_json(REQUEST_TYPES[kind], message.get("request"))
        result = getattr(backend, kind)(request, _hooks(conn))
        conn.send({"result": to_json(result)})
    except JobCancelled as exc:
        log.info("request %s cancelled", kind)
        conn.send({"error": str(exc), "cancelled": True})
    except MemoryError:
        conn.send({"error": "the request went over the job memory cap (job_memory_gb)"})
    except (LiveModelError, ValueError) as exc:
        conn.send({"error": str(exc)})


def _owner_alive(owner_pid: int) -> bool:
    """Whether the owner still runs (a zombie, exited but not yet reaped, does not)."""
    import psutil

    try:
        return psutil.Process(owner_pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _exit_with_owner(owner_pid: int) -> None:
    while _owner_alive(owner_pid):
        time.sleep(OWNER_POLL_S)
    log.info("owner %d gone: model worker exits", owner_pid)
    os._exit(0)


def serve(address: str, authkey: bytes, spec: ModelSpec, owner_pid: int, memory_gb: float) -> None:
    """Answer requests on ``address`` until the owner process exits."""
    from attribution_viewer.live.circuit_tracer_backend import CircuitTracerBackend, apply_memory_cap

    apply_memory_cap(memory_gb)
    backend = CircuitTracerBackend(spec)
    threading.Thread(target=_exit_with_owner, args=(owner_pid,), daemon=True).start()
    with Listener(address, family="AF_UNIX", authkey=authkey) as listener:
        log.info("model worker listening on %s", address)
        while True:
            try:
                conn = listener.accept()
            except (OSError, EOFError) as exc:  # a client that failed authentication
                log.warning("refused a connection: %s", exc)
                continue
            with conn:
                try:
                    _answer(conn, backend)
                except (EOFError, BrokenPipeError, ConnectionResetError):
                    log.info("client went away")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="attribution-viewer model worker (started by the app)")
    parser.add_argument("--address", required=True)
    parser.add_argument("--owner-pid", type=int, required=True)
    parser.add_argument("--memory-gb", type=float, default=0.0)
    parser.add_argument("--model", required=True)
    parser.add_argument("--transcoders", required=True)
    parser.add_argument("--tokenizer")
    parser.add_argument("--backend", default="transformerlens")
    parser.add_argument("--detach", action="store_true", help="start the worker in a new session and exit")
    args = parser.parse_args(argv)
    key_line = sys.stdin.readline().strip()
    if args.detach:
        command = [sys.executable, "-m", "attribution_viewer.live.worker", *(argv or sys.argv[1:])]
        command.remove("--detach")
        worker = subprocess.Popen(command, stdin=subprocess.PIPE, start_new_session=True)
        assert worker.stdin is not None
        worker.stdin.write(key_line.encode() + b"\n")
        worker.stdin.close()
        return 0
    logging.basicConfig(level=logging.INFO, format="model worker: %(message)s")
    spec = ModelSpec(args.model, args.transcoders, args.tokenizer, args.backend)
    serve(args.address, bytes.fromhex(key_line), spec, args.owner_pid, args.memory_gb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
