"""The vectorised table of all portfolios against the per-portfolio evaluator."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from niches.optimize.evaluate import all_portfolios, brute_force, close, evaluate, violated_rules
from niches.optimize.table import PortfolioTable, Scores
from niches.scenario import OBJECTIVES, Scenario

from .strategies import scenarios


@given(scenarios)
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_table_scores_every_portfolio_like_evaluate(scenario: Scenario) -> None:
    table = PortfolioTable(scenario)
    scores = table.score()
    portfolios = list(all_portfolios(scenario))
    assert len(portfolios) == len(table.choice)
    position = {int(row): i for i, row in enumerate(scores.rows)}
    for portfolio in portfolios:
        row = table.row_of(portfolio)
        assert table.portfolio(row) == portfolio
        row_is_scored_like_evaluate(scenario, scores, position, row, portfolio)


def row_is_scored_like_evaluate(
    scenario: Scenario, scores: Scores, position: dict[int, int], row: int, portfolio: dict[str, str]
) -> None:
    """Check table row `row` (`portfolio`) against the evaluator: left out only if it breaks a rule."""
    m = evaluate(scenario, portfolio)
    keeps = not violated_rules(scenario, portfolio, m)
    if row not in position:
        assert not keeps, portfolio
        return
    i = position[row]
    assert np.allclose(scores.values[i], [m.value_by_world[w.id] for w in scenario.worlds])
    assert close(scores.expected[i], m.expected_value)
    assert close(scores.worst[i], m.worst_case) and close(scores.cvar[i], m.cvar)
    assert close(scores.total[i], m.cost)
    assert np.allclose(scores.spend[i], [m.cost_by_period[p] for p in scenario.periods])
    assert bool(scores.feasible[i]) == keeps, portfolio


@given(scenarios)
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_table_optimum_matches_enumeration(scenario: Scenario) -> None:
    table = PortfolioTable(scenario)
    scores = table.score()
    stars = table.best_by_world(scores)
    for kind in OBJECTIVES:
        oracle = brute_force(scenario, kind)
        row = table.best(scores, kind, stars)
        if oracle.portfolio is None:
            assert row is None
            continue
        assert row is not None
        assert table.portfolio(row) == oracle.portfolio, kind
