"""A portfolio and what its choices alone tell: its niches and deals, admissible deals, starts, ranks."""

from __future__ import annotations

from collections.abc import Mapping

from niches.optimize.tolerances import FEASIBILITY_TOLERANCE
from niches.scenario import TAKEN, Scenario

Portfolio = Mapping[str, str]
"""Chosen niches: niche id -> level id (niches left out are absent); a taken deal: deal id -> TAKEN."""


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
