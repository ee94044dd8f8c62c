"""CBC through PuLP: the formulation written as a PuLP problem, CBC run as a child process.

PuLP is the modelling layer here (names, the MPS and LP writers, the solution
reader); the process itself is ours: it runs in a private temporary folder
that is removed on every exit path, it is ended when the solve is interrupted
or overruns its time limit, and the gap of a stopped solve is computed from
the bound and incumbent CBC prints (never from its rounded "Gap" line).

This is the only module that imports pulp.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pulp

from niches.optimize.formulation import Formulation
from niches.optimize.solvers.outcome import Backend, Outcome, SolverFailed
from niches.optimize.solvers.scaling import Scaling
from niches.optimize.solvers.verify import problem as trouble_with

GRACE = 0.5
"""Seconds CBC may overrun its own time limit before it is ended."""


def pulp_name(text: str) -> str:
    """Return the name PuLP writes for `text` (brackets and spaces become underscores)."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", text)


def build_problem(
    form: Formulation, objective: Mapping[int, float], maximise: bool, scale: Scaling | None = None
) -> tuple[Any, list[Any]]:
    """Return the formulation as a PuLP problem (free rows left out) and its variables by column.

    With `scale`, the problem is the scaled model (`niches.optimize.solvers.scaling`);
    without, it reads like the scenario (the LP dump).
    """
    used: set[str] = set()
    scaled = dict(objective)
    if scale is None:
        scale = Scaling.identity(form)
    else:
        scaled, _ = scale.objective(objective)

    def unique(text: str) -> str:
        base = pulp_name(text)
        name, i = base, 1
        while name.lower() in used:
            i += 1
            name = f"{base}_{i}"
        used.add(name.lower())
        return name

    problem = pulp.LpProblem(
        unique(f"niches_{form.scenario.name}"), pulp.LpMaximize if maximise else pulp.LpMinimize
    )
    variables = [
        pulp.LpVariable(
            unique(name),
            None if math.isinf(low) else scale.col_bound(c, low),
            None if math.isinf(high) else scale.col_bound(c, high),
            pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for c, (name, low, high, integer) in enumerate(
            zip(form.col_name, form.col_lower, form.col_upper, form.col_integer, strict=True)
        )
    ]
    problem.setObjective(pulp.LpAffineExpression([(variables[c], v) for c, v in scaled.items()]))
    for r, (name, coefs, low, high) in enumerate(
        zip(form.row_name, form.row_coef, form.row_lower, form.row_upper, strict=True)
    ):
        if math.isinf(low) and math.isinf(high):
            continue
        low, high = scale.row_bound(r, low), scale.row_bound(r, high)
        expression = pulp.LpAffineExpression(
            [(variables[c], scale.coefficient(r, c, v)) for c, v in coefs.items()]
        )
        if low == high:
            problem += expression == low, unique(name)
        elif math.isinf(high):
            problem += expression >= low, unique(name)
        elif math.isinf(low):
            problem += expression <= high, unique(name)
        else:
            problem += expression >= low, unique(f"{name}.low")
            problem += expression <= high, unique(f"{name}.high")
    return problem, variables


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """Yield a private temporary folder, removed when the block ends (however it ends).

    The folder is made inside the `try`, so a signal that arrives while it is
    being made or removed still leaves nothing behind.
    """
    folder = Path(tempfile.gettempdir()) / f"niches-cbc-{secrets.token_hex(8)}"
    ours = True
    try:
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            ours = False  # not ours to remove
            raise
        yield folder
    finally:
        if ours:
            _remove(folder)


def _remove(folder: Path) -> None:
    """Remove `folder`; if a signal interrupts the removal, finish it, then let the signal through."""
    try:
        shutil.rmtree(folder, ignore_errors=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _end(process: subprocess.Popen[bytes]) -> None:
    """End a child process and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _log_number(text: str, label: str) -> float | None:
    match = re.search(rf"^{label}:\s+([-+0-9.eE]+)", text, re.MULTILINE)
    if not match:
        return None
    try:
        return float(match.group(1))
    except ValueError:
        return None


class CbcBackend:
    """Solve a formulation with CBC, rebuilding the PuLP problem for each solve.

    `journal`: whether this back end reads (and so clears) the formulation's
    journal of changes; a stand-in for another back end leaves it to that one.
    `solution_limit`: stop a MILP after that many solutions (status
    "feasible", as a time limit does): a deterministic stop, for tests.
    """

    name = "cbc"

    def __init__(
        self,
        formulation: Formulation,
        journal: bool = True,
        fallback: Callable[[Formulation], Backend] | None = None,
    ) -> None:
        self.form = formulation
        self.journal = journal
        self.fallback = fallback
        self.solves = 0
        self.solution_limit: int | None = None
        self.path = pulp.PULP_CBC_CMD().path

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
        """Solve the formulation as it stands (`start` is not used; `relax` solves the LP).

        An answer that does not check (`verify.problem`), or a run that
        fails, is solved by HiGHS instead (`careful` goes there directly),
        with a note. `cutoff` is not used: CBC returns the optimum, and the
        caller compares it with the cutoff.
        """
        if self.journal:
            self.form.take_changes()
        trouble = "was asked to solve again" if careful else None
        if not careful:
            scale = Scaling()
            scale.update(self.form, 0, 0)
            try:
                outcome = self._run(objective, maximise, seconds, relax, scale)
            except SolverFailed as failed:
                trouble = str(failed).removeprefix("CBC ")
            else:
                trouble = trouble_with(self.form, objective, outcome, relax, scale)
                if trouble is None:
                    return outcome
        if self.fallback is None:  # a stand-in for HiGHS: no third solver to ask
            raise SolverFailed(f"CBC {trouble}")
        other = self.fallback(self.form)
        try:
            outcome = other.solve(objective, maximise, seconds, None, relax)
        except SolverFailed as failed:
            raise SolverFailed(f"CBC {trouble}, and {failed}") from None
        finally:
            self.solves += other.solves
        return dataclasses.replace(outcome, notes=(f"CBC {trouble}; solved by HiGHS instead", *outcome.notes))

    def _run(
        self,
        objective: Mapping[int, float],
        maximise: bool,
        seconds: float | None,
        relax: bool,
        scale: Scaling,
    ) -> Outcome:
        """Run CBC once on the model scaled by `scale`; return its outcome in the scenario's units."""
        _, factor = scale.objective(objective)
        problem, variables = build_problem(self.form, objective, maximise, scale)
        self.solves += 1
        with private_folder() as folder:
            mps, solution, log = folder / "model.mps", folder / "model.sol", folder / "cbc.log"
            _, names, rows, _ = problem.writeMPS(str(mps), rename=1)
            args = [self.path, str(mps)]
            if maximise:
                args.append("-max")
            if seconds is not None:
                args += ["-sec", f"{max(seconds, 0.01):.3f}", "-timeMode", "elapsed"]
            if self.solution_limit is not None and not relax:
                args += ["-maxSolutions", str(self.solution_limit)]
            args += ["-ratio", "0", "-allow", "0", "-initialSolve" if relax else "-solve"]
            args += ["-printingOptions", "all", "-solution", str(solution)]
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
                try:
                    self._wait(process, seconds)
                finally:
                    _end(process)
            text = log.read_text(errors="replace")
            if not solution.exists():
                if seconds is not None:
                    return Outcome("timeout")
                raise SolverFailed(f"CBC stopped without a solution (exit {process.returncode})")
            reader = pulp.PULP_CBC_CMD(msg=False)
            variables_by_name = {v.name: v for v in problem.variables()}
            status, values, _, _, _, sol_status = reader.readsol_MPS(
                str(solution), problem, list(variables_by_name.values()), names, rows
            )
        found = self._outcome(status, sol_status, values, variables, text, maximise, relax)
        if found.values is None:
            return found
        return Outcome(
            found.status,
            scale.values(found.values),
            None if found.objective is None else found.objective / factor,
            None if found.bound is None else found.bound / factor,
            found.gap,
        )

    @staticmethod
    def _wait(process: subprocess.Popen[bytes], seconds: float | None) -> None:
        if seconds is None:
            process.wait()
            return
        deadline = time.monotonic() + seconds + GRACE + 0.1 * seconds
        while process.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return  # overran its own limit: `_end` stops it, and the solve counts as timed out
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=min(left, 0.2))

    @staticmethod
    def _outcome(
        status: int,
        sol_status: int,
        values: Mapping[str, float],
        variables: list[Any],
        log: str,
        maximise: bool,
        relax: bool,
    ) -> Outcome:
        if sol_status == pulp.LpSolutionInfeasible or status == pulp.LpStatusInfeasible:
            return Outcome("infeasible")
        if sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            if status == pulp.LpStatusNotSolved:
                return Outcome("timeout")
            raise SolverFailed(f"CBC stopped: {pulp.LpStatus[status]}")
        column_values = [float(values.get(v.name, 0.0) or 0.0) for v in variables]
        objective = _log_number(log, "Objective value")
        if sol_status == pulp.LpSolutionOptimal or relax:
            return Outcome("optimal", column_values, objective, objective, 0.0)
        bound = _log_number(log, "Upper bound" if maximise else "Lower bound")
        if bound is None:
            bound = _log_number(log, "Lower bound")
        gap = None
        if objective is not None and bound is not None:
            gap = abs(bound - objective) / max(abs(objective), 1e-10)
        return Outcome("feasible", column_values, objective, bound, gap)


def write_lp(form: Formulation, objective: Mapping[int, float], maximise: bool, path: str) -> None:
    """Write the formulation in LP format, with the scenario's names."""
    problem, _ = build_problem(form, objective, maximise)
    problem.writeLP(path)
