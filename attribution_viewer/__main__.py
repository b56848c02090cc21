"""``python -m attribution_viewer``: the command-line interface."""

from attribution_viewer.cli import main

raise SystemExit(main())
