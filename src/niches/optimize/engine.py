"""Answer "what is the optimum if ...?" for one scenario: by enumeration when small, else by MILP.

Analyses ask one question again and again: the best portfolio under a chain of
goals (the objective and its tie-breaks, or another chain such as the best
value in one world, or the least budget scale that buys a better portfolio),
with some rules dropped or moved, some goals held above a floor, and the
values, costs or probabilities of a variant scenario. Two engines answer it
with the same semantics (tests hold both to the brute-force oracle):

- TableEngine scores every portfolio at once with numpy (scenarios with up to
  `ENUMERATION_LIMIT` portfolios); a variant costs one vectorised pass.
- MilpEngine re-solves one built model in place (HiGHS in-process, or CBC),
  starting from a known portfolio where it has one. Asked which rules bind,
  it first tries to prove with LP relaxations that dropping a rule cannot
  help, and solves the rest on both cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from niches.optimize.checks import violated_rules
from niches.optimize.formulation_matrix import INF
from niches.optimize.goals import KIND_GOAL, minimised, tie_break_goals
from niches.optimize.metrics import evaluate, objective_value, value_table
from niches.optimize.model import (
    NO_LIMIT,
    Deadline,
    PortfolioModel,
    Solution,
    best_by_world,
    measure_goals,
)
from niches.optimize.portfolio import admissible
from niches.optimize.relaxed import Relaxed, Settler, Without
from niches.parallel import default_workers, run_shared
from niches.scenario import Scenario

if TYPE_CHECKING:
    from niches.optimize.table_arrays import Scores


class Engine(Protocol):
    """What analyses need: the optimum of a variant under a chain of goals, and of relaxed rules."""

    scenario: Scenario
    kind: str
    solver: str
    name: str

    @property
    def solves(self) -> int: ...

    def best(
        self,
        variant: Scenario | None = None,
        *,
        kind: str | None = None,
        goals: Sequence[str] | None = None,
        tie_breaks: bool = False,
        limits: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
        floors: Mapping[str, float] | None = None,
        costs: bool = False,
        probabilities: bool = False,
        start: Mapping[str, str] | None = None,
        deadline: Deadline | None = None,
        pins: Mapping[str, str | None] | None = None,
        avoid: Sequence[Mapping[str, str]] = (),
        settled: bool = False,
    ) -> Solution: ...

    def relaxed(
        self,
        base: Solution,
        groups: Sequence[frozenset[str]],
        deadline: Deadline | None = None,
        exact: bool = True,
    ) -> Relaxed: ...


def _goals(kind: str, goals: Sequence[str] | None, tie_breaks: bool, timed: bool) -> list[str]:
    if goals:
        return list(goals)
    return tie_break_goals(kind, timed) if tie_breaks else [KIND_GOAL[kind]]


def _solution(
    variant: Scenario,
    kind: str,
    solver: str,
    portfolio: dict[str, str] | None,
    stars: dict[str, float] | None,
    solves: int,
    status: str = "optimal",
    gap: float | None = None,
    notes: tuple[str, ...] = (),
) -> Solution:
    if portfolio is None:
        return Solution(variant, "infeasible", kind, None, {}, None, solver, solves=solves)
    metrics = evaluate(variant, portfolio)
    return Solution(
        variant,
        status,
        kind,
        objective_value(kind, metrics, stars),
        portfolio,
        metrics,
        solver,
        stars,
        gap=gap,
        solves=solves,
        notes=notes,
    )


class MilpEngine:
    """Answer variants by re-solving one built MILP in place."""

    name = "milp"

    def __init__(self, scenario: Scenario, kind: str, solver: str, deadline: Deadline = NO_LIMIT) -> None:
        self.scenario = scenario
        self.kind = kind
        self.solver = solver
        self.deadline = deadline
        self.model = PortfolioModel(scenario, solver)
        self._twins: list[PortfolioModel] = []
        self._engines: list[MilpEngine] = []
        self.workers = default_workers()
        """Threads the independent questions share (each its own built model)."""

    @property
    def solves(self) -> int:
        return self.model.solves + sum(twin.solves for twin in self._twins)

    def best(
        self,
        variant: Scenario | None = None,
        *,
        kind: str | None = None,
        goals: Sequence[str] | None = None,
        tie_breaks: bool = False,
        limits: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
        floors: Mapping[str, float] | None = None,
        costs: bool = False,
        probabilities: bool = False,
        start: Mapping[str, str] | None = None,
        deadline: Deadline | None = None,
        pins: Mapping[str, str | None] | None = None,
        avoid: Sequence[Mapping[str, str]] = (),
        settled: bool = False,
    ) -> Solution:
        s = variant or self.scenario
        kind = kind or self.kind
        deadline = deadline or self.deadline
        model = self.model
        before = model.solves
        values = value_table(s) if s is not self.scenario else None
        cost_table = {(n.id, lv.id): dict(lv.cost) for n in s.niches for lv in n.levels} if costs else None
        odds = s.probabilities if probabilities else None
        chain_goals = _goals(kind, goals, tie_breaks, s.timed)
        with model.variant(disabled, limits, values, cost_table, odds), model.form.variant():
            for nid, lid in (pins or {}).items():
                if nid in model.form.take:  # a deal: None refused, anything else taken
                    on = 0.0 if lid is None else 1.0
                    model.form.set_col_bounds(model.form.take[nid], on, on)
                for (n, level), col in model.form.choose.items():
                    if n == nid:
                        on = 1.0 if level == lid else 0.0
                        model.form.set_col_bounds(col, on, on)
            stars = None
            if kind == "regret":
                stars = best_by_world(s, model=model, deadline=deadline)
                if stars is None:
                    return _solution(s, kind, self.solver, None, None, model.solves - before)
                model.form.set_regret_targets(stars)
            for other in avoid:
                model.form.avoid(other)
            if "budget_scale" in chain_goals:
                model.form.add_budget_scale()
            measure = measure_goals(s, stars)
            keeps = start is not None and not limits and "budget_scale" not in chain_goals
            if keeps and start is not None:  # a start known to keep every rule bounds the first solve
                keeps = all(start.get(n) == lv for n, lv in (pins or {}).items())
                keeps = (
                    keeps
                    and admissible(s, start)
                    and not violated_rules(s, start, ignore=disabled)
                    and all(
                        (measure(start, g) <= b) if minimised(g) else (measure(start, g) >= b)
                        for g, b in (floors or {}).items()
                    )
                )
            result = model.chain(chain_goals, measure, deadline, floors, start, keeps, settled and keeps)
        portfolio = None if result.status == "infeasible" else result.portfolio
        return _solution(
            s,
            kind,
            self.solver,
            portfolio,
            stars,
            model.solves - before,
            result.status,
            result.gap,
            result.notes,
        )

    # ---------------------------------------------------------------- relaxed rules
    def relaxed(
        self,
        base: Solution,
        groups: Sequence[frozenset[str]],
        deadline: Deadline | None = None,
        exact: bool = True,
    ) -> Relaxed:
        """Return the objective with each set of rule groups dropped (`niches.optimize.relaxed`).

        The sets are shared among `workers` threads, each with its own built
        model; each figure is answered from a cold solver, so the figures are
        the same whatever the number of threads. `exact` solves every figure;
        otherwise, on a large model, a binding group's gain may be an interval.
        """
        kind = base.objective_kind
        deadline = deadline or self.deadline
        assert base.objective is not None
        if kind == "regret":
            found = {g: self._regret_without(g, base, deadline) for g in groups}
            return {g: None if v is None else Without.of(v) for g, v in found.items()}
        models = self.models(self.workers)
        settlers = [Settler(model, self.scenario, base, deadline, exact) for model in models]
        figures = run_shared(settlers, Settler.figure, list(groups))
        return dict(zip(groups, figures, strict=True))

    def twins(self, count: int) -> list[MilpEngine]:
        """Return `count` engines of the scenario (this one first), each with its own built model."""
        while len(self._engines) < count - 1:
            self._engines.append(MilpEngine(self.scenario, self.kind, self.solver, self.deadline))
        return [self, *self._engines[: count - 1]]

    def models(self, count: int) -> list[PortfolioModel]:
        """Return `count` built models of the scenario (this engine's first), one per worker thread."""
        while len(self._twins) < count - 1:
            self._twins.append(PortfolioModel(self.scenario, self.solver))
        return [self.model, *self._twins[: count - 1]]

    def _regret_without(self, groups: frozenset[str], base: Solution, deadline: Deadline) -> float | None:
        """Return the least largest regret with `groups` dropped (None: the time limit came first)."""
        if deadline.expired:
            return None
        return MilpEngine._best_on(self.model, self.scenario, base.objective_kind, groups, deadline)

    @staticmethod
    def _best_on(
        model: PortfolioModel, scenario: Scenario, kind: str, groups: frozenset[str], deadline: Deadline
    ) -> float | None:
        with model.variant(disabled=groups), model.form.variant():
            stars = best_by_world(scenario, model=model, deadline=deadline)
            if stars is None:
                return None
            model.form.set_regret_targets(stars)
            outcome = model.optimise(KIND_GOAL[kind], deadline.left())
        if outcome.status != "optimal":
            return None
        return objective_value(kind, evaluate(scenario, model.portfolio(outcome)), stars)

    # ---------------------------------------------------------------- cost factors
    def cost_breakpoint(
        self, niche: str, floor: float, upward: bool, end: float
    ) -> tuple[float, dict[str, str]] | None:
        """Return the factor on `niche`'s costs nearest 1 (towards `end`) at which a portfolio with an
        objective of at least `floor` keeps every rule, and that portfolio; None if none does before `end`.

        One MILP: the factor is a column, and each level's cost-bearing
        coefficients move to a column equal to factor x choice (linearised).
        """
        model, form = self.model, self.model.form
        top = max(end, 1.0)
        with form.variant():
            factor = form.add_col("cost_factor", 1.0 if upward else end, end if upward else 1.0)
            rows = [*form.budget_row.values(), form.total_spend_row, *form.exposure_row.values()]
            if niche in form.share_row:
                rows.append(form.share_row[niche])
            for col in form.levels_of[niche]:
                name = form.col_name[col].replace("choose", "scaled")
                scaled = form.add_col(name, 0.0, top)
                form.add_row(f"{name}.on", {scaled: 1.0, col: -top}, -INF, 0.0)
                form.add_row(f"{name}.factor", {scaled: 1.0, factor: -1.0}, -INF, 0.0)
                form.add_row(f"{name}.floor", {scaled: 1.0, factor: -1.0, col: -top}, -top, INF)
                for row in rows:
                    coefficient = form.row_coef[row].get(col, 0.0)
                    if coefficient:
                        form.set_coefficient(row, scaled, coefficient)
                        form.set_coefficient(row, col, 0.0)
            form.bound_goal(KIND_GOAL[self.kind], floor)
            # The cutoff (no factor past `end` counts) lets HiGHS prune with it, and its "infeasible",
            # the common answer (no rival fits before `end`), is taken as it is.
            outcome = model.backend.solve({factor: 1.0}, not upward, self.deadline.left(), cutoff=end)
        if outcome.status != "optimal" or outcome.values is None:
            return None
        return float(outcome.values[factor]), model.portfolio(outcome)

    # ---------------------------------------------------------------- combined relaxation
    def least_relaxation(
        self, groups: Sequence[str], deadline: Deadline | None = None
    ) -> dict[str, str] | None:
        """Return a portfolio needing the least combined relaxation of `groups` (None: no relaxation fits).

        Every group in `groups` has a numeric limit and is loosened by an
        elastic column (`Formulation.add_relaxations`); every other rule holds.
        The goal is the sum of the relaxations, each as a share of its limit;
        ties go to the higher expected value, then lower spend, then the
        earlier start, then declaration order. The relaxation each group needs
        is read off the portfolio exactly (`niches.optimize.relaxation.past_limits`).
        """
        from niches.optimize.relaxation import weighted_relaxation

        s = self.scenario
        exact = measure_goals(s)

        def measure(portfolio: Mapping[str, str], goal: str) -> float:
            if goal == "relaxation":
                return weighted_relaxation(s, portfolio, groups)
            return exact(portfolio, goal)

        with self.model.form.variant():
            self.model.form.add_relaxations(groups)
            goals = ["relaxation", *tie_break_goals("expected", s.timed)]
            result = self.model.chain(goals, measure, deadline or self.deadline)
        return None if result.status == "infeasible" else result.portfolio


class TableEngine:
    """Answer variants by scoring every portfolio with numpy."""

    name = "enumeration"

    def __init__(self, scenario: Scenario, kind: str, solver: str, deadline: Deadline = NO_LIMIT) -> None:
        from niches.optimize.table import PortfolioTable

        self.deadline = deadline
        self.scenario = scenario
        self.kind = kind
        self.solver = solver
        self.table = PortfolioTable(scenario)
        self._solves = 0
        self._costly: Scores | None = None

    @property
    def solves(self) -> int:
        return self._solves

    def best(
        self,
        variant: Scenario | None = None,
        *,
        kind: str | None = None,
        goals: Sequence[str] | None = None,
        tie_breaks: bool = False,
        limits: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
        floors: Mapping[str, float] | None = None,
        costs: bool = False,
        probabilities: bool = False,
        start: Mapping[str, str] | None = None,
        deadline: Deadline | None = None,
        pins: Mapping[str, str | None] | None = None,
        avoid: Sequence[Mapping[str, str]] = (),
        settled: bool = False,
    ) -> Solution:
        s = variant or self.scenario
        kind = kind or self.kind
        (deadline or self.deadline).check()
        self._solves += 1
        chain_goals = _goals(kind, goals, tie_breaks, s.timed)
        if "budget_scale" in chain_goals:  # the scale replaces the caps
            disabled = disabled | {g for g in self.table.scenario_groups if g.startswith("budget[")}
        scores = self.table.score(s, frozenset(disabled), limits)
        if pins:
            scores = self.table.pinned(scores, pins)
        if avoid:
            scores = self.table.avoiding(scores, avoid)
        stars_array = self.table.best_by_world(scores) if kind == "regret" else None
        if kind == "regret" and stars_array is None:
            return _solution(s, kind, self.solver, None, None, 1)
        row = self.table.chain(scores, chain_goals, floors, stars_array)
        stars = None
        if stars_array is not None:
            stars = {w.id: float(v) for w, v in zip(s.worlds, stars_array, strict=True)}
        return _solution(s, kind, self.solver, None if row is None else self.table.portfolio(row), stars, 1)

    def cost_breakpoint(
        self, niche: str, floor: float, upward: bool, end: float
    ) -> tuple[float, dict[str, str]] | None:
        """Return the factor on `niche`'s costs nearest 1 (towards `end`) at which a portfolio with an
        objective of at least `floor` keeps every rule, and that portfolio; None if none does before `end`.

        For each such portfolio every cost-bearing rule is linear in the
        factor, so the factors at which it fits form an interval, computed for
        all of them at once.
        """
        import numpy as np

        from niches.optimize.table_arrays import objective_of

        table, s = self.table, self.scenario
        costly = frozenset(
            g
            for g in table.scenario_groups
            if g.startswith(("budget[", "max_share", "max_exposure[", "max_imbalance"))
        )
        if self._costly is None:  # the same for every niche and direction: score it once
            self._costly = table.score(s, costly)
        scores = self._costly
        j = [n.id for n in s.niches].index(niche)
        holds = table.chosen[scores.rows, j]  # only portfolios holding the niche move with its costs
        keep = scores.feasible & holds & (objective_of(scores, self.kind) >= floor)
        rows = scores.rows[keep]
        if rows.size == 0:
            return None
        base = table.cost_arrays(s)
        offset, width = table.offsets[j], len(s.niches[j].levels)
        lookup = np.vstack([np.zeros((1, len(s.periods))), base.matrix[offset : offset + width]])
        own = lookup[table.choice[rows, j]]
        own_total = own.sum(axis=1)
        spend, total, numerators = base.spend[rows], base.total[rows], base.numerators[rows]
        low = np.zeros(rows.size)
        high = np.full(rows.size, np.inf)

        def keep_below(amount: np.ndarray, cap: np.ndarray, slope: np.ndarray) -> None:
            """Require amount - cap + (factor - 1) * slope <= tolerance."""
            nonlocal low, high
            excess = amount - cap - 1e-7 * np.maximum(1.0, np.maximum(np.abs(cap), np.abs(amount)))
            with np.errstate(divide="ignore", invalid="ignore"):
                root = 1.0 - excess / np.where(slope == 0, 1.0, slope)
            high = np.where(slope > 0, np.minimum(high, root), high)
            low = np.where(slope < 0, np.maximum(low, root), low)
            high = np.where((slope == 0) & (excess > 0), -np.inf, high)

        for period, cap in s.budget.items():
            i = s.periods.index(period)
            keep_below(spend[:, i], np.full(rows.size, cap), own[:, i])
        if s.budget_total is not None:
            keep_below(total, np.full(rows.size, s.budget_total), own_total)
        r = s.rules
        if r.max_share is not None:
            keep_below(own_total, r.max_share * total, own_total * (1.0 - r.max_share))
            others = table.largest_without(j)[rows]
            keep_below(others, r.max_share * total, -r.max_share * own_total)
        exposure = {p: s.niches[j].exposure.get(p, 0.0) for p in s.powers}
        for power, cap in r.max_exposure.items():
            i = s.powers.index(power)
            keep_below(numerators[:, i], cap * total, own_total * (exposure[power] - cap))
        if r.max_imbalance is not None and len(s.powers) >= 2:
            limit = r.max_imbalance
            for a in s.powers:
                for b in s.powers:
                    if a != b:
                        gap = numerators[:, s.powers.index(a)] - numerators[:, s.powers.index(b)]
                        keep_below(gap, limit * total, own_total * (exposure[a] - exposure[b] - limit))
        if upward:
            entry = np.maximum(low, 1.0)
            fits = (entry <= high) & (entry <= end) & (entry > 1.0 + 1e-12)
            chosen = np.flatnonzero(fits)
            at = chosen[np.argmin(entry[chosen])] if chosen.size else None
        else:
            entry = np.minimum(high, 1.0)
            fits = (entry >= low) & (entry >= end) & (entry < 1.0 - 1e-12)
            chosen = np.flatnonzero(fits)
            at = chosen[np.argmax(entry[chosen])] if chosen.size else None
        if at is None:
            return None
        return float(entry[at]), table.portfolio(int(rows[at]))

    def relaxed(
        self,
        base: Solution,
        groups: Sequence[frozenset[str]],
        deadline: Deadline | None = None,
        exact: bool = True,
    ) -> Relaxed:
        """Return the objective with each set of rule groups dropped, exactly (None: the time limit came
        first; enumeration is exact whatever `exact` says)."""
        deadline = deadline or self.deadline
        result: Relaxed = {}
        for group in groups:
            found = (
                None if deadline.expired else self.best(kind=base.objective_kind, disabled=group).objective
            )
            result[group] = None if found is None else Without.of(found)
        return result


def make_engine(
    scenario: Scenario, kind: str, solver: str, prefer: str = "auto", deadline: Deadline = NO_LIMIT
) -> Engine:
    """Return a TableEngine when the scenario is small enough (or `prefer` says so), else a MilpEngine."""
    from niches.optimize.table_rows import small_enough

    if prefer == "enumeration" or (prefer == "auto" and small_enough(scenario)):
        return TableEngine(scenario, kind, solver, deadline)
    return MilpEngine(scenario, kind, solver, deadline)
