"""Rewrite the expected outputs in docs/walkthrough.md with what the commands print now.

    python -m tests.walkthrough_update

Runs the walkthrough's steps as tests/test_walkthrough.py does (tests/walkthrough.py), then puts
each command's output where the walkthrough shows it: the lines after its `$ ` line in a console
block, or the rendered block marked `<!-- test:walkthrough output -->` after it. Read the diff.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from tests.walkthrough import END, MARK, WALKTHROUGH, normal, run, steps


def _spans(lines: list[str]) -> list[tuple[int, int]]:
    """Return, for each command step in order, the [start, end) lines of its shown output."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        mark = MARK.fullmatch(lines[i].strip())
        fence = re.fullmatch(r"```(\w*)", lines[i].strip())
        if fence:
            i += 1
            while lines[i].strip() != "```":
                i += 1
        if not mark:
            i += 1
            continue
        what = mark.group("what") or ""
        if what == "output":
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == END)
            if spans[-1][0] == -1:  # the command's output is the rendered block
                spans[-1] = (i + 1, end)
            i = end + 1
            continue
        end = next(j for j in range(i + 2, len(lines)) if lines[j].strip() == "```")
        if not what.startswith("file="):
            commands = [k for k in range(i + 2, end) if lines[k].startswith("$ ")]
            for n, k in enumerate(commands):
                stop = commands[n + 1] if n + 1 < len(commands) else end
                spans.append((k + 1, stop) if stop > k + 1 else (-1, -1))
        i = end + 1
    return spans


def main() -> None:
    text = WALKTHROUGH.read_text(encoding="utf-8")
    found = steps(text)
    with tempfile.TemporaryDirectory() as folder:
        done = run(found, Path(folder))
    lines = text.splitlines(keepends=True)
    spans = _spans(lines)
    assert len(spans) == len(done)
    for (start, end), (step, _, output) in sorted(zip(spans, done, strict=True), key=lambda t: -t[0][0]):
        if start < 0 or not step.text.strip():
            continue
        shown = normal(output)
        rendered = lines[end].strip() == END  # a rendered block: keep a blank line before its end
        new = [line + "\n" for line in shown.split("\n")] if shown else []
        lines[start:end] = new + (["\n"] if rendered else [])
    WALKTHROUGH.write_text("".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
