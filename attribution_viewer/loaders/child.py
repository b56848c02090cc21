"""Convert a graph file to the native format in a child process.

``python -m attribution_viewer.loaders.child SRC DST MAX_BYTES [TOKENIZER_JSON]``

The child half of ``open_graph(..., torch_in_subprocess=True)`` (started by
:class:`attribution_viewer.loaders.conversion.ChildConversion`, so that a long-running server
never imports torch). A bad file is reported on stdout as one JSON object (``{"path",
"key", "expected", "got"}`` or ``{"missing": message}``) with exit code 2, and turned back
into the same exception in the parent.
"""

from __future__ import annotations

import json
import sys

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.loaders import open_graph, save_native


def main(argv: list[str]) -> int:
    """Convert ``SRC`` to ``DST``; 0, or 2 with the error as one JSON line on stdout."""
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
