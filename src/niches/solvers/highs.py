"""HiGHS in-process through highspy: the matrix passed once, then changed in place.

Every solve first applies the formulation's journal (bounds, coefficients,
temporary rows and columns) to the HiGHS model, so re-solving a variant costs
the solve, not a rebuild. A solve may start from a known portfolio (HiGHS
completes the continuous columns). LP relaxations run on a second HiGHS
instance, so its simplex basis stays warm from one bound to the next.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import highspy
import numpy as np

from niches.formulation import Changes, Formulation
from niches.solvers import Outcome, SolverFailed

FEASIBILITY = 1e-9
"""Primal and MIP feasibility tolerance: well below the 1e-6 relative tie tolerance."""


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Silence file descriptor 1 (HiGHS prints a banner when an instance is made)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _merge(into: Changes, more: Changes) -> None:
    into.rows_from = min(into.rows_from, more.rows_from)
    into.cols_from = min(into.cols_from, more.cols_from)
    into.coefficients.update(more.coefficients)
    into.row_bounds |= more.row_bounds
    into.col_bounds |= more.col_bounds


class _Instance:
    """One HiGHS model kept equal to the formulation."""

    def __init__(self, form: Formulation, relax: bool) -> None:
        self.form = form
        with _stdout_silenced():
            self.h: Any = highspy.Highs()  # type: ignore[no-untyped-call]
        h = self.h
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.0)
        h.setOptionValue("mip_feasibility_tolerance", FEASIBILITY)
        h.setOptionValue("primal_feasibility_tolerance", FEASIBILITY)
        h.setOptionValue("random_seed", 0)
        if relax:
            h.setOptionValue("solve_relaxation", True)
        self.pending = Changes(0, 0)
        self.rows = 0
        self.cols = 0
        self.objective: dict[int, float] = {}
        self._load()

    def _load(self) -> None:
        form = self.form
        lp = highspy.HighsLp()
        lp.num_col_ = form.cols
        lp.num_row_ = form.rows
        lp.col_cost_ = np.zeros(form.cols)
        lp.col_lower_ = np.array(form.col_lower, dtype=np.float64)
        lp.col_upper_ = np.array(form.col_upper, dtype=np.float64)
        lp.row_lower_ = np.array(form.row_lower, dtype=np.float64)
        lp.row_upper_ = np.array(form.row_upper, dtype=np.float64)
        starts, index, value = _rows_csr(form.row_coef, 0, form.rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = form.cols
        lp.a_matrix_.num_row_ = form.rows
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = value
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in form.col_integer
        ]
        _check(self.h.passModel(lp), "passModel")
        self.rows, self.cols = form.rows, form.cols
        self.pending = Changes(form.rows, form.cols)

    def sync(self) -> None:
        """Apply the pending changes so the HiGHS model equals the formulation."""
        form, h, ch = self.form, self.h, self.pending
        self.pending = Changes(form.rows, form.cols)
        keep_rows = min(ch.rows_from, self.rows, form.rows)
        keep_cols = min(ch.cols_from, self.cols, form.cols)
        if self.rows > keep_rows:
            gone = np.arange(keep_rows, self.rows, dtype=np.int32)
            _check(h.deleteRows(len(gone), gone), "deleteRows")
        if self.cols > keep_cols:
            gone = np.arange(keep_cols, self.cols, dtype=np.int32)
            _check(h.deleteCols(len(gone), gone), "deleteCols")
            self.objective = {c: v for c, v in self.objective.items() if c < keep_cols}
        if form.cols > keep_cols:
            new = range(keep_cols, form.cols)
            lower = np.array([form.col_lower[c] for c in new], dtype=np.float64)
            upper = np.array([form.col_upper[c] for c in new], dtype=np.float64)
            empty = np.zeros(0, dtype=np.int32)
            _check(
                h.addCols(
                    len(new),
                    np.zeros(len(new)),
                    lower,
                    upper,
                    0,
                    np.zeros(len(new), dtype=np.int32),
                    empty,
                    np.zeros(0),
                ),
                "addCols",
            )
            integer = [c for c in new if form.col_integer[c]]
            for col in integer:
                h.changeColIntegrality(col, highspy.HighsVarType.kInteger)
        if form.rows > keep_rows:
            starts, index, value = _rows_csr(form.row_coef, keep_rows, form.rows)
            lower = np.array(form.row_lower[keep_rows:], dtype=np.float64)
            upper = np.array(form.row_upper[keep_rows:], dtype=np.float64)
            _check(
                h.addRows(form.rows - keep_rows, lower, upper, len(index), starts[:-1], index, value),
                "addRows",
            )
        for row, col in ch.coefficients:
            if row < keep_rows and col < form.cols:
                _check(h.changeCoeff(row, col, form.row_coef[row].get(col, 0.0)), "changeCoeff")
        rows = np.array(sorted(r for r in ch.row_bounds if r < keep_rows), dtype=np.int32)
        if len(rows):
            lower = np.array([form.row_lower[r] for r in rows], dtype=np.float64)
            upper = np.array([form.row_upper[r] for r in rows], dtype=np.float64)
            _check(h.changeRowsBounds(len(rows), rows, lower, upper), "changeRowsBounds")
        cols = np.array(sorted(c for c in ch.col_bounds if c < keep_cols), dtype=np.int32)
        if len(cols):
            lower = np.array([form.col_lower[c] for c in cols], dtype=np.float64)
            upper = np.array([form.col_upper[c] for c in cols], dtype=np.float64)
            _check(h.changeColsBounds(len(cols), cols, lower, upper), "changeColsBounds")
        self.rows, self.cols = form.rows, form.cols

    def set_objective(self, objective: Mapping[int, float], maximise: bool) -> None:
        changed = {c: 0.0 for c in self.objective if c not in objective}
        changed.update(objective)
        if changed:
            cols = np.array(list(changed), dtype=np.int32)
            _check(
                self.h.changeColsCost(len(cols), cols, np.array(list(changed.values()), dtype=np.float64)),
                "changeColsCost",
            )
        self.objective = dict(objective)
        sense = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        _check(self.h.changeObjectiveSense(sense), "changeObjectiveSense")


def _run(h: Any) -> Any:
    """Run HiGHS in a daemon thread and wait for it where Ctrl-C and SIGTERM can reach the program.

    HiGHS holds the thread that runs it until it finishes; waiting here instead
    lets an interrupt end the command at once (the abandoned solve dies with the
    process, and this model is not used again).
    """
    done = threading.Event()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["status"] = h.run()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="highs", daemon=True).start()
    while not done.wait(0.2):
        pass
    if "error" in box:
        raise box["error"]
    return box["status"]


def _rows_csr(rows: list[dict[int, float]], first: int, last: int) -> tuple[Any, Any, Any]:
    starts = np.zeros(last - first + 1, dtype=np.int32)
    index: list[int] = []
    value: list[float] = []
    for i, row in enumerate(rows[first:last]):
        for col in sorted(row):
            index.append(col)
            value.append(row[col])
        starts[i + 1] = len(index)
    return starts, np.array(index, dtype=np.int32), np.array(value, dtype=np.float64)


def _check(status: Any, call: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise SolverFailed(f"HiGHS refused {call}")


class HighsBackend:
    """Solve a formulation with HiGHS in-process, applying only what changed."""

    name = "highs"

    def __init__(self, formulation: Formulation) -> None:
        self.form = formulation
        self.mip = _Instance(formulation, relax=False)
        self._lp: _Instance | None = None
        formulation.take_changes()
        self.solves = 0

    def _instance(self, relax: bool) -> _Instance:
        changes = self.form.take_changes()
        for instance in (self.mip, self._lp):
            if instance is not None:
                _merge(instance.pending, changes)
        if not relax:
            return self.mip
        if self._lp is None:
            self._lp = _Instance(self.form, relax=True)
        return self._lp

    def solve(
        self,
        objective: Mapping[int, float],
        maximise: bool,
        seconds: float | None,
        start: Mapping[int, float] | None = None,
        relax: bool = False,
    ) -> Outcome:
        """Solve the formulation as it stands; `relax` solves the LP relaxation instead."""
        instance = self._instance(relax)
        instance.sync()
        instance.set_objective(objective, maximise)
        h = instance.h
        h.setOptionValue("time_limit", math.inf if seconds is None else max(seconds, 1e-3))
        if start and not relax:
            index = np.array(list(start), dtype=np.int32)
            h.setSolution(len(index), index, np.array(list(start.values()), dtype=np.float64))
        self.solves += 1
        _check(_run(h), "run")
        outcome = self._outcome(h, maximise, relax)
        if start and not relax and outcome.values is not None and not _agrees(objective, outcome):
            # HiGHS can report the optimum's objective with the start's column values (seen with
            # highspy 1.16 when presolve settles the model): solve again without the start.
            instance.h.clearSolver()
            self.solves += 1
            _check(_run(h), "run")
            outcome = self._outcome(h, maximise, relax)
        return outcome

    def fixed_by_reduced_costs(self, columns: list[int], slack: float) -> dict[int, float]:
        """Return the columns the last LP relaxation pins at a bound for any solution within `slack` of it.

        A column at a bound whose reduced cost exceeds `slack` cannot move off
        that bound without the objective falling more than `slack` below the LP
        optimum, so every solution within `slack` keeps it there.
        """
        lp = self._lp
        if lp is None:
            return {}
        h = lp.h
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return {}
        duals = h.getSolution().col_dual
        status = h.getBasis().col_status
        at_lower, at_upper = highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kUpper
        fixed: dict[int, float] = {}
        margin = slack + 1e-9
        for col in columns:
            if abs(duals[col]) <= margin:
                continue
            if status[col] == at_lower:
                fixed[col] = self.form.col_lower[col]
            elif status[col] == at_upper:
                fixed[col] = self.form.col_upper[col]
        return fixed

    def _outcome(self, h: Any, maximise: bool, relax: bool) -> Outcome:
        status = h.getModelStatus()
        statuses = highspy.HighsModelStatus
        info = h.getInfo()
        has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        if status == statuses.kOptimal:
            values = list(h.getSolution().col_value)
            bound = info.objective_function_value if relax else info.mip_dual_bound
            return Outcome("optimal", values, info.objective_function_value, bound, 0.0)
        if status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
            return Outcome("infeasible")
        if status in (statuses.kInterrupt, getattr(statuses, "kHighsInterrupt", statuses.kInterrupt)):
            raise KeyboardInterrupt
        if status in (statuses.kTimeLimit, statuses.kIterationLimit, statuses.kSolutionLimit):
            if relax or not has_solution:
                return Outcome("timeout")
            objective = float(info.objective_function_value)
            bound = float(info.mip_dual_bound)
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
            return Outcome("feasible", list(h.getSolution().col_value), objective, bound, gap)
        raise SolverFailed(f"HiGHS stopped: {h.modelStatusToString(status)}")


def _agrees(objective: Mapping[int, float], outcome: Outcome) -> bool:
    """Return whether an outcome's column values give the objective value it reports."""
    assert outcome.values is not None and outcome.objective is not None
    found = math.fsum(coef * outcome.values[col] for col, coef in objective.items())
    return abs(found - outcome.objective) <= 1e-6 * max(1.0, abs(outcome.objective))
