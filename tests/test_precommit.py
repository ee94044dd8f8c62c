"""The pre-commit hooks, run with `pre-commit try-repo` against a local scenario repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from niches.starter import STARTER

from .conftest import ROOT


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(cwd.parent / "pre-commit-home")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow
def test_hooks_pass_a_good_scenario_and_stop_a_bad_one(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to test the pre-commit hooks")
    repo = tmp_path / "scenarios"
    (repo / "plans").mkdir(parents=True)
    _run(repo, "git", "init", "-q")
    _run(repo, "git", "config", "user.email", "t@example.invalid")
    _run(repo, "git", "config", "user.name", "t")
    (repo / "plans" / "good.yaml").write_text(STARTER)
    _run(repo, "git", "add", "-A")
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT)]
    ok = _run(repo, *pre_commit, "niches-validate", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "niches validate" in ok.stdout and "Passed" in ok.stdout
    checked = _run(repo, *pre_commit, "niches-check", "--all-files")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    (repo / "plans" / "bad.yaml").write_text(STARTER.replace("cost: 30\n", "cost: -30\n"))
    (repo / "plans" / "strict.yaml").write_text(
        STARTER.replace("min_expected_value: 10", "min_expected_value: 99")
    )
    _run(repo, "git", "add", "-A")
    bad = _run(repo, *pre_commit, "niches-validate", "--all-files")
    assert bad.returncode != 0
    assert "plans/bad.yaml:" in bad.stdout and "must be >= 0, got -30" in bad.stdout
    strict = _run(repo, *pre_commit, "niches-check", "--files", "plans/strict.yaml")
    assert strict.returncode != 0
    assert "assertion failed: min_expected_value" in strict.stdout
