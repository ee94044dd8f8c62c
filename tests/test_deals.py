"""Deals: a hand-computed case, the optimizer against enumeration with deals, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from niches.optimize.evaluate import brute_force, close, deals_of, evaluate
from niches.optimize.model import solve
from niches.scenario import Commitment, Scenario, commit, load_scenario

from .conftest import run_cli
from .strategies import deal_scenarios, timed_deal_scenarios
from .test_analysis import _stability_radii_are_where_the_enumerated_optimum_changes
from .test_oracle import _binding_rules_match, _check, _left_out_by_evaluation
from .test_table import row_is_scored_like_evaluate
from .test_uncertainty import _best_by_world_matches, _core_index_and_regret_match

HAND = Path(__file__).parent / "data" / "deals" / "hand.yaml"


def test_a_deal_measured_by_hand() -> None:
    s = load_scenario(HAND)
    m = evaluate(s, {"road": "invest", "port": "invest", "eu": "taken"})
    # calm: 4 + 3 + bonus 1; storm: 7 less the expected loss of the funded half of road, 0.4 * 0.5 * 4
    assert m.value_by_world == pytest.approx({"calm": 8.0, "storm": 6.2})
    assert m.expected_value == pytest.approx(7.1)
    # broken wherever it may break: storm loses the funded half of road and has no bonus
    assert m.stressed_by_world == pytest.approx({"calm": 8.0, "storm": 5.0})
    assert m.worst_case == pytest.approx(5.0) and m.cvar == pytest.approx(5.0)
    assert m.cost_by_period == pytest.approx({"2026": 8.0, "2027": 8.0})
    assert (m.cost, m.gross_cost) == pytest.approx((16.0, 22.0))
    # the country's 6 on road carry road's exposure (China 0.5); the EU's 6 carry the deal's (EU 1)
    assert m.exposure == pytest.approx({"EU": 6 / 22, "China": 3 / 22})
    assert m.deal_money == pytest.approx({"eu": 6.0})
    assert m.deal_value == pytest.approx({"eu": 0.5 * 1.0 - 0.5 * 0.8})


def test_a_deal_lets_the_budget_hold_both_niches() -> None:
    s = load_scenario(HAND)
    for solver in ("highs", "cbc"):
        result = solve(s, "expected", solver)
        assert result.portfolio == {"road": "invest", "port": "invest", "eu": "taken"}
        assert result.objective == pytest.approx(7.1)
    refused = solve(commit(s, [Commitment.parse("-eu")]))
    assert refused.portfolio == {"road": "invest"}


def test_a_deal_is_taken_only_with_the_niches_it_funds() -> None:
    s = load_scenario(HAND)
    portfolios = [p for p in _all(s) if "eu" in p]
    assert portfolios and all("road" in p for p in portfolios)


def _all(s: Scenario) -> list[dict[str, str]]:
    from niches.optimize.evaluate import all_portfolios

    return list(all_portfolios(s))


SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

TAKEN: dict[str, int] = {}


@pytest.mark.slow
@pytest.mark.parametrize(("solver", "examples"), [("highs", 80), ("cbc", 25)])
def test_solvers_match_enumeration_with_deals(solver: str, examples: int) -> None:
    seen = {"examples": 0, "deal taken": 0}

    @given(deal_scenarios)
    @settings(SETTINGS, max_examples=examples)
    def check(scenario: Scenario) -> None:
        _check(scenario, solver)
        seen["examples"] += 1
        best = brute_force(scenario)
        if best.portfolio and deals_of(scenario, best.portfolio):
            seen["deal taken"] += 1

    check()
    assert seen["deal taken"] >= examples // 10, seen  # the property tests deals actually taken


@pytest.mark.slow
@given(timed_deal_scenarios)
@settings(SETTINGS, max_examples=30)
def test_solvers_match_enumeration_with_deals_on_timed_levels(scenario: Scenario) -> None:
    _check(scenario, "highs")


def test_solve_json_lists_every_deal() -> None:
    result = run_cli("solve", str(HAND), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["deals"] == [
        {
            "deal": "eu",
            "partner": "EU",
            "funds": {"road": ["invest"]},
            "share": 0.5,
            "amount": None,
            "taken": True,
            "money": 6.0,
            "money_by_period": {"2026": 3.0, "2027": 3.0},
            "expected_value": 0.1,
            "worth": 3.1,  # the plan with it, 7.1 (by hand above), less without it, 4.0 (port alone)
            "reliability": {"storm": 0.6},
        }
    ]
    assert data["metrics"]["gross_cost"] == 22.0
    assert data["metrics"]["stressed_by_world"] == {"calm": 8.0, "storm": 5.0}


def test_price_of_refusing_a_deal() -> None:
    result = run_cli("price", str(HAND), "-eu", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert close(data["delta"]["expected_value"], 4.0 - 7.1)
    assert data["displaced"] == [
        {"niche": "port", "from": "invest", "to": None},
        {"niche": "eu", "from": "taken", "to": None},
    ]


def test_a_deal_cannot_be_pinned_to_a_level() -> None:
    result = run_cli("price", str(HAND), "eu=big")
    assert result.returncode == 2
    assert result.stderr == "niches: error: eu=big: 'eu' is a deal, taken or not: write eu or -eu\n"


def test_the_readme_shows_the_price_of_a_deal_as_it_is() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    command = "$ niches price options/azerbaijan.yaml -eu_gateway\n"
    start = readme.index(command) + len(command)
    result = run_cli("price", "options/azerbaijan.yaml", "-eu_gateway", columns=100)
    assert result.returncode == 0, result.stderr
    assert result.stdout == readme[start : readme.index("```", start)]


def test_the_library_deals_load_and_one_is_taken() -> None:
    scenario = load_scenario(Path(__file__).parent.parent / "options" / "azerbaijan.yaml")
    assert [d.id for d in scenario.deals] == ["eu_gateway", "china_bri", "eu_energy"]
    assert deals_of(scenario, solve(scenario).portfolio) == ["eu_gateway"]


ANALYSES = {
    "budget frontier": "_budget_frontier_is_the_enumerated_step_function",
    "risk frontier": "_risk_frontier_is_the_enumerated_pareto_set",
    "exposure frontier": "_exposure_frontier_follows_the_enumeration",
}


ENGINES = ["enumeration", "milp"]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("analysis", sorted(ANALYSES))
def test_frontiers_with_deals_follow_the_enumeration(analysis: str, engine: str) -> None:
    from . import test_analysis

    check_one = getattr(test_analysis, ANALYSES[analysis])

    @given(deal_scenarios)
    @settings(SETTINGS, max_examples=30)
    def check(scenario: Scenario) -> None:
        check_one(scenario, engine, "highs")

    check()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_binding_rules_left_out_and_worlds_with_deals_follow_the_enumeration(engine: str) -> None:
    from niches.analysis.summary import left_out
    from niches.study import Study

    @given(deal_scenarios)
    @settings(SETTINGS, max_examples=30)
    def check(scenario: Scenario) -> None:
        study = Study(scenario, engine=engine)
        for kind in ("expected", "worst_case", "cvar", "regret"):
            found = Study(scenario, kind, engine=engine).solution()
            oracle = brute_force(scenario, kind)
            assert (found.objective is None) == (oracle.objective is None), kind
            if found.objective is not None and oracle.objective is not None:
                assert close(found.objective, oracle.objective), kind
                assert found.metrics is not None and oracle.metrics is not None
                assert close(found.metrics.cost, oracle.metrics.cost), kind
        _binding_rules_match(study)
        solution = study.solution()
        if solution.metrics is not None:
            assert [(x.niche, x.reason) for x in left_out(solution)] == _left_out_by_evaluation(solution)
        _best_by_world_matches(Study(scenario, engine=engine))

    check()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_core_index_with_deals_follows_the_enumeration(engine: str) -> None:

    @given(deal_scenarios)
    @settings(SETTINGS, max_examples=15)
    def check(scenario: Scenario) -> None:
        _core_index_and_regret_match(scenario, engine)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_stability_radii_with_deals_follow_the_enumeration(engine: str) -> None:

    @given(deal_scenarios)
    @settings(SETTINGS, max_examples=12)
    def check(scenario: Scenario) -> None:
        _stability_radii_are_where_the_enumerated_optimum_changes(scenario, engine, "highs")

    check()


@given(deal_scenarios)
@settings(SETTINGS, max_examples=100)
def test_the_table_scores_every_portfolio_with_deals_like_evaluate(scenario: Scenario) -> None:
    from niches.optimize.evaluate import all_portfolios
    from niches.optimize.table import PortfolioTable
    from niches.scenario import OBJECTIVES

    table = PortfolioTable(scenario)
    scores = table.score()
    position = {int(row): i for i, row in enumerate(scores.rows)}
    admissible = {tuple(sorted(p.items())) for p in all_portfolios(scenario)}
    for row in range(len(table.choice)):
        portfolio = table.portfolio(row)
        assert table.row_of(portfolio) == row
        if tuple(sorted(portfolio.items())) not in admissible:  # a deal without its niches: never chosen
            assert row not in position or not scores.feasible[position[row]], portfolio
            continue
        row_is_scored_like_evaluate(scenario, scores, position, row, portfolio)
    stars = table.best_by_world(scores)
    for kind in OBJECTIVES:
        oracle = brute_force(scenario, kind)
        row = table.best(scores, kind, stars)
        assert (row is None) == (oracle.portfolio is None), kind
        if row is not None:
            assert table.portfolio(row) == oracle.portfolio, kind


LIBRARY_WITH_DEALS = sorted(
    p for p in (Path(__file__).parent.parent / "options").glob("*.yaml") if "\ndeals:" in p.read_text()
)


@pytest.mark.parametrize("path", LIBRARY_WITH_DEALS, ids=lambda p: p.stem)
def test_a_deals_worth_is_what_price_says(path: Path) -> None:
    from niches.analysis.price import price
    from niches.analysis.summary import summary_of
    from niches.study import Study

    scenario = load_scenario(path)
    assert scenario.deals
    free = Study(scenario)
    worth = summary_of(free).deal_worth
    assert set(worth) == {d.id for d in scenario.deals}
    for deal in scenario.deals:
        taken = deal.id in free.solution().portfolio
        commitment = Commitment(deal.id, excluded=taken)
        priced = price(free, Study(commit(scenario, [commitment])), (commitment,))
        if priced.committed is None:
            assert worth[deal.id] is None, deal.id
            continue
        change = priced.delta["objective"]  # committed less free: lower is better for regret
        gain = change if scenario.objective == "regret" else -change
        expected = gain if taken else -gain  # taken: what refusing it costs; not taken: what taking it does
        assert worth[deal.id] == pytest.approx(expected, abs=1e-6), deal.id
