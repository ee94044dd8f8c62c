"""World orders side by side: the best portfolio for each world alone, and a regret table.

Rows are the best portfolio of each world (V*_k, the best value reachable in
world k alone under the same rules) and the optimum of each decision rule
(expected, worst_case, cvar, regret); columns are the worlds, with value and
regret (V*_k - V_k) in each cell. A reader sees at once what hedging costs.
"""

from __future__ import annotations

from dataclasses import dataclass

from niches.evaluate import Metrics, evaluate
from niches.model import PortfolioModel, solve, tolerance
from niches.scenario import OBJECTIVES, Scenario


@dataclass(frozen=True)
class WorldRow:
    """One portfolio of the regret table, with its value and regret in every world."""

    label: str
    portfolio: dict[str, str]
    metrics: Metrics
    regret: dict[str, float]

    @property
    def max_regret(self) -> float:
        return max(self.regret.values())


@dataclass(frozen=True)
class WorldsReport:
    """Best value per world, the regret table, and which row each decision rule picks."""

    scenario: Scenario
    best_by_world: dict[str, float]
    rows: tuple[WorldRow, ...]
    picks: dict[str, int]  # decision rule -> index into rows
    solves: int


def best_in_world(model: PortfolioModel, world: str, solver: str) -> dict[str, str] | None:
    """Return the best portfolio in `world` alone (ties: higher expected value, then lower spend)."""
    scenario = model.scenario
    with model.variant():
        first = model.optimise(model.value[world], True, solver, None)
        if first.portfolio is None:
            return None
        best = first.portfolio
        v = evaluate(scenario, best).value_by_world[world]
        model.add("keep_world", model.value[world] >= v - tolerance(v))
        second = model.optimise(model.expected, True, solver, None)
        best = second.portfolio or best
        e = evaluate(scenario, best).expected_value
        model.add("keep_expected", model.expected >= e - tolerance(e))
        third = model.optimise(model.total_spend, False, solver, None)
        return third.portfolio or best


def worlds(scenario: Scenario, solver: str = "cbc") -> WorldsReport | None:
    """Return the world-by-world comparison; None when no portfolio keeps the rules."""
    model = PortfolioModel(scenario)
    chosen: list[tuple[str, dict[str, str]]] = []
    stars: dict[str, float] = {}
    for world in scenario.worlds:
        portfolio = best_in_world(model, world.id, solver)
        if portfolio is None:
            return None
        stars[world.id] = evaluate(scenario, portfolio).value_by_world[world.id]
        chosen.append((f"best in {world.id}", portfolio))
    solves = model.solves
    picks: dict[str, int] = {}
    for kind in OBJECTIVES:
        result = solve(scenario, kind, solver, model=model)
        solves += result.solves
        chosen.append((f"{kind} rule", result.portfolio))
    rows = []
    for label, portfolio in chosen:
        metrics = evaluate(scenario, portfolio)
        regret = {k: stars[k] - metrics.value_by_world[k] for k in stars}
        rows.append(WorldRow(label, portfolio, metrics, regret))
    for kind in OBJECTIVES:
        picks[kind] = next(i for i, row in enumerate(rows) if row.label == f"{kind} rule")
    return WorldsReport(scenario, stars, tuple(rows), picks, model.solves)
