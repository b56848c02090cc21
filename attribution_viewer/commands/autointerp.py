"""``autointerp`` command: download published feature descriptions and rebuild the folder.

    python -m attribution_viewer autointerp download REPO --out DIR [--layers 0 1] [--revision R]
    python -m attribution_viewer autointerp reconstruct PARQUET_DIR --out DIR [--overwrite]

``download`` fetches a Hugging Face repository (a dataset by default) into ``DIR``,
optionally only the files of some layers; re-running it resumes. ``reconstruct`` turns
Parquet shards (one row per feature) into ``DIR/layer{L}/feature_{idx}_complete.json``,
the folder that ``settings.autointerp_dir`` points at.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)
EXIT_DOWNLOAD_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("autointerp", help="download / reconstruct feature descriptions")
    actions = parser.add_subparsers(dest="autointerp_action", required=True)

    dl = actions.add_parser("download", help="download an autointerp repository from the Hugging Face Hub")
    dl.add_argument("repo", help="repository id, e.g. owner/name")
    dl.add_argument("--out", type=Path, required=True, help="local folder to download into")
    dl.add_argument("--layers", type=int, nargs="+", default=None, help="only these layers (default: all)")
    dl.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    dl.add_argument(
        "--repo-type",
        choices=("dataset", "model"),
        default="dataset",
        help="Hub repository type (default: dataset)",
    )
    dl.set_defaults(func=run_download)

    rc = actions.add_parser("reconstruct", help="rebuild layer{L}/feature_{idx}_complete.json from Parquet")
    rc.add_argument("parquet", type=Path, help="a .parquet file or a folder of shards")
    rc.add_argument("--out", type=Path, required=True, help="output folder")
    rc.add_argument("--overwrite", action="store_true", help="rewrite files that already exist")
    rc.set_defaults(func=run_reconstruct)


def run_download(args: argparse.Namespace) -> int:
    from attribution_viewer.autointerp.download import download_autointerp

    try:
        folder = download_autointerp(
            args.repo, args.out, layers=args.layers, revision=args.revision, repo_type=args.repo_type
        )
    except OSError as exc:  # every Hugging Face Hub / network error is an OSError
        sys.stderr.write(f"error: download of {args.repo} failed: {exc}\n")
        return EXIT_DOWNLOAD_FAILED
    sys.stdout.write(f"downloaded {args.repo} into {folder}\n")
    if any(folder.rglob("*.parquet")):
        sys.stdout.write(
            f"next: python -m attribution_viewer autointerp reconstruct {folder} --out <features folder>\n"
        )
    return 0


def run_reconstruct(args: argparse.Namespace) -> int:
    from attribution_viewer.autointerp.reconstruct import reconstruct_from_parquet

    result = reconstruct_from_parquet(args.parquet, args.out, overwrite=args.overwrite)
    sys.stdout.write(
        f"wrote {result.written} feature files into {args.out} "
        f"({result.skipped} already present, {result.shards} shards)\n"
    )
    return 0
