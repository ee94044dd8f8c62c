"""Re-solve a scenario under many variants: by enumeration when small, else by MILP.

Analyses ask one question again and again: "what is the optimum if these
numbers change, or these rules are dropped or moved?". Two engines answer it
with the same semantics (tests hold both to the brute-force oracle):

- TableEngine scores every portfolio at once with numpy (scenarios with up to
  `ENUMERATION_LIMIT` portfolios); a variant costs one vectorised pass.
- MilpEngine re-solves one built PuLP model, changing limits, coefficients or
  rule groups in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from niches.evaluate import evaluate, objective_value, value_table
from niches.model import PortfolioModel, Solution, solve, tolerance
from niches.scenario import Scenario


class Engine(Protocol):
    """What analyses need: the optimum of a variant, and the least limit that improves it."""

    scenario: Scenario
    kind: str
    solver: str
    name: str

    @property
    def solves(self) -> int: ...

    def best(
        self,
        variant: Scenario,
        tie_breaks: bool = False,
        costs: bool = False,
        limits: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
    ) -> Solution: ...

    def least_limit(self, group: str, base: float) -> float | None: ...


def _solution(
    variant: Scenario,
    kind: str,
    solver: str,
    portfolio: dict[str, str] | None,
    stars: dict[str, float] | None,
    solves: int,
) -> Solution:
    if portfolio is None:
        return Solution(variant, "infeasible", kind, None, {}, None, solver, solves=solves)
    metrics = evaluate(variant, portfolio)
    return Solution(
        variant,
        "optimal",
        kind,
        objective_value(kind, metrics, stars),
        portfolio,
        metrics,
        solver,
        stars,
        solves=solves,
    )


class MilpEngine:
    """Answer variants by re-solving one built MILP."""

    name = "milp"

    def __init__(self, scenario: Scenario, kind: str, solver: str) -> None:
        self.scenario = scenario
        self.kind = kind
        self.solver = solver
        self.model = PortfolioModel(scenario)

    @property
    def solves(self) -> int:
        return self.model.solves

    def best(
        self,
        variant: Scenario,
        tie_breaks: bool = False,
        costs: bool = False,
        limits: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
    ) -> Solution:
        cost_table = (
            {(n.id, lv.id): dict(lv.cost) for n in variant.niches for lv in n.levels} if costs else None
        )
        values = None if variant is self.scenario else value_table(variant)
        with self.model.variant(disabled=disabled, limits=limits, values=values, costs=cost_table):
            return solve(
                variant,
                self.kind,
                self.solver,
                model=self.model,
                tie_breaks=tie_breaks,
                evaluator=lambda p: evaluate(variant, p),
            )

    def least_limit(self, group: str, base: float) -> float | None:
        if self.kind == "regret":
            return None
        model = self.model
        family, _, inner = group.partition("[")
        inner = inner.rstrip("]")
        lhs = model.spend.get(inner, model.total_spend) if family == "budget" else model.uses[inner]
        for margin in (1.0, 10.0, 100.0):  # the found portfolio must really be better, not within tolerance
            with model.variant(disabled={group}):
                model.add("better", model.primary(self.kind) >= base + margin * tolerance(base))
                outcome = model.optimise(lhs, False, self.solver, None)
            if outcome.portfolio is None:
                return None
            m = evaluate(self.scenario, outcome.portfolio)
            if objective_value(self.kind, m) > base + tolerance(base):
                return m.cost_by_period.get(inner, m.cost) if family == "budget" else m.uses[inner]
        return None


class TableEngine:
    """Answer variants by scoring every portfolio with numpy."""

    name = "enumeration"

    def __init__(self, scenario: Scenario, kind: str, solver: str) -> None:
        from niches.table import PortfolioTable

        self.scenario = scenario
        self.kind = kind
        self.solver = solver
        self.table = PortfolioTable(scenario)
        self._solves = 0

    @property
    def solves(self) -> int:
        return self._solves

    def best(
        self,
        variant: Scenario,
        tie_breaks: bool = False,
        costs: bool = False,
        limits: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
    ) -> Solution:
        self._solves += 1
        scores = self.table.score(variant, disabled, limits)
        stars_array = self.table.best_by_world(scores) if self.kind == "regret" else None
        if self.kind == "regret" and stars_array is None:
            return _solution(variant, self.kind, self.solver, None, None, 1)
        row = self.table.best(scores, self.kind, stars_array)
        stars = None
        if stars_array is not None:
            stars = {w.id: float(v) for w, v in zip(variant.worlds, stars_array, strict=True)}
        return _solution(
            variant, self.kind, self.solver, None if row is None else self.table.portfolio(row), stars, 1
        )

    def least_limit(self, group: str, base: float) -> float | None:
        import numpy as np

        from niches.table import objective_of

        if self.kind == "regret":
            return None
        self._solves += 1
        scores = self.table.score(self.scenario, frozenset([group]))
        better = scores.feasible & (objective_of(scores, self.kind) >= base + tolerance(base))
        if not better.any():
            return None
        family, _, inner = group.partition("[")
        inner = inner.rstrip("]")
        if family == "budget":
            periods = self.scenario.periods
            amount = scores.total if inner not in periods else scores.spend[:, periods.index(inner)]
        else:
            uses = np.array([[lv.uses.get(inner, 0.0)] for n in self.scenario.niches for lv in n.levels])
            amount = (self.table.onehot[scores.rows] @ uses)[:, 0]
        return float(amount[better].min())


def make_engine(scenario: Scenario, kind: str, solver: str, prefer: str = "auto") -> Engine:
    """Return a TableEngine when the scenario is small enough (or `prefer` says so), else a MilpEngine."""
    from niches.table import small_enough

    if prefer == "enumeration" or (prefer == "auto" and small_enough(scenario)):
        return TableEngine(scenario, kind, solver)
    return MilpEngine(scenario, kind, solver)
