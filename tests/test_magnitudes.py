"""The solvers at the documented extremes: money and values from 1e-6 to 1e9, both solvers, held to
brute force; the regression files of issue 19; the ladder a failing solve climbs (without presolve,
then the other solver), each rung with its note."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niches.optimize.evaluate import brute_force, close
from niches.optimize.model import PortfolioModel, SolverFailed, solve
from niches.optimize.solvers import Outcome
from niches.optimize.solvers.scaling import Scaling, power_of_two
from niches.scenario import Scenario, load_scenario

from .conftest import run_cli
from .strategies import deal_scenario_dict, scaled, scenario_dict, to_scenario
from .test_oracle import _check

FILES = sorted((Path(__file__).parent / "data" / "regression" / "magnitudes").glob("*.yaml"))

MAGNITUDES = [(2.5e7, 1.0), (1.0, 5e7), (2.5e7, 5e7), (1e-6, 1.0), (1.0, 1e-6)]
"""(money, value) factors: the strategies' largest figures times these stay within [-1e9, 1e9]."""


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_regression_files_match_enumeration(path: Path, solver: str) -> None:
    _check(load_scenario(path), solver)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_both_solvers_give_the_same_json_on_the_regression_files(path: Path) -> None:
    outputs = []
    for solver in ("highs", "cbc"):
        result = run_cli("solve", str(path), "--solver", solver, "--format", "json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data.pop("solver") == solver
        assert data["notes"] == []
        outputs.append(data)
    assert outputs[0] == outputs[1]


def _scenarios(money: float, value: float) -> st.SearchStrategy[Scenario]:
    plain = scenario_dict(max_niches=4)
    timed = scenario_dict(max_niches=3, timed=True)
    deals = deal_scenario_dict(max_niches=3)
    return st.one_of(plain, timed, deals).map(lambda data: to_scenario(scaled(data, money, value)))


@pytest.mark.slow
@pytest.mark.parametrize(("money", "value"), MAGNITUDES)
@pytest.mark.parametrize(("solver", "examples"), [("highs", 60), ("cbc", 15)])
def test_solvers_match_enumeration_at_every_magnitude(
    money: float, value: float, solver: str, examples: int
) -> None:
    @given(_scenarios(money, value))
    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(scenario: Scenario) -> None:
        _check(scenario, solver)

    check()


# --------------------------------------------------------------------------- scaling


def test_factors_are_powers_of_two_so_unscaling_is_exact() -> None:
    assert power_of_two(1e9) == 2.0**30
    assert power_of_two(1e-6) == 2.0**-20
    assert power_of_two(0.0) == power_of_two(float("inf")) == 1.0
    scenario = load_scenario(FILES[0])
    model = PortfolioModel(scenario)
    scale = Scaling()
    scale.update(model.form, 0, 0)
    for factor in scale.row + scale.col:
        mantissa, _ = __import__("math").frexp(factor)
        assert mantissa == 0.5
    values = [1e9 / 3, 7e-7, -123456789.123]
    assert [v / f * f for v, f in zip(values, [2.0**30, 2.0**-20, 2.0**27], strict=True)] == values


def test_plain_usd_rows_reach_the_solver_near_one() -> None:
    model = PortfolioModel(load_scenario(Path(FILES[0]).parent / "plain_usd.yaml"))
    form = model.form
    scale = Scaling()
    scale.update(form, 0, 0)
    assert scale.col[form.total_spend] >= 2.0**28  # money columns measured in hundreds of millions
    for r, coefs in enumerate(form.row_coef):
        biggest = max((abs(scale.coefficient(r, c, v)) for c, v in coefs.items()), default=1.0)
        assert 0.5 <= biggest <= 2.0, form.row_name[r]


# --------------------------------------------------------------------------- the ladder


def _simple() -> Scenario:
    return load_scenario(Path(FILES[0]).parent / "four_niches_two_deals.yaml")


def _failing_runs(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[str]:
    """Make HiGHS refuse its first `failures` runs; return the presolve setting of every run."""
    import niches.optimize.solvers.highs as highs

    real = highs._run
    seen: list[str] = []

    def run(h: Any) -> Any:
        seen.append(h.getOptionValue("presolve")[1])
        if len(seen) <= failures:
            return highs.highspy.HighsStatus.kError
        return real(h)

    monkeypatch.setattr(highs, "_run", run)
    return seen


def test_a_refused_run_is_solved_again_without_presolve_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = _simple()
    oracle = brute_force(scenario)
    runs = _failing_runs(monkeypatch, 1)
    result = solve(scenario, tie_breaks=False)
    assert runs[:2] == ["choose", "off"]
    assert result.objective is not None and oracle.objective is not None
    assert close(result.objective, oracle.objective)
    assert result.notes == ("HiGHS refused run; solved again without presolve",)


def test_a_run_refused_twice_is_solved_by_cbc_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = _simple()
    oracle = brute_force(scenario)
    runs = _failing_runs(monkeypatch, 2)
    result = solve(scenario, tie_breaks=False)
    assert runs[:2] == ["choose", "off"]
    assert result.objective is not None and oracle.objective is not None
    assert close(result.objective, oracle.objective)
    assert result.notes == ("HiGHS refused run (also without presolve); solved by CBC instead",)


def test_a_note_reaches_every_format(monkeypatch: pytest.MonkeyPatch) -> None:
    from niches.analysis.summary import summary_of
    from niches.render.json import solve_dict
    from niches.render.markdown import solve_markdown
    from niches.study import Study

    _failing_runs(monkeypatch, 1)
    study = Study(_simple(), engine="milp")
    summary = summary_of(study)
    note = "HiGHS refused run; solved again without presolve"
    assert note in solve_dict(summary)["notes"]
    assert f"> note: {note}" in solve_markdown(summary)


def test_an_answer_the_evaluator_disagrees_with_is_solved_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import niches.optimize.solvers.highs as highs

    scenario = _simple()
    oracle = brute_force(scenario)
    real = highs.HighsBackend.solve
    calls: list[bool] = []

    def lying(self: Any, *args: Any, careful: bool = False, **kwargs: Any) -> Outcome:
        outcome = real(self, *args, careful=careful, **kwargs)
        calls.append(careful)
        if len(calls) == 1 and outcome.objective is not None:  # the first answer claims 1 point more
            return Outcome(
                outcome.status, outcome.values, outcome.objective + 1.0, outcome.bound, outcome.gap
            )
        return outcome

    monkeypatch.setattr(highs.HighsBackend, "solve", lying)
    result = solve(scenario, tie_breaks=False)
    assert calls[:2] == [False, True]
    assert result.objective is not None and oracle.objective is not None
    assert close(result.objective, oracle.objective)
    assert result.notes[0].startswith("highs said ")
    assert "the evaluator" in result.notes[0]


def test_a_solver_that_keeps_disagreeing_is_a_solver_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import niches.optimize.solvers.highs as highs

    real = highs.HighsBackend.solve

    def lying(self: Any, *args: Any, **kwargs: Any) -> Outcome:
        outcome = real(self, *args, **kwargs)
        if outcome.objective is None:
            return outcome
        return Outcome(outcome.status, outcome.values, outcome.objective + 1.0, outcome.bound, outcome.gap)

    monkeypatch.setattr(highs.HighsBackend, "solve", lying)
    with pytest.raises(SolverFailed, match="is not the evaluator's"):
        solve(_simple(), tie_breaks=False)


@pytest.mark.slow
def test_the_bundled_coalition_split_in_proportion_gives_one_answer_on_both_solvers(tmp_path: Path) -> None:
    import shutil

    from niches.analysis.coalition import study_coalition
    from niches.render.coalition import coalition_json
    from niches.scenario.coalition import load_coalition
    from niches.scenario.inputs import allowed_paths

    options = Path(__file__).parent.parent / "options"
    shutil.copytree(options, tmp_path / "options")
    path = tmp_path / "options" / "coalitions" / "middle_corridor.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("split: shapley", "split: proportional"), encoding="utf-8")
    with allowed_paths([tmp_path]):  # its members are ../*.yaml, outside the coalition's own folder
        coalition = load_coalition(path)
    assert coalition.split == "proportional"
    found = [coalition_json(study_coalition(coalition, solver)) for solver in ("highs", "cbc")]
    assert found[0] == found[1]
