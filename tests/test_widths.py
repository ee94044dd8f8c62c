"""Terminal output at 60, 80 and 120 columns: every command on the default, Azerbaijan, the coalition
file, a constellation and a 30-niche synthetic reads as tables (no `label: value` fallback), no line
past the width, no trailing space, no number or id cut; golden files.

Each command runs once through the real CLI (in process); what it prints is drawn at each width by
the same renderer `niches` uses for a file or pipe (`render.terminal.plain_text`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import niches.cli.output
import niches.render.terminal as terminal
from niches.cli import app

from .conftest import ROOT, run_cli
from .test_cli import check_golden

WIDTHS = (60, 80, 120)
S30 = "tests/data/synthetic30.yaml"
AZ = "options/azerbaijan.yaml"

COMMANDS: dict[str, list[str]] = {
    "solve": ["solve"],
    "worlds": ["worlds"],
    "frontier": ["frontier"],
    "frontier-exposure": ["frontier", "--axis", "exposure"],
    "frontier-risk": ["frontier", "--axis", "risk"],
    "sensitivity": ["sensitivity"],
    "robust": ["robust", "--samples", "200"],
    "judges": ["judges"],
    "adapt": ["adapt", "--sweep"],
    "learn": ["learn"],
    "price": ["price", "logistics=corridor@2026"],
    "diff": ["diff", "options/kazakhstan.yaml", "tests/data/diff/kazakhstan-revised.yaml"],
    "explain": ["explain", "tests/data/valid/infeasible.yaml"],
    "azerbaijan-solve": ["solve", AZ],
    "azerbaijan-worlds": ["worlds", AZ],
    "azerbaijan-frontier": ["frontier", AZ],
    "azerbaijan-sensitivity": ["sensitivity", AZ],
    "azerbaijan-price": ["price", AZ, "-eu_gateway"],
    "azerbaijan-robust": ["robust", AZ, "--samples", "200"],
    "azerbaijan-adapt": ["adapt", AZ, "--reveal", "2027"],
    "coalition": ["coalition", "options/coalitions/middle_corridor.yaml"],
    "rivals": ["rivals", "tests/data/rivals/corridor.yaml"],
    "s30-solve": ["solve", S30],
    "s30-worlds": ["worlds", S30],
    "s30-frontier": ["frontier", S30, "--max-points", "12"],
    "s30-robust": ["robust", S30, "--samples", "50"],
    "s30-adapt": ["adapt", S30, "--reveal", "2026"],
    "s30-learn": ["learn", S30, "--samples", "20", "--points", "9"],
}
SLOW = {"s30-sensitivity": ["sensitivity", S30]}


def _drawn(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[str]]:
    """Run a command once; return what it handed the printer and the titles of sections listed."""
    shown: list[Any] = []
    listed: list[str] = []
    monkeypatch.setattr(niches.cli.output, "_print", shown.append)
    real = terminal.section_list

    def spy(section: Any) -> Any:
        listed.append(section.title)
        return real(section)

    monkeypatch.setattr(terminal, "section_list", spy)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    assert shown, "the command printed nothing through the renderer"
    return shown, listed


def _check(name: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    shown, listed = _drawn(args, monkeypatch)
    for width in WIDTHS:
        text = "".join(terminal.plain_text(r, width) for r in shown)
        assert listed == [], (width, listed)  # no table fell back to `label: value` lines
        for line in text.splitlines():
            assert len(line) <= width, (width, line)
            assert line == line.rstrip(), (width, line)
        assert "…" not in text  # rich's ellipsis: a cell was cut
        check_golden(f"width/{name}-{width}.txt", text)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_reads_as_tables_at_60_80_and_120_columns(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(name, COMMANDS[name], monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_the_slow_commands_read_as_tables_too(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _check(name, SLOW[name], monkeypatch)


def test_below_60_columns_a_table_too_wide_is_listed_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    shown, _ = _drawn(["solve"], monkeypatch)
    text = "".join(terminal.plain_text(r, 40) for r in shown)
    assert "niche: ai" in text
    assert max(len(line) for line in text.splitlines()) <= 40


def test_piped_output_has_no_trailing_spaces() -> None:
    result = run_cli("solve", columns=80)
    assert result.returncode == 0
    assert result.stdout and all(line == line.rstrip() for line in result.stdout.splitlines())


@pytest.mark.parametrize("columns", [60, 80])
def test_every_id_and_number_of_the_solve_appears_whole(columns: int) -> None:
    shown = run_cli("solve", "options/kazakhstan.yaml", columns=columns).stdout
    words = {w.strip(",·()") for w in re.split(r"[\s│┃]+", shown)}
    data = json.loads(run_cli("solve", "options/kazakhstan.yaml", "--format", "json").stdout)
    for row in data["portfolio"]:
        assert row["niche"] in words and row["level"] in words
    for rule in data["rules"]:
        assert rule["rule"] in words
    assert f"{data['metrics']['cost']:,.0f}" in words
    assert f"{data['metrics']['expected_value']:.2f}" in words


def test_a_table_that_drops_columns_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    shown, _ = _drawn(["solve"], monkeypatch)
    text = "".join(terminal.plain_text(r, 60) for r in shown)
    assert " not shown at 60 columns: 2026, 2027, 2028, 2029, 2030" in text


def test_golden_files_of_the_old_layout_are_gone() -> None:
    old = sorted(p.name for p in (Path(__file__).parent / "golden" / "width").glob("*.txt"))
    expected = sorted(f"{n}-{w}.txt" for n in [*COMMANDS, *SLOW] for w in WIDTHS)
    assert old == expected
