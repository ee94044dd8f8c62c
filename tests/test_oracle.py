"""The optimizer against an independent brute-force enumeration."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from niches.evaluate import brute_force, close, evaluate, objective_value, violated_rules
from niches.model import solve
from niches.scenario import OBJECTIVES, Scenario

from .strategies import scenarios

SETTINGS = settings(
    max_examples=120,
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
