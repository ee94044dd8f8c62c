"""Adaptive plans held to brute force: the decomposition over common pre-reveal choices, on both solvers.

The oracle is written here, independently of `niches.optimize.adaptive*`: every portfolio that keeps
the rules (the value floors aside) is enumerated, grouped by its choices that start before the reveal;
each world takes the best value among a group's portfolios (every objective is monotone in each
world's value); the floors and the objective then judge each group's vector of values. With deals,
where a world's value and its stressed value differ, every combination of one portfolio per world is
enumerated instead.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from niches.analysis.adapt import adapt
from niches.optimize.adaptive import plan_objective, reveal_of
from niches.optimize.adaptive_solve import AdaptiveSolver, enumerate_plan
from niches.optimize.evaluate import (
    brute_force,
    cvar,
    feasible_portfolios,
    floors_by_enumeration,
    violated_rules,
)
from niches.optimize.table import PortfolioTable
from niches.scenario import OBJECTIVES, Scenario
from niches.study import Study

from .conftest import run_cli
from .strategies import deal_scenario_dict, scenario_dict, to_scenario

FLOORS = frozenset({"min_cvar", "min_worst_case"})
SETTINGS = settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _with_worlds(data: dict[str, Any]) -> dict[str, Any]:
    """Give a drawn scenario two or three worlds (a single world has nothing to adapt to)."""
    worlds = list(data.get("worlds", {}))
    if len(worlds) < 2:
        data["worlds"] = {"calm": 0.5, "storm": 0.5} if not worlds else {worlds[0]: 0.6, "later": 0.4}
    for deal in data.get("deals", {}).values():  # a deal's figures for the implicit world go to the first
        for key in ("reliability", "value"):
            if "baseline" in deal.get(key, {}):
                deal[key]["calm"] = deal[key].pop("baseline")
    return data


@st.composite
def adaptive_dict(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a scenario where adapting can pay: two or three worlds whose outlooks differ, two or three
    periods, levels that may start later, a budget that forces choices, and now and then every rule."""
    periods = [2026, 2027, 2028][: draw(st.integers(2, 3))]
    worlds = ["calm", "blocs", "storm"][: draw(st.integers(2, 3))]
    raw = [draw(st.integers(1, 4)) for _ in worlds]
    odds = [r / sum(raw) for r in raw]
    odds[-1] = 1.0 - sum(odds[:-1])
    niches: dict[str, Any] = {}
    ids = [f"n{i}" for i in range(draw(st.integers(2, 4)))]
    for i, nid in enumerate(ids):
        levels = {}
        for j in range(draw(st.integers(1, 2))):
            level: dict[str, Any] = {
                "cost": draw(st.integers(1, 6)),
                "scores": {"value": draw(st.integers(1, 8)), "risk": [0, draw(st.integers(0, 4))]},
                "uses": {"staff": draw(st.integers(0, 3))},
            }
            if draw(st.integers(0, 2)) > 0:  # most levels may start later: the choices a reveal leaves open
                level["start"] = draw(
                    st.one_of(st.just("any"), st.lists(st.sampled_from(periods), min_size=1, unique=True))
                )
            levels[f"l{j}"] = level
        niche: dict[str, Any] = {
            "levels": levels,
            "outlook": {w: draw(st.sampled_from([3.0, 0.0, 1.0, 0.5, 2.0])) for w in worlds},
            "exposure": {"P": draw(st.integers(0, 10)) / 10},
        }
        others = ids[i + 1 :]
        if others and draw(st.integers(0, 5)) == 0:
            niche["requires"] = [draw(st.sampled_from(others))]
        if others and draw(st.integers(0, 5)) == 0:
            niche["excludes"] = [draw(st.sampled_from(others))]
        if others and draw(st.integers(0, 3)) == 0:
            niche["synergy"] = {draw(st.sampled_from(others)): draw(st.integers(-2, 3))}
        niches[nid] = niche
    rules: dict[str, Any] = {"cvar_tail": draw(st.sampled_from([0.3, 0.5, 1.0]))}
    if draw(st.integers(0, 4)) == 0:
        rules["min_cvar"] = draw(st.integers(0, 6))
    if draw(st.integers(0, 4)) == 0:
        rules["min_worst_case"] = draw(st.integers(0, 4))
    if draw(st.integers(0, 3)) == 0:
        rules["max_niches"] = draw(st.integers(1, 3))
    if draw(st.integers(0, 3)) == 0:
        rules["max_exposure"] = {"P": draw(st.integers(3, 9)) / 10}
    budget: dict[Any, Any] = {p: draw(st.integers(3, 12)) for p in periods if draw(st.booleans())}
    if draw(st.booleans()) or not budget:
        budget["total"] = draw(st.integers(6, 30))
    return {
        "name": "adaptive",
        "periods": periods,
        "budget": budget,
        "capacities": {"staff": draw(st.integers(2, 8))},
        "criteria": {"value": 2, "risk": [0.5, 1.5]},
        "powers": ["P"],
        "worlds": dict(zip(worlds, odds, strict=True)),
        "niches": niches,
        "rules": rules,
    }


@st.composite
def adaptive_deals_dict(draw: st.DrawFn) -> dict[str, Any]:
    """Draw an adaptive scenario of two or three niches with one or two deals on them."""
    data = draw(adaptive_dict())
    ids = sorted(data["niches"])[:3]
    data["niches"] = {n: data["niches"][n] for n in ids}
    for niche in data["niches"].values():
        niche.pop("requires", None), niche.pop("excludes", None), niche.pop("synergy", None)
    worlds = list(data["worlds"])
    deals = {}
    for i in range(draw(st.integers(1, 2))):
        deals[f"d{i}"] = {
            "partner": draw(st.sampled_from(["P", "Q"])),
            "niches": [draw(st.sampled_from(ids))],
            "share": draw(st.integers(1, 10)) / 10,
            "reliability": {w: draw(st.integers(0, 10)) / 10 for w in worlds if draw(st.booleans())},
            "value": {w: draw(st.integers(0, 3)) for w in worlds if draw(st.booleans())},
        }
    data["deals"] = deals
    return data


timed = st.one_of(
    adaptive_dict().map(to_scenario),
    adaptive_dict().map(to_scenario),
    scenario_dict(max_niches=3, timed=True).map(_with_worlds).map(to_scenario),
)
"""Mostly scenarios built for adapting, and a third of the general timed scenarios with every key."""
timed_deals = st.one_of(
    adaptive_deals_dict().map(to_scenario),
    deal_scenario_dict(max_niches=2, timed=True).map(_with_worlds).map(to_scenario),
)


def _over(floor: float, figure: float) -> bool:
    return floor > figure + 1e-7 * max(1.0, abs(floor), abs(figure))


def _judge(
    s: Scenario,
    kind: str,
    values: Mapping[str, float],
    stressed: Mapping[str, float],
    stars: Mapping[str, float] | None,
) -> float | None:
    """Return the plan's objective (higher is better: regret negated), None when it breaks a floor."""
    odds, tail, r = s.probabilities, s.rules.cvar_tail, s.rules
    if r.min_cvar is not None and _over(r.min_cvar, cvar(stressed, odds, tail)):
        return None
    if r.min_worst_case is not None and _over(r.min_worst_case, min(stressed.values())):
        return None
    if kind == "expected":
        return math.fsum(odds[k] * values[k] for k in values)
    if kind == "worst_case":
        return min(stressed.values())
    if kind == "cvar":
        return cvar(stressed, odds, tail)
    assert stars is not None
    return -max(stars[k] - values[k] for k in values)


def oracle(s: Scenario, period: str | None, kind: str) -> float | None:
    """Return the best adaptive objective by brute force (regret: the largest shortfall), None if none."""
    worlds = [w.id for w in s.worlds]
    at = len(s.periods) if period is None else list(s.periods).index(period)
    early = {(n.id, lv.id) for n in s.niches for lv in n.levels if lv.offset < at}
    linked_deals = {
        d.id for d in s.deals if any((n, lv) in early for n, lvs in d.funds.items() for lv in lvs)
    }
    groups: dict[tuple[tuple[str, str], ...], list[Any]] = defaultdict(list)
    for portfolio, metrics in feasible_portfolios(s, FLOORS):
        key = tuple(sorted((n, lv) for n, lv in portfolio.items() if (n, lv) in early or n in linked_deals))
        groups[key].append(metrics)
    stars = brute_force(s, "regret").best_by_world if kind == "regret" else None
    if stars is not None and any(math.isnan(v) for v in stars.values()):
        return None  # regret against worlds no portfolio keeping the rules can serve
    best: float | None = None
    for members in groups.values():
        if not s.deals:
            top = {k: max(m.value_by_world[k] for m in members) for k in worlds}
            candidates = [(top, top)]
        else:
            assume(len(members) ** len(worlds) <= 4000)
            candidates = [
                (
                    {k: m.value_by_world[k] for k, m in zip(worlds, combo, strict=True)},
                    {k: m.stressed_by_world[k] for k, m in zip(worlds, combo, strict=True)},
                )
                for combo in itertools.product(members, repeat=len(worlds))
            ]
        for values, stressed in candidates:
            figure = _judge(s, kind, values, stressed, stars)
            if figure is not None and (best is None or figure > best):
                best = figure
    if best is None:
        return None
    return -best if kind == "regret" else best


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _check_plan(s: Scenario, period: str | None, plan: Mapping[str, Mapping[str, str]]) -> None:
    """Every world's portfolio keeps the rules (floors aside); the choices before the reveal agree."""
    where = reveal_of(s, period)
    early = set(where.choices)
    common = None
    for w in s.worlds:
        assert not violated_rules(s, plan[w.id], ignore=FLOORS), (w.id, plan[w.id])
        mine = {n: lv for n, lv in plan[w.id].items() if (n, lv) in early or n in where.deals}
        common = mine if common is None else common
        assert mine == common


def _periods(s: Scenario) -> list[str | None]:
    """Return the reveals to draw from: every period and after the last, the early ones twice (where
    more choices are left open)."""
    return [*s.periods, *s.periods[:2], None]


@given(timed, st.sampled_from(OBJECTIVES), st.data())
@settings(SETTINGS, max_examples=200)
def test_enumeration_matches_brute_force(scenario: Scenario, kind: str, data: st.DataObject) -> None:
    s = floors_by_enumeration(scenario)
    period = data.draw(st.sampled_from(_periods(s)))
    expected = oracle(s, period, kind)
    stars = brute_force(s, "regret").best_by_world if kind == "regret" else None
    found = enumerate_plan(PortfolioTable(s), s, reveal_of(s, period), kind, stars)
    if expected is None:
        assert found.status == "infeasible"
        event("infeasible")
        return
    fixed = oracle(s, None, kind)  # None: no one portfolio keeps the floors, a plan by world does
    event("adapting pays" if fixed is None or not _close(expected, fixed) else "the fixed plan is as good")
    assert found.plan is not None and found.objective is not None
    assert _close(found.objective, expected), (found.objective, expected, found.plan)
    _check_plan(s, period, found.plan)
    assert _close(plan_objective(s, found.plan, kind, stars), found.objective)


@pytest.mark.parametrize(("solver", "examples"), [("highs", 120), ("cbc", 25)])
def test_milp_matches_brute_force(solver: str, examples: int) -> None:
    @given(timed, st.sampled_from(OBJECTIVES), st.data())
    @settings(SETTINGS, max_examples=examples)
    def check(scenario: Scenario, kind: str, data: st.DataObject) -> None:
        s = floors_by_enumeration(scenario)
        period = data.draw(st.sampled_from(_periods(s)))
        expected = oracle(s, period, kind)
        stars = brute_force(s, "regret").best_by_world if kind == "regret" else None
        found = AdaptiveSolver(s, reveal_of(s, period), solver).solve(kind, None, stars, tie_breaks=False)
        if expected is None:
            assert found.status == "infeasible"
            return
        assert found.plan is not None and found.objective is not None
        assert _close(found.objective, expected), (found.objective, expected, found.plan)
        _check_plan(s, period, found.plan)

    check()


@given(timed_deals, st.sampled_from(OBJECTIVES), st.data())
@settings(SETTINGS, max_examples=60)
def test_milp_with_deals_matches_brute_force(scenario: Scenario, kind: str, data: st.DataObject) -> None:
    s = floors_by_enumeration(scenario)
    period = data.draw(st.sampled_from(_periods(s)))
    expected = oracle(s, period, kind)
    stars = brute_force(s, "regret").best_by_world if kind == "regret" else None
    found = AdaptiveSolver(s, reveal_of(s, period), "highs").solve(kind, None, stars, tie_breaks=False)
    if expected is None:
        assert found.status == "infeasible"
        event("infeasible")
        return
    assert found.plan is not None and found.objective is not None
    assert _close(found.objective, expected), (found.objective, expected, found.plan)
    _check_plan(s, period, found.plan)
    fixed = oracle(s, None, kind)
    event(
        "adapting pays" if fixed is not None and not _close(expected, fixed) else "the fixed plan is as good"
    )


@pytest.mark.parametrize("engine", ["enumeration", "milp"])
def test_fixed_equals_solve_and_foresight_the_best_alone(engine: str) -> None:
    @given(timed, st.sampled_from(OBJECTIVES))
    @settings(SETTINGS, max_examples=25 if engine == "milp" else 60)
    def check(scenario: Scenario, kind: str) -> None:
        study = Study(scenario, kind, engine=engine)
        fixed = study.solution()
        assume(fixed.objective is not None)
        assert fixed.objective is not None
        s = study.scenario
        report = adapt(study, s.periods[-1])
        assert report.values is not None
        v = report.values
        assert v.flexibility >= 0 and v.information >= 0
        # after the last period: the fixed plan, which is solve's objective
        after = oracle(s, None, kind)
        assert after is not None and _close(after, fixed.objective) and _close(v.fixed, fixed.objective)
        # the first period: each world's best alone (value floors aside: they hold on the plan)
        first = oracle(s, s.periods[0], kind)
        assert first is not None and _close(v.foresight, first)
        if kind in ("expected", "worst_case", "cvar"):
            feasible = feasible_portfolios(s, FLOORS)
            best = {w.id: max(m.value_by_world[w.id] for _, m in feasible) for w in s.worlds}
            stars = brute_force(s, "regret").best_by_world
            figure = _judge(s, kind, best, best, stars)
            assert figure is not None and _close(figure, v.foresight)
        for row in adapt(study, s.periods[-1], sweep=True).sweep:
            assert row.values.flexibility >= 0 and row.values.information >= 0
            expected = oracle(s, row.reveal, kind)
            assert expected is not None and _close(row.values.adaptive, expected)

    check()


def test_milp_and_enumeration_agree_on_the_plan_with_tie_breaks() -> None:
    """Both engines break ties alike on the default scenario."""
    from niches.scenario import load_scenario

    study = Study(load_scenario("options/kazakhstan.yaml"))
    s = study.scenario
    start = {w.id: study.solution().portfolio for w in s.worlds}
    for period in ("2027",):
        where = reveal_of(s, period)
        table = enumerate_plan(study.table.table, s, where, "expected")  # type: ignore[union-attr]
        milp = AdaptiveSolver(s, where, "highs").solve("expected", start)
        assert table.plan == milp.plan
        assert table.objective is not None and milp.objective is not None
        assert _close(table.objective, milp.objective)


def test_model_rows_and_columns_read_like_the_scenario() -> None:
    from niches.optimize.adaptive import Adaptive
    from niches.scenario import load_scenario

    s = floors_by_enumeration(load_scenario("options/kazakhstan.yaml"))
    model = Adaptive(s, reveal_of(s, "2027"))
    rows, cols = set(model.form.row_name), set(model.form.col_name)
    assert "same_before_reveal[ai.maintain: rule_based = blocs]" in rows
    assert "same_before_reveal[logistics.corridor@2027: rule_based = blocs]" not in rows
    assert {"blocs/choose[ai.lead]", "value[blocs]", "expected_value", "cvar", "expected_spend"} <= cols
    assert "differs[logistics.corridor@2027]" in cols and "differs[ai.lead]" not in cols
    assert {"value_of[blocs]", "blocs/budget[2027]", "min_cvar", "cvar_of"} <= rows


BETS = """
name: two bets
periods: [2026, 2027, 2028]
budget: 3
criteria: {v: 1}
worlds: {calm: 0.5, storm: 0.5}
niches:
  base: {cost: 1, scores: {v: 2}}
  calm_bet: {cost: 2, scores: {v: 6}, start: any, outlook: {storm: 0}}
  storm_bet: {cost: 2, scores: {v: 6}, start: any, outlook: {calm: 0}}
"""
"""Room for the base and one bet a year: the bet that pays depends on the world. Worked by hand: the
fixed plan 2 + 6/2 = 5; knowing the world in 2027, each world takes its own bet for two of three years:
2 + 4 = 6; knowing it from 2026, 2 + 6 = 8; from 2028, a bet for one year (2 + 2 = 4) loses to the fixed
plan, 5."""


@pytest.mark.parametrize("engine", ["enumeration", "highs", "cbc"])
def test_two_bets_worked_by_hand(engine: str) -> None:
    from niches.scenario import parse_scenario

    scenario = parse_scenario(BETS, "bets.yaml")
    solver = "highs" if engine == "enumeration" else engine
    study = Study(scenario, solver=solver, engine="enumeration" if engine == "enumeration" else "milp")
    report = adapt(study, "2027", sweep=True)
    assert report.values is not None
    v = report.values
    assert [round(x, 9) for x in (v.adaptive, v.fixed, v.foresight, v.flexibility, v.information)] == [
        6,
        5,
        8,
        1,
        2,
    ]
    assert report.commit == {"base": "invest"}
    assert {w.world: w.adds for w in report.worlds} == {
        "calm": {"calm_bet": "invest@2027"},
        "storm": {"storm_bet": "invest@2027"},
    }
    verdicts = {x.niche: (x.verdict, x.levels) for x in report.verdicts}
    assert verdicts["base"][0] == "commit now"
    assert verdicts["calm_bet"] == ("decide at reveal", {"calm": "invest@2027"})
    assert verdicts["storm_bet"] == ("decide at reveal", {"storm": "invest@2027"})
    assert [(r.reveal, round(r.values.adaptive, 9)) for r in report.sweep] == [
        ("2026", 8),
        ("2027", 6),
        ("2028", 5),
        (None, 5),
    ]
    assert report.differs == ("calm_bet.invest@2027", "storm_bet.invest@2027")


def _default_json(*args: str) -> dict[str, Any]:
    result = run_cli("adapt", "options/kazakhstan.yaml", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_contract() -> None:
    data = _default_json("--sweep")
    assert list(data) == [
        "scenario",
        "units",
        "reveal",
        "status",
        "objective",
        "commit",
        "by_world",
        "values",
        "verdicts",
        "never",
        "differs",
        "binding",
        "sweep",
        "notes",
    ]
    assert set(data["values"]) == {"adaptive", "fixed", "foresight", "flexibility", "information"}
    assert set(data["objective"]) == {"kind", "value"}
    world = data["by_world"]["blocs"]
    assert {"portfolio", "value", "cost_by_period"} <= set(world)
    assert all(set(v) >= {"verdict", "worlds"} for v in data["verdicts"].values())
    assert [row["reveal"] for row in data["sweep"]] == ["2026", "2027", "2028", "2029", "2030", None]
    assert {v["verdict"] for v in data["verdicts"].values()} <= {"commit now", "decide at reveal", "never"}


def test_default_names_no_regret_moves_and_a_decision_that_waits() -> None:
    data = _default_json()
    verdicts = {n: v["verdict"] for n, v in data["verdicts"].items()}
    assert "commit now" in verdicts.values() and "decide at reveal" in verdicts.values()
    assert data["values"]["flexibility"] >= 0 and data["values"]["information"] >= 0


def test_both_solvers_give_the_same_json_on_a_scenario_with_deals() -> None:
    outputs = [
        run_cli(
            "adapt", "options/azerbaijan.yaml", "--reveal", "2027", "--format", "json", "--solver", solver
        )
        for solver in ("highs", "cbc")
    ]
    assert all(o.returncode == 0 for o in outputs), [o.stderr for o in outputs]
    assert outputs[0].stdout == outputs[1].stdout


def test_unknown_reveal_is_refused_with_one_line() -> None:
    result = run_cli("adapt", "options/kazakhstan.yaml", "--reveal", "2031")
    assert result.returncode == 2
    assert result.stderr == (
        "niches: error: --reveal 2031: the scenario has no period 2031; "
        "choose one of 2026, 2027, 2028, 2029, 2030\n"
    )


def test_a_scenario_without_adapt_needs_reveal() -> None:
    result = run_cli("adapt", "options/canada.yaml")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "niches: error: the scenario declares no `adapt: {reveal: PERIOD}`; give --reveal PERIOD "
        "(one of 2026, 2027, 2028, 2029)\n"
    )


def test_the_readme_shows_adapt_as_it_prints() -> None:
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("$ niches adapt\n") + len("$ niches adapt\n")
    result = run_cli("adapt", columns=100)
    assert result.returncode == 0, result.stderr
    assert result.stdout == readme[start : readme.index("```", start)]


def test_the_sweep_chart_follows_the_xychart_grammar() -> None:
    from .test_report import XY

    result = run_cli("adapt", "options/kazakhstan.yaml", "--sweep", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("```mermaid\n")[1:]
    assert len(blocks) == 1
    chart = blocks[0].split("```")[0]
    assert XY.match(chart), chart
    assert chart.count("    line [") == 3
