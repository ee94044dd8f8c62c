"""The crowding game's pieces: the members' plans, what each gets from them under crowding, the errors.

`niches.analysis.rivals` plays the game (`study_rivals`); `coordinated` finds
the members' joint optimum. Both read a constellation through these: who
holds a niche (`occupants`), the multiplier each member's crowded niches get
(`multipliers_of`), a member's scenario with its crowded niches' values
scaled (`crowded`), and what every member gets from a set of plans
(`standing`), its value floors' shortfalls included.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from niches.optimize.metrics import Metrics, evaluate, objective_value
from niches.optimize.portfolio import niches_of
from niches.optimize.relaxation import floor_shortfalls, shortfall_share
from niches.scenario import Scenario
from niches.scenario.constellation import Constellation

State = Mapping[str, Mapping[str, str]]
"""Every member's portfolio (member -> niche -> level, deals -> taken), in file order."""


class RivalsError(Exception):
    """The game cannot be played or solved; the message says why."""


class Disagreement(RivalsError):
    """The solver's coordinated plan is not worth to the evaluator what the solver says it is."""


@dataclass(frozen=True)
class Standing:
    """The members' portfolios at one point of the game and what each gets there.

    `objectives` maps member -> its own objective (value units) under the
    crowding `portfolios` imply (none for the plans alone); `metrics` are its
    metrics under that crowding. `shortfalls` maps member -> each value floor
    (`min_worst_case`, `min_cvar`) its portfolio falls short of there -> by
    how much (value units: the floor minus the worst case or CVaR); a member
    whose floors hold has none. `shares` maps member -> its shortfalls as one
    figure: each as a share of the floor's size (1 for a floor of 0), added
    up (0 when its floors hold).
    """

    portfolios: Mapping[str, dict[str, str]]
    objectives: Mapping[str, float]
    metrics: Mapping[str, Metrics]
    shortfalls: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    shares: Mapping[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Return the members' objectives added up (value units)."""
        return math.fsum(self.objectives.values())

    @property
    def shortfall(self) -> float:
        """Return the members' shortfalls below their floors, as shares of the floors, added up."""
        return math.fsum(self.shares.values())


def occupants(constellation: Constellation, portfolios: State, niche: str) -> tuple[str, ...]:
    """Return the members whose portfolios hold `niche` (at any level), in file order."""
    return tuple(m for m, s in constellation.members.items() if niche in niches_of(s, portfolios.get(m, {})))


def crowded(scenario: Scenario, multipliers: Mapping[str, float]) -> Scenario:
    """Return `scenario` with each niche in `multipliers` worth that factor of its value in every world.

    The factor multiplies the niche's outlook in every world (a world it
    leaves out counts 1), so every level's value, and what a deal funding it
    loses where it breaks, scale with it; synergies and deal bonuses do not.
    """
    if not multipliers:
        return scenario
    worlds = [w.id for w in scenario.worlds]
    niches = tuple(
        dataclasses.replace(n, outlook={w: n.outlook.get(w, 1.0) * multipliers[n.id] for w in worlds})
        if n.id in multipliers
        else n
        for n in scenario.niches
    )
    return dataclasses.replace(scenario, niches=niches)


def multipliers_of(constellation: Constellation, member: str, portfolios: State) -> dict[str, float]:
    """Return crowded niche -> m(1 + others in it) for each niche `member` declares, where below 1."""
    found = {}
    for niche, having in constellation.declared_by.items():
        if member not in having:
            continue
        others = sum(
            1 for m in having if m != member and niche in niches_of(constellation.members[m], portfolios[m])
        )
        factor = constellation.multiplier(niche, 1 + others)
        if factor != 1.0:
            found[niche] = factor
    return found


def standing(
    constellation: Constellation, scenarios: Mapping[str, Scenario], portfolios: State, crowding: bool = True
) -> Standing:
    """Return what each member gets from `portfolios`, under the crowding they imply (or none)."""
    chosen = {m: dict(p) for m, p in portfolios.items()}
    metrics = {}
    objectives = {}
    shortfalls = {}
    shares = {}
    for m, scenario in scenarios.items():
        variant = crowded(scenario, multipliers_of(constellation, m, chosen) if crowding else {})
        metrics[m] = evaluate(variant, chosen[m])
        objectives[m] = objective_value(scenario.objective, metrics[m])
        shortfalls[m] = floor_shortfalls(variant, chosen[m])
        shares[m] = shortfall_share(variant, shortfalls[m])
    return Standing(chosen, objectives, metrics, shortfalls, shares)
