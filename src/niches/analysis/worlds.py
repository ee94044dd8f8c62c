"""World orders side by side: the best portfolio for each world alone, and a regret table.

Rows are the best portfolio of each world (V*_k, the best value reachable in
world k alone under the same rules) and the optimum of each decision rule
(expected, worst_case, cvar, regret); columns are the worlds, with value and
regret (V*_k - V_k) in each cell. A reader sees at once what hedging costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.optimize.evaluate import Metrics, evaluate
from niches.scenario import OBJECTIVES, Scenario

if TYPE_CHECKING:
    from niches.study import Study


@dataclass(frozen=True)
class WorldRow:
    """One distinct portfolio of the regret table, with its value and regret in every world.

    `label` names its first picker; `picked_by` lists every world ("best in
    WORLD") and decision rule ("KIND rule") whose optimum it is.
    """

    label: str
    portfolio: dict[str, str]
    metrics: Metrics
    regret: dict[str, float]
    picked_by: tuple[str, ...] = ()

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


def best_in_world(study: Study, world: str) -> dict[str, str] | None:
    """Return the best portfolio in `world` alone (ties: higher expected value, lower spend, declaration)."""
    goals = [f"value[{world}]", "expected_value", "total_spend", "tie_rank"]
    best = study.engine.best(kind="expected", goals=goals, deadline=study.deadline)
    return None if best.metrics is None else best.portfolio


def best_values(study: Study) -> dict[str, float] | None:
    """Return V*_k, the best value reachable in each world alone; None when no portfolio keeps the rules."""
    stars: dict[str, float] = {}
    for world in study.scenario.worlds:
        best = study.engine.best(kind="expected", goals=[f"value[{world.id}]"], deadline=study.deadline)
        if best.metrics is None:
            return None
        stars[world.id] = best.metrics.value_by_world[world.id]
    return stars


def best_by_world_of(study: Study) -> dict[str, float] | None:
    """Return V*_k, the best value reachable in each world alone (None if infeasible)."""
    return study.remember("best_by_world", lambda: best_values(study))  # type: ignore[no-any-return]


def worlds(study: Study) -> WorldsReport | None:
    """Return the world-by-world comparison; None when no portfolio keeps the rules."""
    scenario = study.scenario
    before = study.solves
    chosen: list[tuple[str, dict[str, str]]] = []
    stars: dict[str, float] = {}
    for world in scenario.worlds:
        portfolio = best_in_world(study, world.id)
        if portfolio is None:
            return None
        stars[world.id] = evaluate(scenario, portfolio).value_by_world[world.id]
        chosen.append((f"best in {world.id}", portfolio))
    for kind in OBJECTIVES:
        if kind == study.kind:
            result = study.solution()
        else:
            result = study.engine.best(kind=kind, tie_breaks=True, deadline=study.deadline)
        chosen.append((f"{kind} rule", result.portfolio))
    pickers: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for label, portfolio in chosen:  # one row per distinct portfolio, in order of first pick
        pickers.setdefault(tuple(sorted(portfolio.items())), []).append(label)
    rows = []
    for key, labels in pickers.items():
        portfolio = dict(key)
        metrics = evaluate(scenario, portfolio)
        regret = {k: stars[k] - metrics.value_by_world[k] for k in stars}
        rows.append(WorldRow(labels[0], portfolio, metrics, regret, tuple(labels)))
    picks = {
        kind: next(i for i, row in enumerate(rows) if f"{kind} rule" in row.picked_by) for kind in OBJECTIVES
    }
    return WorldsReport(scenario, stars, tuple(rows), picks, study.solves - before)


def worlds_of(study: Study) -> WorldsReport | None:
    """Return the world orders side by side (None if infeasible)."""
    return study.remember("worlds", lambda: worlds(study))  # type: ignore[no-any-return]
