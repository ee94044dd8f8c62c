"""Scenario -> mixed-integer program (PuLP); solve -> Solution.

The only module that imports pulp. Variables and constraints carry domain
names (`choose[ai.lead]`, `budget[2027]`, `max_exposure[China]`; PuLP writes
brackets as underscores) so an LP dump reads like the scenario.

A `PortfolioModel` is built once and re-solved many times: analyses switch
rule groups off, move their limits, change value coefficients or add
temporary constraints inside `variant(...)`, and everything is restored after.
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
    level_value,
    numeric_limits,
    objective_value,
    rule_groups,
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

        return f"HiGHS (highspy {importlib.metadata.version('highspy')})"
    return f"CBC (bundled with PuLP {pulp.__version__})"


def _solver(name: str, seconds: float | None, log_path: str | None) -> Any:
    if name == "highs":
        return _QuietHiGHS(
            msg=False,
            gapRel=0.0,
            gapAbs=0.0,
            timeLimit=seconds,
            threads=1,
            # tighter than the defaults (1e-6, 1e-7), well below the 1e-6 relative tie tolerance
            mip_feasibility_tolerance=1e-9,
            primal_feasibility_tolerance=1e-9,
        )
    if name == "cbc":
        options: dict[str, Any] = {"logPath": log_path} if log_path else {}
        return pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, gapAbs=0.0, timeLimit=seconds, **options)
    raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")


class _Names:
    """Hand out unique PuLP names built from domain words."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, text: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", text)  # what PuLP would make of it
        name, i = base, 1
        while name.lower() in self.used:
            i += 1
            name = f"{base}_{i}"
        self.used.add(name.lower())
        return name


@dataclass(frozen=True)
class _Outcome:
    status: str  # optimal | feasible | infeasible | timeout
    portfolio: dict[str, str] | None
    gap: float | None


class PortfolioModel:
    """The MILP of one scenario, built once and re-solved under many variants.

    Constraints are removed through `problem._constraints`, the mapping PuLP
    itself reads when it writes a model (it has no public removal call).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.name = _Names()
        self.problem = pulp.LpProblem(self.name(f"niches_{scenario.name}"), pulp.LpMaximize)
        self.solves = 0
        self.choose: dict[tuple[str, str], Any] = {}
        self._helpers: dict[str, Any] = {}
        self._group_constraints: dict[str, list[tuple[str, Any]]] = {}
        self.limits: dict[str, float] = {}
        self._build()
        self.cvar_expression()
        self.worst_expression()
        self._regret = pulp.LpVariable(self.name("max_regret"))
        self._regret_rows = {}
        for world in scenario.worlds:
            row = self._regret + self.value[world.id] >= 0  # the right-hand side is set per solve
            self.problem += row, self.name(f"regret_in[{world.id}]")
            self._regret_rows[world.id] = row
        self.rule_groups = tuple(rule_groups(scenario))
        for group in self.rule_groups:
            self._set_group(group, self.limits.get(group))

    # ---------------------------------------------------------------- building
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
        self._value_rows: dict[str, Any] = {}
        for world in s.worlds:
            var = pulp.LpVariable(self.name(f"value[{world.id}]"))
            terms = [
                (self.choose[n.id, lv.id], -self.level_value(n.id, lv.id, world.id))
                for n in s.niches
                for lv in n.levels
            ]
            terms += [(var_, -s.niche(a).synergy[b]) for (a, b), var_ in self.both.items()]
            row = pulp.LpAffineExpression([(var, 1.0), *terms]) == 0
            self.problem += row, self.name(f"value_of[{world.id}]")
            self.value[world.id] = var
            self._value_rows[world.id] = row
        self.expected = pulp.lpSum(w.probability * self.value[w.id] for w in s.worlds)
        self.spend = {
            p: pulp.LpAffineExpression(
                [(self.choose[n.id, lv.id], lv.cost[p]) for n in s.niches for lv in n.levels if lv.cost[p]]
            )
            for p in s.periods
        }
        self.total_spend = pulp.LpAffineExpression(
            [(self.choose[n.id, lv.id], lv.total_cost) for n in s.niches for lv in n.levels if lv.total_cost]
        )
        self.count = pulp.lpSum(self.chosen.values())
        self.uses = {
            r: pulp.LpAffineExpression(
                [
                    (self.choose[n.id, lv.id], lv.uses[r])
                    for n in s.niches
                    for lv in n.levels
                    if lv.uses.get(r)
                ]
            )
            for r in s.capacities
        }
        self.numerators = {
            p: pulp.LpAffineExpression(
                [
                    (self.choose[n.id, lv.id], lv.total_cost * n.exposure.get(p, 0.0))
                    for n in s.niches
                    for lv in n.levels
                    if lv.total_cost * n.exposure.get(p, 0.0)
                ]
            )
            for p in s.powers
        }
        self.limits = numeric_limits(s)

    def level_value(self, niche_id: str, level_id: str, world: str) -> float:
        """Return v(n, l, k) as the scenario states it."""
        return level_value(self.scenario, niche_id, level_id, world)

    def _make(self, group: str, limit: float | None) -> list[tuple[str, Any]]:
        """Return the named constraints of rule group `group` with limit `limit`."""
        s = self.scenario
        family, _, inner = group.partition("[")
        inner = inner[:-1] if inner else ""
        lim = 0.0 if limit is None else limit
        if family == "budget":
            lhs = self.total_spend if inner == "total" else self.spend[inner]
            return [(group, lhs <= lim)]
        if family == "capacity":
            return [(group, self.uses[inner] <= lim)]
        if family == "min_niches":
            return [(group, self.count >= lim)]
        if family == "max_niches":
            return [(group, self.count <= lim)]
        if family == "must_include":
            return [(group, self.chosen[inner] >= 1)]
        if family == "must_exclude":
            return [(group, self.chosen[inner] <= 0)]
        if family == "max_share":
            return [
                (
                    f"max_share[{n.id}]",
                    pulp.lpSum(
                        self.total_spend.get(self.choose[n.id, lv.id], 0.0) * self.choose[n.id, lv.id]
                        for lv in n.levels
                    )
                    <= lim * self.total_spend,
                )
                for n in s.niches
            ]
        if family == "max_exposure":
            return [(group, self.numerators[inner] <= lim * self.total_spend)]
        if family == "max_imbalance":
            return [
                (f"max_imbalance[{a}-{b}]", self.numerators[a] - self.numerators[b] <= lim * self.total_spend)
                for a in s.powers
                for b in s.powers
                if a != b
            ]
        if family == "min_worst_case":
            return [(f"min_worst_case[{w.id}]", self.value[w.id] >= lim) for w in s.worlds]
        if family == "min_cvar":
            return [(group, self.cvar_expression() >= lim)]
        if family == "requires":
            a, b = inner.split(" -> ")
            return [(group, self.chosen[a] <= self.chosen[b])]
        if family == "excludes":
            a, b = inner.split(", ")
            return [(group, self.chosen[a] + self.chosen[b] <= 1)]
        raise ValueError(f"unknown rule group {group!r}")

    def _set_group(self, group: str, limit: float | None) -> None:
        self._drop_group(group)
        added = []
        for label, constraint in self._make(group, limit):
            name = self.name(label)
            self.problem += constraint, name
            added.append((name, constraint))
        self._group_constraints[group] = added

    def _drop_group(self, group: str) -> None:
        for name, _ in self._group_constraints.pop(group, []):
            self.problem._constraints.pop(name, None)
            self.name.used.discard(name.lower())

    def cvar_expression(self) -> Any:
        """Return eta - E[(eta - V)+]/tail, whose maximum over eta is the CVaR (built once)."""
        if "cvar" in self._helpers:
            return self._helpers["cvar"]
        s = self.scenario
        eta = pulp.LpVariable(self.name("cvar.threshold"))
        terms = []
        for world in s.worlds:
            short = pulp.LpVariable(self.name(f"cvar.shortfall[{world.id}]"), lowBound=0)
            self.problem += short >= eta - self.value[world.id], self.name(f"cvar.shortfall_def[{world.id}]")
            terms.append(world.probability * short)
        expr = eta - (1.0 / s.rules.cvar_tail) * pulp.lpSum(terms)
        self._helpers["cvar"] = expr
        return expr

    def worst_expression(self) -> Any:
        """Return a variable bounded above by every world's value (built once)."""
        if "worst" not in self._helpers:
            worst = pulp.LpVariable(self.name("worst_case"))
            for world in self.scenario.worlds:
                self.problem += worst <= self.value[world.id], self.name(f"worst_case_of[{world.id}]")
            self._helpers["worst"] = worst
        return self._helpers["worst"]

    def regret_expression(self, best_by_world: Mapping[str, float]) -> Any:
        """Return the max-regret variable after setting `max_regret + V_k >= V*_k` for every world."""
        for world in self.scenario.worlds:
            self._regret_rows[world.id].constant = -best_by_world[world.id]
        return self._regret

    def primary(self, kind: str, best_by_world: Mapping[str, float] | None = None) -> Any:
        """Return the objective expression of `kind` (regret is minimised, the others maximised)."""
        if kind == "expected":
            return self.expected
        if kind == "worst_case":
            return self.worst_expression()
        if kind == "cvar":
            return self.cvar_expression()
        if kind == "regret":
            if best_by_world is None:
                raise ValueError("regret needs the best value of each world")
            return self.regret_expression(best_by_world)
        raise ValueError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")

    def tie_rank_expression(self) -> Any:
        """Return the sum of declaration positions of chosen levels (the last tie-break)."""
        terms = []
        position = 0
        for niche in self.scenario.niches:
            for level in niche.levels:
                position += 1
                terms.append((self.choose[niche.id, level.id], float(position)))
        return pulp.LpAffineExpression(terms)

    # ---------------------------------------------------------------- variants
    @contextlib.contextmanager
    def variant(
        self,
        disabled: frozenset[str] | set[str] = frozenset(),
        limits: Mapping[str, float] | None = None,
        values: Mapping[tuple[str, str, str], float] | None = None,
        costs: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
    ) -> Iterator[PortfolioModel]:
        """Temporarily drop rule groups, move limits, change level values or costs; restore after.

        `values` maps (niche, level, world) -> v(n, l, k) to use instead of the
        scenario's; `costs` maps (niche, level) -> period -> cost.
        """
        changed_groups = set(disabled) | set(limits or {})
        if costs:
            self._set_costs(costs)
            changed_groups |= set(self.rule_groups)
            for group in self.rule_groups:  # rebuild from the new coefficients
                self._set_group(group, self.limits.get(group))
        changed_values: list[tuple[str, Any, float]] = []
        extra_before = set(self.problem._constraints)
        variables_before = (list(self.problem._variables), dict(self.problem._variable_ids))
        try:
            for group in disabled:
                self._drop_group(group)
            for group, limit in (limits or {}).items():
                if group not in disabled:
                    self._set_group(group, limit)
            for (nid, lid, world), v in (values or {}).items():
                row = _terms(self._value_rows[world])
                var = self.choose[nid, lid]
                changed_values.append((world, var, row.get(var, 0.0)))
                row[var] = -v
            yield self
        finally:
            for world, var, old in changed_values:
                _terms(self._value_rows[world])[var] = old
            if costs:
                self._set_costs({(n.id, lv.id): lv.cost for n in self.scenario.niches for lv in n.levels})
            for name in set(self.problem._constraints) - extra_before:
                self.problem._constraints.pop(name, None)
                self.name.used.discard(name.lower())
            # variables made for the variant go with it (PuLP would write them with no column)
            self.problem._variables, self.problem._variable_ids = variables_before
            for group in changed_groups & set(self.rule_groups):
                self._set_group(group, self.limits.get(group))

    def _set_costs(self, costs: Mapping[tuple[str, str], Mapping[str, float]]) -> None:
        """Rewrite the cost coefficients of the spend, exposure and share expressions."""
        for (nid, lid), cost in costs.items():
            var = self.choose[nid, lid]
            niche = self.scenario.niche(nid)
            total = math.fsum(cost.values())
            for period, amount in cost.items():
                self.spend[period][var] = amount
            self.total_spend[var] = total
            for power, numerator in self.numerators.items():
                numerator[var] = total * niche.exposure.get(power, 0.0)

    def add(self, label: str, constraint: Any) -> None:
        """Add a constraint; inside `variant(...)` it is removed when the variant ends."""
        self.problem += constraint, self.name(label)

    def variable(self, label: str, low: float | None = None, high: float | None = None) -> Any:
        """Return a new continuous variable; inside `variant(...)` it goes when the variant ends."""
        return pulp.LpVariable(self.name(label), low, high)

    # ---------------------------------------------------------------- solving
    def optimise(self, expression: Any, maximise: bool, solver: str, seconds: float | None) -> _Outcome:
        """Solve with `expression` as objective; return the chosen portfolio and status."""
        if isinstance(expression, (int, float)):
            expression = pulp.LpAffineExpression()
        self.problem.setObjective(expression)
        self.problem.sense = pulp.LpMaximize if maximise else pulp.LpMinimize
        log_path = None
        if seconds is not None and solver == "cbc":
            handle, log_path = tempfile.mkstemp(prefix="niches-cbc-", suffix=".log")
            os.close(handle)
        try:
            self.solves += 1
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

    def feasible(self, solver: str = "cbc") -> bool:
        """Return whether any portfolio keeps the current rules."""
        return self.optimise(0, True, solver, None).portfolio is not None

    def write_lp(self, path: str) -> None:
        """Write the model in LP format to `path`."""
        self.problem.writeLP(path)


def _terms(constraint: Any) -> Any:
    """Return the mutable linear expression of a constraint (PuLP 3 wraps it; PuLP 2 is it)."""
    return getattr(constraint, "expr", constraint)


def _cbc_gap(log_path: str) -> float | None:
    text = Path(log_path).read_text(errors="replace")
    match = re.search(r"^Gap:\s+([0-9.eE+-]+)", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _highs_gap(problem: Any, solver: str) -> float | None:
    if solver != "highs" or getattr(problem, "solverModel", None) is None:
        return None
    gap = float(problem.solverModel.getInfo().mip_gap)
    return gap if math.isfinite(gap) else None


def tolerance(value: float) -> float:
    """Return the tie tolerance around `value` (RELATIVE_TIE, at least absolute)."""
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
    model: PortfolioModel | None = None,
    evaluator: Callable[[Mapping[str, str]], Metrics] | None = None,
) -> dict[str, float] | None:
    """Return V*_k, the best value reachable in each world alone; None if infeasible."""
    model = model or PortfolioModel(scenario)
    score = evaluator or (lambda p: evaluate(scenario, p))
    clock = _Clock(time_limit)
    result: dict[str, float] = {}
    for world in scenario.worlds:
        outcome = model.optimise(model.value[world.id], True, solver, clock.left())
        if outcome.status == "timeout":
            raise SolverFailed(f"the {solver} solver hit the time limit without any portfolio")
        if outcome.portfolio is None:
            return None
        result[world.id] = score(outcome.portfolio).value_by_world[world.id]
    return result


def solve(
    scenario: Scenario,
    objective: str | None = None,
    solver: str = "cbc",
    time_limit: float | None = None,
    disabled: frozenset[str] = frozenset(),
    write_lp: str | None = None,
    tie_breaks: bool = True,
    model: PortfolioModel | None = None,
    evaluator: Callable[[Mapping[str, str]], Metrics] | None = None,
) -> Solution:
    """Choose the best portfolio; ties go to higher expected value, then lower spend.

    Return a Solution whose status is "optimal", "feasible" or "infeasible";
    raise SolverFailed when the solver stops without any portfolio. With
    `tie_breaks` off, only the primary objective is optimised (one solve).
    Pass a built `model` (possibly inside one of its variants) to re-solve
    without rebuilding; `evaluator` then scores portfolios under that variant.
    """
    kind = objective or scenario.objective
    if kind not in OBJECTIVES:
        raise ValueError(f"unknown objective {kind!r}; choose one of {', '.join(OBJECTIVES)}")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    clock = _Clock(time_limit)
    model = model or PortfolioModel(scenario)
    score = evaluator or (lambda p: evaluate(scenario, p))
    before = model.solves
    with model.variant(disabled=disabled) if disabled else contextlib.nullcontext(model):
        stars: dict[str, float] | None = None
        if kind == "regret":
            stars = best_by_world(scenario, solver, time_limit, model, evaluator)
            if stars is None:
                return _infeasible(scenario, kind, solver, model.solves - before, clock)
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
        pinned: list[str] = []
        try:
            for index, (label, expression, up, measure) in enumerate(stages):
                outcome = model.optimise(expression, up, solver, clock.left())
                if index == 0:
                    if outcome.status == "timeout":
                        raise SolverFailed(
                            f"the {solver} solver hit the time limit ({time_limit:g} s) without any "
                            "portfolio; raise --time-limit"
                        )
                    if outcome.portfolio is None:
                        return _infeasible(scenario, kind, solver, model.solves - before, clock)
                    best, status, gap = outcome.portfolio, outcome.status, outcome.gap
                    if status != "optimal":
                        break  # time limit: keep the portfolio in hand, skip the tie-breaks
                elif outcome.portfolio is None or outcome.status != "optimal":
                    notes.append(f"the time limit cut the tie-break on {label.replace('_', ' ')} short")
                    break  # the primary optimum stands
                else:
                    best = outcome.portfolio
                if measure is not None and index < len(stages) - 1:
                    value = measure(score(best))
                    bound = value - tolerance(value) if up else value + tolerance(value)
                    name = model.name(f"tie[{label}]")
                    model.problem += (expression >= bound if up else expression <= bound), name
                    pinned.append(name)
        finally:
            for name in pinned:
                model.problem._constraints.pop(name, None)
                model.name.used.discard(name.lower())
        metrics = score(best)
        if evaluator is None:
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
            solves=model.solves - before,
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
