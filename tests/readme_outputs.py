"""Rewrite the outputs the README shows (`$ niches ...` blocks) as the commands print them now.

    python -m tests.readme_outputs

Each block's command runs from the repository root at 100 columns, as the tests that compare them
run it (tests/test_judges.py, test_price.py, test_deals.py, test_coalition.py), or at the width its
line gives (`$ COLUMNS=80 niches ...`). Run it after a change that changes what a command prints,
then read the diff.

A block may show an excerpt: runs of whole lines of the output, in order, with a line `[...]`
where lines are left out (`check_excerpt` holds it to the output). Each run is found again by its
first line. A run that ends with an empty line shows whole sections, and is taken to as many
empty lines of the new output as it holds; the last run, unless it ends with an empty line, is
taken to the end of the output; any other run keeps its number of lines.
"""

from __future__ import annotations

import re
import shlex

from tests.conftest import ROOT, run_cli

BLOCK = re.compile(r"^\$ (?:COLUMNS=(\d+) )?(niches [^\n]*)\n(.*?)(?=^```)", re.MULTILINE | re.DOTALL)

ELIDED = "[...]"
"""The line that stands for lines of the output an excerpt leaves out."""


def runs(shown: str) -> list[list[str]]:
    """Return the runs of lines an excerpt shows (split at its `[...]` lines)."""
    found: list[list[str]] = [[]]
    for line in shown.splitlines():
        if line == ELIDED:
            found.append([])
        else:
            found[-1].append(line)
    return found


def _at(lines: list[str], run: list[str], start: int) -> int | None:
    """Return where `run` occurs as whole lines of `lines` from `start` on (None: it does not)."""
    for i in range(start, len(lines) - len(run) + 1):
        if lines[i : i + len(run)] == run:
            return i
    return None


def check_excerpt(output: str, shown: str) -> None:
    """Assert that `shown` is an excerpt of `output`: from its first line on, every run of lines
    between `[...]` lines occurs in `output` as whole lines, in order."""
    lines = output.splitlines()
    position = 0
    for number, run in enumerate(runs(shown)):
        found = _at(lines, run, position)
        assert found is not None, f"run {number + 1} of the excerpt is not in the output: {run[:2]}"
        assert number > 0 or found == 0, "an excerpt starts where the output does"
        position = found + len(run)


def fresh_excerpt(output: str, shown: str) -> str:
    """Return the excerpt `shown` taken again from `output` (a run whose first line is gone is kept)."""
    lines = output.splitlines()
    position = 0
    parts: list[list[str]] = []
    shown_runs = runs(shown)
    for number, run in enumerate(shown_runs):
        start = lines.index(run[0], position) if run and run[0] in lines[position:] else None
        if start is None:
            parts.append(run)
            continue
        if run[-1] == "":  # whole sections: as many as it showed
            empty = [i for i in range(start, len(lines)) if lines[i] == ""]
            end = empty[run.count("") - 1] + 1 if len(empty) >= run.count("") else len(lines)
        elif number == len(shown_runs) - 1:
            end = len(lines)
        else:
            end = start + len(run)
        parts.append(lines[start:end])
        position = end
    return f"\n{ELIDED}\n".join("\n".join(part) for part in parts) + "\n"


def main() -> None:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")

    def fresh(match: re.Match[str]) -> str:
        columns, command, shown = match.group(1), match.group(2), match.group(3)
        words = shlex.split(command)[1:]
        output = run_cli(*words, columns=int(columns or 100)).stdout
        prompt = f"$ COLUMNS={columns} {command}" if columns else f"$ {command}"
        if ELIDED in shown.splitlines():
            output = fresh_excerpt(output, shown)
        return f"{prompt}\n{output}"

    path.write_text(BLOCK.sub(fresh, text), encoding="utf-8")


if __name__ == "__main__":
    main()
