"""`niches report`: golden file, identical bytes, atomic writes, mermaid syntax, markdown rendering."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from niches.cli import app
from niches.files import OutputError, write_atomically
from niches.render import mermaid
from niches.report import Recorded, provenance, recorded

from .conftest import ROOT, run_cli
from .test_cli import check_golden

ARGS = ("report", "options/kazakhstan.yaml", "--samples", "100", "--seed", "1")


@pytest.fixture(scope="module")
def report_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.md"
    result = run_cli(*ARGS, "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out.read_text()


def _stable(text: str) -> str:
    """Blank the provenance line that changes with the installed solver."""
    return re.sub(r"\| solver \| [^|]+ \|", "| solver | SOLVER |", text)  # highspy's version moves


def test_report_golden(report_text: str) -> None:
    check_golden("kazakhstan.report.md", _stable(report_text))


def test_two_runs_give_identical_bytes(report_text: str, tmp_path: Path) -> None:
    second = run_cli(*ARGS).stdout
    assert second == report_text
    assert "generated" not in report_text
    stamped = run_cli(*ARGS, "--timestamp").stdout
    assert re.search(r"\| generated \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \|", stamped)


def test_report_sections(report_text: str) -> None:
    for heading in (
        "## Summary",
        "## Portfolio",
        "## Budget",
        "## Value by world",
        "## Exposure",
        "## Price of the binding rules",
        "## Value for money",
        "## Risk frontier",
        "## Core index",
        "## Value in each world",
        "## The most fragile judgements",
        "## Commit now, decide later",
        "## Worth learning first",
        "## Assumptions",
        "## Provenance",
    ):
        assert heading in report_text, heading
    assert re.search(r"\| SHA-256 of the scenario \| [0-9a-f]{64} \|", report_text)


XY = re.compile(
    r"^%%\{init: \{[^\n]*\}\}%%\n"
    r"xychart-beta\n"
    r'    title "[^"\n]*"\n'
    r'    x-axis "[^"\n]*" (\[("[^"\n]*")(, "[^"\n]*")*\]|-?\d+(\.\d+)? --> -?\d+(\.\d+)?)\n'
    r'    y-axis "[^"\n]*" -?\d+(\.\d+)? --> -?\d+(\.\d+)?\n'
    r"(    (line|bar) \[-?\d+(\.\d+)?(, -?\d+(\.\d+)?)*\]\n)+$"
)


def test_mermaid_blocks_follow_the_xychart_grammar(report_text: str) -> None:
    blocks = re.findall(r"```mermaid\n(.*?)```", report_text, re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        assert XY.match(block), block
        values = re.search(r"(?:line|bar) \[(.*)\]", block)
        assert values
        labels = re.search(r"x-axis \"[^\"]*\" \[(.*)\]", block)
        if labels is None:  # a numeric axis: the line is sampled at evenly spaced positions
            assert values.group(1).count(", ") + 1 == mermaid.SAMPLES
            continue
        assert labels.group(1).count('", "') == values.group(1).count(", ")  # one value per label


def test_markdown_renders(report_text: str) -> None:
    html = MarkdownIt("commonmark").enable("table").render(report_text)
    assert html.count("<table>") >= 10
    assert '<code class="language-mermaid">' in html


def test_a_failed_run_leaves_no_file_and_keeps_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.md"
    target.write_text("old report\n")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the solver died halfway")

    monkeypatch.setattr("niches.report.build_report", broken)
    result = CliRunner().invoke(app, ["report", "--samples", "10", "-o", str(target)])
    assert result.exit_code != 0
    assert target.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
    missing = tmp_path / "new.md"
    CliRunner().invoke(app, ["report", "--samples", "10", "-o", str(missing)])
    assert not missing.exists()


def test_write_atomically_cleans_up_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.md"
    target.write_text("old\n")

    def fail(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("niches.files.os.fsync", fail)
    with pytest.raises(OutputError, match=r"report\.md: cannot be written: disk full"):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_default_report_names_its_source(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = run_cli("report", "--samples", "20", "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0
    from niches.scenario.defaults import default_scenario

    assert f"| scenario | {default_scenario()} |" in out.read_text()  # the file actually read
    assert result.stderr == f"niches: no scenario given; reading {default_scenario()}\n"


def test_report_from_standard_input_hashes_the_bytes_it_read() -> None:
    import hashlib

    text = (ROOT / "tests/data/published/california.yaml").read_text()
    result = run_cli("report", "-", "--samples", "10", stdin=text)
    assert result.returncode == 0, result.stderr
    assert f"| SHA-256 of the scenario | {hashlib.sha256(text.encode()).hexdigest()} |" in result.stdout
    assert "| scenario | <stdin> |" in result.stdout


def test_report_core_table_is_robusts(report_text: str) -> None:
    robust = run_cli("robust", *ARGS[1:], "--format", "markdown")  # the same scenario, samples, seed
    assert robust.returncode == 0, robust.stderr
    start = robust.stdout.index("| niche | core index |")
    end = robust.stdout.index("\n## ", start)  # the table and its footer line
    core = robust.stdout[start:end]
    assert "| levels | flag |" in core and "level uncertain" in core
    assert core in report_text


def test_report_progress_advances_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar of `niches report -o` moves with each analysis and each batch of samples, ending full."""
    import contextlib

    from niches.cli import reporting
    from niches.report import ANALYSES, BATCH

    seen: list[float] = []

    @contextlib.contextmanager
    def recorder(label: str, format: object) -> Iterator[Callable[[float], None]]:
        assert label == "report"
        yield seen.append

    monkeypatch.setattr(reporting, "_progress", recorder)
    samples = 3 * BATCH
    out = tmp_path / "report.md"
    scenario = str(ROOT / "options" / "kazakhstan.yaml")
    result = CliRunner().invoke(app, ["report", scenario, "-o", str(out), "--samples", str(samples)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"  # the bar never reaches standard output
    total = ANALYSES + 3
    assert seen == sorted(seen) and len(set(seen)) == len(seen)  # only forward
    assert seen[-1] == 1.0
    steps = {round(x * total, 9) for x in seen}
    assert set(range(1, total + 1)) <= steps  # every analysis and every batch is a step of its own


def test_stages_only_go_forward() -> None:
    from niches.report import Stages

    seen: list[float] = []
    stages = Stages(seen.append, 3)
    with stages.stage() as within:
        within(0.5)
        within(0.25)  # a late report from another thread: not shown
    with stages.stage(2, whole=True) as within:
        within(0.4)  # not yet a whole batch
        within(0.6)  # one of two
    assert seen == pytest.approx([1 / 6, 1 / 3, 2 / 3, 1.0])
    stages.finish()  # already there: nothing more to show
    assert len(seen) == 4


def test_blob_id_is_what_git_hash_object_gives() -> None:
    assert provenance("a.yaml", b"").blob == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert provenance("a.yaml", b"hello\n").blob == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_provenance_names_content_only_and_reads_back(report_text: str) -> None:
    assert "git commit" not in report_text and "differs" not in report_text
    data = (ROOT / "options/kazakhstan.yaml").read_bytes()
    source = provenance("options/kazakhstan.yaml", data)
    assert f"| git blob id of the scenario | {source.blob} |" in report_text
    assert recorded(report_text) == Recorded("options/kazakhstan.yaml", source.sha256, 100, 1, "highs", None)
    odd = "## Provenance\n\n| what | value |\n|---|---|\n| scenario | a \\| b.yaml |\n| generated | T |\n"
    assert recorded("# x\n" + odd) == Recorded(scenario="a | b.yaml", timestamp="T")
    assert recorded("# no provenance\n") == Recorded()


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def test_a_report_committed_with_its_scenario_regenerates_to_the_same_bytes(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed for this test")
    repo = tmp_path / "strategy"
    (repo / "scenarios").mkdir(parents=True)
    _git(repo, "init", "-q")
    shutil.copy(ROOT / "options/kazakhstan.yaml", repo / "scenarios/plan.yaml")
    shutil.copytree(ROOT / "options/kazakhstan", repo / "scenarios/kazakhstan")  # its judges
    options = ("--samples", "20", "--seed", "3")
    written = run_cli("report", "scenarios/plan.yaml", "-o", "reports/plan.md", "--mkdir", *options, cwd=repo)
    assert (written.returncode, written.stdout) == (0, "wrote reports/plan.md\n"), written.stderr
    _git(repo, "add", "scenarios", "reports/plan.md")
    _git(repo, "commit", "-q", "-m", "Plan and its report")
    committed = (repo / "reports/plan.md").read_bytes()
    blob = _git(repo, "rev-parse", "HEAD:scenarios/plan.yaml").strip()
    assert f"| git blob id of the scenario | {blob} |".encode() in committed

    again = subprocess.run(  # bytes, as a shell redirect would write them
        ["niches", "report", "scenarios/plan.yaml", *options],
        cwd=repo,
        capture_output=True,
        env=_path_env(),
    )
    assert again.returncode == 0 and again.stdout == committed

    fresh = run_cli("report", "--check", "reports/plan.md", cwd=repo)
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (0, "reports/plan.md is up to date\n", "")

    plan = repo / "scenarios/plan.yaml"
    plan.write_text(plan.read_text().replace("  2027: 650\n", "  2027: 660\n"))
    stale = run_cli("report", "--check", "reports/plan.md", cwd=repo)
    assert (stale.returncode, stale.stdout) == (1, "")
    assert stale.stderr == (
        "reports/plan.md is stale: regenerate it with "
        "`niches report scenarios/plan.yaml -o reports/plan.md --samples 20 --seed 3`\n"
    )
    assert _git(repo, "status", "--porcelain") == " M scenarios/plan.yaml\n"  # --check wrote nothing


def _path_env() -> dict[str, str]:
    return {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}


def test_check_reads_the_options_back_from_the_report(tmp_path: Path) -> None:
    scenario = str(ROOT / "tests/data/published/california.yaml")
    target = tmp_path / "c.md"
    written = run_cli(
        "report", scenario, "-o", str(target), "-n", "7", "--seed", "5", "--timestamp", "--exact"
    )
    assert written.returncode == 0, written.stderr
    assert "| figures | every one solved exactly (--exact) |" in target.read_text()
    fresh = run_cli("report", "--check", str(target), "--full")  # scenario, options, timestamp: the file's
    assert (fresh.returncode, fresh.stdout) == (0, f"{target} is up to date\n"), fresh.stderr
    other = run_cli("report", "--check", str(target), "--seed", "6")  # the command line wins
    assert (other.returncode, other.stdout) == (1, "")
    assert other.stderr == (
        f"{target} is stale: regenerate it with "
        f"`niches report {scenario} -o {target} --samples 7 --seed 6 --exact --timestamp`\n"
    )


def test_check_is_up_to_date_without_solving_and_stale_after_any_byte(tmp_path: Path) -> None:
    """The provenance block records the scenario's, each judge file's and the body's SHA-256: a report
    whose block matches this run is up to date without solving (a time limit no solve could meet does
    not stop it); one byte changed in the scenario, a judge file or the body makes it stale."""
    shutil.copy(ROOT / "options/kazakhstan.yaml", tmp_path / "plan.yaml")
    shutil.copytree(ROOT / "options/kazakhstan", tmp_path / "kazakhstan")
    written = run_cli("report", "plan.yaml", "-o", "plan.md", "-n", "20", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    report = (tmp_path / "plan.md").read_text()
    body, _, block = report.rpartition("## Provenance\n")
    digest = hashlib.sha256(body.encode()).hexdigest()
    assert f"| SHA-256 of the report above | {digest} |" in block
    judge = hashlib.sha256((tmp_path / "kazakhstan/economy.yaml").read_bytes()).hexdigest()
    assert f"| SHA-256 of judge file kazakhstan/economy.yaml | {judge} |" in block

    fast = run_cli("report", "--check", "plan.md", "--time-limit", "0.001", cwd=tmp_path)
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, "plan.md is up to date\n", "")
    full = run_cli("report", "--check", "plan.md", "--full", cwd=tmp_path)
    assert (full.returncode, full.stdout, full.stderr) == (0, "plan.md is up to date\n", "")

    stale = (
        1,
        "",
        "plan.md is stale: regenerate it with `niches report plan.yaml -o plan.md --samples 20`\n",
    )
    for changed in ("plan.yaml", "kazakhstan/economy.yaml", "plan.md"):
        path = tmp_path / changed
        original = path.read_bytes()
        path.write_bytes(
            original.replace(b"Kazakhstan", b"KazakhstaN", 1) if changed == "plan.md" else original + b"#"
        )
        again = run_cli("report", "--check", "plan.md", cwd=tmp_path)
        assert (again.returncode, again.stdout, again.stderr) == stale, changed
        path.write_bytes(original)
    assert run_cli("report", "--check", "plan.md", cwd=tmp_path).returncode == 0


def test_full_goes_with_check() -> None:
    result = run_cli("report", "--full")
    assert (result.returncode, result.stderr) == (2, "niches: error: --full goes with --check FILE.md\n")


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ("--check", "missing.md"), "niches: error: missing.md: no such file; check the path"),
        ("# notes\n", ("--check", "r.md", "-o", "s.md"), "niches: error: --check writes nothing; drop -o"),
        (
            "# notes\n",
            ("--check", "r.md", "--timestamp"),
            "niches: error: --check reuses the timestamp FILE.md records; drop --timestamp",
        ),
        (
            "# notes\n",
            ("--check", "r.md"),
            "niches: error: r.md: no provenance names its scenario; give SCENARIO",
        ),
        (
            "## Provenance\n\n| what | value |\n|---|---|\n| scenario | <stdin> |\n",
            ("--check", "r.md"),
            "niches: error: r.md: was made from standard input; give SCENARIO (`-` reads it)",
        ),
    ],
)
def test_check_refuses_in_one_line(
    tmp_path: Path, setup: str | None, args: tuple[str, ...], message: str
) -> None:
    if setup is not None:
        (tmp_path / "r.md").write_text(setup)
    result = run_cli("report", *args, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if setup is None else ["r.md"])


TECHNICAL = ("CVaR", "core index", "binding", "exposure", "regret", "points", "worst case", "expected value")
"""Terms a reader outside the analysis may not know: where the first section uses one, the glossary
defines it."""


def test_the_first_section_speaks_plainly_and_the_glossary_defines_its_terms() -> None:
    from niches.report import GLOSSARY

    text = run_cli(*ARGS).stdout
    brief = text.split("## In brief\n", 1)[1].split("\n## ", 1)[0]
    for heading in ("What to fund.", "What it costs.", "What it buys.", "What could change the answer.",
                    "What you are asked to approve."):  # fmt: skip
        assert f"**{heading}**" in brief
    assert "`" not in brief and "[" not in brief and "@" not in brief  # no rule or level ids, no code
    glossary = text.split("## Glossary\n", 1)[1].split("\n## ", 1)[0]
    for term in TECHNICAL:
        if term.lower() in brief.lower():
            assert any(term.lower() in key.lower() for key in GLOSSARY), term
    for term in GLOSSARY:
        assert glossary.count(f"- **{term}**:") == 1, term
    assert text.index("## In brief") < text.index("## Summary") < text.index("## Glossary")


def test_the_report_charts_mark_the_current_budget_and_draw_no_short_curve() -> None:
    text = run_cli(*ARGS).stdout
    blocks = text.split("```mermaid\n")[1:]
    budget = next(b for b in blocks if "Objective as the budget scales" in b)
    assert "\n    bar [" in budget.split("```")[0]  # the red bar at scale 1.0
    for block in blocks:
        body = block.split("```")[0]
        assert body.startswith("%%{init:")  # the palette: lines visible on light and dark pages
        for series in re.findall(r"\n    line \[([^\]]*)\]", body):
            assert len(set(series.split(", "))) >= 3, body  # a curve has at least three distinct values
    risk = text.split("## Risk frontier\n", 1)[1].split("\n## ", 1)[0]
    assert ("```mermaid" in risk) == (risk.count("\n| ") >= 4)  # a chart only with three points or more


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("budget[2026]", "the budget for 2026"),
        ("budget[total]", "the total budget"),
        ("capacity[diplomats]", "the diplomats available"),
        ("max_exposure[China]", "the cap on exposure to China"),
        ("max_exposure[*]", "the caps on exposure together"),
        ("min_cvar", "the floor on CVaR"),
        ("requires[ai -> energy]", "the requirement that ai needs energy"),
        ("excludes[ai, water]", "the rule that ai and water exclude each other"),
        ("must_include[ai]", "the commitment to fund ai"),
        ("novel[x]", "`novel[x]`"),
    ],
)
def test_rules_in_prose_are_plain_words(rule: str, words: str) -> None:
    from niches.render.words import rule_words

    assert rule_words(rule) == words


def test_the_summary_names_rules_and_levels_in_words_not_ids() -> None:
    result = run_cli("report", "--samples", "20")
    assert result.returncode == 0, result.stderr
    summary = result.stdout.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "the budget for 2026" in summary and "`budget[" not in summary
    assert "@" not in summary and "corridor from 2027" in summary
