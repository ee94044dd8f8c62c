"""Exact frontiers: every breakpoint is found by solving, not sampled on a grid.

- budget: the optimum as every budget cap is scaled by a factor s. The optimum
  is a step function of s; from one step, the next breakpoint is the least
  scale at which a better portfolio fits (one solve: minimise s).
- risk: the Pareto set of expected value against CVaR (epsilon-constraint:
  maximise E, then CVaR, then demand a little more CVaR and repeat).
- exposure: the optimum as one cap on every power's exposure is tightened from
  1; a portfolio stays optimal until the cap falls below its own largest
  exposure, so each step starts just below the previous portfolio's exposure.
- hull: Equity's efficient frontier, cheap at any size: each niche's levels
  reduced to their convex hull (value against cost), the increments bought in
  order of value per unit of money, every rule but the budget ignored.

Both engines answer every step (enumeration for small scenarios, the MILP
re-solved in place otherwise); a frontier longer than `max_points` stops there
and says where, so the user can narrow the range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.limits import POINTS, POINTS_MILP
from niches.numbers import plural
from niches.optimize.evaluate import Metrics, budget_usage, evaluate, numeric_limits, objective_value
from niches.optimize.formulation import KIND_GOAL
from niches.optimize.model import Deadline, Solution, SolverFailed, tolerance

if TYPE_CHECKING:
    from niches.optimize.engine import Engine
    from niches.scenario import Scenario
    from niches.study import Study

AXES = ("budget", "risk", "exposure", "hull")
WORDS = {"expected": "expected value", "worst_case": "worst case", "cvar": "CVaR"}
"""The objectives a budget frontier follows, in words."""
EXPOSURE_STEP = 1e-6
"""How far below a portfolio's largest exposure the next cap is tried (a share)."""


def default_points(study: Study) -> int:
    """Return the breakpoints a frontier draws when not told: `POINTS` on a scenario small enough to
    enumerate, `POINTS_MILP` past it (each breakpoint a MILP or two)."""
    return POINTS if study.table is not None else POINTS_MILP


Progress = Callable[[float], None]
"""Called with the share of the sweep done, in [0, 1]."""


class FrontierError(ValueError):
    """The frontier asked for cannot be drawn for this scenario (say why)."""


@dataclass(frozen=True)
class FrontierPoint:
    """One optimal (or Pareto) portfolio on a frontier.

    `scale` is the budget factor at which it becomes optimal (for the hull, its
    spend over the budget); `cap` the exposure cap at which it is optimal (the
    loosest, for the first point, 1); `marked` flags the current budget's
    optimum or the recommendation.
    """

    portfolio: dict[str, str]
    metrics: Metrics
    objective: float
    scale: float | None = None
    cap: float | None = None
    marked: bool = False


@dataclass(frozen=True)
class Frontier:
    """A frontier along `axis`, its points in axis order, and what it cost to find.

    `note` says what a reader must know (a range with no feasible portfolio, a
    sweep stopped at `max_points` or by the time limit).
    """

    scenario: Scenario
    axis: str
    objective_kind: str
    points: tuple[FrontierPoint, ...]
    solves: int
    seconds: float
    recommended: FrontierPoint | None = None
    note: str = ""
    span: tuple[float, float] | None = None
    """The range swept along the axis (budget scales), when it has one."""
    tail: tuple[float, float, float, float] | None = None
    """Where a budget frontier stopped at `max_points`: (from scale, to scale, least objective, most
    objective) of the part not drawn. The objective never falls as the budget grows, so the rest lies
    between the optimum where it stopped and the optimum at the end of the range."""


def _budget_groups(scenario: Scenario) -> dict[str, float]:
    return {g: cap for g, cap in numeric_limits(scenario).items() if g.startswith("budget[")}


def _marked(point: FrontierPoint) -> FrontierPoint:
    return FrontierPoint(point.portfolio, point.metrics, point.objective, point.scale, point.cap, True)


def budget_frontier(
    study: Study,
    start: float = 0.0,
    stop: float = 1.5,
    objective: str | None = None,
    progress: Progress | None = None,
    max_points: int | None = POINTS,
) -> Frontier:
    """Return every distinct optimal portfolio as the budget caps are scaled from `start` to `stop`."""
    scenario = study.scenario
    kind = objective or study.kind
    if kind == "regret":
        raise FrontierError(
            "the budget frontier needs an objective that does not move with the budget; "
            "use --objective expected, worst_case or cvar"
        )
    if not 0 <= start <= stop:
        raise FrontierError(f"--from ({start:g}) must be >= 0 and <= --to ({stop:g})")
    engine, deadline = study.engine, study.deadline
    before = study.solves
    groups = _budget_groups(scenario)
    points: list[FrontierPoint] = []
    notes: list[str] = []
    tail: tuple[float, float, float, float] | None = None
    scale: float | None = start
    try:
        first_feasible = None
        while scale is not None and scale <= stop + 1e-12:
            if progress:
                progress(min(1.0, (scale - start) / (stop - start) if stop > start else 1.0))
            limits = {g: cap * scale for g, cap in groups.items()}
            solution = engine.best(kind=kind, tie_breaks=True, limits=limits, deadline=deadline)
            if solution.metrics is None or solution.objective is None:
                scale = _least_scale(engine, kind, None, deadline)
                if scale is not None:
                    first_feasible = scale
                continue
            if max_points is not None and len(points) >= max_points:
                tail = _tail(engine, kind, groups, scale, stop, solution.objective, deadline)
                bounds = (
                    ""
                    if tail is None
                    else (
                        f"; from there to scale {stop:.4f} the {WORDS.get(kind, kind)} lies between "
                        f"{tail[2]:.2f} and {tail[3]:.2f}"
                    )
                )
                notes.append(
                    f"stopped after {plural(max_points, 'breakpoint')} at scale {scale:.4f}{bounds}: "
                    "narrow --from/--to, raise --max-points or give --exact, "
                    "or draw the convex hull (--axis hull)"
                )
                break
            points.append(
                FrontierPoint(solution.portfolio, solution.metrics, solution.objective, scale=scale)
            )
            following = _least_scale(engine, kind, (solution.objective, solution.metrics), deadline)
            if following is not None and following <= scale:  # solver tolerance: move on regardless
                following = scale + 1e-9 * max(1.0, scale)
            scale = following
    except SolverFailed:
        if not deadline.expired:
            raise
        notes.append(f"the time limit stopped the sweep at scale {scale or 0.0:.4f}")
        study.note_unfinished("budget frontier")
    if first_feasible is not None and first_feasible > start and points:
        notes.insert(0, f"no portfolio keeps the rules below scale {first_feasible:.4f}")
    current = [i for i, p in enumerate(points) if p.scale is not None and p.scale <= 1 + 1e-9]
    # The last breakpoint at or below scale 1 is the optimum there only if the next one lies past 1
    # (a sweep cut short, or ended by --to, below scale 1 does not know the optimum at the budget).
    reached = scale is None or scale > 1 + 1e-9
    if current and reached:
        points[current[-1]] = _marked(points[current[-1]])
    if progress:
        progress(1.0)
    return Frontier(
        scenario,
        "budget",
        kind,
        tuple(points),
        study.solves - before,
        deadline.elapsed(),
        note="; ".join(notes),
        span=(start, stop),
        tail=tail,
    )


def _tail(
    engine: Engine,
    kind: str,
    groups: Mapping[str, float],
    scale: float,
    stop: float,
    here: float,
    deadline: Deadline,
) -> tuple[float, float, float, float] | None:
    """Return the bounds of a budget frontier past `scale`: (scale, stop, `here`, the optimum at `stop`).

    One solve. A larger budget only adds portfolios, so between the two scales
    the optimum lies between the two figures.
    """
    at_end = engine.best(kind=kind, limits={g: cap * stop for g, cap in groups.items()}, deadline=deadline)
    if at_end.objective is None:
        return None
    return (scale, stop, here, max(here, at_end.objective))


def _least_scale(
    engine: Engine, kind: str, beat: tuple[float, Metrics] | None, deadline: Deadline
) -> float | None:
    """Return the least budget factor at which a portfolio better than `beat` fits (None: none does).

    "Better" is checked exactly on the portfolio found; where the solver's own
    tolerance let a tie through, the demanded margin grows tenfold and it solves again.
    """
    scenario = engine.scenario
    primary = KIND_GOAL[kind]
    best: float | None = None
    alternatives = [False] if beat is None or kind == "expected" else [False, True]
    for same_primary in alternatives:
        for margin in (1.0, 10.0, 100.0):
            floors: dict[str, float] = {}
            if beat is not None:
                value, metrics = beat
                if same_primary:  # same objective, better expected value: a new tie-break winner
                    e = metrics.expected_value
                    floors = {primary: value - tolerance(value), "expected_value": e + margin * tolerance(e)}
                else:
                    floors = {primary: value + margin * tolerance(value)}
            found = engine.best(kind=kind, goals=["budget_scale"], floors=floors, deadline=deadline)
            if found.metrics is None:
                break
            if beat is None or _improves(kind, found.metrics, beat):
                scale = budget_usage(scenario, found.metrics)
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
    study: Study,
    recommended: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    max_points: int | None = POINTS,
) -> Frontier:
    """Return the Pareto set of portfolios trading expected value against CVaR (all rules kept)."""
    scenario, engine, deadline = study.scenario, study.engine, study.deadline
    before = study.solves
    points: list[FrontierPoint] = []
    notes: list[str] = []
    floor: float | None = None
    margin = 1.0
    goals = ["expected_value", "cvar", "total_spend", "tie_rank"]
    try:
        while margin <= 100.0:
            floors = {} if floor is None else {"cvar": floor + (margin - 1.0) * tolerance(floor)}
            found = engine.best(kind="expected", goals=goals, floors=floors, deadline=deadline)
            if found.metrics is None:
                break
            metrics = found.metrics
            if points and metrics.cvar <= points[-1].metrics.cvar + tolerance(points[-1].metrics.cvar):
                margin *= 10.0  # the solver's tolerance let the last point through again: demand more
                continue
            if max_points is not None and len(points) >= max_points:
                notes.append(f"stopped after {plural(max_points, 'breakpoint')}; raise --max-points")
                break
            margin = 1.0
            points.append(FrontierPoint(found.portfolio, metrics, metrics.expected_value))
            floor = metrics.cvar + tolerance(metrics.cvar)
            if progress:
                progress(min(0.95, len(points) / (len(points) + 3)))
    except SolverFailed:
        if not deadline.expired:
            raise
        notes.append("the time limit stopped the sweep")
        study.note_unfinished("risk frontier")
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
            notes.append("the recommendation is not on the E-CVaR frontier")
    if progress:
        progress(1.0)
    return Frontier(
        scenario,
        "risk",
        "expected",
        tuple(points),
        study.solves - before,
        deadline.elapsed(),
        marked,
        "; ".join(notes),
    )


def exposure_frontier(
    study: Study,
    objective: str | None = None,
    progress: Progress | None = None,
    max_points: int | None = POINTS,
) -> Frontier:
    """Return the optimum as one cap on all exposures is tightened from 1 to the tightest feasible."""
    scenario, engine, deadline = study.scenario, study.engine, study.deadline
    kind = objective or study.kind
    if not scenario.powers:
        raise FrontierError("the exposure frontier needs powers; declare them under 'powers'")
    before = study.solves
    own = scenario.rules.max_exposure
    points: list[FrontierPoint] = []
    notes: list[str] = []
    cap = 1.0
    start: dict[str, str] | None = None
    try:
        while cap >= 0:
            if progress:
                progress(min(0.99, 1.0 - cap))
            limits = {f"max_exposure[{p}]": min(own.get(p, cap), cap) for p in scenario.powers}
            solution = engine.best(kind=kind, tie_breaks=True, limits=limits, start=start, deadline=deadline)
            if solution.metrics is None or solution.objective is None:
                break
            largest = max(solution.metrics.exposure.values())
            if largest > cap + 1e-9:  # inside the solver's tolerance only: tighten and solve again
                cap -= EXPOSURE_STEP
                continue
            if max_points is not None and len(points) >= max_points:
                notes.append(
                    f"stopped after {plural(max_points, 'breakpoint')} at cap {cap:.4f}; raise --max-points"
                )
                break
            points.append(FrontierPoint(solution.portfolio, solution.metrics, solution.objective, cap=cap))
            if largest <= 0:
                break
            cap = min(largest, cap) - EXPOSURE_STEP
    except SolverFailed:
        if not deadline.expired:
            raise
        notes.append(f"the time limit stopped the sweep at cap {cap:.4f}")
        study.note_unfinished("exposure frontier")
    if progress:
        progress(1.0)
    return Frontier(
        scenario,
        "exposure",
        kind,
        tuple(points),
        study.solves - before,
        deadline.elapsed(),
        note="; ".join(notes),
    )


def hull_frontier(study: Study) -> Frontier:
    """Return Equity's efficient frontier: levels bought in order of value per unit of money.

    Each point adds the next increment of the order of buy; `scale` is its
    spend over the budget (the total cap, or the sum of the period caps).
    Rules other than the budget are ignored, and synergies are counted in the
    metrics but not in the order.
    """
    from niches.analysis.buy_order import order_of_buy

    scenario = study.scenario
    clock = study.deadline
    steps, _, budget = order_of_buy(scenario, study.solution().portfolio)
    portfolio: dict[str, str] = {}
    points = [FrontierPoint({}, evaluate(scenario, {}), evaluate(scenario, {}).expected_value, scale=0.0)]
    for step in steps:
        if step.value <= 0:
            break
        portfolio = {**portfolio, step.niche: step.level}
        ordered = {n.id: portfolio[n.id] for n in scenario.niches if n.id in portfolio}
        metrics = evaluate(scenario, ordered)
        scale = metrics.cost / budget if budget > 0 else 0.0
        points.append(FrontierPoint(ordered, metrics, metrics.expected_value, scale=scale))
    current = [i for i, p in enumerate(points) if p.scale is not None and p.scale <= 1 + 1e-9]
    # The last breakpoint at or below scale 1 is the optimum there only if the next one lies past 1
    # (a sweep cut short, or ended by --to, below scale 1 does not know the optimum at the budget).
    reached = scale is None or scale > 1 + 1e-9
    if current and reached:
        points[current[-1]] = _marked(points[current[-1]])
    note = (
        "convex hull of each niche's levels, bought by value per unit of money; "
        "rules other than the budget ignored"
    )
    return Frontier(scenario, "hull", "expected", tuple(points), 0, clock.elapsed(), note=note)


def frontier(
    study: Study,
    axis: str,
    start: float = 0.0,
    stop: float = 1.5,
    objective: str | None = None,
    progress: Progress | None = None,
    max_points: int | None = POINTS,
) -> Frontier:
    """Return the frontier along `axis` ("budget", "risk", "exposure" or "hull")."""
    if axis == "budget":
        return budget_frontier(study, start, stop, objective, progress, max_points)
    if axis == "risk":
        recommended: Solution = study.solution()
        return risk_frontier(study, recommended.portfolio, progress, max_points)
    if axis == "exposure":
        return exposure_frontier(study, objective, progress, max_points)
    if axis == "hull":
        return hull_frontier(study)
    raise FrontierError(f"unknown axis {axis!r}; choose one of {', '.join(AXES)}")


def frontier_of(
    study: Study,
    axis: str,
    start: float = 0.0,
    stop: float = 1.5,
    objective: str | None = None,
    progress: Progress | None = None,
    max_points: int | None = None,
) -> Frontier:
    """Return the exact frontier along `axis` ("budget", "risk" or "exposure")."""
    key = ("frontier", axis, start, stop, objective, max_points)
    return study.remember(key, lambda: frontier(study, axis, start, stop, objective, progress, max_points))  # type: ignore[no-any-return]


def point_objective(point: FrontierPoint, kind: str) -> float:
    """Return the objective of a point under `kind` (not regret)."""
    return objective_value(kind, point.metrics)
