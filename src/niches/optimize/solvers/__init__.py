"""Solver back ends: each reads a `Formulation` and solves it under one goal.

- `highs`: HiGHS in-process through highspy's own API. The matrix is passed
  once; later solves apply only what the formulation's journal says changed
  (bounds, coefficients, temporary rows and columns), and may start from a
  known portfolio.
- `cbc`: CBC (bundled with PuLP) in a subprocess, the model written through
  PuLP; the process and its files live in a private temporary folder removed
  on every exit path, and the process is ended when the solve is interrupted.

Both are handed the model scaled (`scaling`: rows and continuous columns near
magnitude 1, exactly undone on the way back), and both check every answer
against the unscaled model (`verify`). A refused run or an answer that does
not check is solved again more carefully (HiGHS: without presolve), then on
the other solver, with a note saying so; `careful=True` asks for that
directly (a caller whose evaluator disagrees with the answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from niches.optimize.formulation import Formulation

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
    ) -> Outcome: ...


def make_backend(name: str, formulation: Formulation) -> Backend:
    """Return the back end called `name` ("highs" or "cbc") for `formulation`."""
    if name == "highs":
        from niches.optimize.solvers.highs import HighsBackend

        return HighsBackend(formulation)
    if name == "cbc":
        from niches.optimize.solvers.cbc import CbcBackend

        return CbcBackend(formulation)
    raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")


def solver_version(name: str) -> str:
    """Return the version string of solver `name`."""
    import importlib.metadata

    if name == "highs":
        return f"HiGHS (highspy {importlib.metadata.version('highspy')})"
    return f"CBC (bundled with PuLP {importlib.metadata.version('pulp')})"
