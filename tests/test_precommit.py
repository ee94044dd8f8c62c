"""The pre-commit hooks: the shipped ones with `pre-commit try-repo`, and the documented local config."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from niches.scenario.starter import STARTER

from .conftest import ROOT
from .walkthrough import WALKTHROUGH, config_file, shell_env


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


def test_the_readme_shows_the_walkthroughs_config() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Scenarios under version control") :]
    block = re.search(r"\n  ```yaml\n(.*?)\n  ```\n", section, re.DOTALL)
    assert block is not None
    shown = "".join(line[2:] if line.strip() else line for line in block.group(1).splitlines(True))
    assert shown + "\n" == config_file(WALKTHROUGH.read_text(encoding="utf-8"))
    assert "example.invalid" not in readme and "niches.invalid" not in STARTER


@pytest.mark.slow
def test_the_documented_config_passes_good_files_and_stops_bad_ones(tmp_path: Path) -> None:
    """Run the walkthrough's `.pre-commit-config.yaml` as written in a fresh repository (offline)."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to test the pre-commit hooks")
    env = shell_env(tmp_path / "home")
    repo = tmp_path / "strategy"
    (repo / "scenarios").mkdir(parents=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=repo, capture_output=True, text=True, env=env, timeout=600)

    run("git", "init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(config_file(WALKTHROUGH.read_text(encoding="utf-8")))
    (repo / "scenarios" / "plan.yaml").write_text(STARTER)
    made = run("niches", "report", "scenarios/plan.yaml", "-o", "reports/plan.md", "-n", "50", "--mkdir")
    assert made.returncode == 0, made.stderr
    run("git", "add", "-A")
    ok = run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.findall(r"^(niches .*?)\.+Passed$", ok.stdout, re.M) == [
        "niches validate",
        "niches check",
        "niches report --check reports/plan.md",
    ]

    (repo / "scenarios" / "bad.yaml").write_text(STARTER.replace("cost: 30\n", "cost: -30\n"))
    (repo / "scenarios" / "strict.yaml").write_text(
        STARTER.replace("min_expected_value: 10", "min_expected_value: 99")
    )
    plan = repo / "scenarios" / "plan.yaml"
    plan.write_text(STARTER.replace("  2029: 160\n", "  2029: 170\n"))
    run("git", "add", "-A")
    bad = run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert bad.returncode == 1
    assert "scenarios/bad.yaml:" in bad.stdout and "must be >= 0, got -30" in bad.stdout
    assert (
        "reports/plan.md is stale: regenerate it with "
        "`niches report scenarios/plan.yaml -o reports/plan.md --samples 50`\n"
    ) in bad.stdout
    strict = run(
        sys.executable, "-m", "pre_commit", "run", "niches-check", "--files", "scenarios/strict.yaml"
    )
    assert strict.returncode == 1
    assert "assertion failed: min_expected_value" in strict.stdout
