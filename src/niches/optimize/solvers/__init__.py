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

from typing import TYPE_CHECKING

from niches.optimize.solvers.outcome import SOLVERS as SOLVERS
from niches.optimize.solvers.outcome import Backend as Backend
from niches.optimize.solvers.outcome import Outcome as Outcome
from niches.optimize.solvers.outcome import SolverFailed as SolverFailed

if TYPE_CHECKING:
    from niches.optimize.formulation import Formulation


def _cbc_stand_in(formulation: Formulation) -> Backend:
    """CBC for one solve HiGHS could not answer (pulp imported only then)."""
    from niches.optimize.solvers.cbc import CbcBackend

    return CbcBackend(formulation, journal=False)


def _highs_stand_in(formulation: Formulation) -> Backend:
    """HiGHS for one solve CBC could not answer."""
    from niches.optimize.solvers.highs import HighsBackend

    return HighsBackend(formulation, journal=False)


def make_backend(name: str, formulation: Formulation) -> Backend:
    """Return the back end called `name` ("highs" or "cbc") for `formulation`, the other as its fallback."""
    if name == "highs":  # each falls back on the other, made here: the two never import each other
        from niches.optimize.solvers.highs import HighsBackend

        return HighsBackend(formulation, fallback=_cbc_stand_in)
    if name == "cbc":
        from niches.optimize.solvers.cbc import CbcBackend

        return CbcBackend(formulation, fallback=_highs_stand_in)
    raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")


def solver_version(name: str) -> str:
    """Return the version string of solver `name`."""
    import importlib.metadata

    if name == "highs":
        return f"HiGHS (highspy {importlib.metadata.version('highspy')})"
    return f"CBC (bundled with PuLP {importlib.metadata.version('pulp')})"
