"""Exact frontiers: every breakpoint is found by solving, not sampled on a grid.

- budget: the optimum as every budget cap is scaled by a factor s. The optimum
  is a step function of s; from one step, the next breakpoint is the least
  scale at which a better portfolio fits (one MILP: minimise s).
- risk: the Pareto set of expected value against CVaR (epsilon-constraint:
  maximise E, then CVaR, then demand a little more CVaR and repeat).
- exposure: the optimum as one cap on every power's exposure is tightened from
  1; a portfolio stays optimal until the cap falls below its own largest
  exposure, so each step starts just below the previous portfolio's exposure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from niches.evaluate import Metrics, evaluate, numeric_limits, objective_value
from niches.model import PortfolioModel, solve, tolerance
from niches.scenario import Scenario

AXES = ("budget", "risk", "exposure")
EXPOSURE_STEP = 1e-6
"""How far below a portfolio's largest exposure the next cap is tried (a share)."""

Progress = Callable[[float], None]
"""Called with the share of the sweep done, in [0, 1]."""


class FrontierError(ValueError):
    """The frontier asked for cannot be drawn for this scenario (say why)."""


@dataclass(frozen=True)
class FrontierPoint:
    """One optimal (or Pareto) portfolio on a frontier.

    `scale` is the budget factor at which it becomes optimal; `cap` the
    exposure cap at which it is optimal (the loosest, for the first point, 1);
    `marked` flags the current budget's optimum or the recommendation.
    """

    portfolio: dict[str, str]
    metrics: Metrics
    objective: float
    scale: float | None = None
    cap: float | None = None
    marked: bool = False


@dataclass(frozen=True)
class Frontier:
    """A frontier along `axis`, its points in axis order, and what it cost to find."""

    scenario: Scenario
    axis: str
    objective_kind: str
    points: tuple[FrontierPoint, ...]
    solves: int
    seconds: float
    recommended: FrontierPoint | None = None
    note: str = ""


def _budget_groups(scenario: Scenario) -> dict[str, float]:
    return {g: cap for g, cap in numeric_limits(scenario).items() if g.startswith("budget[")}


def _usage_scale(scenario: Scenario, metrics: Metrics) -> float:
    """Return the least budget factor at which a portfolio with `metrics` fits."""
    scale = 0.0
    for group, cap in _budget_groups(scenario).items():
        spend = metrics.cost_by_period.get(group[len("budget[") : -1], metrics.cost)
        if spend > 0:
            scale = max(scale, spend / cap if cap > 0 else float("inf"))
    return scale


def budget_frontier(
    scenario: Scenario,
    start: float = 0.0,
    stop: float = 1.5,
    solver: str = "cbc",
    objective: str | None = None,
    progress: Progress | None = None,
) -> Frontier:
    """Return every distinct optimal portfolio as the budget caps are scaled from `start` to `stop`."""
    kind = objective or scenario.objective
    if kind == "regret":
        raise FrontierError(
            "the budget frontier needs an objective that does not move with the budget; "
            "use --objective expected, worst_case or cvar"
        )
    if not 0 <= start <= stop:
        raise FrontierError(f"--from ({start:g}) must be >= 0 and <= --to ({stop:g})")
    clock = time.perf_counter()
    groups = _budget_groups(scenario)
    model = PortfolioModel(scenario)
    points: list[FrontierPoint] = []
    scale: float | None = start
    while scale is not None and scale <= stop + 1e-12:
        if progress:
            progress(min(1.0, (scale - start) / (stop - start) if stop > start else 1.0))
        with model.variant(limits={g: cap * scale for g, cap in groups.items()}):
            solution = solve(scenario, kind, solver, model=model)
        if solution.metrics is None or solution.objective is None:
            scale = _least_scale(model, scenario, groups, kind, None, solver)
            continue
        points.append(FrontierPoint(solution.portfolio, solution.metrics, solution.objective, scale=scale))
        following = _least_scale(
            model, scenario, groups, kind, (solution.objective, solution.metrics), solver
        )
        if following is not None and following <= scale:  # solver tolerance: move on regardless
            following = scale + 1e-9 * max(1.0, scale)
        scale = following
    current = [i for i, p in enumerate(points) if p.scale is not None and p.scale <= 1 + 1e-9]
    if current:
        points[current[-1]] = _marked(points[current[-1]])
    if progress:
        progress(1.0)
    return Frontier(scenario, "budget", kind, tuple(points), model.solves, time.perf_counter() - clock)


def _marked(point: FrontierPoint) -> FrontierPoint:
    return FrontierPoint(point.portfolio, point.metrics, point.objective, point.scale, point.cap, True)


def _least_scale(
    model: PortfolioModel,
    scenario: Scenario,
    groups: Mapping[str, float],
    kind: str,
    beat: tuple[float, Metrics] | None,
    solver: str,
) -> float | None:
    """Return the least budget factor at which a portfolio better than `beat` fits (None: none does).

    "Better" is checked exactly on the portfolio found; where the solver's own
    tolerance let a tie through, the demanded margin grows tenfold and it solves again.
    """
    primary = model.primary(kind)
    best: float | None = None
    alternatives = [False] if beat is None or kind == "expected" else [False, True]
    for same_primary in alternatives:
        for margin in (1.0, 10.0, 100.0):
            with model.variant(disabled=set(groups)):
                factor = model.variable("budget_scale", 0)
                for group, cap in groups.items():
                    spend = model.spend.get(group[len("budget[") : -1], model.total_spend)
                    model.add(f"scaled[{group}]", spend <= cap * factor)
                if beat is not None:
                    value, metrics = beat
                    if same_primary:  # same objective, better expected value: a new tie-break winner
                        e = metrics.expected_value
                        model.add("keep", primary >= value - tolerance(value))
                        model.add("better", model.expected >= e + margin * tolerance(e))
                    else:
                        model.add("better", primary >= value + margin * tolerance(value))
                outcome = model.optimise(factor, False, solver, None)
            if outcome.portfolio is None:
                break
            found = evaluate(scenario, outcome.portfolio)
            if beat is None or _improves(kind, found, beat):
                scale = _usage_scale(scenario, found)
                best = scale if best is None else min(best, scale)
                break
    return best


def _improves(kind: str, found: Metrics, beat: tuple[float, Metrics]) -> bool:
    value, metrics = beat
    mine = objective_value(kind, found)
    if mine > value + tolerance(value):
        return True
    e = metrics.expected_value
    return mine >= value - tolerance(value) and found.expected_value > e + tolerance(e)


def risk_frontier(
    scenario: Scenario,
    solver: str = "cbc",
    recommended: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Frontier:
    """Return the Pareto set of portfolios trading expected value against CVaR (all rules kept)."""
    clock = time.perf_counter()
    model = PortfolioModel(scenario)
    cvar = model.cvar_expression()
    points: list[FrontierPoint] = []
    floor: float | None = None
    margin = 1.0
    while margin <= 100.0:
        with model.variant():
            if floor is not None:
                model.add("cvar_floor", cvar >= floor + (margin - 1.0) * tolerance(floor))
            first = model.optimise(model.expected, True, solver, None)
            if first.portfolio is None:
                break
            e = evaluate(scenario, first.portfolio).expected_value
            model.add("keep_expected", model.expected >= e - tolerance(e))
            second = model.optimise(cvar, True, solver, None)
            portfolio = second.portfolio or first.portfolio
            c = evaluate(scenario, portfolio).cvar
            model.add("keep_cvar", cvar >= c - tolerance(c))
            third = model.optimise(model.total_spend, False, solver, None)
            portfolio = third.portfolio or portfolio
        metrics = evaluate(scenario, portfolio)
        if points and metrics.cvar <= points[-1].metrics.cvar + tolerance(points[-1].metrics.cvar):
            margin *= 10.0  # the solver's tolerance let the last point through again: demand more
            continue
        margin = 1.0
        points.append(FrontierPoint(portfolio, metrics, metrics.expected_value))
        floor = metrics.cvar + tolerance(metrics.cvar)
        if progress:
            progress(min(0.95, len(points) / (len(points) + 3)))
    points.sort(key=lambda p: (p.metrics.cvar, -p.metrics.expected_value))
    marked: FrontierPoint | None = None
    if recommended is not None:
        rec = evaluate(scenario, recommended)
        for i, point in enumerate(points):
            if point.portfolio == dict(recommended) or (
                abs(point.metrics.expected_value - rec.expected_value) <= tolerance(rec.expected_value)
                and abs(point.metrics.cvar - rec.cvar) <= tolerance(rec.cvar)
            ):
                points[i] = _marked(point)
                marked = points[i]
        if marked is None:
            marked = FrontierPoint(dict(recommended), rec, rec.expected_value, marked=True)
    if progress:
        progress(1.0)
    note = "" if marked is None or marked in points else "the recommendation is not on the E-CVaR frontier"
    return Frontier(
        scenario, "risk", "expected", tuple(points), model.solves, time.perf_counter() - clock, marked, note
    )


def exposure_frontier(
    scenario: Scenario,
    solver: str = "cbc",
    objective: str | None = None,
    progress: Progress | None = None,
) -> Frontier:
    """Return the optimum as one cap on all exposures is tightened from 1 to the tightest feasible."""
    kind = objective or scenario.objective
    if not scenario.powers:
        raise FrontierError("the exposure frontier needs powers; declare them under 'powers'")
    clock = time.perf_counter()
    model = PortfolioModel(scenario)
    own = scenario.rules.max_exposure
    points: list[FrontierPoint] = []
    cap = 1.0
    while cap >= 0:
        if progress:
            progress(min(0.99, 1.0 - cap))
        limits = {f"max_exposure[{p}]": min(own[p], cap) for p in own}
        with model.variant(limits=limits):
            for power in scenario.powers:
                if power not in own:
                    model.add(f"exposure_cap[{power}]", model.numerators[power] <= cap * model.total_spend)
            solution = solve(scenario, kind, solver, model=model)
        if solution.metrics is None or solution.objective is None:
            break
        largest = max(solution.metrics.exposure.values())
        if largest > cap + 1e-9:  # inside the solver's tolerance only: tighten and solve again
            cap -= EXPOSURE_STEP
            continue
        points.append(FrontierPoint(solution.portfolio, solution.metrics, solution.objective, cap=cap))
        if largest <= 0:
            break
        cap = min(largest, cap) - EXPOSURE_STEP
    if progress:
        progress(1.0)
    return Frontier(scenario, "exposure", kind, tuple(points), model.solves, time.perf_counter() - clock)


def frontier(
    scenario: Scenario,
    axis: str,
    solver: str = "cbc",
    start: float = 0.0,
    stop: float = 1.5,
    objective: str | None = None,
    progress: Progress | None = None,
) -> Frontier:
    """Return the frontier along `axis` ("budget", "risk" or "exposure")."""
    if axis == "budget":
        return budget_frontier(scenario, start, stop, solver, objective, progress)
    if axis == "risk":
        recommended = solve(scenario, objective, solver).portfolio
        return risk_frontier(scenario, solver, recommended, progress)
    if axis == "exposure":
        return exposure_frontier(scenario, solver, objective, progress)
    raise FrontierError(f"unknown axis {axis!r}; choose one of {', '.join(AXES)}")


def point_objective(point: FrontierPoint, kind: str) -> float:
    """Return the objective of a point under `kind` (not regret)."""
    return objective_value(kind, point.metrics)
