"""What a solve returns and how a back end is called: the types every back end shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

SOLVERS = ("highs", "cbc")


class SolverFailed(Exception):
    """The solver stopped without any portfolio (an error or the time limit)."""


@dataclass(frozen=True)
class Outcome:
    """What one solve found.

    `status` is "optimal", "feasible" (stopped by the time limit with a
    solution; `gap` is the relative gap between `objective` and `bound` when
    the solver knows both, else None), "infeasible" or "timeout" (stopped
    with no solution). `values` are the column values of the solution.
    `notes` say what went wrong on the way and how it was answered (a solver
    that refused the model, a solution that did not check, solved again).
    """

    status: str
    values: list[float] | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    notes: tuple[str, ...] = ()


class Backend(Protocol):
    """A solver bound to one formulation."""

    name: str
    solves: int
    solution_limit: int | None

    def solve(
        self,
        objective: Mapping[int, float],
        maximise: bool,
        seconds: float | None,
        start: Mapping[int, float] | None = None,
        relax: bool = False,
        careful: bool = False,
        cutoff: float | None = None,
    ) -> Outcome: ...
