"""``steer`` command: run a graph's prompt with features set to new values, on the live model.

    python -m attribution_viewer steer GRAPH --set F:{layer}:{pos}:{idx}=VALUE [--set ...]
        [--tokens N] [--temperature T] [--seed S] [--where own|all|generated]
        [--no-freeze] [--top K] [--model DIR ...] [--json]

VALUE is the feature's new activation (0 ablates). ``--json`` prints
``{"baseline": {"top": [{"token", "prob"}, ...], "text": ...}, "steered": {...}}``: the
top-k next-token probabilities after the prompt and the generated continuation, without
and with the change. The model comes from the flags or the graph's manifest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attribution_viewer.commands.live_options import add_model_options, live_backend
from attribution_viewer.errors import GraphFormatError
from attribution_viewer.live.backend import (
    STEER_WHERE,
    Continuation,
    GenerateRequest,
    JobHooks,
    LiveModelError,
    SteerRequest,
)
from attribution_viewer.live.graph_requests import prompt_token_ids, steer_features
from attribution_viewer.loaders import open_graph


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("steer", help="steer features of a graph on the live model")
    parser.add_argument("graph", metavar="GRAPH", type=Path, help="graph file (.pt)")
    parser.add_argument(
        "--set", dest="settings", action="append", required=True, metavar="KEY=VALUE",
        help="a feature key and its new activation (0 ablates); repeatable",
    )  # fmt: skip
    parser.add_argument("--tokens", type=int, default=5, help="tokens to generate (default 5)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--where", choices=STEER_WHERE, default="own", help="positions to apply it at")
    parser.add_argument("--no-freeze", dest="freeze", action="store_false", help="do not freeze attention")
    parser.add_argument("--top", type=int, default=10, help="next-token probabilities to print (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_model_options(parser)
    parser.set_defaults(func=run)


def _continuation_json(c: Continuation) -> dict[str, object]:
    return {"top": [{"token": t.token, "prob": t.prob} for t in c.top], "text": c.text}


def run(args: argparse.Namespace) -> int:
    store = open_graph(args.graph)
    features = []
    for item in args.settings:
        key, sep, raw = item.partition("=")
        try:
            value = float(raw)
        except ValueError:
            value = None
        if not sep or value is None:
            raise GraphFormatError(args.graph, "--set", "KEY=VALUE with a number VALUE", item)
        try:
            found = steer_features(store, [key], "set", value)
        except ValueError as exc:
            raise GraphFormatError(args.graph, "--set", "a feature key of this graph", str(exc)) from exc
        if not found:
            raise GraphFormatError(args.graph, "--set", "a feature key (F:layer:pos:idx)", key)
        features.extend(found)
    try:
        request = SteerRequest(
            GenerateRequest(prompt_token_ids(store), args.tokens, args.temperature, args.seed, args.top),
            tuple(features),
            args.where,
            args.freeze,
        )
        result = live_backend(args, args.graph).steer(request, JobHooks())
    except (ValueError, LiveModelError) as exc:
        raise GraphFormatError(args.graph, "", "a request the model can run", str(exc)) from exc
    if args.json:
        doc = {"baseline": _continuation_json(result.baseline), "steered": _continuation_json(result.steered)}
        sys.stdout.write(json.dumps(doc) + "\n")
        return 0
    sys.stdout.write(f"mode: {result.freeze_mode}\n")
    sys.stdout.write(f"default: {result.baseline.text!r}\nsteered: {result.steered.text!r}\n")
    for c in result.changes:
        sys.stdout.write(f"{c.token!r:>12} {c.before:.4f} -> {c.after:.4f} ({c.change:+.4f})\n")
    return 0
