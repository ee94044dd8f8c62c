"""The optimizer against an independent brute-force enumeration."""

from __future__ import annotations

import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from niches.analysis.summary import Gain, binding_rules, summary_of
from niches.optimize.evaluate import (
    RELATIVE_TIE,
    brute_force,
    close,
    evaluate,
    feasible_portfolios,
    objective_value,
    rule_groups,
    violated_rules,
)
from niches.optimize.model import solve
from niches.scenario import OBJECTIVES, Scenario
from niches.study import Study

from .conftest import ROOT
from .strategies import scenarios

sys.path.insert(0, str(ROOT / "bench"))

from synthetic import synthetic

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def _check(scenario: Scenario, solver: str) -> None:
    for kind in OBJECTIVES:
        oracle = brute_force(scenario, kind)
        result = solve(scenario, kind, solver)
        if oracle.portfolio is None:
            assert result.status == "infeasible", (kind, result.portfolio)
            continue
        assert result.status == "optimal", kind
        assert result.metrics is not None and oracle.metrics is not None
        assert not violated_rules(scenario, result.portfolio), (kind, result.portfolio)
        stars = oracle.best_by_world if kind == "regret" else None
        assert result.objective is not None and oracle.objective is not None
        assert close(result.objective, oracle.objective), (kind, result.portfolio, oracle.portfolio)
        assert close(objective_value(kind, evaluate(scenario, result.portfolio), stars), result.objective)
        # the documented tie-breaks: higher expected value, then lower spend
        assert close(result.metrics.expected_value, oracle.metrics.expected_value), kind
        assert close(result.metrics.cost, oracle.metrics.cost), kind
        if kind == "regret":
            assert result.best_by_world is not None
            for world, value in oracle.best_by_world.items():
                assert close(result.best_by_world[world], value)


@pytest.mark.slow
@given(scenarios)
@SETTINGS
def test_cbc_matches_enumeration(scenario: Scenario) -> None:
    _check(scenario, "cbc")


@pytest.mark.slow
@given(scenarios)
@SETTINGS
def test_highs_matches_enumeration(scenario: Scenario) -> None:
    _check(scenario, "highs")


BINDING = [
    ("enumeration", "highs", 60, "exact"),
    ("milp", "highs", 60, "share"),
    ("milp", "highs", 40, "bounded"),
    ("milp", "highs", 20, "exact"),
    ("milp", "cbc", 12, "share"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver", "examples", "effort"), BINDING)
def test_binding_rules_match_enumeration(
    engine: str, solver: str, examples: int, effort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gains are exact with `exact` or within the command's share of effort (`share`); with no share
    left (`bounded`) every binding rule is still found and its interval holds the exact gain."""
    from niches.optimize import relaxed

    if effort == "bounded":
        monkeypatch.setattr(relaxed, "EXACT_CHOICES", 0)
    bounded = []

    @given(scenarios)
    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(scenario: Scenario) -> None:
        for kind in ("expected", scenario.objective):
            study = Study(scenario, kind, solver, engine=engine, exact=effort == "exact")
            bounded.extend(_binding_rules_match(study))

    check()
    if effort == "bounded":
        assert bounded, "no example left a gain as an interval: the bounded path was not exercised"
    else:
        assert not bounded


def _binding_rules_match(study: Study) -> list[str]:
    """Hold the study's binding rules to enumeration; return the rules whose gain is only bounded."""
    scenario, kind = study.scenario, study.kind
    solution = study.solution()
    if solution.status != "optimal":
        return []
    assert solution.objective is not None
    binding, unknown = binding_rules(study)
    assert not unknown
    tie = RELATIVE_TIE * max(1.0, abs(solution.objective))

    def best_without(groups: frozenset[str]) -> float:
        stars = None
        feasible = feasible_portfolios(scenario, groups)
        if kind == "regret":
            stars = {w.id: max(m.value_by_world[w.id] for _, m in feasible) for w in scenario.worlds}
            return min(objective_value(kind, m, stars) for _, m in feasible)
        return max(objective_value(kind, m) for _, m in feasible)

    def gain(groups: frozenset[str]) -> float:
        best = best_without(groups)
        return solution.objective - best if kind == "regret" else best - solution.objective  # type: ignore[operator]

    families: dict[str, list[str]] = {}
    for group in rule_groups(scenario):
        families.setdefault(group.split("[")[0], []).append(group)
        found = gain(frozenset([group]))
        if found > tie:
            _holds(binding[group], found, group)
        else:
            assert group not in binding, group
    for family, members in families.items():
        if len(members) > 1 and not any(m in binding for m in members):
            found = gain(frozenset(members))
            if found > tie:
                _holds(binding[f"{family}[*]"], found, family)
            else:
                assert f"{family}[*]" not in binding
    return [rule for rule, g in binding.items() if not g.exact]


def _holds(gain: Gain, exact: float, rule: str) -> None:
    """The exact gain is the figure, or lies within the bounds (both computed apart)."""
    if gain.exact:
        assert close(gain.low, exact), rule
    else:
        assert gain.low < gain.high, rule
        assert gain.low - 1e-6 * max(1.0, abs(exact)) <= exact <= gain.high + 1e-6 * max(1.0, abs(exact)), (
            rule,
            gain,
            exact,
        )


def _left_out_by_evaluation(solution: object) -> list[tuple[str, str]]:
    """The left-out reasons computed portfolio by portfolio with the evaluator (the oracle)."""
    from niches.optimize.model import Solution

    assert isinstance(solution, Solution) and solution.metrics is not None
    scenario = solution.scenario
    found = []
    for niche in scenario.niches:
        if niche.id in solution.portfolio:
            continue
        trials = []
        for level in niche.levels:
            trial = {**solution.portfolio, niche.id: level.id}
            metrics = evaluate(scenario, trial)
            trials.append((violated_rules(scenario, trial, metrics), level.id, metrics))
        keeps = [t for t in trials if not t[0]]
        if keeps:
            best = max(keeps, key=lambda t: t[2].expected_value)
            kind, stars = solution.objective_kind, solution.best_by_world
            before = objective_value(kind, solution.metrics, stars)
            after = objective_value(kind, best[2], stars)
            label = {"expected": "expected value", "worst_case": "worst case", "cvar": "CVaR"}.get(
                kind, "regret"
            )
            if abs(after - before) <= RELATIVE_TIE * max(1.0, abs(before)):
                reason = (
                    f"adding it at {best[1]} changes {label} by less than the tie tolerance; "
                    "the cheaper portfolio wins the tie"
                )
            else:
                reason = f"adding it at {best[1]} would change {label} from {before:.2f} to {after:.2f}"
        else:
            fewest = min(trials, key=lambda t: (len(t[0]), t[1]))
            reason = f"adding it at {fewest[1]} would break {', '.join(fewest[0])}"
        found.append((niche.id, reason))
    return found


@given(scenarios)
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_left_out_reasons_match_the_evaluator(scenario: Scenario) -> None:
    from niches.analysis.summary import left_out

    for kind in OBJECTIVES:
        solution = solve(scenario, kind)
        if solution.metrics is None:
            continue
        assert [(x.niche, x.reason) for x in left_out(solution)] == _left_out_by_evaluation(solution)


@pytest.mark.slow
@given(scenarios)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_both_solvers_give_identical_json(scenario: Scenario) -> None:
    from niches.render.json import dumps, solve_dict

    texts = []
    for solver in ("highs", "cbc"):
        data = solve_dict(summary_of(Study(scenario, solver=solver, engine="milp")))
        assert data.pop("solver") == solver
        texts.append(dumps(data))
    assert texts[0] == texts[1]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1])
def test_bounded_gains_flag_the_same_rules_as_exact_ones_on_larger_models(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the enumeration limit (60 niches, CVaR): with no share of effort left for exact gains, the
    same rules bind as when every gain is solved, and each interval holds the exact gain."""
    from niches.optimize import relaxed
    from niches.scenario import parse_scenario

    text = yaml.safe_dump(synthetic(60, 3, 5, 5, seed=seed))
    scenario = parse_scenario(text, f"synthetic-{seed}.yaml")
    exact, unknown = binding_rules(Study(scenario, "cvar", exact=True))
    assert not unknown and exact
    monkeypatch.setattr(relaxed, "EXACT_CHOICES", 0)
    bounded, unknown = binding_rules(Study(scenario, "cvar"))
    assert not unknown
    assert list(bounded) == list(exact)
    assert any(not gain.exact for gain in bounded.values())
    for rule, gain in bounded.items():
        _holds(gain, exact[rule].low, rule)
