"""Planning in time: niches that start later, held to a direct computation and to brute force.

The direct computation below reads the scenario's plain data (declared levels
and their `start`), not the loader's expansion into level@period choices, so
it checks the expansion itself; the solvers and engines are then held to the
brute-force enumeration of every level and start choice.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from niches.optimize.evaluate import brute_force, evaluate, violated_rules
from niches.scenario import Scenario, parse_scenario
from niches.study import Study

from .strategies import scenario_dict, timed_scenarios, to_scenario
from .test_oracle import _binding_rules_match, _check, _left_out_by_evaluation
from .test_uncertainty import _core_index_and_regret_match

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _mean(score: Any) -> float:
    if isinstance(score, list):
        return (score[0] + score[1]) / 2
    if isinstance(score, dict):
        return (score["low"] + score["mode"] + score["high"]) / 3
    return float(score)


def _levels(niche: dict[str, Any]) -> dict[str, dict[str, Any]]:
    levels: dict[str, dict[str, Any]] = niche.get("levels", {"invest": niche})
    return levels


def _starts(niche: dict[str, Any], level: dict[str, Any], periods: list[str]) -> list[int]:
    raw = level.get("start", niche.get("start"))
    if raw is None:
        return [0]
    if raw == "any":
        return list(range(len(periods)))
    return sorted(periods.index(str(p)) for p in raw)


def _choices(data: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """Return niche -> every (declared level, start offset) the data allows."""
    periods = [str(p) for p in data["periods"]]
    return {
        nid: [(lid, i) for lid, level in _levels(niche).items() for i in _starts(niche, level, periods)]
        for nid, niche in data["niches"].items()
    }


def _direct(
    data: dict[str, Any], scenario: Scenario, choice: dict[str, tuple[str, int]]
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Return (value by world, spend by period, exposure spend by power) computed from the plain data."""
    periods = [str(p) for p in data["periods"]]
    count = len(periods)
    raw_weights = {c: (w["weight"] if isinstance(w, dict) else w) for c, w in data["criteria"].items()}
    total_weight = sum(raw_weights.values())
    weights = {c: w / total_weight for c, w in raw_weights.items()}
    share = {nid: (count - i) / count for nid, (_, i) in choice.items()}
    worlds = [w.id for w in scenario.worlds]
    value = dict.fromkeys(worlds, 0.0)
    spend = dict.fromkeys(periods, 0.0)
    exposure = dict.fromkeys(scenario.powers, 0.0)
    for nid, (lid, i) in choice.items():
        niche = data["niches"][nid]
        level = _levels(niche)[lid]
        base = sum(weights[c] * _mean(s) for c, s in level.get("scores", {}).items())
        for k in worlds:
            value[k] += niche.get("outlook", {}).get(k, 1.0) * base * share[nid]
        cost = level["cost"]
        stated = [cost.get(int(p), 0) for p in periods] if isinstance(cost, dict) else [cost] * count
        for k in range(i, count):
            spend[periods[k]] += stated[k - i]
        spent = sum(stated[: count - i])
        for power, part in niche.get("exposure", {}).items():
            exposure[power] += spent * part
        for other, bonus in niche.get("synergy", {}).items():
            if other in choice:
                for k in worlds:
                    value[k] += bonus * min(share[nid], share[other])
    return value, spend, exposure


def _option_id(data: dict[str, Any], level: str, offset: int) -> str:
    return level if offset == 0 else f"{level}@{data['periods'][offset]}"


@given(scenario_dict(max_niches=3, timed=True))
@SETTINGS
def test_every_level_and_start_is_measured_as_the_plain_data_says(data: dict[str, Any]) -> None:
    scenario = to_scenario(data)
    choices = _choices(data)
    declared = {n.id: sorted(lv.id for lv in n.levels) for n in scenario.niches}
    assert declared == {nid: sorted(_option_id(data, lid, i) for lid, i in c) for nid, c in choices.items()}
    ids = list(choices)
    for combo in itertools.product(*[[None, *choices[n]] for n in ids]):
        choice = {nid: c for nid, c in zip(ids, combo, strict=True) if c is not None}
        portfolio = {nid: _option_id(data, lid, i) for nid, (lid, i) in choice.items()}
        metrics = evaluate(scenario, portfolio)
        value, spend, exposure = _direct(data, scenario, choice)
        for k, v in value.items():
            assert math.isclose(metrics.value_by_world[k], v, abs_tol=1e-9), (portfolio, k)
        for p, amount in spend.items():
            assert math.isclose(metrics.cost_by_period[p], amount, abs_tol=1e-9), (portfolio, p)
        for power, amount in exposure.items():
            assert math.isclose(metrics.exposure_spend[power], amount, abs_tol=1e-9), (portfolio, power)
        broken = set(violated_rules(scenario, portfolio, metrics))
        for nid, niche in data["niches"].items():
            for needed in niche.get("requires", []):
                late = nid in choice and (needed not in choice or choice[needed][1] > choice[nid][1])
                assert (f"requires[{nid} -> {needed}]" in broken) == late, portfolio


def test_a_later_start_shifts_the_cost_and_scales_the_value() -> None:
    text = """
name: t
periods: [2026, 2027, 2028, 2029]
budget: {2026: 0, 2027: 100, 2028: 100, 2029: 100}
criteria: {x: 1}
niches:
  corridor:
    start: any
    levels:
      build: {cost: {2026: 50, 2027: 20, 2028: 10, 2029: 10}, scores: {x: 8}}
"""
    scenario = parse_scenario(text, "t.yaml")
    best = brute_force(scenario)
    assert best.portfolio == {"corridor": "build@2027"}
    assert best.metrics is not None
    assert best.metrics.cost_by_period == {"2026": 0.0, "2027": 50.0, "2028": 20.0, "2029": 10.0}
    assert best.metrics.expected_value == pytest.approx(8 * 3 / 4)
    solution = Study(scenario).solution()
    assert solution.portfolio == best.portfolio


def test_ties_go_to_the_earlier_start() -> None:
    text = """
name: t
periods: [a, b]
budget: 10
criteria: {x: 1}
niches:
  free: {cost: 0, scores: {x: 0}, start: any}
"""
    scenario = parse_scenario(text, "t.yaml")
    # Nothing, invest and invest@b all score 0 and cost 0: the empty portfolio ranks first by
    # declaration order, and among the two starts the earlier one.
    assert brute_force(scenario).portfolio == {}
    for engine in ("enumeration", "milp"):
        assert Study(scenario, engine=engine).solution().portfolio == {}


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_solvers_match_enumeration_of_levels_and_starts(solver: str) -> None:
    @given(timed_scenarios)
    @settings(SETTINGS, max_examples=60 if solver == "highs" else 30)
    def check(scenario: Scenario) -> None:
        _check(scenario, solver)

    check()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("engine", "solver", "examples"),
    [("enumeration", "highs", 20), ("milp", "highs", 20), ("milp", "cbc", 6)],
)
def test_binding_rules_with_starts_match_enumeration(engine: str, solver: str, examples: int) -> None:
    @given(timed_scenarios)
    @settings(max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(scenario: Scenario) -> None:
        _binding_rules_match(Study(scenario, scenario.objective, solver, engine=engine))

    check()


@given(timed_scenarios)
@SETTINGS
def test_left_out_reasons_with_starts_match_the_evaluator(scenario: Scenario) -> None:
    from niches.analysis.summary import left_out
    from niches.optimize.model import solve

    solution = solve(scenario)
    if solution.metrics is not None:
        assert [(x.niche, x.reason) for x in left_out(solution)] == _left_out_by_evaluation(solution)


@given(timed_scenarios)
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_monte_carlo_draws_one_judgement_per_declared_level(scenario: Scenario) -> None:
    import numpy as np

    from niches.analysis.robust import Sampler

    sampler = Sampler(scenario, ("scores", "weights", "probabilities"), 50.0)
    scores, _, _ = sampler.draw(7, 3)
    rows = [(n, lv) for n in scenario.niches for lv in n.levels]
    first = {(n.id, lv.base): i for i, (n, lv) in reversed(list(enumerate(rows))) if lv.offset == 0}
    for i, (niche, level) in enumerate(rows):
        if (niche.id, level.base) in first:  # the level also starts in the first period: same draw, scaled
            np.testing.assert_allclose(
                scores[i], level.share * scores[first[niche.id, level.base]], atol=1e-12
            )


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["enumeration", "milp"])
def test_core_index_with_starts_matches_enumeration(engine: str) -> None:

    @given(timed_scenarios)
    @settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(scenario: Scenario) -> None:
        _core_index_and_regret_match(scenario, engine)

    check()
