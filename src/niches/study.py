"""One study of one scenario: the library's front door.

    from niches.scenario import load_scenario
    from niches.study import Study

    study = Study(load_scenario("options/kazakhstan.yaml"))
    study.solution()            # the recommendation (a Solution)
    study.summary()             # rule checks, binding rules, why niches are left out
    study.frontier("budget")    # or "risk", "exposure"
    study.sensitivity()
    study.worlds()
    study.robust(samples=500, seed=0)
    study.explain()             # why an infeasible scenario is infeasible
    study.check()               # the scenario's policy assertions

A study is made for one (scenario, objective, solver). It builds the model
once (and the table of every portfolio when the scenario is small enough) and
remembers every result, so a report that needs the recommendation, the binding
rules and the best value of each world in several sections computes each once.
Analyses re-solve the same model in place; the command's time limit (a
`Deadline`) bounds all of it, and what it cuts short is listed in `unfinished`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from niches.limits import SAMPLES
from niches.optimize.engine import Engine, MilpEngine, TableEngine
from niches.optimize.model import Deadline, Solution, resolve_floors, solve
from niches.optimize.solvers import SOLVERS
from niches.scenario import OBJECTIVES, Scenario

if TYPE_CHECKING:
    from niches.analysis.check import AssertionResult
    from niches.analysis.explain import Explanation
    from niches.analysis.frontier import Frontier
    from niches.analysis.robust import RobustReport
    from niches.analysis.sensitivity import Sensitivity
    from niches.analysis.summary import SolveReport
    from niches.analysis.worlds import WorldsReport

Progress = Callable[[float], None]


class Study:
    """A scenario under one objective and solver, its model built once, its results remembered."""

    def __init__(
        self,
        scenario: Scenario,
        objective: str | None = None,
        solver: str = "highs",
        time_limit: float | None = None,
        deadline: Deadline | None = None,
        engine: str = "auto",
    ) -> None:
        kind = objective or scenario.objective
        if kind not in OBJECTIVES:
            raise ValueError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")
        if solver not in SOLVERS:
            raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
        self.deadline = deadline or Deadline(time_limit)
        self.scenario = resolve_floors(scenario, solver, self.deadline)
        self.kind = kind
        self.solver = solver
        self.prefer = engine
        self.unfinished: list[str] = []
        self.extra_solves = 0  # solves on models an analysis built for a second thread
        self._memo: dict[object, Any] = {}

    # ---------------------------------------------------------------- engines
    @functools.cached_property
    def milp(self) -> MilpEngine:
        """The MILP engine: the built model, re-solved in place."""
        return MilpEngine(self.scenario, self.kind, self.solver, self.deadline)

    @functools.cached_property
    def table(self) -> TableEngine | None:
        """The enumeration engine, when the scenario is small enough (else None)."""
        from niches.optimize.table import small_enough

        if self.prefer == "milp" or (self.prefer == "auto" and not small_enough(self.scenario)):
            return None
        return TableEngine(self.scenario, self.kind, self.solver, self.deadline)

    @property
    def engine(self) -> Engine:
        """The engine analyses use: enumeration when small enough, else the MILP."""
        return self.table or self.milp

    @property
    def solves(self) -> int:
        """Solver calls (and enumeration passes) made so far."""
        table = self.__dict__.get("table")
        milp = self.__dict__.get("milp")
        return (table.solves if table else 0) + (milp.solves if milp else 0) + self.extra_solves

    def _remember(self, key: object, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def note_unfinished(self, what: str) -> None:
        """Record that the time limit cut `what` short."""
        if what not in self.unfinished:
            self.unfinished.append(what)

    # ---------------------------------------------------------------- results
    def solution(self, write_lp: str | None = None) -> Solution:
        """Return the recommendation: the optimum with the documented tie-breaks."""
        if write_lp is not None:
            self._memo.pop("solution", None)
        return self._remember(  # type: ignore[no-any-return]
            "solution",
            lambda: solve(
                self.scenario,
                self.kind,
                self.solver,
                write_lp=write_lp,
                model=self.milp.model,
                deadline=self.deadline,
            ),
        )

    def summary(self, find_binding: bool = True) -> SolveReport:
        """Return the recommendation with its rule checks, binding rules and left-out niches."""
        from niches.analysis.summary import summarise

        return self._remember(("summary", find_binding), lambda: summarise(self, find_binding))  # type: ignore[no-any-return]

    def best_by_world(self) -> dict[str, float] | None:
        """Return V*_k, the best value reachable in each world alone (None if infeasible)."""
        from niches.analysis.worlds import best_values

        return self._remember("best_by_world", lambda: best_values(self))  # type: ignore[no-any-return]

    def worlds(self) -> WorldsReport | None:
        """Return the world orders side by side (None if infeasible)."""
        from niches.analysis.worlds import worlds

        return self._remember("worlds", lambda: worlds(self))  # type: ignore[no-any-return]

    def frontier(
        self,
        axis: str,
        start: float = 0.0,
        stop: float = 1.5,
        objective: str | None = None,
        progress: Progress | None = None,
        max_points: int | None = None,
    ) -> Frontier:
        """Return the exact frontier along `axis` ("budget", "risk" or "exposure")."""
        from niches.analysis.frontier import frontier

        key = ("frontier", axis, start, stop, objective, max_points)
        return self._remember(key, lambda: frontier(self, axis, start, stop, objective, progress, max_points))  # type: ignore[no-any-return]

    def sensitivity(self, progress: Progress | None = None) -> Sensitivity:
        """Return every sensitivity figure of the recommendation."""
        from niches.analysis.sensitivity import sensitivity

        return self._remember("sensitivity", lambda: sensitivity(self, progress))  # type: ignore[no-any-return]

    def robust(
        self,
        samples: int = SAMPLES,
        seed: int = 0,
        vary: Sequence[str] = ("scores", "weights", "probabilities"),
        workers: int = 1,
        scheduler: str | None = None,
        concentration: float = 50.0,
        progress: Progress | None = None,
    ) -> RobustReport:
        """Return the Monte Carlo over the scenario's uncertain judgements."""
        from niches.analysis.robust import robust

        key = ("robust", samples, seed, tuple(vary), workers, scheduler, concentration)
        return self._remember(  # type: ignore[no-any-return]
            key, lambda: robust(self, samples, seed, vary, workers, scheduler, concentration, progress)
        )

    def explain(self) -> Explanation:
        """Return why the scenario is infeasible (or that it is not)."""
        from niches.analysis.explain import explain

        return self._remember("explain", lambda: explain(self))  # type: ignore[no-any-return]

    def check(self) -> list[AssertionResult]:
        """Evaluate the scenario's policy assertions against the recommendation."""
        from niches.analysis.check import check

        return self._remember("check", lambda: check(self))  # type: ignore[no-any-return]
