"""Frontiers, stability radii and conflict sets against brute-force enumeration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from niches.analysis.explain import explain_of
from niches.analysis.frontier import EXPOSURE_STEP, default_points, frontier_of
from niches.analysis.sensitivity import (
    Change,
    sensitivity_of,
    with_cost_factor,
    with_score_factor,
    with_weight,
)
from niches.limits import POINTS, POINTS_MILP
from niches.optimize.evaluate import (
    Metrics,
    best_of,
    brute_force,
    close,
    evaluate,
    feasible_portfolios,
    floors_by_enumeration,
    objective_value,
    rule_groups,
    violated_rules,
)
from niches.optimize.model import tolerance
from niches.optimize.table import PortfolioTable
from niches.scenario import Scenario, load_scenario
from niches.study import Study

from .strategies import scenario_dict, to_scenario

FEW = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
small = scenario_dict(max_niches=4).map(to_scenario)
ENGINES = [("enumeration", "highs"), ("milp", "highs"), ("milp", "cbc")]
"""Every analysis runs on both engines, the MILP one on both solvers (CBC on fewer examples)."""


def _study(scenario: Scenario, engine: str, solver: str, kind: str | None = None) -> Study:
    return Study(scenario, kind, solver, engine=engine)


def _examples(solver: str) -> settings:
    return settings(FEW, max_examples=8) if solver == "cbc" else FEW


def _not_regret(scenario: Scenario) -> str:
    return "expected" if scenario.objective == "regret" else scenario.objective


def _better(kind: str, a: Metrics, b: Metrics) -> bool:
    """Lexicographic: higher objective, then higher expected value (the frontier's step order)."""
    oa, ob = objective_value(kind, a), objective_value(kind, b)
    if oa > ob + tolerance(ob):
        return True
    return oa >= ob - tolerance(ob) and a.expected_value > b.expected_value + tolerance(b.expected_value)


def _usage(scenario: Scenario, m: Metrics) -> float:
    scale = 0.0
    caps = {p: c for p, c in scenario.budget.items()}
    for period, cap in caps.items():
        spend = m.cost_by_period[period]
        if spend > 0:
            scale = max(scale, spend / cap if cap > 0 else float("inf"))
    if scenario.budget_total is not None and m.cost > 0:
        scale = max(scale, m.cost / scenario.budget_total if scenario.budget_total > 0 else float("inf"))
    return scale


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver"), ENGINES)
def test_budget_frontier_is_the_enumerated_step_function(engine: str, solver: str) -> None:
    @given(small)
    @_examples(solver)
    def check(scenario: Scenario) -> None:
        _budget_frontier_is_the_enumerated_step_function(scenario, engine, solver)

    check()


def _budget_frontier_is_the_enumerated_step_function(scenario: Scenario, engine: str, solver: str) -> None:
    kind = _not_regret(scenario)
    budget = frozenset(g for g in rule_groups(scenario) if g.startswith("budget["))
    candidates = sorted(
        ((_usage(scenario, m), m) for _, m in feasible_portfolios(scenario, budget)),
        key=lambda t: t[0],
    )
    steps: list[tuple[float, Metrics]] = []
    for usage, m in candidates:
        if usage > 1.5 + 1e-9:
            break
        if not steps or _better(kind, m, steps[-1][1]):
            if steps and close(steps[-1][0], usage):  # same scale: keep the better one only
                steps[-1] = (usage, m)
            else:
                steps.append((usage, m))
        elif close(steps[-1][0], usage) and _better(kind, m, steps[-1][1]):
            steps[-1] = (usage, m)
    found = frontier_of(_study(scenario, engine, solver, kind), "budget", 0.0, 1.5)
    assert len(found.points) == len(steps)
    for point, (usage, m) in zip(found.points, steps, strict=True):
        assert point.scale is not None
        assert close(point.scale, usage) or (usage == 0.0 and point.scale == 0.0)
        assert close(point.objective, objective_value(kind, m))


@pytest.mark.slow
def test_a_budget_frontier_cut_short_bounds_the_rest() -> None:
    """Past --max-points, every enumerated optimum up to the end of the range lies in the tail's bounds."""

    tails = []

    @given(small)
    @_examples("highs")
    def check(scenario: Scenario) -> None:
        kind = _not_regret(scenario)
        found = frontier_of(_study(scenario, "milp", "highs", kind), "budget", 0.0, 1.5, max_points=1)
        if found.tail is None:
            return
        tails.append(found.tail)
        first, last, low, high = found.tail
        budget = frozenset(g for g in rule_groups(scenario) if g.startswith("budget["))
        fitting = [
            (_usage(scenario, m), objective_value(kind, m)) for _, m in feasible_portfolios(scenario, budget)
        ]
        assert close(max(v for u, v in fitting if u <= first + 1e-9), low)  # the optimum where it stopped
        assert close(max(v for u, v in fitting if u <= last + 1e-9), high)  # and at the end of the range
        assert first <= last

    check()
    assert tails, "no frontier was cut short: the bounds were not exercised"


def test_a_frontier_draws_fewer_points_by_default_past_the_enumeration_limit() -> None:
    root = Path(__file__).resolve().parents[1]
    assert default_points(Study(load_scenario(root / "options" / "kazakhstan.yaml"))) == POINTS
    assert default_points(Study(load_scenario(root / "tests" / "data" / "synthetic30.yaml"))) == POINTS_MILP
    assert POINTS_MILP < POINTS


def test_a_budget_frontier_cut_short_below_scale_1_marks_no_current_budget() -> None:
    """Where the sweep stopped before scale 1, the optimum at the current budget is not known: no point
    stands for it (it was once the last point drawn, shown again at scale 1.0)."""
    root = Path(__file__).resolve().parents[1]
    study = Study(load_scenario(root / "tests" / "data" / "synthetic30.yaml"))
    found = frontier_of(study, "budget", 0.0, 1.5, max_points=3)
    assert found.tail is not None and found.tail[0] < 1.0
    assert not any(p.marked for p in found.points)
    whole = frontier_of(study, "budget", 0.99, 1.01)  # reaches scale 1: its optimum there is marked
    assert [p.scale is not None and p.scale <= 1.0 for p in whole.points if p.marked] == [True]


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver"), ENGINES)
def test_risk_frontier_is_the_enumerated_pareto_set(engine: str, solver: str) -> None:
    @given(small)
    @_examples(solver)
    def check(scenario: Scenario) -> None:
        _risk_frontier_is_the_enumerated_pareto_set(scenario, engine, solver)

    check()


def _risk_frontier_is_the_enumerated_pareto_set(scenario: Scenario, engine: str, solver: str) -> None:
    feasible = [m for _, m in feasible_portfolios(scenario)]
    pareto = set()
    for m in feasible:
        dominated = any(
            (
                o.expected_value >= m.expected_value - tolerance(m.expected_value)
                and o.cvar > m.cvar + tolerance(m.cvar)
            )
            or (
                o.cvar >= m.cvar - tolerance(m.cvar)
                and o.expected_value > m.expected_value + tolerance(m.expected_value)
            )
            for o in feasible
        )
        if not dominated:
            pareto.add((round(m.cvar, 6), round(m.expected_value, 6)))
    found = frontier_of(_study(scenario, engine, solver), "risk")
    assert {(round(p.metrics.cvar, 6), round(p.metrics.expected_value, 6)) for p in found.points} == pareto


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver"), ENGINES)
def test_exposure_frontier_follows_the_enumeration(engine: str, solver: str) -> None:
    @given(small)
    @_examples(solver)
    def check(scenario: Scenario) -> None:
        _exposure_frontier_follows_the_enumeration(scenario, engine, solver)

    check()


def _exposure_frontier_follows_the_enumeration(scenario: Scenario, engine: str, solver: str) -> None:
    if not scenario.powers:
        return
    kind = _not_regret(scenario)
    feasible = feasible_portfolios(scenario)
    expected = []
    cap = 1.0
    while True:
        allowed = [(p, m) for p, m in feasible if max(m.exposure.values()) <= cap + 1e-7]
        if not allowed:
            break
        best = max(objective_value(kind, m) for _, m in allowed)
        expected.append(best)
        chosen = [m for _, m in allowed if close(objective_value(kind, m), best)]
        top_e = max(m.expected_value for m in chosen)
        chosen = [m for m in chosen if close(m.expected_value, top_e)]
        least = min(m.cost for m in chosen)
        largest = min(max(m.exposure.values()) for m in chosen if close(m.cost, least))
        if largest <= 0:
            break
        cap = largest - EXPOSURE_STEP
    found = frontier_of(_study(scenario, engine, solver, kind), "exposure")
    assert [round(p.objective, 6) for p in found.points] == [round(v, 6) for v in expected]


def _taker_by_enumeration(kind: str, variant: Scenario, recommended: dict[str, str]) -> dict[str, str] | None:
    """What takes over in `variant`: the best (tie-breaks included) of the portfolios beating
    `recommended` there, or the best of all where none does or it breaks a rule."""
    variant = floors_by_enumeration(variant)
    feasible = feasible_portfolios(variant)
    if not feasible:
        return None
    beating = feasible
    if not violated_rules(variant, recommended):
        mine = objective_value(kind, evaluate(variant, recommended))
        beating = [(p, m) for p, m in feasible if objective_value(kind, m) >= mine + tolerance(mine)]
    return best_of(variant, kind, beating or feasible)[0]


def _state(kind: str, variant: Scenario, recommended: dict[str, str]) -> bool:
    """Is `recommended` still optimal in `variant` (by enumeration)?"""
    if violated_rules(variant, recommended):
        return False
    variant = floors_by_enumeration(variant)
    top = max(objective_value(kind, m) for _, m in feasible_portfolios(variant))  # not the tie-broken pick's
    mine = objective_value(kind, evaluate(variant, recommended))
    return not top > mine + tolerance(mine)


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver"), ENGINES)
def test_stability_radii_are_where_the_enumerated_optimum_changes(engine: str, solver: str) -> None:
    @given(small)
    @_examples(solver)
    def check(scenario: Scenario) -> None:
        _stability_radii_are_where_the_enumerated_optimum_changes(scenario, engine, solver)

    check()


def _stability_radii_are_where_the_enumerated_optimum_changes(
    scenario: Scenario, engine: str, solver: str
) -> None:
    kind = _not_regret(scenario)
    if brute_force(scenario, kind).portfolio is None:
        return
    result = sensitivity_of(_study(scenario, engine, solver, kind))
    rec = result.solution.portfolio
    checks: list[tuple[Callable[[float], Scenario], Change, float, float]] = []
    for w in result.weights:
        for change, start in ((w.low, w.weight), (w.high, w.weight)):
            if change is not None:
                checks.append((lambda t, c=w.criterion: with_weight(scenario, c, t), change, start, 1e-6))
    for r in result.scores:
        for change in (r.low, r.high):
            if change is not None:
                checks.append((lambda t, n=r.niche: with_score_factor(scenario, n, t), change, 1.0, 1e-6))
    for r in result.costs:
        for change in (r.low, r.high):
            if change is not None:
                checks.append((lambda t, n=r.niche: with_cost_factor(scenario, n, t), change, 1.0, 3e-4))
    for at, change, start, step in checks:
        point = change.at
        direction = 1.0 if point > start else -1.0
        assert not _state(kind, at(point), rec), point  # changed here
        assert _state(kind, at(point - direction * step), rec), point  # and not just before
        if step == 3e-4 and point < 1e-3:
            # Costs scaled to within the evaluator's absolute tolerance of a cap (1e-7 of a zero budget):
            # the evaluator lets a portfolio fit there that the solver's scaled rows do not, so which of
            # two tied portfolios takes over is a matter of tolerance, not of the model.
            continue
        assert change.portfolio == _taker_by_enumeration(kind, at(point), rec), point  # to what


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver"), ENGINES)
def test_conflict_set_is_minimal(engine: str, solver: str) -> None:
    @given(small)
    @_examples(solver)
    def check(scenario: Scenario) -> None:
        _conflict_set_is_minimal(scenario, engine, solver)

    check()


def _conflict_set_is_minimal(scenario: Scenario, engine: str, solver: str) -> None:
    explanation = explain_of(_study(scenario, engine, solver))
    feasible = brute_force(scenario).portfolio is not None
    assert explanation.feasible == feasible
    if feasible:
        return
    groups = set(rule_groups(scenario))
    members = {c.rule for c in explanation.conflict}
    assert members
    assert not feasible_portfolios(scenario, frozenset(groups - members))  # together they conflict
    for member in members:  # drop any one and the rest can hold
        assert feasible_portfolios(scenario, frozenset(groups - members) | {member})
    table = PortfolioTable(scenario)
    for conflict in explanation.conflict:  # the stated relaxation alone restores feasibility
        if conflict.limit is not None:
            assert table.score(scenario, limits={conflict.rule: conflict.limit}).feasible.any()
        elif conflict.restores:
            assert feasible_portfolios(scenario, frozenset([conflict.rule]))


def test_sensitivity_of_a_regret_scenario_refines_cost_changes() -> None:
    # found by fuzzing: the cost walk compared regrets without each world's best value (a traceback)
    path = Path(__file__).parent / "data" / "regression" / "regret_costs.yaml"
    scenario = load_scenario(path)
    assert scenario.objective == "regret"
    result = sensitivity_of(Study(scenario))
    assert {r.niche for r in result.costs} == {n.id for n in scenario.niches}
