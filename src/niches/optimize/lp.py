"""Small dense linear programs solved with HiGHS in-process (the game-theory LPs of `niches coalition`).

Not the portfolio formulation: a handful of free columns and at most a few
hundred rows, given as dense coefficient lists. HiGHS runs on one thread with a
fixed seed, so the same LP gives the same answer on every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEASIBILITY = 1e-10
"""Primal and dual feasibility tolerance of these LPs (their data are scaled near 1 by the caller)."""


@dataclass(frozen=True)
class Row:
    """One constraint `lower <= sum(coefficients[j] * x[j]) <= upper` (±inf: no bound on that side)."""

    coefficients: tuple[float, ...]
    lower: float
    upper: float


@dataclass(frozen=True)
class LPSolution:
    """An optimum: `objective` (the minimised cost), the columns `x` and each row's dual value `duals`.

    A row with a dual value away from 0 holds with equality in every optimum
    (complementary slackness).
    """

    objective: float
    x: tuple[float, ...]
    duals: tuple[float, ...]


class LPFailed(Exception):
    """HiGHS found no optimum (infeasible, unbounded or stopped); the message says which."""


def minimise(cost: Sequence[float], rows: Sequence[Row]) -> LPSolution:
    """Return an optimum of: minimise cost . x subject to `rows`, every column free.

    Raises LPFailed when there is none.
    """
    import highspy

    from niches.optimize.solvers.highs import _stdout_silenced

    cols = len(cost)
    with _stdout_silenced():
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("primal_feasibility_tolerance", FEASIBILITY)
    h.setOptionValue("dual_feasibility_tolerance", FEASIBILITY)
    lp = highspy.HighsLp()
    lp.num_col_ = cols
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.array(cost, dtype=np.float64)
    lp.col_lower_ = np.full(cols, -highspy.kHighsInf)
    lp.col_upper_ = np.full(cols, highspy.kHighsInf)
    lp.row_lower_ = np.array([_bound(r.lower, highspy.kHighsInf) for r in rows], dtype=np.float64)
    lp.row_upper_ = np.array([_bound(r.upper, highspy.kHighsInf) for r in rows], dtype=np.float64)
    starts, index, value = [0], [], []
    for row in rows:
        if len(row.coefficients) != cols:
            raise ValueError(f"a row has {len(row.coefficients)} coefficients for {cols} columns")
        for j, a in enumerate(row.coefficients):
            if a:
                index.append(j)
                value.append(a)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = cols
    lp.a_matrix_.num_row_ = len(rows)
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise LPFailed("HiGHS refused the model")
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise LPFailed(f"HiGHS found no optimum: {h.modelStatusToString(status)}")
    solution = h.getSolution()
    return LPSolution(
        float(h.getInfo().objective_function_value),
        tuple(float(v) for v in solution.col_value),
        tuple(float(d) for d in solution.row_dual),
    )


def _bound(b: float, inf: float) -> float:
    return b if math.isfinite(b) else math.copysign(inf, b)
