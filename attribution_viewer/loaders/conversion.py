"""The parent half of a conversion in a child process: :class:`ChildConversion`.

Used by :func:`attribution_viewer.loaders.open_graph` with ``torch_in_subprocess=True`` so
that a long-running server never imports torch: it starts
``python -m attribution_viewer.loaders.child`` (the child half) and turns the one JSON
line a bad file is reported with back into the same exception. Imports nothing of the
loaders, so ``loaders`` can import it at the top (no cycle through ``child``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.limits import MAX_GRAPH_BYTES


class ChildConversion:
    """A conversion running in a child process: started at construction, :meth:`wait` for it.

    Starting it early lets the caller do other work (importing Dash) while torch loads.
    """

    def __init__(
        self,
        source: str | Path,
        target: str | Path,
        max_bytes: int = MAX_GRAPH_BYTES,
        tokenizer_json: Path | None = None,
    ) -> None:
        self.source = source
        naming = [] if tokenizer_json is None else [str(tokenizer_json)]
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "attribution_viewer.loaders.child",
                str(source),
                str(target),
                str(max_bytes),
                *naming,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self) -> None:
        """Wait for the child; raise the error it reported (GraphFormatError, MissingDependencyError)."""
        stdout, stderr = self._process.communicate()
        if self._process.returncode == 0:
            return
        try:
            report = json.loads(stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise RuntimeError(f"converting {self.source} failed: {stderr.strip()[-2000:]}") from None
        if "missing" in report:
            raise MissingDependencyError(report["missing"])
        raise GraphFormatError(report["path"], report["key"], report["expected"], report["got"])
