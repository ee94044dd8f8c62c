"""The brute-force oracle the optimizer is tested against: it enumerates every portfolio of a small scenario.

The exact evaluation of any given portfolio, without a solver, lives beside it
and is gathered here under its old names: metrics (`niches.optimize.metrics`),
rule checks (`checks`), relaxations (`relaxation`), a portfolio's parts and
ranks (`portfolio`) and the tolerances (`tolerances`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from niches.optimize.checks import RuleCheck, numeric_limits, rule_checks, rule_groups, violated_rules
from niches.optimize.metrics import Metrics, budget_usage, cvar, evaluate, objective_value
from niches.optimize.portfolio import admissible, deals_of, fundable, start_rank, starts_in_time, tie_rank
from niches.optimize.relaxation import past_limits, relaxation_scale
from niches.optimize.tolerances import FEASIBILITY_TOLERANCE, RELATIVE_TIE, close
from niches.scenario import TAKEN, Scenario

__all__ = [
    "FEASIBILITY_TOLERANCE",
    "RELATIVE_TIE",
    "Enumerated",
    "Metrics",
    "RuleCheck",
    "all_portfolios",
    "brute_force",
    "budget_usage",
    "close",
    "cvar",
    "deals_of",
    "evaluate",
    "feasible_portfolios",
    "floors_by_enumeration",
    "fundable",
    "numeric_limits",
    "objective_value",
    "past_limits",
    "portfolio_count",
    "relaxation_scale",
    "rule_checks",
    "rule_groups",
    "starts_in_time",
    "violated_rules",
]


def all_portfolios(scenario: Scenario) -> Iterator[dict[str, str]]:
    """Yield every portfolio: each niche left out or at a level, with each admissible set of deals."""
    options = [[None, *[lv.id for lv in n.levels]] for n in scenario.niches]
    ids = [n.id for n in scenario.niches]
    deal_ids = [d.id for d in scenario.deals]
    for combo in itertools.product(*options):
        chosen = {nid: lv for nid, lv in zip(ids, combo, strict=True) if lv is not None}
        for taken in itertools.product((False, True), repeat=len(deal_ids)):
            portfolio = chosen | {d: TAKEN for d, t in zip(deal_ids, taken, strict=True) if t}
            if admissible(scenario, portfolio):
                yield portfolio


def portfolio_count(scenario: Scenario) -> int:
    """Return how many portfolios `all_portfolios` yields (at most that, with deals)."""
    return math.prod(len(n.levels) + 1 for n in scenario.niches) * (1 << len(scenario.deals))


@dataclass(frozen=True)
class Enumerated:
    """The brute-force optimum: the portfolio, its objective, and the values V*_k."""

    portfolio: dict[str, str] | None
    objective: float | None
    metrics: Metrics | None
    best_by_world: dict[str, float]
    feasible_count: int


def feasible_portfolios(
    scenario: Scenario, ignore: frozenset[str] = frozenset()
) -> list[tuple[dict[str, str], Metrics]]:
    """Return every portfolio that keeps all rules (except those in `ignore`)."""
    found = []
    for portfolio in all_portfolios(scenario):
        metrics = evaluate(scenario, portfolio)
        if not violated_rules(scenario, portfolio, metrics, ignore):
            found.append((portfolio, metrics))
    return found


def floors_by_enumeration(scenario: Scenario) -> Scenario:
    """Return `scenario` with its floors declared as shares turned into figures, by enumeration.

    The oracle of `model.resolve_floors`: the best CVaR (worst case) over every
    portfolio that keeps the other rules, times the share (see `floor_figure` there).
    """
    import dataclasses

    r = scenario.rules
    if not r.unresolved:
        return scenario
    bare = dataclasses.replace(scenario, rules=dataclasses.replace(r, floor_shares={}))
    feasible = feasible_portfolios(bare)
    bests = dict(r.floor_bests)
    figures: dict[str, float | None] = {}
    for rule in r.unresolved:
        if not feasible:
            bests[rule], figures[rule] = math.nan, None
            continue
        best = max(m.cvar if rule == "min_cvar" else m.worst_case for _, m in feasible)
        bests[rule], figures[rule] = best, best - (1.0 - r.floor_shares[rule]) * abs(best)
    rules = dataclasses.replace(r, floor_bests=bests, **figures)  # type: ignore[arg-type]
    return dataclasses.replace(scenario, rules=rules)


def brute_force(scenario: Scenario, objective: str | None = None) -> Enumerated:
    """Enumerate every portfolio and pick the best, with the documented tie-breaks."""
    scenario = floors_by_enumeration(scenario)
    kind = objective or scenario.objective
    feasible = feasible_portfolios(scenario)
    best_by_world = {
        w.id: max((m.value_by_world[w.id] for _, m in feasible), default=math.nan) for w in scenario.worlds
    }
    if not feasible:
        return Enumerated(None, None, None, best_by_world, 0)
    portfolio, score = best_of(scenario, kind, feasible, best_by_world)
    sign = -1.0 if kind == "regret" else 1.0
    return Enumerated(portfolio, sign * score, evaluate(scenario, portfolio), best_by_world, len(feasible))


def best_of(
    scenario: Scenario,
    kind: str,
    feasible: list[tuple[dict[str, str], Metrics]],
    best_by_world: dict[str, float] | None = None,
) -> tuple[dict[str, str], float]:
    """Return the best of `feasible` (not empty) with the documented tie-breaks, and its signed score.

    The score is the objective, negated for regret (higher is better).
    """
    sign = -1.0 if kind == "regret" else 1.0
    scored = [(sign * objective_value(kind, m, best_by_world), p, m) for p, m in feasible]
    top = max(s for s, _, _ in scored)
    tied = [(s, p, m) for s, p, m in scored if s >= top - RELATIVE_TIE * max(1.0, abs(top))]
    best_e = max(m.expected_value for _, _, m in tied)
    tied = [t for t in tied if t[2].expected_value >= best_e - RELATIVE_TIE * max(1.0, abs(best_e))]
    least = min(m.cost for _, _, m in tied)
    tied = [t for t in tied if t[2].cost <= least + RELATIVE_TIE * max(1.0, abs(least))]
    tied.sort(key=lambda t: (start_rank(scenario, t[1]), tie_rank(scenario, t[1]), sorted(t[1].items())))
    score, portfolio, _ = tied[0]
    return portfolio, score
