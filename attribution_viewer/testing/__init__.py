"""Test and benchmark tooling: seeded synthetic graphs and autointerp folders, and the
headless Chromium options. Never imported by library code (a ruff banned-import rule)."""
