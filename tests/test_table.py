"""The vectorised table of all portfolios against the per-portfolio evaluator."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from niches.evaluate import all_portfolios, brute_force, close, evaluate, violated_rules
from niches.scenario import OBJECTIVES, Scenario
from niches.table import PortfolioTable

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
        m = evaluate(scenario, portfolio)
        keeps = not violated_rules(scenario, portfolio, m)
        if row not in position:
            assert not keeps, portfolio
            continue
        i = position[row]
        assert np.allclose(scores.values[i], [m.value_by_world[w.id] for w in scenario.worlds])
        assert close(scores.expected[i], m.expected_value)
        assert close(scores.cvar[i], m.cvar)
        assert close(scores.total[i], m.cost)
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
