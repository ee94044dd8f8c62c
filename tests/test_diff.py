"""`niches diff`: golden file for the default scenario, git revisions, attribution against brute force."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from niches.analysis.diff import apply_units, units_between

from .conftest import ROOT, run_cli
from .test_cli import check_golden

REVISED = "tests/data/diff/kazakhstan-revised.yaml"


def test_diff_golden_markdown() -> None:
    result = run_cli("diff", "options/kazakhstan.yaml", REVISED, "--format", "markdown")
    assert result.returncode == 0, result.stderr
    check_golden("kazakhstan.diff.md", result.stdout)


def test_diff_json_attributes_each_change() -> None:
    data = json.loads(run_cli("diff", "options/kazakhstan.yaml", REVISED, "-f", "json").stdout)
    assert [u["change"] for u in data["assumptions"]] == [
        "budget[2026]",
        "world probabilities",
        "minerals.explore",
        "max_exposure",
    ]
    assert data["recommendation"]["changes"] == [
        {"niche": "education", "before": "hub", "after": "expand"},
        # the money added in 2026 starts the corridor a year earlier
        {"niche": "logistics", "before": "corridor@2027", "after": "corridor"},
        {"niche": "minerals", "before": "explore", "after": "process"},
        {"niche": "egov", "before": "platform", "after": "export"},
    ]
    assert [(c["niche"], c["caused_by"], c["alone"]) for c in data["causes"]] == [
        ("education", ["budget[2026]", "max_exposure"], False),
        ("logistics", ["budget[2026]", "max_exposure"], True),
        ("minerals", ["max_exposure"], True),
        ("egov", ["max_exposure"], True),
    ]


def test_applying_every_unit_gives_the_new_document() -> None:
    import yaml

    old = yaml.safe_load(Path("options/kazakhstan.yaml").read_text())
    new = yaml.safe_load(Path(REVISED).read_text())
    assert apply_units(old, units_between(old, new)) == new


def test_diff_across_git_revisions(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "test@example.invalid")
    git("config", "user.name", "test")
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(Path("options/kazakhstan.yaml").read_text())
    shutil.copytree("options/kazakhstan", tmp_path / "kazakhstan")  # its judges, read from each revision
    git("add", "plan.yaml", "kazakhstan")
    git("commit", "-qm", "first")
    scenario.write_text(Path(REVISED).read_text())
    git("commit", "-qam", "second")
    by_rev = run_cli("diff", "HEAD~1:plan.yaml", "HEAD:plan.yaml", "-f", "json", cwd=tmp_path)
    assert by_rev.returncode == 0, by_rev.stderr
    shorthand = run_cli("diff", "--rev", "HEAD~1", "plan.yaml", "-f", "json", cwd=tmp_path)
    assert shorthand.returncode == 0, shorthand.stderr
    first, second = json.loads(by_rev.stdout), json.loads(shorthand.stdout)
    assert first["assumptions"] == second["assumptions"]
    assert len(first["assumptions"]) == 4
    missing = run_cli("diff", "HEAD~5:plan.yaml", "plan.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert (
        missing.stderr
        == "niches: error: HEAD~5:plan.yaml: no revision 'HEAD~5' in this repository; check it with git log\n"
    )


def test_shares_in_assumption_changes_are_percentages_and_points() -> None:
    from niches.analysis.diff import units_between

    old = {"worlds": {"a": 0.3, "b": 0.7}, "rules": {"max_exposure": {"China": 0.2}}}
    new = {"worlds": {"a": 0.35, "b": 0.65}, "rules": {"max_exposure": {"China": 0.25}}}
    assert [u.description for u in units_between(old, new)] == [
        "world probabilities: a 30.0% -> 35.0% (+5.0 pp); b 70.0% -> 65.0% (-5.0 pp)",
        "max_exposure: China 20.0% -> 25.0% (+5.0 pp)",
    ]


def test_share_relaxations_round_outward_so_they_still_restore_feasibility() -> None:
    from niches.analysis.explain import _number

    assert _number("max_exposure[China]", 0.39281, "USD million", +1) == "39.3%"
    assert _number("max_exposure[China]", 0.39201, "USD million", +1) == "39.3%"
    assert _number("max_share", 0.39281, "USD million", -1) == "39.2%"
    assert _number("max_exposure[China]", 0.2, "USD million") == "20.0%"


def test_money_in_different_units_is_not_subtracted() -> None:
    result = run_cli("diff", "options/kazakhstan.yaml", "options/canada.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["units"]["money"] == "CAD million"
    assert data["units_before"]["money"] == "USD million"
    assert data["recommendation"]["metrics"]["cost"]["delta"] is None


def test_the_readme_diff_examples_run_on_a_fresh_clone_with_the_default_judges(tmp_path: Path) -> None:
    """`diff REV:PATH` and `--rev` read the judge files of that revision (the default has judges)."""
    import re
    import subprocess

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"`(niches diff (?:HEAD~1:|--rev main )options/kazakhstan\.yaml[^`]*)`", readme)
    assert len(examples) == 2, examples
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(clone)], check=True, timeout=120)
    if subprocess.run(["git", "-C", str(clone), "rev-parse", "--verify", "--quiet", "main"]).returncode != 0:
        subprocess.run(["git", "-C", str(clone), "branch", "main", "HEAD"], check=True, capture_output=True)
    assert (clone / "options" / "kazakhstan" / "ministry.yaml").exists()
    for example in examples:
        words = example.split()[1:]
        result = run_cli(*words, "--format", "json", cwd=clone)
        assert result.returncode == 0, (example, result.stderr)
        data = json.loads(result.stdout)
        assert data["recommendation"]["before"] is not None, example


def test_a_revision_reads_its_own_judges(tmp_path: Path) -> None:
    import shutil
    import subprocess

    repo = tmp_path / "repo"
    (repo / "options").mkdir(parents=True)
    shutil.copy(ROOT / "options" / "kazakhstan.yaml", repo / "options")
    shutil.copytree(ROOT / "options" / "kazakhstan", repo / "options" / "kazakhstan")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "--quiet")
    git("add", ".")
    git("commit", "--quiet", "-m", "judges")
    (repo / "options" / "kazakhstan" / "ministry.yaml").unlink()  # the working copy drops a judge
    result = run_cli("diff", "--rev", "HEAD", "options/kazakhstan.yaml", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["old"] == "HEAD:options/kazakhstan.yaml"
    expected = data["recommendation"]["metrics"]["expected value"]
    now = json.loads(run_cli("solve", "options/kazakhstan.yaml", "--format", "json", cwd=repo).stdout)
    then = json.loads(run_cli("solve", "options/kazakhstan.yaml", "--format", "json").stdout)  # 3 judges
    assert expected["after"] == pytest.approx(now["metrics"]["expected_value"], abs=1e-6)
    assert expected["before"] == pytest.approx(then["metrics"]["expected_value"], abs=1e-6)
    assert expected["before"] != pytest.approx(expected["after"], abs=1e-6)  # the revision's judges count
