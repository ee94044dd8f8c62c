"""How far a portfolio is past the limits of rule groups, and the relaxation it needs to keep them."""

from __future__ import annotations

import math
from collections.abc import Collection

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
