"""Convert a graph file to the native format in a child process.

``python -m attribution_viewer.loaders.child SRC DST MAX_BYTES [TOKENIZER_JSON]``

Used by :func:`attribution_viewer.loaders.open_graph` with ``torch_in_subprocess=True`` so
that a long-running server never imports torch. A bad file is reported on stdout as one
JSON object (``{"path", "key", "expected", "got"}`` or ``{"missing": message}``) with exit
code 2, and turned back into the same exception in the parent.
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


def main(argv: list[str]) -> int:
    from attribution_viewer.loaders import open_graph, save_native

    source, target, max_bytes, *naming = argv  # naming: the tokenizer.json that names the tokens, if any
    try:
        save_native(
            open_graph(source, max_bytes=int(max_bytes), tokenizer=naming[0] if naming else None), target
        )
    except GraphFormatError as exc:
        sys.stdout.write(
            json.dumps({"path": exc.path, "key": exc.key, "expected": exc.expected, "got": exc.got})
        )
        return 2
    except MissingDependencyError as exc:
        sys.stdout.write(json.dumps({"missing": str(exc)}))
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
