"""The variants sensitivity solves: a scenario with one weight, or one niche's scores or costs, changed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from niches.scenario import Criterion, Level, Niche, Scenario, Score


def with_weight(scenario: Scenario, criterion: str, weight: float) -> Scenario:
    """Return `scenario` with `criterion` at normalised `weight`, the others rescaled in proportion."""
    current = scenario.weights[criterion]
    rest = 1.0 - current
    criteria = []
    for c in scenario.criteria:
        if c.id == criterion:
            w = weight
        elif rest > 0:
            w = c.weight * (1.0 - weight) / rest
        else:
            w = (1.0 - weight) / (len(scenario.criteria) - 1)
        criteria.append(Criterion(c.id, w, c.raw_weight, c.description))
    return dataclasses.replace(scenario, criteria=tuple(criteria))


def _scale_score(score: Score, factor: float) -> Score:
    return score.scaled(factor)


def _replace_niche(scenario: Scenario, niche_id: str, change: Callable[[Level], Level]) -> Scenario:
    niches = []
    for niche in scenario.niches:
        if niche.id == niche_id:
            niche = Niche(**{**niche.__dict__, "levels": tuple(change(lv) for lv in niche.levels)})
        niches.append(niche)
    return dataclasses.replace(scenario, niches=tuple(niches))


def with_score_factor(scenario: Scenario, niche_id: str, factor: float) -> Scenario:
    """Return `scenario` with every score of `niche_id` multiplied by `factor`."""
    return _replace_niche(
        scenario,
        niche_id,
        lambda lv: dataclasses.replace(lv, scores={c: _scale_score(s, factor) for c, s in lv.scores.items()}),
    )


def with_cost_factor(scenario: Scenario, niche_id: str, factor: float) -> Scenario:
    """Return `scenario` with every cost of `niche_id` multiplied by `factor`."""
    return _replace_niche(
        scenario,
        niche_id,
        lambda lv: dataclasses.replace(lv, cost={p: c * factor for p, c in lv.cost.items()}),
    )
