"""Rewrite the outputs the README shows (`$ niches ...` blocks) as the commands print them now.

    python -m tests.readme_outputs

Each block's command runs from the repository root at 100 columns, as the tests that compare them
run it (tests/test_judges.py, test_price.py, test_deals.py, test_coalition.py). Run it after a change
that changes what a command prints, then read the diff.
"""

from __future__ import annotations

import re
import shlex

from tests.conftest import ROOT, run_cli

BLOCK = re.compile(r"^\$ (niches [^\n]*)\n(.*?)(?=^```)", re.MULTILINE | re.DOTALL)


def main() -> None:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")

    def fresh(match: re.Match[str]) -> str:
        words = shlex.split(match.group(1))[1:]
        return f"$ {match.group(1)}\n{run_cli(*words, columns=100).stdout}"

    path.write_text(BLOCK.sub(fresh, text), encoding="utf-8")


if __name__ == "__main__":
    main()
