"""HiGHS in-process through highspy: the matrix passed once, then changed in place.

Every solve first applies the formulation's journal (bounds, coefficients,
temporary rows and columns) to the HiGHS model, so re-solving a variant costs
the solve, not a rebuild. A solve may start from a known portfolio (HiGHS
completes the continuous columns). LP relaxations run on a second HiGHS
instance, so its simplex basis stays warm from one bound to the next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import highspy
import numpy as np

from niches.optimize.formulation import Formulation
from niches.optimize.formulation_matrix import Changes
from niches.optimize.solvers.outcome import Backend, Outcome, SolverFailed
from niches.optimize.solvers.scaling import Scaling
from niches.optimize.solvers.verify import problem

_NO_LIMIT = 2**31 - 1
"""HiGHS's "no limit" for integer options."""

FEASIBILITY = 1e-9
"""Primal and MIP feasibility tolerance: well below the 1e-6 relative tie tolerance."""

CUTOFF_SLACK = 1e-7
"""How much looser (relative) than asked HiGHS's cutoff is set: HiGHS prunes a hair inside its cutoff,
and a portfolio that just clears the cutoff (a rival past a crossing) must survive; the answer is then
held to the cutoff itself."""


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
        self.factor = 1.0
        self.scale = Scaling()
        self._load()

    def _load(self) -> None:
        form, scale = self.form, self.scale
        scale.update(form, 0, 0)
        lp = highspy.HighsLp()
        lp.num_col_ = form.cols
        lp.num_row_ = form.rows
        lp.col_cost_ = np.zeros(form.cols)
        lp.col_lower_ = np.array(
            [scale.col_bound(c, b) for c, b in enumerate(form.col_lower)], dtype=np.float64
        )
        lp.col_upper_ = np.array(
            [scale.col_bound(c, b) for c, b in enumerate(form.col_upper)], dtype=np.float64
        )
        lp.row_lower_ = np.array(
            [scale.row_bound(r, b) for r, b in enumerate(form.row_lower)], dtype=np.float64
        )
        lp.row_upper_ = np.array(
            [scale.row_bound(r, b) for r, b in enumerate(form.row_upper)], dtype=np.float64
        )
        starts, index, value = _rows_csr(form.row_coef, 0, form.rows, scale)
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
        """Apply the pending changes so the HiGHS model equals the (scaled) formulation."""
        form, h, ch, scale = self.form, self.h, self.pending, self.scale
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
        scale.update(form, keep_rows, keep_cols)
        if form.cols > keep_cols:
            new = range(keep_cols, form.cols)
            lower = np.array([scale.col_bound(c, form.col_lower[c]) for c in new], dtype=np.float64)
            upper = np.array([scale.col_bound(c, form.col_upper[c]) for c in new], dtype=np.float64)
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
            starts, index, value = _rows_csr(form.row_coef, keep_rows, form.rows, scale)
            lower = np.array([scale.row_bound(r, form.row_lower[r]) for r in range(keep_rows, form.rows)])
            upper = np.array([scale.row_bound(r, form.row_upper[r]) for r in range(keep_rows, form.rows)])
            _check(
                h.addRows(form.rows - keep_rows, lower, upper, len(index), starts[:-1], index, value),
                "addRows",
            )
        for row, col in ch.coefficients:
            if row < keep_rows and col < form.cols:
                coefficient = scale.coefficient(row, col, form.row_coef[row].get(col, 0.0))
                _check(h.changeCoeff(row, col, coefficient), "changeCoeff")
        rows = np.array(sorted(r for r in ch.row_bounds if r < keep_rows), dtype=np.int32)
        if len(rows):
            lower = np.array([scale.row_bound(r, form.row_lower[r]) for r in rows], dtype=np.float64)
            upper = np.array([scale.row_bound(r, form.row_upper[r]) for r in rows], dtype=np.float64)
            _check(h.changeRowsBounds(len(rows), rows, lower, upper), "changeRowsBounds")
        cols = np.array(sorted(c for c in ch.col_bounds if c < keep_cols), dtype=np.int32)
        if len(cols):
            lower = np.array([scale.col_bound(c, form.col_lower[c]) for c in cols], dtype=np.float64)
            upper = np.array([scale.col_bound(c, form.col_upper[c]) for c in cols], dtype=np.float64)
            _check(h.changeColsBounds(len(cols), cols, lower, upper), "changeColsBounds")
        self.rows, self.cols = form.rows, form.cols

    def set_objective(self, objective: Mapping[int, float], maximise: bool) -> None:
        """Hand HiGHS `objective` (scaled; `factor` remembers by how much)."""
        scaled, self.factor = self.scale.objective(objective)
        changed = {c: 0.0 for c in self.objective if c not in scaled}
        changed.update(scaled)
        if changed:
            cols = np.array(list(changed), dtype=np.int32)
            _check(
                self.h.changeColsCost(len(cols), cols, np.array(list(changed.values()), dtype=np.float64)),
                "changeColsCost",
            )
        self.objective = scaled
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


def _beyond_cutoff(outcome: Outcome, cutoff: float | None, maximise: bool) -> Outcome:
    """Return `outcome` of a MILP run with a cutoff, "infeasible" when it is proven nothing beats it.

    HiGHS keeps a solution found that does not beat the cutoff as its incumbent
    and, once the cutoff has pruned the whole tree, reports it as optimal:
    that means no solution beats the cutoff.
    """
    if cutoff is None or outcome.objective is None or outcome.status != "optimal":
        return outcome
    margin = 1e-9 * max(1.0, abs(cutoff))
    keeps = outcome.objective >= cutoff - margin if maximise else outcome.objective <= cutoff + margin
    return outcome if keeps else Outcome("infeasible")


def _rows_csr(rows: list[dict[int, float]], first: int, last: int, scale: Scaling) -> tuple[Any, Any, Any]:
    starts = np.zeros(last - first + 1, dtype=np.int32)
    index: list[int] = []
    value: list[float] = []
    for i, row in enumerate(rows[first:last]):
        for col in sorted(row):
            index.append(col)
            value.append(scale.coefficient(first + i, col, row[col]))
        starts[i + 1] = len(index)
    return starts, np.array(index, dtype=np.int32), np.array(value, dtype=np.float64)


def _check(status: Any, call: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise SolverFailed(f"HiGHS refused {call}")


class HighsBackend:
    """Solve a formulation with HiGHS in-process, applying only what changed.

    `journal`: whether this back end reads the formulation's journal of
    changes; a stand-in for another back end, made for one solve, does not.
    `solution_limit`: stop a MILP after that many improving solutions (status
    "feasible", as a time limit does): a deterministic stop, for tests.
    """

    name = "highs"

    def __init__(
        self,
        formulation: Formulation,
        journal: bool = True,
        fallback: Callable[[Formulation], Backend] | None = None,
    ) -> None:
        self.form = formulation
        self.journal = journal
        self.fallback = fallback
        self.mip = _Instance(formulation, relax=False)
        self._lp: _Instance | None = None
        if journal:
            formulation.take_changes()
        self.solves = 0
        self.work = 0
        """Simplex iterations of every run so far: a measure of effort that is the same on every machine."""
        self.solution_limit: int | None = None

    def _instance(self, relax: bool) -> _Instance:
        if self.journal:
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
        careful: bool = False,
        cutoff: float | None = None,
    ) -> Outcome:
        """Solve the formulation as it stands; `relax` solves the LP relaxation instead.

        An answer is returned only once it checks (`verify.problem`). A
        refused run or an answer that does not check is solved again without
        presolve, then by CBC; `careful` starts there. The outcome's notes
        say what happened. `cutoff` (a MILP): only solutions better than it
        count; HiGHS prunes with it from the start, and "infeasible" then
        means none beats it (that verdict is the expected one, taken as it is
        rather than checked again without presolve, which would double the
        cost of every such proof).
        """
        instance = self._instance(relax)
        instance.sync()
        instance.set_objective(objective, maximise)
        h = instance.h
        h.setOptionValue("time_limit", math.inf if seconds is None else max(seconds, 1e-3))
        if not relax:
            h.setOptionValue("mip_max_improving_sols", self.solution_limit or _NO_LIMIT)
        bounded = cutoff is not None and not relax and not careful
        if bounded:
            assert cutoff is not None
            loose = cutoff - CUTOFF_SLACK * max(1.0, abs(cutoff)) * (1.0 if maximise else -1.0)
            limit = (-loose if maximise else loose) * instance.factor  # HiGHS minimises internally
            h.setOptionValue("objective_bound", limit)
        trouble: str | None = "was asked to solve again"
        try:
            if not careful:
                if start and not relax:
                    index = np.array(list(start), dtype=np.int32)
                    h.setSolution(len(index), index, np.array(list(start.values()), dtype=np.float64))
                outcome, trouble = self._attempt(instance, objective, maximise, relax)
                if trouble is not None and start and not relax:
                    # HiGHS can report the optimum's objective with the start's column values (seen with
                    # highspy 1.16 when presolve settles the model): solve again without the start.
                    h.clearSolver()
                    outcome, trouble = self._attempt(instance, objective, maximise, relax)
                if trouble is None and (outcome.status != "infeasible" or bounded):
                    return _beyond_cutoff(outcome, cutoff, maximise) if bounded else outcome
        finally:
            if bounded:
                h.setOptionValue("objective_bound", math.inf)
        return self._again(instance, objective, maximise, seconds, relax, trouble or "said infeasible")

    def _again(
        self,
        instance: _Instance,
        objective: Mapping[int, float],
        maximise: bool,
        seconds: float | None,
        relax: bool,
        trouble: str,
    ) -> Outcome:
        """Solve again without presolve after `trouble`, then by CBC (the ladder `solve` describes)."""
        h = instance.h
        h.clearSolver()
        h.setOptionValue("presolve", "off")
        try:
            outcome, again = self._attempt(instance, objective, maximise, relax)
        finally:
            h.setOptionValue("presolve", "choose")
        if again is None and outcome.status == "infeasible":
            if trouble == "said infeasible":
                return outcome  # with and without presolve alike
            again = "said infeasible"  # after an answer or a refusal: CBC settles it
        if again is None:
            return dataclasses.replace(outcome, notes=(f"HiGHS {trouble}; solved again without presolve",))
        if self.fallback is None:  # a stand-in for CBC: no third solver to ask
            raise SolverFailed(f"HiGHS {trouble} (also without presolve: {again})")
        other = self.fallback(self.form)
        try:
            outcome = other.solve(objective, maximise, seconds, None, relax)
        except SolverFailed as failed:
            raise SolverFailed(f"HiGHS {trouble} (also without presolve: {again}), and {failed}") from None
        finally:
            self.solves += other.solves
        return dataclasses.replace(
            outcome, notes=(f"HiGHS {trouble} (also without presolve); solved by CBC instead",)
        )

    def beyond(
        self, objective: Mapping[int, float], maximise: bool, seconds: float | None, cutoff: float
    ) -> Outcome:
        """Solve for the first solution better than `cutoff` (the MILP stops there).

        Return it (status "feasible", or "optimal" when it is also proven
        best), or "infeasible" when the solver proves no solution beats
        `cutoff` (see `solve`'s `cutoff`).
        """
        saved = self.solution_limit
        self.solution_limit = 1
        try:
            return self.solve(objective, maximise, seconds, cutoff=cutoff)
        finally:
            self.solution_limit = saved

    def _attempt(
        self, instance: _Instance, objective: Mapping[int, float], maximise: bool, relax: bool
    ) -> tuple[Outcome, str | None]:
        """Run HiGHS once; return its outcome and what is wrong with it (None when it checks)."""
        self.solves += 1
        try:
            _check(_run(instance.h), "run")
            self.work += max(0, int(instance.h.getInfo().simplex_iteration_count))
            outcome = self._outcome(instance, maximise, relax)
        except SolverFailed as failed:
            return Outcome("timeout"), str(failed).removeprefix("HiGHS ")
        return outcome, problem(self.form, objective, outcome, relax, instance.scale)

    def fresh(self) -> None:
        """Forget every solution and basis kept from earlier solves (the next ones start cold)."""
        for instance in (self.mip, self._lp):
            if instance is not None:
                instance.h.clearSolver()

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
        margin = slack + 1e-9 * max(1.0, slack)
        for col in columns:
            if abs(duals[col]) / (lp.scale.col[col] * lp.factor) <= margin:
                continue
            if status[col] == at_lower:
                fixed[col] = self.form.col_lower[col]
            elif status[col] == at_upper:
                fixed[col] = self.form.col_upper[col]
        return fixed

    def _outcome(self, instance: _Instance, maximise: bool, relax: bool) -> Outcome:
        h, scale, factor = instance.h, instance.scale, instance.factor
        status = h.getModelStatus()
        statuses = highspy.HighsModelStatus
        info = h.getInfo()
        has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        if status == statuses.kOptimal:
            values = scale.values(list(h.getSolution().col_value))
            bound = info.objective_function_value if relax else info.mip_dual_bound
            return Outcome("optimal", values, info.objective_function_value / factor, bound / factor, 0.0)
        if status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
            return Outcome("infeasible")
        if status in (statuses.kInterrupt, getattr(statuses, "kHighsInterrupt", statuses.kInterrupt)):
            raise KeyboardInterrupt
        if status in (statuses.kTimeLimit, statuses.kIterationLimit, statuses.kSolutionLimit):
            if relax or not has_solution:
                return Outcome("timeout")
            objective = float(info.objective_function_value) / factor
            bound = float(info.mip_dual_bound) / factor
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
            values = scale.values(list(h.getSolution().col_value))
            return Outcome("feasible", values, objective, bound, gap)
        raise SolverFailed(f"HiGHS stopped: {h.modelStatusToString(status)}")
