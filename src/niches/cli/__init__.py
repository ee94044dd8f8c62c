"""The `niches` command line: parse, call the core, render, map errors to exit codes.

Heavy modules (pulp, the analyses, rich renderers) are imported inside the
commands that need them, so `niches --help` starts fast.

`common` holds the app, its shared options, loading and error messages, and the
entry point; `output` how commands print; the commands register on the app from
`solving`, `adapting`, `scenario_files`, `judging` and `reporting`, imported here.
"""

from __future__ import annotations

from niches.cli import adapting, judging, reporting, scenario_files, solving
from niches.cli.common import app, main

__all__ = ["adapting", "app", "judging", "main", "reporting", "scenario_files", "solving"]

COMMANDS = (
    "solve",
    "frontier",
    "sensitivity",
    "explain",
    "validate",
    "price",
    "coalition",
    "rivals",
    "judges",
    "elicit",
    "worlds",
    "robust",
    "adapt",
    "learn",
    "check",
    "schema",
    "init",
    "report",
    "diff",
)
"""The commands in the order `niches --help` lists them (the modules register them by job)."""

app.registered_commands.sort(key=lambda c: COMMANDS.index(c.name or getattr(c.callback, "__name__", "")))
