"""The seed's eleven middle powers as the README shows them: an excerpt of `niches rivals` kept true.

Apart from tests/test_rivals.py because it solves the whole constellation (about 25 s): the
coordinated plan of eleven members whose value floors crowding breaks.
"""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT, run_cli
from .readme_outputs import check_excerpt

SEED = "options/constellations/middle_powers.yaml"


@pytest.mark.slow
def test_the_readme_shows_the_seeds_middle_powers_as_they_are() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = f"$ COLUMNS=80 niches rivals {SEED}\n"
    start = readme.index(command) + len(command)
    end = readme.index("```", start)
    result = run_cli("rivals", SEED, columns=80)
    assert result.returncode == 0, result.stderr  # converged, whatever the shortfalls
    check_excerpt(result.stdout, readme[start:end])
    after = readme[end + len("```\n\n") :]
    paragraph = after[: after.index("\n\n")]
    assert paragraph.startswith("What it says about Kazakhstan.")
    figures = re.findall(r"\d+\.\d+", paragraph)
    assert len(figures) > 20
    assert [f for f in figures if f not in result.stdout] == []  # every figure is one the output gives
