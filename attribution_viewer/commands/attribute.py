"""``attribute`` command: a new attribution graph for a prompt, with the configured model.

    python -m attribution_viewer attribute --prompt TEXT --out FILE.pt
        [--max-logits 10] [--desired-prob 0.95] [--max-features 4096] [--batch-size 256]
        [--model DIR --transcoders DIR --tokenizer DIR] [--memory-gb G]

Runs circuit-tracer's ``attribute`` (the same request the app's jobs run) and writes the
graph with ``Graph.to_pt``. The model is the flags' (or ``ATTRVIEW_MODEL`` ...), else the
one named by the ``attribution-viewer.json`` manifest in the output's folder, so a new
graph written beside a bundle's graphs uses that bundle's model. Prints one line (or
``{"path", "n_features", "n_tokens", "seconds"}`` with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attribution_viewer.commands.live_options import add_model_options, live_backend
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.live.backend import AttributeRequest, JobHooks, LiveModelError, to_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("attribute", help="compute a new graph for a prompt with the live model")
    parser.add_argument("--prompt", required=True, help="the prompt (as the tokenizer reads it)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.pt", help="graph file to write")
    parser.add_argument("--max-logits", type=int, default=10, help="most logit nodes (default 10)")
    parser.add_argument("--desired-prob", type=float, default=0.95, help="logit nodes until this probability")
    parser.add_argument("--max-features", type=int, default=4096, help="most feature nodes (default 4096)")
    parser.add_argument("--batch-size", type=int, default=256, help="sources per backward pass (default 256)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out.resolve()
    try:
        request = AttributeRequest(
            args.prompt, str(out), args.max_logits, args.desired_prob, args.max_features, args.batch_size
        )
        result = live_backend(args, out).attribute(request, JobHooks())
    except (ValueError, LiveModelError) as exc:
        raise GraphFormatError(out, "", "a graph the model can attribute", str(exc)) from exc
    if args.json:
        sys.stdout.write(json.dumps(to_json(result)) + "\n")
    else:
        counts = f"{result.n_features} features, {result.n_tokens} tokens"
        sys.stdout.write(f"wrote {result.path} ({counts}, {result.seconds:.2f} s)\n")
    return 0
