"""Solve the portfolio model: the objective, then the tie-breaks, on either solver.

`PortfolioModel` pairs the one `Formulation` of a scenario with a solver back
end (HiGHS in-process, or CBC). It optimises a chain of goals
lexicographically: each goal is solved, its exact value (from
`niches.optimize.evaluate`, never the solver's rounding) pinned within the tie
tolerance, and the next solve starts from the portfolio in hand. Analyses
re-solve the same model under variants (rule groups dropped, limits moved,
values, costs or probabilities changed); the solver sees only what changed.

A solve either returns an optimal (or, under a time limit, a feasible)
portfolio, says the scenario is infeasible, or raises `SolverFailed`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from niches.optimize.checks import violated_rules
from niches.optimize.formulation import Formulation
from niches.optimize.goals import KIND_GOAL, minimised, tie_break_goals
from niches.optimize.metrics import Metrics, evaluate, goal_value, objective_value
from niches.optimize.solvers import SOLVERS, Backend, Outcome, SolverFailed, make_backend, solver_version
from niches.optimize.tolerances import RELATIVE_TIE
from niches.scenario import OBJECTIVES, Scenario

__all__ = [
    "SOLVERS",
    "Deadline",
    "PortfolioModel",
    "Solution",
    "SolverFailed",
    "TimedOut",
    "best_by_world",
    "measure_goals",
    "solve",
    "solver_version",
    "tie_break_goals",
    "tolerance",
]


class TimedOut(SolverFailed):
    """The command's time limit ran out before a solve found any portfolio."""


class Deadline:
    """The time left for a whole command (`--time-limit`); None means no limit."""

    def __init__(self, seconds: float | None = None) -> None:
        self.start = time.perf_counter()
        self.seconds = seconds
        self.end = None if seconds is None else self.start + seconds

    def left(self) -> float | None:
        """Return the seconds left (at least a millisecond), or None without a limit."""
        if self.end is None:
            return None
        return max(1e-3, self.end - time.perf_counter())

    @property
    def expired(self) -> bool:
        return self.end is not None and time.perf_counter() >= self.end

    def check(self) -> None:
        """Raise TimedOut when the time is up."""
        if self.expired:
            raise TimedOut(f"the time limit ({self.seconds:g} s) ran out; raise --time-limit")

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


NO_LIMIT = Deadline()


@dataclass(frozen=True)
class Solution:
    """The outcome of a solve.

    `status` is "optimal", "feasible" (time limit hit with a portfolio in
    hand; `gap` is the relative optimality gap computed from the solver's
    bound and incumbent, None when unknown) or "infeasible". `objective` is in
    value units (for `regret`, the largest shortfall, lower is better).
    `best_by_world` holds V*_k when the objective needed it. `solves` counts
    solver calls.
    """

    scenario: Scenario
    status: str
    objective_kind: str
    objective: float | None
    portfolio: dict[str, str]
    metrics: Metrics | None
    solver: str
    best_by_world: dict[str, float] | None = None
    gap: float | None = None
    solves: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


def tolerance(value: float) -> float:
    """Return the tie tolerance around `value` (RELATIVE_TIE, at least absolute)."""
    return RELATIVE_TIE * max(1.0, abs(value))


@dataclass(frozen=True)
class Chain:
    """The result of a goal chain: the portfolio, its status, and what the time limit cut short."""

    status: str  # optimal | feasible | infeasible
    portfolio: dict[str, str]
    gap: float | None = None
    notes: tuple[str, ...] = ()


Measure = Callable[[Mapping[str, str], str], float]
"""Exact value of a goal for a portfolio, under the variant being solved."""


AIDED_CHOICES = 150
"""Models with at least this many binary choices get LP help before a MILP (a bound that may settle the
question, reduced-cost fixing); smaller ones are solved directly, where an LP costs about as much as
the MILP it would spare."""


class PortfolioModel:
    """The formulation of one scenario with a solver, built once and re-solved under variants."""

    def __init__(self, scenario: Scenario, solver: str = "highs") -> None:
        if solver not in SOLVERS:
            raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
        self.scenario = scenario
        self.solver = solver
        self.form = Formulation(scenario)
        self.backend: Backend = make_backend(solver, self.form)

    @property
    def solves(self) -> int:
        return self.backend.solves

    def fresh(self) -> None:
        """Make the next solves independent of the earlier ones (the solver forgets its warm state)."""
        forget = getattr(self.backend, "fresh", None)
        if forget is not None:
            forget()

    @property
    def aided(self) -> bool:
        """Whether MILPs get LP help first (a back end that fixes by reduced costs, a large model)."""
        binaries = len(self.form.choose) + len(self.form.take)
        return hasattr(self.backend, "fixed_by_reduced_costs") and binaries >= AIDED_CHOICES

    @contextlib.contextmanager
    def variant(
        self,
        disabled: frozenset[str] | set[str] = frozenset(),
        limits: Mapping[str, float] | None = None,
        values: Mapping[tuple[str, str, str], float] | None = None,
        costs: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
        probabilities: Mapping[str, float] | None = None,
    ) -> Iterator[PortfolioModel]:
        """Drop rule groups, move limits, change values, costs or probabilities; restore after.

        `values` maps (niche, level, world) -> v(n, l, k); `costs` maps (niche,
        level) -> period -> cost; `limits` may switch on a latent group (an
        exposure cap on a power the scenario does not cap).
        """
        with self.form.variant():
            if costs:
                self.form.set_costs(costs)
            if values:
                self.form.set_values(values)
            if probabilities:
                self.form.set_probabilities(probabilities)
            for group, limit in (limits or {}).items():
                if group not in disabled:
                    self.form.set_limit(group, limit)
            for group in disabled:
                self.form.drop(group)
            yield self

    def optimise(
        self,
        goal: str,
        seconds: float | None = None,
        start: Mapping[str, str] | None = None,
        relax: bool = False,
        incumbent: float | None = None,
        prepare: Callable[[], None] | None = None,
        cutoff: float | None = None,
    ) -> Outcome:
        """Solve once with `goal` as the objective (maximised, or minimised for costs and regret).

        `start` is a portfolio to start from; when it keeps the rules and
        `incumbent` is its exact value of `goal`, the LP relaxation is solved
        first: if its bound does not beat the incumbent, the start is optimal
        and no MILP is solved; otherwise the choices the bound pins (by their
        reduced costs) are fixed before the MILP, which then searches a much
        smaller space. Both are exact. `prepare` runs just before a MILP is
        solved (never when the LP settles the question). `cutoff`: only
        portfolios better than it count (HiGHS prunes with it; see
        `HighsBackend.solve`); "infeasible" then means none is.
        """
        vector = self.form.goal(goal)
        maximise = not minimised(goal)
        warm = self.form.binary_start(start) if start is not None else None
        fixing = getattr(self.backend, "fixed_by_reduced_costs", None)
        if relax or warm is None or incumbent is None or fixing is None or not self.aided:
            if prepare is not None and not relax:
                prepare()
            return self.backend.solve(vector, maximise, seconds, warm, relax, cutoff=cutoff)
        bound = self.backend.solve(vector, maximise, seconds, None, relax=True)
        if bound.status == "infeasible" or bound.objective is None:
            if prepare is not None:
                prepare()
            return self.backend.solve(vector, maximise, seconds, warm, cutoff=cutoff)
        slack = bound.objective - incumbent if maximise else incumbent - bound.objective
        if slack <= 1e-9 * max(1.0, abs(incumbent)):  # nothing beats the start
            values = [0.0] * self.form.cols
            for col, value in warm.items():
                values[col] = value
            return Outcome("optimal", values, incumbent, bound.objective, 0.0)
        fixed = fixing(list(self.form.choose.values()), slack)
        if any(warm.get(col, value) != value for col, value in fixed.items()):
            fixed = {}  # the start disagrees with the bound (solver tolerance): fix nothing
        if prepare is not None:
            prepare()
        with self.form.variant():
            for col, value in fixed.items():
                self.form.set_col_bounds(col, value, value)
            return self.backend.solve(vector, maximise, seconds, warm, cutoff=cutoff)

    def portfolio(self, outcome: Outcome) -> dict[str, str]:
        """Return the portfolio of a solved outcome."""
        assert outcome.values is not None
        return self.form.portfolio(outcome.values)

    def chain(
        self,
        goals: Sequence[str],
        measure: Measure,
        deadline: Deadline = NO_LIMIT,
        floors: Mapping[str, float] | None = None,
        start: Mapping[str, str] | None = None,
        start_keeps_rules: bool = False,
        settled: bool = False,
    ) -> Chain:
        """Optimise `goals` in order, each pinned within the tie tolerance before the next.

        `floors` keep goals at least (maximised) or at most (minimised) a value
        throughout. `start` is a portfolio to start from (`start_keeps_rules`:
        known to keep every rule of the variant, so its value bounds the first
        solve; `settled`: also known to be optimal for the first goal, which is
        then not solved again). Raise TimedOut when the time limit stops the
        first goal with no portfolio; a later goal cut short by the time limit
        leaves the portfolio in hand, with a note.
        """
        deadline.check()
        with self.form.variant():
            cutoff = None  # a floor on the first goal prunes as a cutoff (HiGHS), held as a row after it
            for goal, bound in (floors or {}).items():
                if goal == goals[0] and hasattr(self.backend, "beyond"):
                    cutoff = bound
                else:
                    self.form.bound_goal(goal, bound)
            best: dict[str, str] = {}
            status, gap = "optimal", None
            notes: list[str] = []
            pinned: list[tuple[str, float]] = []  # goals pinned, not yet used to fix choices

            def fix_pinned() -> None:  # only when a MILP needs it: an LP that settles a goal costs less
                for goal_pinned, bound_pinned in pinned:
                    self._fix_by_reduced_costs(goal_pinned, bound_pinned, deadline)
                pinned.clear()

            for index, goal in enumerate(goals):
                known = start is not None and (index > 0 or start_keeps_rules)
                incumbent = measure(start, goal) if known and start is not None else None
                if index == 0 and settled and start is not None and start_keeps_rules:
                    best = dict(start)
                    if cutoff is not None:
                        self.form.bound_goal(goal, cutoff)
                    if len(goals) > 1:
                        value = measure(best, goal)
                        bound = value + tolerance(value) if minimised(goal) else value - tolerance(value)
                        pinned.append((goal, bound))
                        self.form.bound_goal(goal, bound)
                        if self._alone(goal, best, bound, deadline):
                            break
                    continue

                outcome = self.optimise(
                    goal,
                    deadline.left(),
                    start,
                    incumbent=incumbent,
                    prepare=fix_pinned,
                    cutoff=cutoff if index == 0 else None,
                )
                outcome = self._checked(goal, outcome, measure, deadline)
                notes += [n for n in outcome.notes if n not in notes]
                if index == 0:
                    if outcome.status == "timeout":
                        raise TimedOut(
                            f"the {self.solver} solver hit the time limit ({deadline.seconds:g} s) without "
                            "any portfolio; raise --time-limit"
                        )
                    if outcome.status == "infeasible":
                        return Chain("infeasible", {})
                    best, status = self.portfolio(outcome), outcome.status
                    gap = None if status == "optimal" else outcome.gap
                    if status != "optimal":
                        break  # the time limit stopped it: keep the portfolio in hand, skip the tie-breaks
                elif outcome.status != "optimal":
                    notes.append(f"the time limit cut the tie-break on {goal.replace('_', ' ')} short")
                    break
                else:
                    best = self.portfolio(outcome)
                if index < len(goals) - 1:
                    value = measure(best, goal)
                    margin = tolerance(value)
                    bound = value + margin if minimised(goal) else value - margin
                    pinned.append((goal, bound))
                    self.form.bound_goal(goal, bound)
                    if index == 0 and cutoff is not None:
                        self.form.bound_goal(goal, cutoff)
                    start = best
                    if index == 0 and self._alone(goal, best, bound, deadline):
                        break  # nothing else ties on the first goal: the tie-breaks cannot change it
            return Chain(status, best, gap, tuple(notes))

    def _alone(self, goal: str, best: Mapping[str, str], bound: float, deadline: Deadline) -> bool:
        """Return whether no portfolio but `best` keeps `goal` within `bound` (the goal already pinned).

        One MILP that stops at the first other portfolio found: the choices
        the LP's reduced costs pin within `bound` are fixed, a row excludes
        `best` (`Formulation.avoid`), and the solver prunes with the cutoff.
        Infeasible means `best` is the only portfolio tied with the optimum,
        so no tie-break can change it. False when the back end cannot ask.
        """
        beyond = getattr(self.backend, "beyond", None)
        fixing = getattr(self.backend, "fixed_by_reduced_costs", None)
        if beyond is None or fixing is None or deadline.expired:
            return False
        maximise = not minimised(goal)
        with self.form.variant():
            if self.aided:
                lp = self.optimise(goal, deadline.left(), relax=True)
                if lp.status != "optimal" or lp.objective is None:
                    return False
                slack = lp.objective - bound if maximise else bound - lp.objective
                if slack < 0:
                    return False
                for col, value in fixing(list(self.form.choose.values()), slack).items():
                    self.form.set_col_bounds(col, value, value)
            self.form.avoid(best)
            margin = tolerance(bound)
            outcome = beyond(
                self.form.goal(goal),
                maximise,
                deadline.left(),
                bound - margin if maximise else bound + margin,
            )
        return bool(outcome.status == "infeasible")

    def _checked(self, goal: str, outcome: Outcome, measure: Measure, deadline: Deadline) -> Outcome:
        """Return `outcome` once the evaluator agrees with its objective; else solve again carefully.

        The solver's figure for `goal` must be the evaluator's figure for the
        portfolio it chose (within the tie tolerance). When it is not, the
        back end solves once more with `careful` (HiGHS without presolve,
        then the other solver); an answer that still disagrees is a
        SolverFailed.
        """
        if outcome.status != "optimal" or outcome.values is None or outcome.objective is None:
            return outcome
        exact = measure(self.portfolio(outcome), goal)
        if abs(exact - outcome.objective) <= tolerance(exact):
            return outcome
        vector = self.form.goal(goal)
        again = self.backend.solve(vector, not minimised(goal), deadline.left(), careful=True)
        if again.status == "optimal" and again.values is not None and again.objective is not None:
            fixed = measure(self.portfolio(again), goal)
            if abs(fixed - again.objective) <= tolerance(fixed):
                said = f"{outcome.objective:.6g} for {goal.replace('_', ' ')}, the evaluator {exact:.6g}"
                return dataclasses.replace(again, notes=(f"{self.solver} said {said}", *again.notes))
        raise SolverFailed(
            f"the {self.solver} solver's {goal.replace('_', ' ')} ({outcome.objective:.6g}) is not the "
            f"evaluator's ({exact:.6g}) for the portfolio it chose, even when solved again"
        )

    def _fix_by_reduced_costs(self, goal: str, bound: float, deadline: Deadline) -> None:
        """Fix the choices no portfolio keeping `goal` within `bound` can change (exact; HiGHS only).

        The LP relaxation's reduced costs bound how much the goal falls when a
        choice leaves its bound; choices that would fall past `bound` are fixed
        for the tie-breaks that follow, which then search a much smaller space.
        """
        fixing = getattr(self.backend, "fixed_by_reduced_costs", None)
        if fixing is None or not self.aided:
            return
        lp = self.optimise(goal, deadline.left(), relax=True)
        if lp.status != "optimal" or lp.objective is None:
            return
        slack = bound - lp.objective if minimised(goal) else lp.objective - bound
        if slack < 0:
            return
        for col, value in fixing(list(self.form.choose.values()), slack).items():
            self.form.set_col_bounds(col, value, value)

    def write_lp(self, path: str, goal: str) -> None:
        """Write the model in LP format to `path` (atomically), with `goal` as the objective."""
        from niches.files import write_with
        from niches.optimize.solvers.cbc import write_lp

        write_with(
            path, lambda temporary: write_lp(self.form, self.form.goal(goal), not minimised(goal), temporary)
        )


def measure_goals(scenario: Scenario, stars: Mapping[str, float] | None = None) -> Measure:
    """Return a function giving the exact value of a goal for a portfolio of `scenario` (memoised)."""
    cache: dict[tuple[tuple[str, str], ...], Metrics] = {}

    def measure(portfolio: Mapping[str, str], goal: str) -> float:
        key = tuple(sorted(portfolio.items()))
        if key not in cache:
            cache[key] = evaluate(scenario, portfolio)
        return goal_value(scenario, portfolio, cache[key], goal, stars)

    return measure


def best_by_world(
    scenario: Scenario,
    solver: str = "highs",
    time_limit: float | None = None,
    model: PortfolioModel | None = None,
    deadline: Deadline | None = None,
) -> dict[str, float] | None:
    """Return V*_k, the best value reachable in each world alone; None if infeasible."""
    model = model or PortfolioModel(scenario, solver)
    deadline = deadline or Deadline(time_limit)
    result: dict[str, float] = {}
    for world in scenario.worlds:
        deadline.check()
        outcome = model.optimise(f"value[{world.id}]", deadline.left())
        if outcome.status == "timeout":
            raise TimedOut(f"the {model.solver} solver hit the time limit without any portfolio")
        if outcome.status == "infeasible":
            return None
        result[world.id] = evaluate(scenario, model.portfolio(outcome)).value_by_world[world.id]
    return result


def solve(
    scenario: Scenario,
    objective: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    disabled: frozenset[str] = frozenset(),
    write_lp: str | None = None,
    tie_breaks: bool = True,
    model: PortfolioModel | None = None,
    deadline: Deadline | None = None,
    start: Mapping[str, str] | None = None,
) -> Solution:
    """Choose the best portfolio; ties go to higher expected value, then lower spend.

    Return a Solution whose status is "optimal", "feasible" or "infeasible";
    raise SolverFailed when the solver stops without any portfolio. With
    `tie_breaks` off, only the primary objective is optimised (one solve).
    Pass a built `model` (possibly inside one of its variants) to re-solve
    without rebuilding; `scenario` then states the variant's numbers.
    """
    kind = objective or scenario.objective
    if kind not in OBJECTIVES:
        raise ValueError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")
    deadline = deadline or Deadline(time_limit)
    if scenario.rules.unresolved:
        if model is not None:
            raise ValueError("resolve the floors declared as shares (resolve_floors) before building a model")
        scenario = resolve_floors(scenario, solver, deadline)
    model = model or PortfolioModel(scenario, solver)
    before = model.solves
    with model.variant(disabled=disabled):
        stars: dict[str, float] | None = None
        if kind == "regret":
            stars = best_by_world(scenario, model.solver, model=model, deadline=deadline)
            if stars is None:
                return _infeasible(scenario, kind, model.solver, model.solves - before, deadline)
        with model.form.variant():
            if stars is not None:
                model.form.set_regret_targets(stars)
            goals = tie_break_goals(kind, scenario.timed) if tie_breaks else [KIND_GOAL[kind]]
            if write_lp:
                model.write_lp(write_lp, goals[0])
            result = model.chain(goals, measure_goals(scenario, stars), deadline, start=start)
    if result.status == "infeasible":
        return _infeasible(scenario, kind, model.solver, model.solves - before, deadline)
    metrics = evaluate(scenario, result.portfolio)
    notes = list(result.notes)
    broken = violated_rules(scenario, result.portfolio, metrics, disabled)
    if broken:  # the solver's tolerances let a rule slip; say so rather than hide it
        notes.append(f"solver tolerance: the portfolio breaks {', '.join(broken)} slightly")
    return Solution(
        scenario=scenario,
        status=result.status,
        objective_kind=kind,
        objective=objective_value(kind, metrics, stars),
        portfolio=result.portfolio,
        metrics=metrics,
        solver=model.solver,
        best_by_world=stars,
        gap=result.gap,
        solves=model.solves - before,
        seconds=deadline.elapsed(),
        notes=tuple(notes),
    )


def _infeasible(scenario: Scenario, kind: str, solver: str, solves: int, deadline: Deadline) -> Solution:
    return Solution(
        scenario=scenario,
        status="infeasible",
        objective_kind=kind,
        objective=None,
        portfolio={},
        metrics=None,
        solver=solver,
        solves=solves,
        seconds=deadline.elapsed(),
    )


FLOOR_KIND = {"min_cvar": "cvar", "min_worst_case": "worst_case"}
"""The objective each floor declared as a share is measured with."""


def floor_figure(share: float, best: float) -> float:
    """Return the floor "at least `share` of the best": `share` x best, and as far below a negative best."""
    return best - (1.0 - share) * abs(best)


def resolve_floors(scenario: Scenario, solver: str = "highs", deadline: Deadline | None = None) -> Scenario:
    """Return `scenario` with every floor declared as `{share: s}` turned into its figure.

    The best value of each such floor's measure (CVaR, worst case) is found
    under every other rule (floors declared as shares left out); the floor
    becomes `floor_figure(s, best)`. Where no portfolio keeps the other rules
    the best is NaN and the floor is left out (the other rules' conflict is
    what explains the scenario).
    """
    r = scenario.rules
    if not r.unresolved:
        return scenario
    bare = dataclasses.replace(scenario, rules=dataclasses.replace(r, floor_shares={}))
    bests = dict(r.floor_bests)
    figures: dict[str, float | None] = {}
    for rule in r.unresolved:
        found = solve(bare, FLOOR_KIND[rule], solver, tie_breaks=False, deadline=deadline)
        if found.objective is None:
            bests[rule], figures[rule] = math.nan, None
        else:
            bests[rule] = found.objective
            figures[rule] = floor_figure(r.floor_shares[rule], found.objective)
    rules = dataclasses.replace(r, floor_bests=bests, **figures)  # type: ignore[arg-type]
    return dataclasses.replace(scenario, rules=rules)
