"""What a portfolio costs and delivers, computed exactly: its metrics, objective and goal values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from niches.optimize.portfolio import Portfolio, deals_of, niches_of, start_rank, tie_rank
from niches.scenario import Level, Scenario


@dataclass(frozen=True)
class Metrics:
    """What a portfolio costs and delivers.

    Values are in value units (weighted criterion scores); money in the
    scenario's units; `exposure` maps power -> spend-weighted share in [0, 1];
    `niche_value` maps each chosen niche -> its expected value (synergies excluded);
    `exposure_spend` maps power -> money spent on niches exposed to it (exposure-weighted).

    With deals: `cost` and `cost_by_period` are what the country pays (the
    niches' spend less the deals' money), `gross_cost` the niches' whole spend
    (the base of every share); money the country pays carries its niche's
    exposure, money a deal pays the deal's. `value_by_world` counts each deal
    as holding with its reliability (so `expected_value` does);
    `stressed_by_world` counts it as broken wherever its reliability is below 1
    (so `worst_case` and `cvar` do). `deal_money` maps each taken deal -> the
    money it pays, `deal_value` -> what it adds to the expected value (its
    expected bonus less the expected loss of what it funds when it breaks).
    """

    value_by_world: dict[str, float]
    expected_value: float
    worst_case: float
    cvar: float
    cost: float
    cost_by_period: dict[str, float]
    exposure: dict[str, float]
    uses: dict[str, float]
    count: int
    niche_value: dict[str, float]
    synergy_value: float
    exposure_spend: dict[str, float]
    stressed_by_world: dict[str, float] = field(default_factory=dict)
    gross_cost: float = 0.0
    deal_money: dict[str, float] = field(default_factory=dict)
    deal_money_by_period: dict[str, dict[str, float]] = field(default_factory=dict)
    deal_value: dict[str, float] = field(default_factory=dict)


def level_value(scenario: Scenario, niche_id: str, level_id: str, world: str) -> float:
    """Return v(n, l, k): outlook times the weighted sum of the level's mean scores."""
    niche = scenario.niche(niche_id)
    return niche.outlook.get(world, 1.0) * _weighted(scenario, niche.level(level_id))


def _weighted(scenario: Scenario, level: Level) -> float:
    """Return the weighted sum of a level's mean scores (remembered per scenario and level)."""
    memo: dict[int, float] = scenario.__dict__.setdefault("_weighted", {})
    key = id(level)
    if key not in memo:
        memo[key] = math.fsum(c.weight * level.scores[c.id].mean for c in scenario.criteria)
    return memo[key]


def value_table(scenario: Scenario) -> dict[tuple[str, str, str], float]:
    """Return v(n, l, k) for every niche, level and world."""
    table = {}
    for niche in scenario.niches:
        for level in niche.levels:
            base = math.fsum(c.weight * level.scores[c.id].mean for c in scenario.criteria)
            for world in scenario.worlds:
                table[niche.id, level.id, world.id] = niche.outlook.get(world.id, 1.0) * base
    return table


def cvar(values: Mapping[str, float], probabilities: Mapping[str, float], tail: float) -> float:
    """Return the mean value over the worst `tail` of probability mass (lower tail)."""
    ordered = sorted(values, key=lambda k: (values[k], k))
    remaining = tail
    total = 0.0
    for world in ordered:
        if remaining <= 0:
            break
        mass = min(probabilities[world], remaining)
        total += mass * values[world]
        remaining -= mass
    if remaining > 1e-12:  # probabilities sum a hair below 1
        total += remaining * values[ordered[-1]]
    return total / tail


MEMO_SIZE = 4096  # metrics remembered per scenario object (analyses re-ask the same portfolios)


def evaluate(scenario: Scenario, portfolio: Portfolio) -> Metrics:
    """Return the metrics of `portfolio` under `scenario` (remembered per scenario object)."""
    memo: dict[frozenset[tuple[str, str]], Metrics] = scenario.__dict__.setdefault("_metrics", {})
    key = frozenset(portfolio.items())
    found = memo.get(key)
    if found is None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        found = memo[key] = _evaluate(scenario, portfolio)
    return found


def _evaluate(scenario: Scenario, portfolio: Portfolio) -> Metrics:
    chosen = niches_of(scenario, portfolio)
    probabilities = scenario.probabilities
    worlds = [w.id for w in scenario.worlds]
    picked = {n: scenario.niche(n) for n in chosen}
    levels = [picked[n].level(lv) for n, lv in chosen.items()]
    share = {n: level.share for n, level in zip(chosen, levels, strict=True)}
    synergy = math.fsum(
        bonus * min(share[niche.id], share[other])
        for niche in scenario.niches
        if niche.id in chosen
        for other, bonus in niche.synergy.items()
        if other in chosen
    )
    value = {}
    for (n, niche), level in zip(picked.items(), levels, strict=True):
        base = _weighted(scenario, level)
        for k in worlds:
            value[n, k] = niche.outlook.get(k, 1.0) * base
    by_world = {k: math.fsum(value[n, k] for n in chosen) + synergy for k in worlds}
    stressed = dict(by_world)
    niche_value = {n: math.fsum(probabilities[k] * value[n, k] for k in worlds) for n in chosen}
    cost_by_period = {p: math.fsum(level.cost[p] for level in levels) for p in scenario.periods}
    gross = math.fsum(cost_by_period.values())
    totals = [level.total_cost for level in levels]
    exposure_spend = {
        power: math.fsum(
            total * niche.exposure.get(power, 0.0)
            for total, niche in zip(totals, picked.values(), strict=True)
        )
        for power in scenario.powers
    }
    deal_money: dict[str, float] = {}
    deal_by_period: dict[str, dict[str, float]] = {}
    deal_value: dict[str, float] = {}
    for did in deals_of(scenario, portfolio):
        deal = scenario.deal(did)
        money: list[float] = []
        deal_by_period[did] = dict.fromkeys(scenario.periods, 0.0)
        funds = [nid for nid, choices in deal.funds.items() if chosen.get(nid) in choices]
        for nid in funds:  # (a deal taken without its niches, as in a trial portfolio, funds nothing)
            level = picked[nid].level(chosen[nid])
            paid = deal.funding(level.cost)
            money.extend(paid.values())
            for p, amount in paid.items():
                cost_by_period[p] -= amount
                deal_by_period[did][p] += amount
            for power in scenario.powers:
                moved = deal.exposure.get(power, 0.0) - picked[nid].exposure.get(power, 0.0)
                exposure_spend[power] += math.fsum(paid.values()) * moved
        deal_money[did] = math.fsum(money)
        gained = []
        for k in worlds:
            funded = math.fsum(
                deal.funded_fraction(picked[n].level(chosen[n]).cost) * value[n, k] for n in funds
            )
            holds = deal.holds(k)
            bonus = deal.value.get(k, 0.0)
            expected = holds * bonus - (1.0 - holds) * funded
            by_world[k] += expected
            stressed[k] += bonus if holds >= 1.0 else -funded
            gained.append(probabilities[k] * expected)
        deal_value[did] = math.fsum(gained)
    cost = math.fsum(cost_by_period.values())
    exposure = {p: exposure_spend[p] / gross if gross > 0 else 0.0 for p in scenario.powers}
    uses = {r: math.fsum(level.uses.get(r, 0.0) for level in levels) for r in scenario.capacities}
    expected = math.fsum(probabilities[k] * by_world[k] for k in worlds)
    return Metrics(
        value_by_world=by_world,
        expected_value=expected,
        worst_case=min(stressed.values()),
        cvar=cvar(stressed, probabilities, scenario.rules.cvar_tail),
        cost=cost,
        cost_by_period=cost_by_period,
        exposure=exposure,
        uses=uses,
        count=len(chosen),
        niche_value=niche_value,
        synergy_value=synergy,
        exposure_spend=exposure_spend,
        stressed_by_world=stressed,
        gross_cost=gross,
        deal_money=deal_money,
        deal_money_by_period=deal_by_period,
        deal_value=deal_value,
    )


def objective_value(kind: str, metrics: Metrics, best_by_world: Mapping[str, float] | None = None) -> float:
    """Return the objective of a portfolio: higher is better, except `regret` (lower)."""
    if kind == "expected":
        return metrics.expected_value
    if kind == "worst_case":
        return metrics.worst_case
    if kind == "cvar":
        return metrics.cvar
    if kind == "regret":
        if best_by_world is None:
            raise ValueError("regret needs the best value of each world")
        return max(best_by_world[k] - v for k, v in metrics.value_by_world.items())
    raise ValueError(f"unknown objective {kind!r}")


def budget_usage(scenario: Scenario, metrics: Metrics) -> float:
    """Return the least factor on every budget cap at which a portfolio with `metrics` fits."""
    scale = 0.0
    caps = [(metrics.cost_by_period[p], cap) for p, cap in scenario.budget.items()]
    if scenario.budget_total is not None:
        caps.append((metrics.cost, scenario.budget_total))
    for spend, cap in caps:
        if spend > 0:
            scale = max(scale, spend / cap if cap > 0 else math.inf)
    return scale


def goal_value(
    scenario: Scenario,
    portfolio: Portfolio,
    metrics: Metrics,
    goal: str,
    best_by_world: Mapping[str, float] | None = None,
) -> float:
    """Return the value of goal `goal` (`expected_value`, `value[k]`, `spend[p]`, ...) for a portfolio."""
    simple = {
        "expected_value": metrics.expected_value,
        "worst_case": metrics.worst_case,
        "cvar": metrics.cvar,
        "total_spend": metrics.cost,
    }
    if goal in simple:
        return simple[goal]
    if goal == "max_regret":
        return objective_value("regret", metrics, best_by_world)
    if goal == "tie_rank":
        return float(tie_rank(scenario, portfolio))
    if goal == "start_rank":
        return float(start_rank(scenario, portfolio))
    if goal == "budget_scale":
        return budget_usage(scenario, metrics)
    family, _, inner = goal.partition("[")
    inner = inner[:-1]
    if family == "value":
        return metrics.value_by_world[inner]
    if family == "spend":
        return metrics.cost if inner == "total" else metrics.cost_by_period[inner]
    if family == "uses":
        return metrics.uses[inner]
    raise ValueError(f"unknown goal {goal!r}")
