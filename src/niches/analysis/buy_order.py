"""The order of buy: the greedy benefit/cost ranking of level increments, beside the optimal portfolio."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from niches.optimize.evaluate import evaluate
from niches.optimize.model import tolerance
from niches.scenario import Scenario


@dataclass(frozen=True)
class BuyStep:
    """One increment in the greedy order of buy: from the previous hull level to `level`."""

    niche: str
    level: str
    cost: float
    value: float
    ratio: float
    cumulative_cost: float
    """What greedy has bought so far, this increment included when it buys it (never decreasing)."""
    in_greedy: bool
    optimal_level: str | None


def order_of_buy(
    scenario: Scenario, optimal: Mapping[str, str]
) -> tuple[list[BuyStep], dict[str, str], float]:
    """Rank level increments by value per unit of cost along each niche's convex hull; buy greedily."""
    increments: list[tuple[float, int, str, str, float, float]] = []
    position = 0
    for niche in scenario.niches:
        hull: list[tuple[float, float, str | None]] = [(0.0, 0.0, None)]
        for level in sorted(niche.levels, key=lambda lv: lv.total_cost):  # the hull is built left to right
            cost = level.total_cost
            value = (
                evaluate(scenario, {niche.id: level.id}).expected_value
                - evaluate(scenario, {}).expected_value
            )
            if value <= hull[-1][1] and cost >= hull[-1][0]:
                continue  # dominated: costs more, gives no more
            while len(hull) >= 2:
                (c0, v0, _), (c1, v1, _) = hull[-2], hull[-1]
                if (v1 - v0) * (cost - c1) <= (value - v1) * (c1 - c0):  # hull[-1] under the chord
                    hull.pop()
                else:
                    break
            hull.append((cost, value, level.id))
        for (c0, v0, _), (c1, v1, level_id) in itertools.pairwise(hull):
            dc, dv = c1 - c0, v1 - v0
            ratio = math.inf if dc <= 0 else dv / dc
            position += 1
            assert level_id is not None
            increments.append((ratio, position, niche.id, level_id, dc, dv))
    increments.sort(key=lambda t: (-t[0], t[1]))
    budget = (
        scenario.budget_total
        if scenario.budget_total is not None
        else math.fsum(scenario.budget.get(p, math.inf) for p in scenario.periods)
    )
    steps: list[BuyStep] = []
    greedy: dict[str, str] = {}
    spent = 0.0
    stopped = False
    for ratio, _, niche_id, level_id, dc, dv in increments:
        if dv <= 0:
            stopped = True
        fits = not stopped and spent + dc <= budget + tolerance(budget)
        if fits:
            spent += dc
            greedy[niche_id] = level_id
        else:
            stopped = True
        steps.append(BuyStep(niche_id, level_id, dc, dv, ratio, spent, fits, optimal.get(niche_id)))
    return steps, greedy, budget
