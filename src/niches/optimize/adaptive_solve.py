"""Find the best adaptive plan: by one MILP on either solver, or by enumeration when the scenario is small.

`AdaptiveSolver` solves the `Adaptive` model's goals in order (the objective,
then the tie-breaks of `adaptive.goals_of`), each pinned within the tie
tolerance before the next, starting from a known plan (the fixed plan
repeated in every world keeps every rule). Every answer is checked against
the evaluator: the solver's figure for the goal must be the evaluator's for
the plan it chose, or the goal is solved again carefully (HiGHS without
presolve, then the other solver) and a disagreement left is a SolverFailed.

`enumerate_plan` answers the same question on a portfolio table: once the
common choices c made before the reveal are fixed, each world's completion
is found on its own (every objective is monotone in each world's value), so
the optimum is the best over c of the objective of each world's best
completion of c. It is exact for scenarios without deals (with deals the
expected value and the stressed values a worst case reads differ, and the
worlds no longer separate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from niches.optimize.adaptive import (
    FLOORS,
    GOALS_MINIMISED,
    PRIMARY,
    Adaptive,
    Plan,
    Reveal,
    goals_of,
    plan_goal,
)
from niches.optimize.formulation_matrix import INF
from niches.optimize.model import NO_LIMIT, Deadline, TimedOut, tolerance
from niches.optimize.solvers import Outcome, SolverFailed, make_backend
from niches.optimize.table import PortfolioTable, cvar_of
from niches.optimize.table_rules import _over
from niches.optimize.tolerances import RELATIVE_TIE
from niches.scenario import Scenario


@dataclass(frozen=True)
class AdaptiveSolution:
    """The best adaptive plan found.

    `status` is "optimal", "feasible" (the time limit stopped the solver with a plan in hand) or
    "infeasible" (no plan keeps the rules; `plan` and `objective` are then None). `plan` maps each
    world to its portfolio; `objective` is the plan's objective in value units (regret: lower is
    better), computed by the evaluator. `solves` counts solver calls (enumeration: 1); `notes` say
    what the time limit cut short or how a disagreeing answer was settled.
    """

    status: str
    plan: dict[str, dict[str, str]] | None
    objective: float | None
    solves: int = 0
    notes: tuple[str, ...] = ()


class AdaptiveSolver:
    """The adaptive MILP of one scenario and reveal with a solver, built once and re-solved under variants."""

    def __init__(self, scenario: Scenario, reveal: Reveal, solver: str = "highs") -> None:
        self.scenario = scenario
        self.reveal = reveal
        self.solver = solver
        self.model = Adaptive(scenario, reveal)
        self.backend = make_backend(solver, self.model.form)

    @property
    def solves(self) -> int:
        return int(self.backend.solves)

    def solve(
        self,
        kind: str,
        start: Plan | None = None,
        best_by_world: Mapping[str, float] | None = None,
        disabled: frozenset[str] = frozenset(),
        tie_breaks: bool = True,
        deadline: Deadline = NO_LIMIT,
    ) -> AdaptiveSolution:
        """Return the best plan under `kind` with rule groups `disabled` dropped in every world.

        `start` is a plan to start from (it need not keep the rules); `best_by_world` holds V*_k for
        the regret objective. Raise TimedOut when the time limit stops the first goal with no plan.
        """
        model, form = self.model, self.model.form
        before = self.solves
        goals = goals_of(kind, self.scenario.timed) if tie_breaks else [PRIMARY[kind]]
        notes: list[str] = []
        plan: dict[str, dict[str, str]] | None = None
        status = "optimal"
        deadline.check()
        with form.variant():
            for group in disabled:
                model.drop(group)
            if kind == "regret":
                if best_by_world is None:
                    raise ValueError("regret needs the best value of each world")
                if any(math.isnan(v) for v in best_by_world.values()):  # no portfolio keeps the rules
                    return AdaptiveSolution("infeasible", None, None, 0)
                model.set_regret_targets(best_by_world)
            warm = model.start(start) if start is not None else None
            for index, goal in enumerate(goals):
                vector = model.goal(goal)
                maximise = goal not in GOALS_MINIMISED
                outcome = self.backend.solve(vector, maximise, deadline.left(), warm)
                outcome = self._checked(goal, vector, maximise, outcome, best_by_world, deadline)
                notes += [n for n in outcome.notes if n not in notes]
                if index == 0:
                    if outcome.status == "timeout":
                        raise TimedOut(
                            f"the {self.solver} solver hit the time limit ({deadline.seconds:g} s) without "
                            "any adaptive plan; raise --time-limit"
                        )
                    if outcome.status == "infeasible":
                        return AdaptiveSolution("infeasible", None, None, self.solves - before, tuple(notes))
                    assert outcome.values is not None
                    plan, status = model.plan(outcome.values), outcome.status
                    if status != "optimal":
                        break
                elif outcome.status != "optimal" or outcome.values is None:
                    notes.append(f"the time limit cut the tie-break on {goal.replace('_', ' ')} short")
                    break
                else:
                    plan = model.plan(outcome.values)
                if index < len(goals) - 1:
                    exact = plan_goal(self.scenario, plan, goal, self.reveal, best_by_world)
                    margin = tolerance(exact)
                    low, high = (-INF, exact + margin) if not maximise else (exact - margin, INF)
                    form.add_row(f"keep[{goal}]", vector, low, high)
                    warm = model.start(plan)
        assert plan is not None
        objective = plan_goal(self.scenario, plan, PRIMARY[kind], self.reveal, best_by_world)
        return AdaptiveSolution(status, plan, objective, self.solves - before, tuple(notes))

    def _checked(
        self,
        goal: str,
        vector: Mapping[int, float],
        maximise: bool,
        outcome: Outcome,
        best_by_world: Mapping[str, float] | None,
        deadline: Deadline,
    ) -> Outcome:
        """Return `outcome` once the evaluator agrees with its figure for `goal`, else solved again
        carefully."""
        if outcome.status != "optimal" or outcome.values is None or outcome.objective is None:
            return outcome
        exact = plan_goal(self.scenario, self.model.plan(outcome.values), goal, self.reveal, best_by_world)
        if abs(exact - outcome.objective) <= tolerance(exact):
            return outcome
        again = self.backend.solve(vector, maximise, deadline.left(), careful=True)
        if again.status == "optimal" and again.values is not None and again.objective is not None:
            fixed = plan_goal(self.scenario, self.model.plan(again.values), goal, self.reveal, best_by_world)
            if abs(fixed - again.objective) <= tolerance(fixed):
                return again
        raise SolverFailed(
            f"the {self.solver} solver's {goal.replace('_', ' ')} of the adaptive plan "
            f"({outcome.objective:.6g}) is not the evaluator's ({exact:.6g}), even when solved again"
        )


def enumerate_plan(
    table: PortfolioTable,
    scenario: Scenario,
    reveal: Reveal,
    kind: str,
    best_by_world: Mapping[str, float] | None = None,
    disabled: frozenset[str] = frozenset(),
    tie_breaks: bool = True,
) -> AdaptiveSolution:
    """Return the best adaptive plan by enumeration (scenarios without deals): for each set of common
    choices made before the reveal, each world's best completion (its value, then less spend, the
    earlier start, declaration order), then the best set under the plan's goals in order."""
    if scenario.deals:
        raise ValueError("enumerate_plan takes scenarios without deals; solve the adaptive MILP instead")
    worlds = [w.id for w in scenario.worlds]
    scores = table.score(scenario, frozenset(disabled) | frozenset(FLOORS))
    ok = np.flatnonzero(scores.feasible)
    if ok.size == 0:
        return AdaptiveSolution("infeasible", None, None, 1)
    rows = scores.rows[ok]
    values = scores.values[ok]
    spend = scores.total[ok]
    starts = table.start_rank[rows]
    ranks = table.rank[rows]
    choice = table.choice[rows][:, : len(scenario.niches)]
    columns = []
    for j, niche in enumerate(scenario.niches):
        early = [0] + [i + 1 if level.offset < reveal.at else 0 for i, level in enumerate(niche.levels)]
        columns.append(np.array(early)[choice[:, j]])
    key = np.stack(columns, axis=1) if columns else np.zeros((len(rows), 0), dtype=np.int64)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.reshape(-1)
    count = int(group.max()) + 1
    best = np.empty((count, len(worlds)), dtype=np.int64)
    for k in range(len(worlds)):
        order = np.lexsort((ranks, starts, spend, -values[:, k], group))
        _, first = np.unique(group[order], return_index=True)
        best[:, k] = order[first]
    plan_values = values[best, np.arange(len(worlds))]
    odds = np.array([w.probability for w in scenario.worlds])
    keep = np.ones(count, dtype=bool)
    r = scenario.rules
    tail = r.cvar_tail
    if r.min_cvar is not None and "min_cvar" not in disabled:
        keep &= ~_over(np.full(count, r.min_cvar), cvar_of(plan_values, odds, tail))
    if r.min_worst_case is not None and "min_worst_case" not in disabled:
        keep &= ~_over(np.full(count, r.min_worst_case), plan_values.min(axis=1))
    if not keep.any():
        return AdaptiveSolution("infeasible", None, None, 1)
    stars = None if best_by_world is None else np.array([best_by_world[k] for k in worlds])
    if stars is not None and np.isnan(stars).any():  # regret against worlds no portfolio can serve
        return AdaptiveSolution("infeasible", None, None, 1)
    weights = len(worlds) - np.arange(len(worlds), dtype=np.float64)
    codes = choice[best]  # (sets, worlds, niches)

    def measure(goal: str) -> np.ndarray:
        if goal == "expected_value":
            return np.asarray(plan_values @ odds)
        if goal == "worst_case":
            return np.asarray(plan_values.min(axis=1))
        if goal == "cvar":
            return cvar_of(plan_values, odds, tail)
        if goal == "max_regret":
            assert stars is not None, "regret needs the best value of each world"
            return np.asarray((stars[None, :] - plan_values).max(axis=1))
        if goal == "expected_spend":
            return np.asarray(spend[best] @ odds)
        if goal == "start_rank":
            return np.asarray(starts[best].sum(axis=1), dtype=np.float64)
        if goal == "tie_rank":
            return np.asarray(ranks[best] @ weights)
        differs = np.zeros(count)
        for j, niche in enumerate(scenario.niches):
            for c in range(1, len(niche.levels) + 1):
                taken = codes[:, :, j] == c
                differs += taken.any(axis=1) & ~taken.all(axis=1)
        return differs

    at = np.flatnonzero(keep)
    goals = goals_of(kind, scenario.timed) if tie_breaks else [PRIMARY[kind]]
    for goal in goals:
        figure = measure(goal)[at]
        if goal in GOALS_MINIMISED:
            least = figure.min()
            at = at[figure <= least + RELATIVE_TIE * max(1.0, abs(least))]
        else:
            top = figure.max()
            at = at[figure >= top - RELATIVE_TIE * max(1.0, abs(top))]
    chosen = int(at[0])
    plan = {k: table.portfolio(int(rows[best[chosen, i]])) for i, k in enumerate(worlds)}
    objective = plan_goal(scenario, plan, PRIMARY[kind], reveal, best_by_world)
    return AdaptiveSolution("optimal", plan, objective, 1)
