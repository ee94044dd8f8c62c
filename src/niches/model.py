"""Scenario -> mixed-integer program (PuLP); solve -> Solution.

The only module that imports pulp. Variables and constraints carry domain
names (`choose[ai.lead]`, `budget[2027]`, `max_exposure[China]`; PuLP writes
brackets as underscores) so an LP dump reads like the scenario.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulp

from niches.evaluate import (
    RELATIVE_TIE,
    Metrics,
    evaluate,
    objective_value,
    violated_rules,
)
from niches.scenario import OBJECTIVES, Scenario

SOLVERS = ("cbc", "highs")


class SolverFailed(Exception):
    """The solver stopped without any portfolio (an error or the time limit)."""


@dataclass(frozen=True)
class Solution:
    """The outcome of a solve.

    `status` is "optimal", "feasible" (time limit hit with a portfolio in
    hand; `gap` is the relative optimality gap when the solver reports one)
    or "infeasible". `objective` is in value units (for `regret`, the largest
    shortfall, lower is better). `best_by_world` holds V*_k when the
    objective needed it. `solves` counts solver calls.
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


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Silence file descriptor 1 (HiGHS prints a banner when it is constructed)."""
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


class _QuietHiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's in-process HiGHS, without the banner on standard output."""

    def createAndConfigureSolver(self, lp: Any) -> None:
        with _stdout_silenced():
            super().createAndConfigureSolver(lp)


def solver_version(name: str) -> str:
    """Return the version string of solver `name`."""
    if name == "highs":
        import importlib.metadata

        return f"HiGHS {importlib.metadata.version('highspy')}"
    return f"CBC (PuLP {pulp.__version__})"


def _solver(name: str, seconds: float | None, log_path: str | None) -> Any:
    if name == "highs":
        return _QuietHiGHS(msg=False, gapRel=0.0, gapAbs=0.0, timeLimit=seconds, threads=1)
    if name == "cbc":
        options: dict[str, Any] = {"logPath": log_path} if log_path else {}
        return pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, gapAbs=0.0, timeLimit=seconds, **options)
    raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")


class _Names:
    """Hand out unique PuLP names built from domain words."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, text: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.\[\]]+", "_", text)
        name, i = base, 1
        while name.lower() in self.used:
            i += 1
            name = f"{base}_{i}"
        self.used.add(name.lower())
        return name


class PortfolioModel:
    """The MILP of one scenario, built once and solved under several objectives.

    Rule groups named in `disabled` (`budget[2027]`, `min_cvar`, ...) are left
    out, which later analyses use to price and relax rules.
    """

    def __init__(self, scenario: Scenario, disabled: frozenset[str] = frozenset()) -> None:
        self.scenario = scenario
        self.disabled = disabled
        self.name = _Names()
        self.problem = pulp.LpProblem(self.name(f"niches_{scenario.name}"), pulp.LpMaximize)
        self.choose: dict[tuple[str, str], Any] = {}
        self.groups: dict[str, list[str]] = {}
        self._helpers: dict[str, Any] = {}
        self._build()

    # ---------------------------------------------------------------- building
    def _constraint(self, group: str, constraint: Any, label: str | None = None) -> None:
        if group in self.disabled:
            return
        name = self.name(label or group)
        self.problem += constraint, name
        self.groups.setdefault(group, []).append(name)

    def _build(self) -> None:
        s = self.scenario
        for niche in s.niches:
            for level in niche.levels:
                self.choose[niche.id, level.id] = pulp.LpVariable(
                    self.name(f"choose[{niche.id}.{level.id}]"), cat="Binary"
                )
        self.chosen = {n.id: pulp.lpSum(self.choose[n.id, lv.id] for lv in n.levels) for n in s.niches}
        for niche in s.niches:
            if len(niche.levels) > 1:
                self.problem += self.chosen[niche.id] <= 1, self.name(f"one_level[{niche.id}]")
        self.both: dict[tuple[str, str], Any] = {}
        for niche in s.niches:
            for other in niche.synergy:
                var = pulp.LpVariable(self.name(f"both[{niche.id}+{other}]"), 0, 1)
                a, b = self.chosen[niche.id], self.chosen[other]
                label = f"synergy[{niche.id}+{other}]"
                self.problem += var <= a, self.name(f"{label}.a")
                self.problem += var <= b, self.name(f"{label}.b")
                self.problem += var >= a + b - 1, self.name(f"{label}.ab")
                self.both[niche.id, other] = var

        self.value: dict[str, Any] = {}
        for world in s.worlds:
            var = pulp.LpVariable(self.name(f"value[{world.id}]"))
            terms = [
                (self.choose[n.id, lv.id], self._level_value(n.id, lv.id, world.id))
                for n in s.niches
                for lv in n.levels
            ]
            terms += [(var_, s.niche(a).synergy[b]) for (a, b), var_ in self.both.items()]
            self.problem += (
                var == pulp.LpAffineExpression([(v, c) for v, c in terms if c != 0]),
                self.name(f"value_of[{world.id}]"),
            )
            self.value[world.id] = var
        self.expected = pulp.lpSum(w.probability * self.value[w.id] for w in s.worlds)

        self.spend = {
            p: pulp.LpAffineExpression(
                [
                    (self.choose[n.id, lv.id], lv.cost[p])
                    for n in s.niches
                    for lv in n.levels
                    if lv.cost[p] != 0
                ]
            )
            for p in s.periods
        }
        self.total_spend = pulp.LpAffineExpression(
            [
                (self.choose[n.id, lv.id], lv.total_cost)
                for n in s.niches
                for lv in n.levels
                if lv.total_cost != 0
            ]
        )
        self.count = pulp.lpSum(self.chosen.values())
        self._rules()

    def _level_value(self, niche_id: str, level_id: str, world: str) -> float:
        niche = self.scenario.niche(niche_id)
        level = niche.level(level_id)
        base = math.fsum(c.weight * level.scores[c.id].mean for c in self.scenario.criteria)
        return niche.outlook.get(world, 1.0) * base

    def _rules(self) -> None:
        s, r = self.scenario, self.scenario.rules
        for period, cap in s.budget.items():
            self._constraint(f"budget[{period}]", self.spend[period] <= cap)
        if s.budget_total is not None:
            self._constraint("budget[total]", self.total_spend <= s.budget_total)
        for resource, amount in s.capacities.items():
            use = pulp.LpAffineExpression(
                [
                    (self.choose[n.id, lv.id], lv.uses[resource])
                    for n in s.niches
                    for lv in n.levels
                    if lv.uses.get(resource)
                ]
            )
            self._constraint(f"capacity[{resource}]", use <= amount)
        if r.min_niches is not None:
            self._constraint("min_niches", self.count >= r.min_niches)
        if r.max_niches is not None:
            self._constraint("max_niches", self.count <= r.max_niches)
        for nid in r.must_include:
            self._constraint(f"must_include[{nid}]", self.chosen[nid] >= 1)
        for nid in r.must_exclude:
            self._constraint(f"must_exclude[{nid}]", self.chosen[nid] <= 0)
        if r.max_share is not None:
            for niche in s.niches:
                own = pulp.lpSum(lv.total_cost * self.choose[niche.id, lv.id] for lv in niche.levels)
                self._constraint("max_share", own <= r.max_share * self.total_spend, f"max_share[{niche.id}]")
        numerators = {
            p: pulp.LpAffineExpression(
                [
                    (self.choose[n.id, lv.id], lv.total_cost * n.exposure.get(p, 0.0))
                    for n in s.niches
                    for lv in n.levels
                    if lv.total_cost * n.exposure.get(p, 0.0) != 0
                ]
            )
            for p in s.powers
        }
        for power, cap in r.max_exposure.items():
            self._constraint(f"max_exposure[{power}]", numerators[power] <= cap * self.total_spend)
        if r.max_imbalance is not None:
            for a in s.powers:
                for b in s.powers:
                    if a != b:
                        self._constraint(
                            "max_imbalance",
                            numerators[a] - numerators[b] <= r.max_imbalance * self.total_spend,
                            f"max_imbalance[{a}-{b}]",
                        )
        if r.min_worst_case is not None:
            for world in s.worlds:
                self._constraint(
                    "min_worst_case",
                    self.value[world.id] >= r.min_worst_case,
                    f"min_worst_case[{world.id}]",
                )
        if r.min_cvar is not None and "min_cvar" not in self.disabled:
            self._constraint("min_cvar", self._cvar_expression("cvar_floor") >= r.min_cvar)
        for niche in s.niches:
            for needed in niche.requires:
                self._constraint(
                    f"requires[{niche.id} -> {needed}]",
                    self.chosen[niche.id] <= self.chosen[needed],
                )
            for other in niche.excludes:
                self._constraint(
                    f"excludes[{niche.id}, {other}]",
                    self.chosen[niche.id] + self.chosen[other] <= 1,
                )

    def _cvar_expression(self, prefix: str) -> Any:
        """Return eta - E[(eta - V)+]/tail, whose maximum over eta is the CVaR."""
        s = self.scenario
        eta = pulp.LpVariable(self.name(f"{prefix}.threshold"))
        terms = []
        for world in s.worlds:
            short = pulp.LpVariable(self.name(f"{prefix}.shortfall[{world.id}]"), lowBound=0)
            self.problem += (
                short >= eta - self.value[world.id],
                self.name(f"{prefix}.shortfall_def[{world.id}]"),
            )
            terms.append(world.probability * short)
        return eta - (1.0 / s.rules.cvar_tail) * pulp.lpSum(terms)

    def primary(self, kind: str, best_by_world: Mapping[str, float] | None = None) -> Any:
        """Return the objective expression of `kind` (built once; regret is minimised)."""
        if kind in self._helpers:
            return self._helpers[kind]
        if kind == "expected":
            expr = self.expected
        elif kind == "worst_case":
            expr = pulp.LpVariable(self.name("worst_case"))
            for world in self.scenario.worlds:
                self.problem += expr <= self.value[world.id], self.name(f"worst_case_of[{world.id}]")
        elif kind == "cvar":
            expr = self._cvar_expression("cvar")
        elif kind == "regret":
            if best_by_world is None:
                raise ValueError("regret needs the best value of each world")
            expr = pulp.LpVariable(self.name("max_regret"))
            for world in self.scenario.worlds:
                self.problem += (
                    expr >= best_by_world[world.id] - self.value[world.id],
                    self.name(f"regret_in[{world.id}]"),
                )
        else:
            raise ValueError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")
        self._helpers[kind] = expr
        return expr

    # ---------------------------------------------------------------- solving
    def optimise(self, expression: Any, maximise: bool, solver: str, seconds: float | None) -> _Outcome:
        """Solve with `expression` as objective; return the chosen portfolio and status."""
        self.problem.setObjective(expression)
        self.problem.sense = pulp.LpMaximize if maximise else pulp.LpMinimize
        log_path = None
        if seconds is not None and solver == "cbc":
            handle, log_path = tempfile.mkstemp(prefix="niches-cbc-", suffix=".log")
            os.close(handle)
        try:
            self.problem.solve(_solver(solver, seconds, log_path))
            gap = _cbc_gap(log_path) if log_path else _highs_gap(self.problem, solver)
        except pulp.PulpSolverError as exc:
            raise SolverFailed(f"the {solver} solver failed: {exc}") from None
        finally:
            if log_path:
                Path(log_path).unlink(missing_ok=True)
        sol_status = self.problem.sol_status
        if sol_status == pulp.LpSolutionInfeasible or self.problem.status == pulp.LpStatusInfeasible:
            return _Outcome("infeasible", None, None)
        if sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            if seconds is not None:
                return _Outcome("timeout", None, None)
            raise SolverFailed(f"the {solver} solver stopped: {pulp.LpStatus[self.problem.status]}")
        portfolio = {
            nid: lid
            for (nid, lid), var in self.choose.items()
            if var.value() is not None and var.value() > 0.5
        }
        proven = sol_status == pulp.LpSolutionOptimal
        return _Outcome("optimal" if proven else "feasible", portfolio, None if proven else gap)

    def pin(self, label: str, expression: Any, bound: float, at_least: bool) -> None:
        """Add the constraint `expression >= bound` (or <=), used for tie-break stages."""
        constraint = expression >= bound if at_least else expression <= bound
        self.problem += constraint, self.name(label)

    def tie_rank_expression(self) -> Any:
        """Return the sum of declaration positions of chosen levels (the last tie-break)."""
        terms = []
        position = 0
        for niche in self.scenario.niches:
            for level in niche.levels:
                position += 1
                terms.append((self.choose[niche.id, level.id], float(position)))
        return pulp.LpAffineExpression(terms)

    def write_lp(self, path: str) -> None:
        """Write the model in LP format to `path`."""
        self.problem.writeLP(path)


@dataclass(frozen=True)
class _Outcome:
    status: str
    portfolio: dict[str, str] | None
    gap: float | None


def _cbc_gap(log_path: str) -> float | None:
    text = Path(log_path).read_text(errors="replace")
    match = re.search(r"^Gap:\s+([0-9.eE+-]+)", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _highs_gap(problem: Any, solver: str) -> float | None:
    if solver != "highs" or getattr(problem, "solverModel", None) is None:
        return None
    gap = float(problem.solverModel.getInfo().mip_gap)
    return gap if math.isfinite(gap) else None


def _tolerance(value: float) -> float:
    return RELATIVE_TIE * max(1.0, abs(value))


class _Clock:
    def __init__(self, seconds: float | None) -> None:
        self.start = time.perf_counter()
        self.deadline = None if seconds is None else self.start + seconds

    def left(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.05, self.deadline - time.perf_counter())

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def best_by_world(
    scenario: Scenario,
    solver: str = "cbc",
    time_limit: float | None = None,
    disabled: frozenset[str] = frozenset(),
) -> dict[str, float] | None:
    """Return V*_k, the best value reachable in each world alone; None if infeasible."""
    model = PortfolioModel(scenario, disabled)
    clock = _Clock(time_limit)
    result: dict[str, float] = {}
    for world in scenario.worlds:
        outcome = model.optimise(model.value[world.id], True, solver, clock.left())
        if outcome.portfolio is None:
            return None
        result[world.id] = evaluate(scenario, outcome.portfolio).value_by_world[world.id]
    return result


def solve(
    scenario: Scenario,
    objective: str | None = None,
    solver: str = "cbc",
    time_limit: float | None = None,
    disabled: frozenset[str] = frozenset(),
    write_lp: str | None = None,
    tie_breaks: bool = True,
) -> Solution:
    """Choose the best portfolio; ties go to higher expected value, then lower spend.

    Return a Solution whose status is "optimal", "feasible" or "infeasible";
    raise SolverFailed when the solver stops without any portfolio. With
    `tie_breaks` off, only the primary objective is optimised (one solve).
    """
    kind = objective or scenario.objective
    if kind not in OBJECTIVES:
        raise ValueError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    clock = _Clock(time_limit)
    solves = 0
    stars: dict[str, float] | None = None
    if kind == "regret":
        stars = best_by_world(scenario, solver, time_limit, disabled)
        solves += len(scenario.worlds)
        if stars is None:
            return _infeasible(scenario, kind, solver, solves, clock)
    model = PortfolioModel(scenario, disabled)
    primary = model.primary(kind, stars)
    if write_lp:
        model.problem.setObjective(primary)
        model.write_lp(write_lp)
    maximise = kind != "regret"
    stages: list[tuple[str, Any, bool, Callable[[Metrics], float] | None]] = [
        ("objective", primary, maximise, lambda m: objective_value(kind, m, stars)),
    ]
    if kind != "expected":
        stages.append(("expected_value", model.expected, True, lambda m: m.expected_value))
    stages.append(("spend", model.total_spend, False, lambda m: m.cost))
    stages.append(("rank", model.tie_rank_expression(), False, None))
    if not tie_breaks:
        stages = stages[:1]
    best: dict[str, str] = {}
    status, gap = "optimal", None
    notes: list[str] = []
    for index, (label, expression, up, measure) in enumerate(stages):
        outcome = model.optimise(expression, up, solver, clock.left())
        solves += 1
        if index == 0:
            if outcome.status == "timeout":
                raise SolverFailed(
                    f"the {solver} solver hit the time limit ({time_limit:g} s) without any "
                    "portfolio; raise --time-limit"
                )
            if outcome.portfolio is None:
                return _infeasible(scenario, kind, solver, solves, clock)
            best, status, gap = outcome.portfolio, outcome.status, outcome.gap
            if status != "optimal":
                break  # time limit: keep the portfolio in hand, skip the tie-breaks
        elif outcome.portfolio is None or outcome.status != "optimal":
            notes.append(f"the time limit cut the tie-break on {label.replace('_', ' ')} short")
            break  # the primary optimum stands
        else:
            best = outcome.portfolio
        if measure is not None:
            value = measure(evaluate(scenario, best))
            bound = value - _tolerance(value) if up else value + _tolerance(value)
            model.pin(f"tie[{label}]", expression, bound, up)
    metrics = evaluate(scenario, best)
    broken = violated_rules(scenario, best, metrics, disabled)
    if broken:  # the solver's tolerances let a rule slip; say so rather than hide it
        notes.append(f"solver tolerance: the portfolio breaks {', '.join(broken)} slightly")
    return Solution(
        scenario=scenario,
        status=status,
        objective_kind=kind,
        objective=objective_value(kind, metrics, stars),
        portfolio=best,
        metrics=metrics,
        solver=solver,
        best_by_world=stars,
        gap=gap,
        solves=solves,
        seconds=clock.elapsed(),
        notes=tuple(notes),
    )


def _infeasible(scenario: Scenario, kind: str, solver: str, solves: int, clock: _Clock) -> Solution:
    return Solution(
        scenario=scenario,
        status="infeasible",
        objective_kind=kind,
        objective=None,
        portfolio={},
        metrics=None,
        solver=solver,
        solves=solves,
        seconds=clock.elapsed(),
    )
