"""Where the bundled scenario library lives, installed or in a source checkout."""

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
    return Path(__file__).resolve().parents[2] / "options"  # editable install / checkout


def default_scenario() -> Path:
    """Return the path of the bundled default scenario (Kazakhstan)."""
    return options_dir() / DEFAULT_NAME
