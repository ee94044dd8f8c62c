"""How far a portfolio is past the limits of rule groups, and the relaxation it needs to keep them."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from niches.optimize.checks import numeric_limits, rule_checks, violated_rules
from niches.optimize.portfolio import Portfolio
from niches.scenario import Scenario


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


VALUE_FLOORS = ("min_worst_case", "min_cvar")
"""The rules that hold a value up (a floor on the worst case, on CVaR): the only ones a change of
values alone can break (crowding changes values, not costs)."""


def value_floors(scenario: Scenario) -> dict[str, float]:
    """Return each value floor `scenario` keeps -> its figure (value units; a share already resolved)."""
    found = {rule: getattr(scenario.rules, rule) for rule in VALUE_FLOORS}
    return {rule: float(floor) for rule, floor in found.items() if floor is not None}


def floor_shortfalls(scenario: Scenario, portfolio: Portfolio) -> dict[str, float]:
    """Return each value floor `portfolio` falls short of -> by how much (value units); empty: they hold.

    A shortfall within the feasibility tolerance counts as none (`past_limits`).
    """
    amounts = past_limits(scenario, portfolio, value_floors(scenario))
    return {rule: amount for rule, amount in amounts.items() if amount > 0}


def shortfall_share(scenario: Scenario, shortfalls: Mapping[str, float]) -> float:
    """Return `shortfalls` (floor -> value units) as one figure: each as a share of its floor's size
    (`relaxation_scale`: one value unit for a floor of 0), added up, as `weighted_relaxation` does."""
    floors = value_floors(scenario)
    return math.fsum(amount / relaxation_scale(floors[rule]) for rule, amount in shortfalls.items())
