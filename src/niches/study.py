"""One study of one scenario: the library's front door.

    from niches.scenario import load_scenario
    from niches.study import Study

    study = Study(load_scenario("options/kazakhstan.yaml"))
    study.solution()            # the recommendation (a Solution)

Each analysis is a function of the study in its module of `niches.analysis`,
remembered by the study (`Study.remember`):

    summary_of(study)             # summary: rule checks, binding rules, why niches are left out
    frontier_of(study, "budget")  # frontier: or "risk", "exposure"
    sensitivity_of(study)         # sensitivity
    worlds_of(study)              # worlds (and best_by_world_of)
    robust_of(study, samples=500, seed=0)  # robust
    explain_of(study)             # explain: why an infeasible scenario is infeasible
    check_of(study)               # check: the scenario's policy assertions

A study is made for one (scenario, objective, solver). With `exact`, every
figure is solved exactly whatever it costs; without it, a figure whose exact
value would cost a MILP of its own on a large model (a rule's gain) is an
interval, marked as such. It builds the model
once (and the table of every portfolio when the scenario is small enough) and
remembers every result, so a report that needs the recommendation, the binding
rules and the best value of each world in several sections computes each once.
Analyses re-solve the same model in place; the command's time limit (a
`Deadline`) bounds all of it, and what it cuts short is listed in `unfinished`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from niches.optimize.engine import Engine, MilpEngine, TableEngine
from niches.optimize.model import Deadline, Solution, resolve_floors, solve
from niches.optimize.solvers import SOLVERS
from niches.scenario import OBJECTIVES, Scenario


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
        exact: bool = False,
        workers: int | None = None,
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
        self.exact = exact
        """Whether every figure is solved exactly, whatever it costs (else some may be bounded)."""
        self.workers = workers
        """Threads that share independent solves (None: `parallel.default_workers()`)."""
        self.unfinished: list[str] = []
        self.extra_solves = 0  # solves on models an analysis built for a second thread
        self._memo: dict[object, Any] = {}

    # ---------------------------------------------------------------- engines
    @functools.cached_property
    def milp(self) -> MilpEngine:
        """The MILP engine: the built model, re-solved in place."""
        engine = MilpEngine(self.scenario, self.kind, self.solver, self.deadline)
        if self.workers is not None:
            engine.workers = self.workers
        return engine

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

    def remember(self, key: object, compute: Callable[[], Any]) -> Any:
        """Return the result remembered under `key`, computing it with `compute` the first time."""
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
        return self.remember(  # type: ignore[no-any-return]
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
