"""The command line, through the real entry point, with exact output where it matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from niches import __version__
from niches.cli import app

from .conftest import ROOT, run_cli

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("NICHES_UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    """Compare `text` with the golden file `name` (NICHES_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_version() -> None:
    result = run_cli("--version")
    assert (result.returncode, result.stdout) == (0, f"niches {__version__}\n")


@pytest.mark.parametrize("command", [[], ["solve"], ["validate"]])
def test_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["solve", "--format", "yaml"],
            "niches: error: --format 'yaml': expected one of table, json, markdown; see niches solve --help",
        ),
        (
            ["solve", "--formt", "json"],
            "niches: error: solve has no option --formt (did you mean --format?); see niches solve --help",
        ),
        (["solve", "--seed", "1"], "niches: error: solve has no option --seed; see niches solve --help"),
        (["frob"], "niches: error: no command 'frob' (did you mean robust?); see niches --help"),
        (["robust", "--samples"], "niches: error: --samples needs a value; see niches robust --help"),
        (
            ["solve", "a.yaml", "b", "c"],
            "niches: error: unexpected extra argument b c; see niches solve --help",
        ),
        (["coalition"], "niches: error: give FILE; see niches coalition --help"),
        (["rivals"], "niches: error: give FILE; see niches rivals --help"),
        (
            ["solve", "--time-limit", "soon"],
            "niches: error: --time-limit 'soon': expected a number of at least 0.001; "
            "see niches solve --help",
        ),
        (
            ["frontier", "--from=-1"],
            "niches: error: --from '-1': expected a number of at least 0; see niches frontier --help",
        ),
    ],
)
def test_usage_errors_in_the_house_style_exit_2(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message + "\n", "")


def test_no_command_prints_the_help_and_exits_2() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "Commands:" in result.stderr + result.stdout


@pytest.mark.parametrize(("fmt", "golden"), [("json", "kazakhstan.json"), ("markdown", "kazakhstan.md")])
def test_default_scenario_golden(fmt: str, golden: str) -> None:
    result = run_cli("solve", "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "niches: no scenario given; reading options/kazakhstan.yaml\n"
    check_golden(golden, result.stdout)


def test_default_scenario_table_golden() -> None:
    result = run_cli("solve")
    assert result.returncode == 0, result.stderr
    check_golden("kazakhstan.txt", result.stdout)


def test_json_contract_and_determinism() -> None:
    first = run_cli("solve", "--format", "json").stdout
    assert run_cli("solve", "--format", "json").stdout == first
    data = json.loads(first)
    assert list(data)[:6] == ["scenario", "units", "status", "objective", "solver", "gap"]
    assert data["units"] == {"money": "USD million", "value": "points", "share": "fraction"}
    assert data["status"] == "optimal"
    assert set(data["objective"]) == {"kind", "value"}
    for row in data["portfolio"]:
        assert {"niche", "level", "cost", "expected_value"} <= set(row)
    assert {
        "expected_value",
        "worst_case",
        "cvar",
        "cost",
        "cost_by_period",
        "value_by_world",
        "exposure",
        "uses",
    } <= set(data["metrics"])


def test_solvers_agree_on_the_default() -> None:
    cbc = json.loads(run_cli("solve", "-f", "json", "--solver", "cbc").stdout)
    highs = json.loads(run_cli("solve", "-f", "json", "--solver", "highs").stdout)
    assert cbc.pop("solver") == "cbc" and highs.pop("solver") == "highs"
    assert cbc == highs


@pytest.mark.parametrize("objective", ["worst_case", "cvar", "regret"])
def test_objectives_on_the_default(objective: str) -> None:
    data = json.loads(run_cli("solve", "-f", "json", "--objective", objective).stdout)
    assert data["status"] == "optimal"
    assert data["objective"]["kind"] == objective
    if objective == "regret":
        assert set(data["best_by_world"]) == set(data["metrics"]["value_by_world"])


def test_default_runs_from_any_directory(tmp_path: Path) -> None:
    result = run_cli("solve", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["scenario"] == "Kazakhstan 2026-2030"


def test_stdin() -> None:
    text = (ROOT / "tests/data/published/california.yaml").read_text()
    result = run_cli("solve", "-", "--format", "json", stdin=text)
    assert result.returncode == 0
    assert json.loads(result.stdout)["objective"] == {"kind": "expected", "value": 14.0}
    assert run_cli("validate", "-", stdin=text).stdout == "<stdin>: ok\n"


def test_validate_many_files() -> None:
    result = run_cli("validate", "options/kazakhstan.yaml", "tests/data/published/california.yaml")
    assert result.returncode == 0
    assert result.stdout == "options/kazakhstan.yaml: ok\ntests/data/published/california.yaml: ok\n"


def test_validate_mixed_files_exits_2() -> None:
    result = run_cli("validate", "options/kazakhstan.yaml", "tests/data/invalid/cvar_tail.yaml")
    assert result.returncode == 2
    assert result.stdout == "options/kazakhstan.yaml: ok\n"
    assert result.stderr.splitlines()[-1] == "1 of 2 files invalid"


def test_missing_file() -> None:
    result = run_cli("solve", "nowhere.yaml")
    assert result.returncode == 2
    assert (
        result.stderr
        == "nowhere.yaml:1:1: no such file; check the path\n1 problem found; nothing was solved\n"
    )


def test_infeasible_exits_1_with_the_same_json_shape() -> None:
    result = run_cli("solve", "tests/data/valid/infeasible.yaml", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert (data["status"], data["portfolio"], data["metrics"]) == ("infeasible", [], None)
    assert data["objective"] == {"kind": "expected", "value": None}


def test_infeasible_table_exits_1() -> None:
    result = run_cli("solve", "tests/data/valid/infeasible.yaml")
    assert result.returncode == 1
    assert "infeasible" in result.stdout


def test_solver_failure_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import niches.optimize.model
    import niches.study

    def fail(*args: object, **kwargs: object) -> None:
        raise niches.optimize.model.SolverFailed(
            "the cbc solver hit the time limit (1 s) without any portfolio"
        )

    monkeypatch.setattr(niches.study, "solve", fail)
    result = CliRunner().invoke(app, ["solve", "tests/data/published/california.yaml"])
    assert result.exit_code == 3
    assert result.stderr == "niches: error: the cbc solver hit the time limit (1 s) without any portfolio\n"


def _knapsack_file(tmp_path: Path, file: str, index: int) -> tuple[Path, float]:
    import yaml

    from tests.orlib import read_mknap

    problem = read_mknap(ROOT / "tests/data/published" / file)[index]
    periods = [f"c{i + 1}" for i in range(len(problem.capacities))]
    data = {
        "name": problem.name,
        "periods": periods,
        "budget": dict(zip(periods, problem.capacities, strict=True)),
        "criteria": {"profit": 1},
        "niches": {
            f"item{j}": {
                "cost": dict(zip(periods, [w[j] for w in problem.weights], strict=True)),
                "scores": {"profit": p},
            }
            for j, p in enumerate(problem.profits)
        },
    }
    path = tmp_path / "knapsack.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, problem.optimum


def test_a_stopped_solve_keeps_the_portfolio_in_hand() -> None:
    """A solve stopped before its proof (here by a solution limit: deterministic, where a time limit
    depends on the machine) keeps the portfolio it found: status feasible, with its gap, in JSON."""
    from niches.analysis.summary import summary_of
    from niches.optimize.model import PortfolioModel, solve
    from niches.render.json import solve_dict
    from niches.study import Study
    from tests.orlib import knapsack_scenario, read_mknap

    problem = read_mknap(ROOT / "tests/data/published/mknapcb1.txt")[0]
    scenario = knapsack_scenario(problem)
    model = PortfolioModel(scenario)
    model.backend.solution_limit = 1
    solution = solve(scenario, model=model)
    assert solution.status == "feasible"
    assert solution.gap is not None and solution.gap > 0
    assert solution.objective is not None and 0 < solution.objective < problem.optimum
    study = Study(scenario, engine="milp")
    study.milp.model.backend.solution_limit = 1
    data = solve_dict(summary_of(study))
    assert data["status"] == "feasible" and data["gap"] > 0
    assert 0 < data["objective"]["value"] < problem.optimum


def test_generous_time_limit_reaches_the_optimum(tmp_path: Path) -> None:
    path, optimum = _knapsack_file(tmp_path, "mknap1.txt", 6)
    result = run_cli("solve", str(path), "-f", "json", "--time-limit", "60")
    assert result.returncode == 0
    assert json.loads(result.stdout)["objective"]["value"] == optimum


def test_lp_dump_uses_domain_names(tmp_path: Path) -> None:
    path = tmp_path / "model.lp"
    result = run_cli("solve", "--lp", str(path), "-f", "json")
    assert result.returncode == 0
    text = path.read_text()
    for name in ("choose[ai.lead]", "budget[2027]", "max_exposure[China]", "min_cvar", "one_level[ai]"):
        pulp_name = name.replace("[", "_").replace("]", "_")
        assert pulp_name in text, name


def test_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from niches.cli import app; "
        "print(sorted(m for m in ('pulp', 'highspy', 'numpy', 'niches.optimize.model') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_explain_names_a_minimal_conflict_with_locations() -> None:
    path = "tests/data/valid/infeasible.yaml"
    result = run_cli("explain", path, "-f", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["conflict"] == [
        {
            "rule": "budget[total]",
            "location": f"{path}:2:1",
            "relaxation": "raise budget[total] by 3 USD million to 8 USD million",
            "restores": True,
        },
        {
            "rule": "must_include[big]",
            "location": f"{path}:8:18",
            "relaxation": "drop must_include: big",
            "restores": True,
        },
    ]
    solved = json.loads(run_cli("solve", path, "-f", "json").stdout)
    assert solved["conflict"] == json.loads(result.stdout)["conflict"]


def test_explain_a_feasible_scenario() -> None:
    result = run_cli("explain")
    assert result.returncode == 0
    assert "feasible, nothing to explain" in result.stdout


@pytest.mark.parametrize("axis", ["budget", "risk", "exposure"])
def test_frontier_golden(axis: str) -> None:
    result = run_cli("frontier", "--axis", axis, "-f", "json")
    assert result.returncode == 0, result.stderr
    check_golden(f"kazakhstan.frontier-{axis}.json", result.stdout)
    points = json.loads(result.stdout)["points"]
    key = {"budget": "scale", "exposure": "cap", "risk": "cvar"}[axis]
    ordered = [p[key] for p in points]
    assert ordered == sorted(ordered, reverse=axis == "exposure")
    assert sum(p["marked"] for p in points) == (0 if axis == "exposure" else 1)


def test_sensitivity_golden() -> None:
    result = run_cli("sensitivity", "-f", "json")
    assert result.returncode == 0, result.stderr
    check_golden("kazakhstan.sensitivity.json", result.stdout)


def test_budget_frontier_refuses_regret() -> None:
    result = run_cli("frontier", "--objective", "regret")
    assert result.returncode == 2
    assert result.stderr == (
        "niches: no scenario given; reading options/kazakhstan.yaml\n"
        "niches: error: the budget frontier needs an objective that does not move with the budget; "
        "use --objective expected, worst_case or cvar\n"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "options").glob("*.yaml")))
def test_every_bundled_scenario_validates_solves_and_checks(name: str) -> None:
    path = f"options/{name}"
    assert run_cli("validate", path).stdout == f"{path}: ok\n"
    solved = run_cli("solve", path, "-f", "json")
    assert solved.returncode == 0, solved.stderr
    assert json.loads(solved.stdout)["status"] == "optimal"
    checked = run_cli("check", path)
    assert checked.returncode == 0, checked.stderr


def test_plural() -> None:
    from niches.numbers import plural, plural_of

    assert [plural(n, "solve") for n in (0, 1, 2)] == ["0 solves", "1 solve", "2 solves"]
    assert plural(1, "Monte Carlo sample") == "1 Monte Carlo sample"
    assert plural(3, "sampled future") == "3 sampled futures"
    assert plural(2, "criterion") == "2 criteria"
    assert plural(2, "optimum") == "2 optima"
    assert plural(1, "criterion") == "1 criterion"
    assert [plural_of(w) for w in ("capacity", "day", "batch", "box", "class", "world", "niche")] == [
        "capacities",
        "days",
        "batches",
        "boxes",
        "classes",
        "worlds",
        "niches",
    ]


ONE = """\
name: one
budget: 10
criteria: {a: 1}
niches:
  food: {cost: 1, scores: {a: [4, 6]}}
assertions:
  recommend: [food]
"""


def test_messages_with_a_count_of_one(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(ONE)
    assert run_cli("check", str(path)).stdout.startswith("one: 1 assertion holds\n")
    path.write_text(ONE.replace("recommend: [food]", "exclude: [food]"))
    assert run_cli("check", str(path)).stdout.startswith("one: 1 of 1 assertion failed\n")
    path.write_text(ONE)
    frontier = run_cli("frontier", str(path), "--max-points", "1", "--format", "markdown").stdout
    assert "1 breakpoint · " in frontier and "stopped after 1 breakpoint at scale" in frontier
    robust = run_cli("robust", str(path), "--samples", "1").stdout
    assert robust.startswith("one: Monte Carlo, 1 of 1 sample (seed 0,")
    report = run_cli("report", str(path), "--samples", "1").stdout
    for line in (
        "- **Invest in 1 niche:** **food** at *invest*.",
        "- **Robustness:** optimal in 100.0% of 1 draw of the uncertain judgements;",
        "Share of 1 Monte Carlo sample (seed 0;",
        "| Monte Carlo | 1 sample, seed 0 |",
    ):
        assert line in report, line
    path.write_text(ONE.replace("[4, 6]", "[4]"))
    assert run_cli("validate", str(path)).stderr == (
        f"{path}:5:31: score of niche 'food' on a range must be [low, high], got 1 item\n"
        "1 of 1 file invalid\n"
    )
    assert run_cli("solve", str(path)).stderr.endswith("\n1 problem found; nothing was solved\n")


COMMAND_NAMES = [
    "solve", "frontier", "sensitivity", "explain", "worlds", "robust", "check", "report", "diff",
    "price", "judges", "elicit", "coalition", "rivals", "init", "schema", "validate",
]  # fmt: skip


@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_every_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=100)
    assert result.exit_code == 0
    example = next(line.strip() for line in result.stdout.splitlines() if "Example:" in line)
    assert example.startswith(f"Example: niches {command}"), example


def test_quiet_silences_notes_but_not_errors() -> None:
    loud = run_cli("solve", "--format", "json")
    assert loud.stderr == "niches: no scenario given; reading options/kazakhstan.yaml\n"
    quiet = run_cli("--quiet", "solve", "--format", "json")
    assert (quiet.returncode, quiet.stderr, quiet.stdout) == (0, "", loud.stdout)
    failing = run_cli("-q", "solve", "nowhere.yaml")
    assert failing.returncode == 2 and "no such file" in failing.stderr
