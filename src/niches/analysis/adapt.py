"""Adaptive plans: commit now, decide when the world order shows itself.

From the reveal period on, the world order is known, so each world k gets its
own portfolio x_k; a choice that starts before the reveal (and a deal funding
one) is the same in every world. Each world's portfolio keeps every rule of
the scenario; the value vector V_k(x_k) (each world read in its own portfolio)
is judged by the scenario's objective, and the floors `min_cvar` and
`min_worst_case` hold on it. Ties go as `solve` breaks them, then to fewer
choices that differ by world.

Three values frame the plan: the adaptive plan's; the fixed plan's (the
scenario's own `solve`: every choice the same in every world); perfect
foresight's (the reveal in the first period: each world's best alone). Two
differences follow, each an improvement so never negative (for regret, where
lower is better, the fall in regret): the value of flexibility (adaptive over
fixed) and the value of perfect information (foresight over adaptive).

Small scenarios without deals are enumerated (`adaptive_solve.enumerate_plan`),
others solved as one MILP with a copy of the model per world
(`adaptive_solve.AdaptiveSolver`), started from the fixed plan. Every figure
here comes from the evaluator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.optimize.adaptive import (
    FLOORS,
    PRIMARY,
    Plan,
    Reveal,
    differing,
    plan_goal,
    plan_objective,
    reveal_of,
)
from niches.optimize.adaptive_solve import AdaptiveSolution, AdaptiveSolver, enumerate_plan
from niches.optimize.checks import rule_checks, rule_groups
from niches.optimize.evaluate import Metrics, evaluate
from niches.optimize.model import TimedOut, tolerance
from niches.optimize.tolerances import FEASIBILITY_TOLERANCE
from niches.scenario import Scenario

if TYPE_CHECKING:
    from niches.study import Study

VERDICTS = ("commit now", "decide at reveal", "never")


class AdaptError(ValueError):
    """The adaptive plan asked for cannot be computed (say why, and how to ask)."""


@dataclass(frozen=True)
class WorldPlan:
    """World `world`'s portfolio in the adaptive plan.

    `portfolio` is the whole portfolio (the common choices and the world's own); `adds` what the world
    adds or starts at or after the reveal; `metrics` the evaluator's figures of `portfolio`; `value`
    its value in this world (value units); `added_value` what `adds` brings in this world (the value
    less the common part's value there); `adds_cost_by_period` the money `adds` costs (scenario units).
    """

    world: str
    probability: float
    portfolio: dict[str, str]
    adds: dict[str, str]
    metrics: Metrics
    value: float
    added_value: float
    adds_cost_by_period: dict[str, float]


@dataclass(frozen=True)
class Verdict:
    """What to do about one niche: `verdict` is one of VERDICTS; `levels` maps each world that takes
    the niche to its level (every world for `commit now`, none for `never`)."""

    niche: str
    verdict: str
    levels: dict[str, str]


@dataclass(frozen=True)
class Values:
    """The adaptive, fixed and perfect-foresight values of the objective (value units; for regret, the
    largest shortfall, lower is better) and the two improvements, never negative: `flexibility`
    (adaptive over fixed) and `information` (foresight over adaptive)."""

    adaptive: float
    fixed: float
    foresight: float
    flexibility: float
    information: float


@dataclass(frozen=True)
class SweepRow:
    """The three values with the reveal in `reveal` (a period id; None: after the last period)."""

    reveal: str | None
    values: Values


@dataclass(frozen=True)
class BindingRule:
    """A rule that binds the adaptive plan: dropping it in every world (a value floor: on the plan)
    would improve the objective by `gain` (value units; regret: the fall); `tight_in` lists the worlds
    whose portfolio meets its limit exactly (a floor: "plan" when the plan's figure meets it)."""

    rule: str
    gain: float
    tight_in: tuple[str, ...]


@dataclass(frozen=True)
class AdaptReport:
    """The adaptive plan of a scenario and its frame.

    `status` is "optimal", "feasible" (the time limit cut the tie-breaks short) or "infeasible" (no
    plan keeps the rules; every other field but `values` is then empty). `commit` holds the common
    choices made before the reveal (niche -> level, deal -> TAKEN) with `commit_metrics` (their cost
    and value alone); `worlds` each world's portfolio; `never` the niches no world takes; `verdicts`
    one per niche in declaration order; `differs` the choices not the same in every world; `binding`
    the rules that bind (empty when not asked); `sweep` the values for every reveal period (empty
    unless asked). `engine` is "enumeration" or "milp"; `solves` counts solver calls.
    """

    scenario: Scenario
    kind: str
    reveal: str
    status: str
    values: Values | None
    commit: dict[str, str]
    commit_metrics: Metrics | None
    worlds: tuple[WorldPlan, ...]
    never: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    differs: tuple[str, ...]
    binding: tuple[BindingRule, ...]
    sweep: tuple[SweepRow, ...]
    engine: str
    solves: int
    notes: tuple[str, ...] = ()


def improvement(kind: str, better: float, worse: float) -> float:
    """Return how much `better` improves on `worse` under `kind` (regret: lower is better)."""
    return worse - better if kind == "regret" else better - worse


class Planner:
    """Finds adaptive plans of one study under any reveal, on the engine the scenario allows."""

    def __init__(self, study: Study) -> None:
        self.study = study
        self.scenario = study.scenario
        self.kind = study.kind
        solution = study.solution()
        self.fixed = solution
        self.stars = solution.best_by_world if self.kind == "regret" else None
        self.table = study.table if not self.scenario.deals else None
        self.engine = "enumeration" if self.table is not None else "milp"
        self._solvers: dict[str | None, AdaptiveSolver] = {}
        self._foresight: float | None = None
        self.solves = 0

    def plan(
        self, reveal: Reveal, disabled: frozenset[str] = frozenset(), tie_breaks: bool = True
    ) -> AdaptiveSolution:
        """Return the best plan with the reveal `reveal` and rule groups `disabled` dropped."""
        if self.table is not None:
            found = enumerate_plan(
                self.table.table, self.scenario, reveal, self.kind, self.stars, disabled, tie_breaks
            )
        elif reveal.at == 0 and not self.scenario.deals:
            found = self._apart(reveal, disabled, tie_breaks) or self._joint(reveal, disabled, tie_breaks)
        else:
            found = self._joint(reveal, disabled, tie_breaks)
        self.solves += found.solves
        return found

    def _solver(self, reveal: Reveal) -> AdaptiveSolver:
        solver = self._solvers.get(reveal.period)
        if solver is None:
            solver = self._solvers[reveal.period] = AdaptiveSolver(self.scenario, reveal, self.study.solver)
        return solver

    def _joint(
        self, reveal: Reveal, disabled: frozenset[str], tie_breaks: bool, solver: AdaptiveSolver | None = None
    ) -> AdaptiveSolution:
        """Return the best plan by the adaptive MILP (a copy of the model per world), started from the
        fixed plan."""
        start = {w.id: self.fixed.portfolio for w in self.scenario.worlds}
        return (solver or self._solver(reveal)).solve(
            self.kind, start, self.stars, disabled, tie_breaks, deadline=self.study.deadline
        )

    def _apart(self, reveal: Reveal, disabled: frozenset[str], tie_breaks: bool) -> AdaptiveSolution | None:
        """Return the best plan when nothing is decided before the reveal, world by world: each world's
        best value alone, then less spend, the earlier start and declaration order (without deals every
        objective is monotone in each world's value, so this is the plan's optimum); None when the plan
        then breaks a value floor (the floors couple the worlds: solve them whole)."""
        floors = frozenset(g for g in rule_groups(self.scenario) if g in FLOORS)
        goals = ["total_spend", *(["start_rank"] if self.scenario.timed else []), "tie_rank"]
        plan, solves = {}, 0
        for world in self.scenario.worlds:
            best = self.study.milp.best(
                goals=[f"value[{world.id}]", *(goals if tie_breaks else [])],
                disabled=frozenset(disabled) | floors,
                deadline=self.study.deadline,
            )
            solves += best.solves
            if best.metrics is None:
                return AdaptiveSolution("infeasible", None, None, solves)
            plan[world.id] = best.portfolio
        r = self.scenario.rules
        for floor, kind, limit in (
            ("min_cvar", "cvar", r.min_cvar),
            ("min_worst_case", "worst_case", r.min_worst_case),
        ):
            if limit is not None and floor not in disabled:
                figure = plan_objective(self.scenario, plan, kind)
                if figure < limit - FEASIBILITY_TOLERANCE * max(1.0, abs(limit), abs(figure)):
                    return None
        objective = plan_goal(self.scenario, plan, PRIMARY[self.kind], reveal, self.stars)
        return AdaptiveSolution("optimal", plan, objective, solves)

    def without(self, reveal: Reveal, groups: list[str]) -> dict[str, float | None]:
        """Return the best objective with each rule group dropped in turn (objective only). On the
        adaptive MILP the groups are shared between two solver instances on two threads (group i to
        instance i % 2, so each sees the same solves on every run)."""
        joint = self.table is None and not (reveal.at == 0 and not self.scenario.deals)
        if not joint or len(groups) < 2 or self.study.solver != "highs":
            return {g: self.plan(reveal, frozenset({g}), tie_breaks=False).objective for g in groups}
        from concurrent.futures import ThreadPoolExecutor

        twin = AdaptiveSolver(self.scenario, reveal, self.study.solver)
        shares = [groups[0::2], groups[1::2]]
        solvers = [self._solver(reveal), twin]

        def run(i: int) -> list[AdaptiveSolution]:
            return [self._joint(reveal, frozenset({g}), False, solvers[i]) for g in shares[i]]

        pool = ThreadPoolExecutor(max_workers=2)
        try:  # waiting on the futures (not in the pool's own exit) lets Ctrl-C through at once
            futures = [pool.submit(run, i) for i in range(2)]
            parts = [future.result() for future in futures]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        found: dict[str, float | None] = {}
        for share, part in zip(shares, parts, strict=True):
            for group, solution in zip(share, part, strict=True):
                found[group] = solution.objective
                self.solves += solution.solves
        return {g: found[g] for g in groups}

    def value(self, period: str | None, disabled: frozenset[str] = frozenset()) -> float | None:
        """Return the best objective with the reveal in `period` (None: after the last period)."""
        found = self.plan(reveal_of(self.scenario, period), disabled, tie_breaks=False)
        return found.objective

    def foresight(self) -> float:
        """Return the objective of perfect foresight: the reveal in the first period (computed once)."""
        if self._foresight is None:
            found = self.value(self.scenario.periods[0])
            assert found is not None, "a plan that keeps the rules later keeps them at the first period"
            self._foresight = found
        return self._foresight

    def values(self, adaptive: float) -> Values:
        """Return the three values and the two improvements around an adaptive objective."""
        assert self.fixed.objective is not None
        fixed = self.fixed.objective
        foresight = self.foresight()
        flexibility = _never_negative(self.kind, adaptive, fixed, "the adaptive plan", "the fixed plan")
        information = _never_negative(
            self.kind, foresight, adaptive, "perfect foresight", "the adaptive plan"
        )
        return Values(adaptive, fixed, foresight, flexibility, information)


def _never_negative(kind: str, better: float, worse: float, name: str, other: str) -> float:
    """Return the improvement of `better` over `worse`, 0 within the tie tolerance; a larger loss is a
    contradiction (`name` may always copy `other`) and raises AdaptError."""
    gain = improvement(kind, better, worse)
    if gain >= 0:
        return gain
    if -gain <= tolerance(worse):
        return 0.0
    raise AdaptError(f"{name} ({better:.6g}) is worse than {other} ({worse:.6g}), which it may always copy")


def adapt(study: Study, reveal: str | None = None, sweep: bool = False, binding: bool = True) -> AdaptReport:
    """Return the adaptive plan with the reveal in `reveal` (default: the scenario's `adapt.reveal`);
    `binding`: also the rules that bind in any world (one adaptive plan per rule group: the report,
    which does not show them, leaves them out)."""
    scenario = study.scenario
    period = reveal or (scenario.adapt.reveal if scenario.adapt is not None else None)
    if period is None:
        raise AdaptError(
            "the scenario declares no `adapt: {reveal: PERIOD}`; give --reveal PERIOD "
            f"(one of {', '.join(scenario.periods)})"
        )
    if period not in scenario.periods:
        raise AdaptError(
            f"--reveal {period}: the scenario has no period {period}; choose one of "
            f"{', '.join(scenario.periods)}"
        )
    planner = Planner(study)
    engine = planner.engine
    if planner.fixed.objective is None:
        return AdaptReport(
            scenario, study.kind, period, "infeasible", None, {}, None, (), (), (), (), (), (), engine, 0
        )
    where = reveal_of(scenario, period)
    found = planner.plan(where)
    if found.plan is None or found.objective is None:
        return AdaptReport(
            scenario, study.kind, period, "infeasible", None, {}, None, (), (), (), (), (), (), engine, 0
        )
    plan = found.plan
    values = planner.values(found.objective)
    commit = _common(scenario, plan, where)
    worlds = tuple(_world_plan(scenario, k, plan[k], commit) for k in (w.id for w in scenario.worlds))
    notes = list(found.notes)
    bound: tuple[BindingRule, ...] = ()
    rows: tuple[SweepRow, ...] = ()
    try:
        bound = _binding(planner, plan, where, found.objective) if binding else ()
    except TimedOut:
        notes.append("the time limit cut the rules that bind short: none is listed")
    if sweep:
        try:
            rows = tuple(_sweep(planner))
        except TimedOut:
            notes.append("the time limit cut the reveal sweep short")
    return AdaptReport(
        scenario=scenario,
        kind=study.kind,
        reveal=period,
        status=found.status,
        values=values,
        commit=commit,
        commit_metrics=evaluate(scenario, commit),
        worlds=worlds,
        never=tuple(n.id for n in scenario.niches if all(n.id not in plan[w.id] for w in scenario.worlds)),
        verdicts=tuple(verdicts(scenario, plan, commit)),
        differs=tuple(differing(scenario, plan, where)),
        binding=bound,
        sweep=rows,
        engine=engine,
        solves=planner.solves,
        notes=tuple(notes),
    )


def adapt_of(
    study: Study, reveal: str | None = None, sweep: bool = False, binding: bool = True
) -> AdaptReport:
    """Return the adaptive plan (remembered by the study)."""
    key = ("adapt", reveal, sweep, binding)
    return study.remember(key, lambda: adapt(study, reveal, sweep, binding))  # type: ignore[no-any-return]


def _common(scenario: Scenario, plan: Plan, reveal: Reveal) -> dict[str, str]:
    """Return the choices made before the reveal (the same in every world, as the links make them)."""
    linked = set(reveal.choices)
    first = plan[scenario.worlds[0].id]
    common = {n: lv for n, lv in first.items() if (n, lv) in linked or n in reveal.deals}
    for w in scenario.worlds:
        mine = {n: lv for n, lv in plan[w.id].items() if (n, lv) in linked or n in reveal.deals}
        if mine != common:
            raise AdaptError(f"the plan's choices before the reveal differ in {w.id}: {mine} != {common}")
    return {n.id: common[n.id] for n in scenario.niches if n.id in common} | {
        d.id: common[d.id] for d in scenario.deals if d.id in common
    }


def _world_plan(
    scenario: Scenario, world: str, portfolio: Mapping[str, str], common: Mapping[str, str]
) -> WorldPlan:
    metrics = evaluate(scenario, portfolio)
    base = evaluate(scenario, common)
    adds = {n: lv for n, lv in portfolio.items() if n not in common}
    cost = {p: metrics.cost_by_period[p] - base.cost_by_period[p] for p in scenario.periods}
    return WorldPlan(
        world,
        scenario.probabilities[world],
        dict(portfolio),
        adds,
        metrics,
        metrics.value_by_world[world],
        metrics.value_by_world[world] - base.value_by_world[world],
        cost,
    )


def verdicts(scenario: Scenario, plan: Plan, common: Mapping[str, str]) -> list[Verdict]:
    """Return each niche's verdict: `commit now` when it is among the common choices made before the
    reveal; `decide at reveal` when some world takes it at or after the reveal (its levels by world);
    `never` when no world takes it."""
    found = []
    for niche in scenario.niches:
        levels = {w.id: plan[w.id][niche.id] for w in scenario.worlds if niche.id in plan[w.id]}
        if niche.id in common:
            found.append(Verdict(niche.id, "commit now", levels))
        elif levels:
            found.append(Verdict(niche.id, "decide at reveal", levels))
        else:
            found.append(Verdict(niche.id, "never", {}))
    return found


def _binding(planner: Planner, plan: Plan, reveal: Reveal, objective: float) -> tuple[BindingRule, ...]:
    """Return the rules whose dropping (in every world) improves the adaptive objective."""
    scenario, kind = planner.scenario, planner.kind
    found = []
    groups = rule_groups(scenario)
    figures = planner.without(reveal, groups)
    for group in groups:
        without = figures[group]
        if without is None:
            continue
        gain = improvement(kind, without, objective)
        if gain <= tolerance(objective):
            continue
        found.append(BindingRule(group, gain, _tight_in(scenario, plan, group)))
    return tuple(found)


def _tight_in(scenario: Scenario, plan: Plan, group: str) -> tuple[str, ...]:
    """Return the worlds whose portfolio meets rule `group`'s limit exactly ("plan" for a value floor
    the plan's own figure meets)."""
    if group in ("min_cvar", "min_worst_case"):
        kind = "cvar" if group == "min_cvar" else "worst_case"
        figure = plan_objective(scenario, plan, kind)
        limit = scenario.rules.min_cvar if group == "min_cvar" else scenario.rules.min_worst_case
        assert limit is not None
        return ("plan",) if abs(figure - limit) <= tolerance(limit) else ()
    tight = []
    for w in scenario.worlds:
        for check in rule_checks(scenario, plan[w.id]):
            if check.rule == group and check.tight:
                tight.append(w.id)
    return tuple(tight)


def _sweep(planner: Planner) -> list[SweepRow]:
    """Return the three values with the reveal in every period, then after the last one (the fixed plan)."""
    rows = []
    for period in [*planner.scenario.periods, None]:
        found = planner.value(period)
        assert found is not None, "the fixed plan keeps the rules at every reveal"
        rows.append(SweepRow(period, planner.values(found)))
    return rows
