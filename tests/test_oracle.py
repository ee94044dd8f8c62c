"""The optimizer against an independent brute-force enumeration."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from niches.analysis.summary import binding_rules
from niches.evaluate import (
    RELATIVE_TIE,
    brute_force,
    close,
    evaluate,
    feasible_portfolios,
    objective_value,
    rule_groups,
    violated_rules,
)
from niches.model import solve
from niches.scenario import OBJECTIVES, Scenario

from .strategies import scenarios

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


@pytest.mark.slow
@given(scenarios)
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_binding_rules_match_enumeration(scenario: Scenario) -> None:
    solution = solve(scenario, "expected", "highs")
    if solution.status != "optimal":
        return
    assert solution.objective is not None
    binding = binding_rules(solution)
    families: dict[str, list[str]] = {}
    for group in rule_groups(scenario):
        families.setdefault(group.split("[")[0], []).append(group)
        best = max(m.expected_value for _, m in feasible_portfolios(scenario, frozenset([group])))
        gain = best - solution.objective
        if gain > RELATIVE_TIE * max(1.0, abs(solution.objective)):
            assert close(binding[group], gain), group
        else:
            assert group not in binding, group
    for family, members in families.items():
        if len(members) > 1 and not any(m in binding for m in members):
            best = max(m.expected_value for _, m in feasible_portfolios(scenario, frozenset(members)))
            gain = best - solution.objective
            if gain > RELATIVE_TIE * max(1.0, abs(solution.objective)):
                assert close(binding[f"{family}[*]"], gain)
            else:
                assert f"{family}[*]" not in binding
