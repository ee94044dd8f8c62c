"""Metrics and rule checks of any given portfolio, without a solver.

This module is also the brute-force oracle that the optimizer is tested
against: it enumerates every portfolio of a small scenario.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

from niches.scenario import TAKEN, Level, Scenario

Portfolio = Mapping[str, str]
"""Chosen niches: niche id -> level id (niches left out are absent); a taken deal: deal id -> TAKEN."""

RELATIVE_TIE = 1e-6
"""Portfolios whose objectives differ by less than this (relative) are tied."""

FEASIBILITY_TOLERANCE = 1e-7
"""Slack allowed when checking a rule (relative to the size of its terms)."""


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


def canonical(scenario: Scenario, portfolio: Portfolio) -> dict[str, str]:
    """Return the portfolio ordered as the niches are declared, then its deals as declared."""
    found = {n.id: portfolio[n.id] for n in scenario.niches if n.id in portfolio}
    return found | {d.id: TAKEN for d in scenario.deals if d.id in portfolio}


def niches_of(scenario: Scenario, portfolio: Portfolio) -> dict[str, str]:
    """Return the portfolio's niches (its deals left out), in declaration order."""
    return {n.id: portfolio[n.id] for n in scenario.niches if n.id in portfolio}


def deals_of(scenario: Scenario, portfolio: Portfolio) -> list[str]:
    """Return the deals the portfolio takes, in declaration order."""
    return [d.id for d in scenario.deals if d.id in portfolio]


def fundable(scenario: Scenario, portfolio: Portfolio) -> dict[str, str]:
    """Return `portfolio` without the deals whose niches it no longer holds at a level they fund."""
    kept = dict(portfolio)
    for did in deals_of(scenario, portfolio):
        deal = scenario.deal(did)
        if any(portfolio.get(nid) not in choices for nid, choices in deal.funds.items()):
            del kept[did]
    return kept


def admissible(scenario: Scenario, portfolio: Portfolio) -> bool:
    """Return whether every deal taken comes with the niches it funds, none funded past its whole cost."""
    funded: dict[str, float] = {}
    for did in deals_of(scenario, portfolio):
        deal = scenario.deal(did)
        for nid, choices in deal.funds.items():
            if portfolio.get(nid) not in choices:
                return False
            level = scenario.niche(nid).level(portfolio[nid])
            funded[nid] = funded.get(nid, 0.0) + deal.funded_fraction(level.cost)
    return all(f <= 1.0 + FEASIBILITY_TOLERANCE for f in funded.values())


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


def _over(amount: float, cap: float) -> bool:
    return amount > cap + FEASIBILITY_TOLERANCE * max(1.0, abs(cap), abs(amount))


def violated_rules(
    scenario: Scenario,
    portfolio: Portfolio,
    metrics: Metrics | None = None,
    ignore: frozenset[str] = frozenset(),
) -> list[str]:
    """Return the names of the rule groups `portfolio` breaks (those in `ignore` skipped)."""
    m = metrics or evaluate(scenario, portfolio)
    rules = scenario.rules
    broken: list[str] = []

    def check(name: str, is_broken: bool) -> None:
        if is_broken and name not in ignore:
            broken.append(name)

    for period, cap in scenario.budget.items():
        check(f"budget[{period}]", _over(m.cost_by_period[period], cap))
    if scenario.budget_total is not None:
        check("budget[total]", _over(m.cost, scenario.budget_total))
    for resource, amount in scenario.capacities.items():
        check(f"capacity[{resource}]", _over(m.uses[resource], amount))
    if rules.min_niches is not None:
        check("min_niches", m.count < rules.min_niches)
    if rules.max_niches is not None:
        check("max_niches", m.count > rules.max_niches)
    for nid in rules.must_include:
        check(f"must_include[{nid}]", nid not in portfolio)
    for nid in rules.must_exclude:
        check(f"must_exclude[{nid}]", nid in portfolio)
    for nid, allowed in rules.pins.items():
        check(f"pin[{nid}]", portfolio.get(nid) not in allowed)
    numerators = m.exposure_spend
    if rules.max_share is not None:
        check(
            "max_share",
            any(
                _over(scenario.niche(n).level(lv).total_cost, rules.max_share * m.gross_cost)
                for n, lv in niches_of(scenario, portfolio).items()
            ),
        )
    for power, cap in rules.max_exposure.items():
        check(f"max_exposure[{power}]", _over(numerators[power], cap * m.gross_cost))
    if rules.max_imbalance is not None:
        limit = rules.max_imbalance * m.gross_cost
        check(
            "max_imbalance",
            any(
                _over(numerators[a] - numerators[b], limit)
                for a, b in itertools.permutations(scenario.powers, 2)
            ),
        )
    if rules.min_worst_case is not None:
        check("min_worst_case", _over(rules.min_worst_case, m.worst_case))
    if rules.min_cvar is not None:
        check("min_cvar", _over(rules.min_cvar, m.cvar))
    for niche in scenario.niches:
        if niche.id not in portfolio:
            continue
        for needed in niche.requires:
            check(
                f"requires[{niche.id} -> {needed}]", not starts_in_time(scenario, portfolio, niche.id, needed)
            )
        for other in niche.excludes:
            check(f"excludes[{niche.id}, {other}]", other in portfolio)
    for did in deals_of(scenario, portfolio):
        deal = scenario.deal(did)
        for needed in deal.requires:
            check(f"requires[{did} -> {needed}]", not deal_requirement_met(scenario, portfolio, needed))
        for other in deal.excludes:
            check(f"excludes[{did}, {other}]", other in portfolio)
    return broken


def deal_requirement_met(scenario: Scenario, portfolio: Portfolio, needed: str) -> bool:
    """Return whether `needed` (a deal, a niche or `niche.level`) is in the portfolio."""
    if needed in portfolio:
        return True
    nid, dot, lid = needed.partition(".")
    if not dot or nid not in portfolio or nid not in {n.id for n in scenario.niches}:
        return False
    return scenario.niche(nid).level(portfolio[nid]).base == lid


def starts_in_time(scenario: Scenario, portfolio: Portfolio, niche: str, needed: str) -> bool:
    """Return whether `needed` is chosen and starts no later than `niche` (which requires it)."""
    if needed not in portfolio:
        return False
    return start_offset(scenario, needed, portfolio[needed]) <= start_offset(
        scenario, niche, portfolio[niche]
    )


def start_offset(scenario: Scenario, niche: str, level: str) -> int:
    """Return the index of the period a chosen level starts in (0: the first period)."""
    return scenario.niche(niche).level(level).offset


def start_rank(scenario: Scenario, portfolio: Portfolio) -> int:
    """Return the tie-breaker before declaration order: the sum of start offsets (earlier wins)."""
    return sum(start_offset(scenario, n, lv) for n, lv in niches_of(scenario, portfolio).items())


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


def tie_rank(scenario: Scenario, portfolio: Portfolio) -> int:
    """Return the last tie-breaker: the sum of declaration positions of chosen levels (lower wins)."""
    rank = 0
    position = 0
    for niche in scenario.niches:
        for level in niche.levels:
            position += 1
            if portfolio.get(niche.id) == level.id:
                rank += position
    for deal in scenario.deals:
        position += 1
        if deal.id in portfolio:
            rank += position
    return rank


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


def close(a: float, b: float) -> bool:
    """Return whether `a` and `b` tie within RELATIVE_TIE."""
    return abs(a - b) <= RELATIVE_TIE * max(1.0, abs(a), abs(b))


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
    sign = -1.0 if kind == "regret" else 1.0
    scored = [(sign * objective_value(kind, m, best_by_world), p, m) for p, m in feasible]
    top = max(s for s, _, _ in scored)
    tied = [(s, p, m) for s, p, m in scored if s >= top - RELATIVE_TIE * max(1.0, abs(top))]
    best_e = max(m.expected_value for _, _, m in tied)
    tied = [t for t in tied if t[2].expected_value >= best_e - RELATIVE_TIE * max(1.0, abs(best_e))]
    least = min(m.cost for _, _, m in tied)
    tied = [t for t in tied if t[2].cost <= least + RELATIVE_TIE * max(1.0, abs(least))]
    tied.sort(key=lambda t: (start_rank(scenario, t[1]), tie_rank(scenario, t[1]), sorted(t[1].items())))
    score, portfolio, metrics = tied[0]
    return Enumerated(portfolio, sign * score, metrics, best_by_world, len(feasible))


@dataclass(frozen=True)
class RuleCheck:
    """One rule group measured against its limit.

    `measured` and `limit` are in the rule's own unit (money, capacity units,
    a share, a count or value units); `slack` is how far the portfolio is from
    the limit (>= 0 when kept); `tight` means no slack is left.
    """

    rule: str
    measured: float
    limit: float
    slack: float
    unit: str

    @property
    def tight(self) -> bool:
        return abs(self.slack) <= RELATIVE_TIE * max(1.0, abs(self.limit))


def rule_checks(scenario: Scenario, portfolio: Portfolio, metrics: Metrics | None = None) -> list[RuleCheck]:
    """Measure every numeric rule of `scenario` on `portfolio` (links and lists excluded)."""
    m = metrics or evaluate(scenario, portfolio)
    r = scenario.rules
    checks: list[RuleCheck] = []

    def upper(rule: str, measured: float, limit: float, unit: str) -> None:
        checks.append(RuleCheck(rule, measured, limit, limit - measured, unit))

    def lower(rule: str, measured: float, limit: float, unit: str) -> None:
        checks.append(RuleCheck(rule, measured, limit, measured - limit, unit))

    for period, cap in scenario.budget.items():
        upper(f"budget[{period}]", m.cost_by_period[period], cap, scenario.units)
    if scenario.budget_total is not None:
        upper("budget[total]", m.cost, scenario.budget_total, scenario.units)
    for resource, amount in scenario.capacities.items():
        upper(f"capacity[{resource}]", m.uses[resource], amount, resource)
    if r.min_niches is not None:
        lower("min_niches", m.count, r.min_niches, "niches")
    if r.max_niches is not None:
        upper("max_niches", m.count, r.max_niches, "niches")
    if r.max_share is not None:
        chosen = niches_of(scenario, portfolio).items()
        largest = max((scenario.niche(n).level(lv).total_cost for n, lv in chosen), default=0.0)
        upper("max_share", largest / m.gross_cost if m.gross_cost > 0 else 0.0, r.max_share, "share")
    for power, cap in r.max_exposure.items():
        upper(f"max_exposure[{power}]", m.exposure[power], cap, "share")
    if r.max_imbalance is not None:
        shares = list(m.exposure.values())
        upper("max_imbalance", max(shares) - min(shares), r.max_imbalance, "share")
    if r.min_worst_case is not None:
        lower("min_worst_case", m.worst_case, r.min_worst_case, "value")
    if r.min_cvar is not None:
        lower("min_cvar", m.cvar, r.min_cvar, "value")
    return checks


def rule_groups(scenario: Scenario) -> list[str]:
    """Return the name of every rule group the scenario declares, in a stable order."""
    r = scenario.rules
    groups = [f"budget[{p}]" for p in scenario.budget]
    if scenario.budget_total is not None:
        groups.append("budget[total]")
    groups += [f"capacity[{c}]" for c in scenario.capacities]
    groups += [name for name in ("min_niches", "max_niches") if getattr(r, name) is not None]
    groups += [f"must_include[{n}]" for n in r.must_include]
    groups += [f"must_exclude[{n}]" for n in r.must_exclude]
    groups += [f"pin[{n}]" for n in r.pins]
    if r.max_share is not None:
        groups.append("max_share")
    groups += [f"max_exposure[{p}]" for p in r.max_exposure]
    groups += [
        name for name in ("max_imbalance", "min_worst_case", "min_cvar") if getattr(r, name) is not None
    ]
    for niche in scenario.niches:
        groups += [f"requires[{niche.id} -> {other}]" for other in niche.requires]
        groups += [f"excludes[{niche.id}, {other}]" for other in niche.excludes]
    for deal in scenario.deals:
        groups += [f"requires[{deal.id} -> {other}]" for other in deal.requires]
        groups += [f"excludes[{deal.id}, {other}]" for other in deal.excludes]
    return groups


def numeric_limits(scenario: Scenario) -> dict[str, float]:
    """Return rule group -> its numeric limit, for the groups that have one."""
    r = scenario.rules
    limits = {f"budget[{p}]": cap for p, cap in scenario.budget.items()}
    if scenario.budget_total is not None:
        limits["budget[total]"] = scenario.budget_total
    limits |= {f"capacity[{c}]": amount for c, amount in scenario.capacities.items()}
    for key in ("min_niches", "max_niches", "max_share", "max_imbalance", "min_worst_case", "min_cvar"):
        if getattr(r, key) is not None:
            limits[key] = float(getattr(r, key))
    limits |= {f"max_exposure[{p}]": cap for p, cap in r.max_exposure.items()}
    return limits


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


def relaxation_scale(limit: float) -> float:
    """Return what a relaxation of `limit` is measured against: the limit's size, or 1 for a limit of 0.

    A combined relaxation adds up each rule's relaxation as a share of its
    limit. A limit of 0 has no size to take a share of, so one unit of the
    rule's own unit stands in: one unit of money, one unit of a capacity, one
    niche, one value point, or (for shares) 100 percentage points.
    """
    return abs(limit) or 1.0


def past_limits(scenario: Scenario, portfolio: Portfolio, groups: Collection[str]) -> dict[str, float]:
    """Return how far `portfolio` is past the limit of each numeric rule group in `groups` (0 if kept).

    Caps and shares are passed from below, floors from above; each amount is
    in the rule's unit and is the least relaxation of that limit the portfolio
    needs. Excesses within the feasibility tolerance count as kept.
    """
    broken = set(violated_rules(scenario, portfolio))
    return {
        c.rule: max(0.0, -c.slack) if c.rule in broken else 0.0
        for c in rule_checks(scenario, portfolio)
        if c.rule in groups
    }


def weighted_relaxation(scenario: Scenario, portfolio: Portfolio, groups: Collection[str]) -> float:
    """Return the least combined relaxation of `groups` `portfolio` needs, each as a share of its limit."""
    limits = numeric_limits(scenario)
    return math.fsum(
        amount / relaxation_scale(limits[g]) for g, amount in past_limits(scenario, portfolio, groups).items()
    )
