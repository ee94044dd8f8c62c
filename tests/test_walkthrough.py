"""docs/walkthrough.md, run end to end in a temporary folder: every command, its output, its exit code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .walkthrough import WALKTHROUGH, Step, normal, run, steps


def test_marked_steps_are_read_in_order() -> None:
    text = (
        "<!-- test:walkthrough -->\n```console\n$ echo a\na\n$ false\n$ echo $?\n1\n```\n\n"
        "<!-- test:walkthrough file=x.yaml -->\n```yaml\nk: 1\n```\n\n"
        "<!-- test:walkthrough -->\n```console\n$ cat x.yaml\n```\n"
        "<!-- test:walkthrough output -->\nk: 1\n<!-- /test:walkthrough -->\n"
        "```text\nnot run\n```\n"
    )
    assert steps(text) == [
        Step(3, command="echo a", text="a\n"),
        Step(5, command="false"),
        Step(6, command="echo $?", text="1\n"),
        Step(12, file="x.yaml", text="k: 1\n"),
        Step(17, command="cat x.yaml", text="k: 1\n"),
    ]
    with pytest.raises(ValueError, match="line 1: a ```sh block without a test:walkthrough marker"):
        steps("```sh\nniches solve\n```\n")


@pytest.mark.slow
def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    if shutil.which("git") is None or shutil.which("perl") is None:
        pytest.fail("the walkthrough needs git and perl")
    found = steps(WALKTHROUGH.read_text(encoding="utf-8"))
    assert sum(s.command is not None for s in found) >= 20
    done = run(found, tmp_path)
    for i, (step, code, output) in enumerate(done):
        where = f"docs/walkthrough.md:{step.line}: $ {step.command}"
        shown_next = i + 1 < len(done) and done[i + 1][0].command == "echo $?"
        assert code == 0 or shown_next, f"{where}\nexit {code}:\n{output}"
        if step.text.strip():
            assert normal(output) == normal(step.text), where
