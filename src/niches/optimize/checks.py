"""The rules checked on a portfolio: the groups it breaks, each numeric rule against its limit."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from niches.optimize.metrics import Metrics, evaluate
from niches.optimize.portfolio import Portfolio, deal_requirement_met, deals_of, niches_of, starts_in_time
from niches.optimize.tolerances import FEASIBILITY_TOLERANCE, RELATIVE_TIE
from niches.scenario import Scenario


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
