"""Regenerate the bundled tiny real model in ``data/tiny-addition/`` (seeded, CPU, one thread).

Trains a 2-layer transformer on two-digit addition, one ReLU transcoder per layer, writes
the model / transcoders / tokenizer, circuit-tracer graphs (``*.pt``) for a few prompts and
an autointerp folder computed from real activations; see
:mod:`attribution_viewer.live.tiny_model`. Prints the measured numbers as JSON.

    python scripts/train_tiny_model.py [--out data/tiny-addition] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

from attribution_viewer.live.tiny_model import TinyConfig, build_bundle

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "tiny-addition"
GENERATED = ("model", "transcoders", "tokenizer", "autointerp")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the bundled tiny addition model.")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/tiny-addition)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    for name in GENERATED:
        shutil.rmtree(args.out / name, ignore_errors=True)
    for old in args.out.glob("*.pt"):
        old.unlink()
    report = build_bundle(args.out, TinyConfig(seed=args.seed))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
