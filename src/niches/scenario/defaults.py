"""Where the bundled scenario library lives, and which scenario runs when none is given."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_NAME = "kazakhstan.yaml"
DISPLAY_PREFIX = "options/"


def options_dir() -> Path:
    """Return the folder holding the bundled scenarios."""
    bundled = Path(str(resources.files("niches"))) / "options"
    if (bundled / DEFAULT_NAME).is_file():
        return bundled
    return Path(__file__).resolve().parents[3] / "options"  # editable install / checkout


def default_scenario() -> Path:
    """Return the path of the bundled default scenario (Kazakhstan)."""
    return options_dir() / DEFAULT_NAME


def default_choice() -> tuple[Path, str]:
    """Return (file, name to show) of the scenario a command reads when given none.

    `options/kazakhstan.yaml` under the current folder (a checkout, perhaps
    edited) wins over the copy installed with the package, so an edit is never
    silently ignored; the name shown is the path actually read.
    """
    local = Path(DISPLAY_PREFIX) / DEFAULT_NAME
    if local.is_file():
        return local, DISPLAY_PREFIX + DEFAULT_NAME
    bundled = default_scenario()
    return bundled, str(bundled)
