"""Metrics of hand-checked portfolios."""

from __future__ import annotations

import pytest

from niches.optimize.evaluate import cvar, evaluate, rule_checks, violated_rules
from niches.scenario import parse_scenario

SCENARIO = parse_scenario(
    """
name: hand
periods: [2026, 2027]
budget: {2026: 10, total: 15}
criteria: {a: 3, b: 1}
powers: [USA, China]
worlds: {good: 0.5, fair: 0.3, bad: 0.2}
niches:
  x:
    cost: {2026: 4, 2027: 2}
    scores: {a: 4, b: 8}
    exposure: {USA: 0.5}
    outlook: {bad: 0.5}
  y:
    cost: 3
    scores: {a: [2, 6], b: {low: 0, mode: 3, high: 6}}
    exposure: {China: 1}
    synergy: {x: -1}
rules: {cvar_tail: 0.4, max_exposure: {China: 0.4}}
"""
)


def test_values_costs_and_exposure() -> None:
    m = evaluate(SCENARIO, {"x": "invest", "y": "invest"})
    # x: 0.75*4 + 0.25*8 = 5 (bad: 2.5); y: 0.75*4 + 0.25*3 = 3.75; synergy -1
    assert m.value_by_world == pytest.approx({"good": 7.75, "fair": 7.75, "bad": 5.25})
    assert m.expected_value == pytest.approx(0.8 * 7.75 + 0.2 * 5.25)
    assert m.cost_by_period == {"2026": 7.0, "2027": 5.0}
    assert m.cost == 12.0
    assert m.exposure == pytest.approx({"USA": 3 / 12, "China": 6 / 12})
    # worst 40%: bad (0.2) at 5.25, then 0.2 of the 7.75 worlds
    assert m.cvar == pytest.approx((0.2 * 5.25 + 0.2 * 7.75) / 0.4)
    assert violated_rules(SCENARIO, {"x": "invest", "y": "invest"}) == ["max_exposure[China]"]


def test_empty_portfolio() -> None:
    m = evaluate(SCENARIO, {})
    assert (m.expected_value, m.cost, m.exposure) == (0.0, 0.0, {"USA": 0.0, "China": 0.0})
    assert violated_rules(SCENARIO, {}) == []


def test_cvar_splits_the_boundary_world() -> None:
    values = {"a": 1.0, "b": 2.0, "c": 10.0}
    probabilities = {"a": 0.1, "b": 0.3, "c": 0.6}
    assert cvar(values, probabilities, 0.25) == pytest.approx((0.1 * 1 + 0.15 * 2) / 0.25)
    assert cvar(values, probabilities, 1.0) == pytest.approx(0.1 + 0.6 + 6.0)
    assert cvar(values, probabilities, 0.05) == pytest.approx(1.0)


def test_rule_checks_measure_slack() -> None:
    checks = {c.rule: c for c in rule_checks(SCENARIO, {"x": "invest"})}
    assert (checks["budget[2026]"].measured, checks["budget[2026]"].slack) == (4.0, 6.0)
    assert (checks["budget[total]"].measured, checks["budget[total]"].slack) == (6.0, 9.0)
    assert checks["max_exposure[China]"].measured == 0.0
