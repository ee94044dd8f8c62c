"""Terminal output at 60, 80 and 120 columns: golden files, and no number or id ever cut."""

from __future__ import annotations

import json

import pytest

from .conftest import run_cli
from .test_cli import check_golden

COMMANDS = {
    "solve": ["solve"],
    "worlds": ["worlds"],
    "frontier": ["frontier"],
    "sensitivity": ["sensitivity"],
}


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_terminal_output_at_width(command: str, columns: int) -> None:
    result = run_cli(*COMMANDS[command], "options/kazakhstan.yaml", columns=columns)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "…" not in result.stdout  # rich's ellipsis: a cell was cut
    assert max(len(line) for line in lines) <= columns
    check_golden(f"width/{command}-{columns}.txt", result.stdout)


@pytest.mark.parametrize("columns", [60, 80])
def test_every_id_and_number_of_the_solve_appears_whole(columns: int) -> None:
    shown = run_cli("solve", "options/kazakhstan.yaml", columns=columns).stdout.split()
    data = json.loads(run_cli("solve", "options/kazakhstan.yaml", "--format", "json").stdout)
    words = {w.strip(",·") for w in shown}
    for row in data["portfolio"]:
        assert row["niche"] in words and row["level"] in words
    for rule in data["rules"]:
        assert rule["rule"] in words
    assert f"{data['metrics']['cost']:,.0f}" in words
    assert f"{data['metrics']['expected_value']:.2f}" in words
