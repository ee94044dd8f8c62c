"""The smallest combined relaxation of an infeasible scenario, against enumeration of every portfolio."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from niches.analysis.explain import BLOCKED, combined_relaxation, explain_of, minimal_conflict
from niches.optimize.evaluate import (
    all_portfolios,
    close,
    evaluate,
    feasible_portfolios,
    numeric_limits,
    rule_checks,
    rule_groups,
    violated_rules,
)
from niches.scenario import Scenario, parse_scenario
from niches.study import Study

from .conftest import run_cli
from .strategies import scenario_dict, timed_scenarios, to_scenario

SOLVERS = ["highs", "cbc"]
FEW = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
FLOORS = ("min_niches", "min_worst_case", "min_cvar")

TWO_BUDGETS = """
name: two budgets
periods: [2026, 2027]
budget: {2026: 5, 2027: 10}
criteria: {a: 1}
niches:
  big:
    levels:
      lead: {cost: {2026: 8, 2027: 12}, scores: {a: 3}}
      keep: {cost: {2026: 6, 2027: 15}, scores: {a: 2}}
rules:
  must_include: [big]
"""

CAPACITY_AND_BUDGET = """
name: capacity and budget
budget: 8
capacities: {diplomats: %s}
criteria: {a: 1}
niches:
  mission:
    levels:
      wide: {cost: 12, uses: {diplomats: 2}, scores: {a: 3}}
      deep: {cost: 6, uses: {diplomats: 5}, scores: {a: 2}}
      mixed: {cost: 9, uses: {diplomats: 4}, scores: {a: 1}}
      lean: {cost: 9, uses: {diplomats: 1}, scores: {a: 1}}
rules:
  must_include: [mission]
"""

SHARES = """name: shares
budget: 20
criteria: {a: 1}
niches:
  a: {cost: 7, scores: {a: 4}, excludes: [b]}
  b: {cost: 3, scores: {a: 1}}
  c: {cost: 3, scores: {a: 1}}
rules:
  must_include: [b]
  max_share: 0.3
  min_worst_case: 3
"""


def _combined(text: str, groups: list[str], solver: str) -> list[tuple[str, float, float, str]]:
    study = Study(parse_scenario(text, "test.yaml"), solver=solver)
    combined, words = combined_relaxation(study, groups)
    return [(r.rule, r.limit, r.relaxed, r.text) for r in combined] + [("words", 0.0, 0.0, words)]


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_budgets_too_small_are_raised_by_the_least_share_of_their_caps(solver: str) -> None:
    # lead needs +3 (60% of 5) and +2 (20% of 10); keep needs +1 (20%) and +5 (50%): keep relaxes less
    assert _combined(TWO_BUDGETS, ["budget[2026]", "budget[2027]", "must_include[big]"], solver) == [
        ("budget[2026]", 5.0, 6.0, "raise budget[2026] by 1 USD million to 6 USD million"),
        ("budget[2027]", 10.0, 15.0, "raise budget[2027] by 5 USD million to 15 USD million"),
        (
            "words",
            0.0,
            0.0,
            "raise budget[2026] by 1 USD million to 6 USD million and "
            "budget[2027] by 5 USD million to 15 USD million",
        ),
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_capacity_and_a_budget_are_relaxed_together(solver: str) -> None:
    # wide 4/8 = 0.5, deep 2/3, mixed 1/8 + 1/3, lean 1/8 + 0: lean (budget only) is cheapest
    text = CAPACITY_AND_BUDGET % 3
    lean = text.replace("lean: {cost: 9, uses: {diplomats: 1}, scores: {a: 1}}", "")
    assert _combined(lean, ["budget[total]", "capacity[diplomats]"], solver) == [
        ("budget[total]", 8.0, 9.0, "raise budget[total] by 1 USD million to 9 USD million"),
        ("capacity[diplomats]", 3.0, 4.0, "raise capacity[diplomats] by 1 to 4"),
        (
            "words",
            0.0,
            0.0,
            "raise budget[total] by 1 USD million to 9 USD million and capacity[diplomats] by 1 to 4",
        ),
    ]
    assert _combined(text, ["budget[total]", "capacity[diplomats]"], solver)[0][:3] == (
        "budget[total]",
        8.0,
        9.0,
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_limit_of_zero_is_relaxed_in_units_of_one(solver: str) -> None:
    # capacity 0 counts in diplomats: lean needs 1/8 + 1/1, wide 4/8 + 2/1, mixed 1/8 + 4/1, deep 2/8
    text = (CAPACITY_AND_BUDGET % 0).replace(
        "deep: {cost: 6, uses: {diplomats: 5}", "deep: {cost: 10, uses: {}"
    )
    assert _combined(text, ["budget[total]", "capacity[diplomats]"], solver) == [
        ("budget[total]", 8.0, 10.0, "raise budget[total] by 2 USD million to 10 USD million"),
        ("words", 0.0, 0.0, "raise budget[total] by 2 USD million to 10 USD million"),
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_shares_rise_in_points_and_floors_fall(solver: str) -> None:
    explanation = explain_of(Study(parse_scenario(SHARES, "shares.yaml"), solver=solver))
    assert [c.restores for c in explanation.conflict] == [False, False]
    assert explanation.combined_text == (
        "raise max_share by 20.0 pp to 50.0% and lower min_worst_case by 1.00 to 2.00"
    )
    assert [(r.rule, r.limit, r.relaxed, r.amount) for r in explanation.combined] == [
        ("max_share", 0.3, pytest.approx(0.5), pytest.approx(0.2)),
        ("min_worst_case", 3.0, 2.0, 1.0),
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_rules_without_a_limit_that_block_every_relaxation_are_named_as_such(solver: str) -> None:
    text = SHARES.replace("  c: {cost: 3, scores: {a: 1}}\n", "").replace(
        "must_include: [b]", "must_include: [b, a]"
    )
    study = Study(parse_scenario(text, "blocked.yaml"), solver=solver)
    assert combined_relaxation(study, ["max_share", "min_worst_case"]) == ((), BLOCKED)


def test_the_combined_relaxation_through_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "shares.yaml"
    path.write_text(SHARES, encoding="utf-8")
    table = run_cli("explain", str(path))
    assert table.returncode == 1, table.stderr
    line = (
        " No single relaxation suffices; together: raise max_share by 20.0 pp to 50.0% and lower "
        "min_worst_case by 1.00 to 2.00."
    )
    assert line in table.stdout.splitlines()
    result = run_cli("explain", str(path), "-f", "json", "--solver", "cbc")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["combined_relaxation"] == [
        {
            "rule": "max_share",
            "location": f"{path}:10:3",
            "limit": 0.3,
            "relaxed_limit": 0.5,
            "by": 0.2,
            "relaxation": "raise max_share by 20.0 pp to 50.0%",
        },
        {
            "rule": "min_worst_case",
            "location": f"{path}:11:3",
            "limit": 3.0,
            "relaxed_limit": 2.0,
            "by": -1.0,
            "relaxation": "lower min_worst_case by 1.00 to 2.00",
        },
    ]
    solved = run_cli("solve", str(path), "-f", "json")
    assert solved.returncode == 1
    assert (
        json.loads(solved.stdout)["combined_relaxation"] == json.loads(result.stdout)["combined_relaxation"]
    )


def test_a_single_relaxation_leaves_the_combined_one_out() -> None:
    result = run_cli("explain", "tests/data/valid/infeasible.yaml", "-f", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["combined_relaxation"] is None
    assert "together" not in run_cli("explain", "tests/data/valid/infeasible.yaml").stdout


# --------------------------------------------------------------------------- the oracle


def _relaxed(scenario: Scenario, limits: Mapping[str, float]) -> Scenario:
    """Return `scenario` with the given rule limits (built here, not by the code under test)."""
    budget, capacities, exposure = (
        dict(scenario.budget),
        dict(scenario.capacities),
        dict(scenario.rules.max_exposure),
    )
    total, rules = scenario.budget_total, {}
    for group, limit in limits.items():
        family, _, inner = group.partition("[")
        inner = inner[:-1]
        if family == "budget" and inner in budget:
            budget[inner] = limit
        elif group == "budget[total]":
            total = limit
        elif family == "capacity":
            capacities[inner] = limit
        elif family == "max_exposure":
            exposure[inner] = limit
        else:
            rules[group] = limit
    return dataclasses.replace(
        scenario,
        budget=budget,
        budget_total=total,
        capacities=capacities,
        rules=dataclasses.replace(scenario.rules, max_exposure=exposure, **rules),
    )


def _least_by_enumeration(scenario: Scenario, elastic: list[str]) -> float:
    """Return the least sum of relaxations (each over |limit|, or 1 for a limit of 0) any portfolio needs."""
    limits = numeric_limits(scenario)
    best = math.inf
    for portfolio in all_portfolios(scenario):
        metrics = evaluate(scenario, portfolio)
        if violated_rules(scenario, portfolio, metrics, frozenset(elastic)):
            continue  # breaks a rule that stays hard
        over = {c.rule: max(0.0, -c.slack) for c in rule_checks(scenario, portfolio, metrics)}
        best = min(best, sum(over[g] / (abs(limits[g]) or 1.0) for g in elastic))
    return best


def _holds_to_enumeration(scenario: Scenario, study: Study, groups: list[str]) -> None:
    limits = numeric_limits(scenario)
    elastic = [g for g in groups if g in limits]
    combined, words = combined_relaxation(study, groups)
    form = study.milp.model.form
    assert (form.rows, form.cols) == (form.base_rows, form.base_cols)  # the elastic columns are gone
    assert study.milp.best().metrics is None  # and the model is the scenario's again
    least = _least_by_enumeration(scenario, elastic)
    if math.isinf(least):
        assert (combined, words) == ((), BLOCKED)
        return
    assert combined and {r.rule for r in combined} <= set(elastic)
    for r in combined:
        assert r.amount > 0
        assert close(r.relaxed, r.limit - r.amount if r.rule.startswith(FLOORS) else r.limit + r.amount)
    relaxed = _relaxed(scenario, {r.rule: r.relaxed for r in combined})
    assert feasible_portfolios(relaxed)  # applied, it restores feasibility
    found = sum(r.amount / (abs(r.limit) or 1.0) for r in combined)
    assert close(found, least), (found, least)  # and no smaller one exists


@pytest.mark.slow
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("drawn", ["scenarios", "timed"])
def test_the_combined_relaxation_restores_feasibility_and_none_smaller_does(solver: str, drawn: str) -> None:
    @given(scenario_dict(max_niches=4).map(to_scenario) if drawn == "scenarios" else timed_scenarios)
    @FEW
    def check(scenario: Scenario) -> None:
        assume(not feasible_portfolios(scenario))
        study = Study(scenario, solver=solver)
        _holds_to_enumeration(scenario, study, minimal_conflict(study.engine))  # the conflict's limits
        _holds_to_enumeration(scenario, study, rule_groups(scenario))  # every limit: several move at once

    check()
