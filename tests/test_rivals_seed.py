"""The seed's eleven middle powers as the README shows them: an excerpt of `niches rivals` kept true.

Apart from tests/test_rivals.py because it solves the whole constellation (about 15 s, most of it
the coordinated plan of eleven members whose value floors crowding breaks). One test solves it
once, in process, and checks both the README's excerpt and the coordinated plan against the
equilibrium: two tests sharing a fixture could each solve it on a worker of their own under
pytest-xdist. The text is drawn at 80 columns by the renderer `niches rivals` uses for a pipe, so it
is what `COLUMNS=80 niches rivals FILE` prints.
"""

from __future__ import annotations

import re

import pytest

from niches.analysis.rivals import RivalsReport, study_rivals
from niches.optimize.tolerances import RELATIVE_TIE
from niches.render.rivals import rivals_heading, rivals_sections
from niches.render.terminal import plain_text, sections_view
from niches.scenario.constellation import load_constellation

from .conftest import ROOT
from .readme_outputs import check_excerpt

SEED = "options/constellations/middle_powers.yaml"


@pytest.mark.slow
def test_the_readme_shows_the_seeds_middle_powers_as_they_are() -> None:
    report = study_rivals(load_constellation(ROOT / SEED))
    output = plain_text(sections_view(rivals_heading(report), rivals_sections(report), None), 80)
    assert report.dynamics.converged  # `niches rivals` exits 0, whatever the shortfalls
    _readme_shows(output)
    _no_member_further_short_than_at_equilibrium(report)


def _readme_shows(output: str) -> None:
    """The README's excerpt is `output`'s, and every figure of its paragraph on Kazakhstan is one the
    output gives."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = f"$ COLUMNS=80 niches rivals {SEED}\n"
    start = readme.index(command) + len(command)
    end = readme.index("```", start)
    check_excerpt(output, readme[start:end])
    after = readme[end + len("```\n\n") :]
    paragraph = after[: after.index("\n\n")]
    assert paragraph.startswith("What it says about Kazakhstan.")
    figures = re.findall(r"\d+\.\d+", paragraph)
    assert len(figures) > 20
    assert [f for f in figures if f not in output] == []


def _no_member_further_short_than_at_equilibrium(report: RivalsReport) -> None:
    """The coordinated plan keeps every member's shortfall within its equilibrium one (a member whose
    floors hold there keeps them), so its total is no less: the seed's figures as the README gives them."""
    eq, co = report.equilibrium, report.coordinated
    assert eq is not None
    for m, held in eq.shares.items():
        assert co.shares[m] <= held + RELATIVE_TIE * max(1.0, held), (m, co.shares[m], held)
        if held == 0.0:
            assert not co.shortfalls[m], m
    assert report.price_of_anarchy is not None and report.price_of_anarchy >= 1.0
    figures = (round(eq.total, 2), round(co.total, 2), round(report.price_of_anarchy, 4))
    assert figures == (311.43, 313.29, 1.006)
    assert {rule: round(short, 2) for rule, short in co.shortfalls["kazakhstan"].items()} == {
        "min_cvar": 2.93
    }
    short = {m for m, shortfalls in eq.shortfalls.items() if shortfalls}
    assert short == {"kazakhstan", "australia", "norway", "singapore", "uae"}
