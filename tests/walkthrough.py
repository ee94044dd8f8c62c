"""Read the runnable steps of docs/walkthrough.md and run them with bash, as a reader would.

A block is runnable when the line before its fence is a marker:

- `<!-- test:walkthrough -->` before a ```console block: each `$ ` line is a command, the lines
  after it (up to the next `$ `) its expected output (standard output and error together);
- `<!-- test:walkthrough file=PATH -->` before a fenced block: the reader saves its text as PATH;
- `<!-- test:walkthrough output -->` ... `<!-- /test:walkthrough -->`: rendered text that is the
  expected output of the command before it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .conftest import ROOT

WALKTHROUGH = ROOT / "docs" / "walkthrough.md"
MARK = re.compile(r"<!-- test:walkthrough(?: (?P<what>file=\S+|output))? -->")
END = "<!-- /test:walkthrough -->"
RUNNABLE = ("console", "sh", "shell", "bash", "yaml", "yml")
"""Fence languages a reader types or saves: each such block must be marked."""


@dataclass
class Step:
    """A command and its expected output, or a file the reader saves."""

    line: int
    command: str | None = None
    file: str | None = None
    text: str = ""


def steps(markdown: str) -> list[Step]:
    """Return the marked steps of `markdown` in order; raise ValueError on an unmarked runnable block."""
    lines = markdown.splitlines(keepends=True)
    found: list[Step] = []
    i = 0
    while i < len(lines):
        mark = MARK.fullmatch(lines[i].strip())
        fence = re.fullmatch(r"```(\w*)", lines[i].strip())
        if fence and fence.group(1) in RUNNABLE:
            raise ValueError(f"line {i + 1}: a ```{fence.group(1)} block without a test:walkthrough marker")
        if fence:  # another kind of block: skip it whole
            i += 1
            while lines[i].strip() != "```":
                i += 1
        if not mark:
            i += 1
            continue
        what = mark.group("what") or ""
        if what == "output":
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == END)
            found[-1].text += "".join(lines[i + 1 : end])
            i = end + 1
            continue
        if not lines[i + 1].startswith("```"):
            raise ValueError(f"line {i + 1}: a test:walkthrough marker not followed by a fenced block")
        end = next(j for j in range(i + 2, len(lines)) if lines[j].strip() == "```")
        body = lines[i + 2 : end]
        if what.startswith("file="):
            found.append(Step(i + 3, file=what[len("file=") :], text="".join(body)))
        else:
            for k, line in enumerate(body):
                if line.startswith("$ "):
                    found.append(Step(i + 3 + k, command=line[2:].rstrip("\n")))
                else:
                    found[-1].text += line
        i = end + 1
    return found


def script(found: list[Step], results: Path) -> str:
    """Return a bash script that takes the steps in one shell (so `cd` carries over).

    Command i writes its output to results/i and its exit code to results/i.rc; `$?` is
    restored before each command, so `echo $?` shows the previous command's code.
    """
    out = ["rc=0"]
    for i, step in enumerate(found):
        if step.file is not None:
            out.append(f"cat > {shlex.quote(step.file)} <<'WALKTHROUGH_EOF'\n{step.text}WALKTHROUGH_EOF")
            continue
        log = shlex.quote(str(results / str(i)))
        out.append(f"(exit $rc); {{ {step.command}\n}} >{log} 2>&1 </dev/null; rc=$?; echo $rc >{log}.rc")
    return "\n".join(out) + "\n"


def shell_env(home: Path) -> dict[str, str]:
    """Return the environment of a reader's shell: `niches` and `pre-commit` on PATH, git set up."""
    bin_dir = Path(sys.executable).parent
    for tool in ("niches", "pre-commit"):
        if not (bin_dir / tool).exists():
            raise AssertionError(f"{bin_dir / tool} is missing: install the package with its test extra")
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Analyst\n\temail = analyst@example.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        PATH=str(bin_dir) + os.pathsep + env.get("PATH", ""),
        COLUMNS="100",
        NO_COLOR="1",
        TERM="dumb",
        PYTHONUNBUFFERED="1",  # standard output and error interleave as on a terminal
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def run(found: list[Step], folder: Path) -> list[tuple[Step, int, str]]:
    """Run the steps with bash in `folder`; return each command with its exit code and output."""
    results = folder / "results"
    work = folder / "work"
    results.mkdir(parents=True)
    work.mkdir()
    (folder / "walkthrough.sh").write_text(script(found, results))
    subprocess.run(
        ["bash", str(folder / "walkthrough.sh")], cwd=work, env=shell_env(folder / "home"), timeout=900
    )
    done = []
    for i, step in enumerate(found):
        if step.command is not None:
            log = results / str(i)
            code = int((results / f"{i}.rc").read_text()) if log.exists() else -1
            done.append((step, code, log.read_text() if log.exists() else ""))
    return done


def normal(text: str) -> str:
    """Return `text` without trailing spaces on its lines or blank lines around it."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def config_file(markdown: str, name: str = ".pre-commit-config.yaml") -> str:
    """Return the last text the walkthrough saves as `name`."""
    return [s.text for s in steps(markdown) if s.file == name][-1]
