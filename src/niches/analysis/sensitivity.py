"""How fragile the recommendation is, and what each rule and each unit of money is worth.

Integer programs have no useful LP duals, so every figure here comes from
re-solving one built model under variants (changed values, limits or costs):

- weights: the interval of each criterion's weight (the others rescaled in
  proportion) over which the recommendation stays optimal, and what takes over
  past each end. Found by solving at the far end and walking back along the
  crossing points of the challengers (exact for the expected objective, where a
  portfolio's value is linear in the weight).
- niches: the factor on a niche's scores, and separately on its costs, at
  which the recommendation changes, and what it changes to.
- marginal value of one more (and one less) unit of each capped budget and
  capacity, and the least increase that buys anything at all.
- the price of each binding rule: what relaxing it by a step gains, and what
  dropping it gains.
- order of buy: the greedy benefit/cost ranking of levels (Equity-style), beside
  the optimal portfolio.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from niches.analysis.summary import summary_of
from niches.optimize.engine import MilpEngine
from niches.optimize.evaluate import evaluate, fundable, numeric_limits, objective_value, violated_rules
from niches.optimize.formulation import KIND_GOAL
from niches.optimize.model import Solution, tolerance
from niches.scenario import Criterion, Level, Niche, Scenario, Score

if TYPE_CHECKING:
    from niches.optimize.engine import Engine
    from niches.study import Study

MAX_FACTOR = 10.0
"""Stability radii are searched up to this factor on scores or costs."""

DOWN = (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
UP = (1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0)
"""Factors scanned before the exact walk, towards 0 and towards MAX_FACTOR."""

BISECTION_STEPS = 40
COST_STEPS = 16
"""Bisection steps on solves for a cost factor: the bracket shrinks 65,536-fold."""
Progress = Callable[[float], None]


@dataclass(frozen=True)
class Change:
    """A change of recommendation: at `at` (a weight or a factor), `portfolio` takes over."""

    at: float
    portfolio: dict[str, str] | None  # None: no portfolio keeps the rules there


@dataclass(frozen=True)
class WeightRange:
    """The interval of a criterion's normalised weight keeping the recommendation optimal."""

    criterion: str
    weight: float
    low: Change | None  # None: optimal down to weight 0
    high: Change | None  # None: optimal up to weight 1


@dataclass(frozen=True)
class Radius:
    """Factors on a niche's scores or costs (`what`) at which the recommendation changes."""

    niche: str
    what: str
    low: Change | None  # None: unchanged down to factor 0
    high: Change | None  # None: unchanged up to MAX_FACTOR


@dataclass(frozen=True)
class Marginal:
    """Marginal value of a capped resource (a budget period, `total` or a capacity).

    `plus`/`minus`: objective change for one unit more/less; `step`/`step_gain`:
    the least increase that improves the objective at all, and what it buys.
    """

    rule: str
    limit: float
    plus: float
    minus: float | None
    step: float | None
    step_gain: float | None


@dataclass(frozen=True)
class RulePrice:
    """What a binding rule costs: the gain of relaxing it by `step`, and of dropping it."""

    rule: str
    step: str | None
    relax_gain: float | None
    drop_gain: float


@dataclass(frozen=True)
class BuyStep:
    """One increment in the greedy order of buy: from the previous hull level to `level`."""

    niche: str
    level: str
    cost: float
    value: float
    ratio: float
    cumulative_cost: float
    """What greedy has bought so far, this increment included when it buys it (never decreasing)."""
    in_greedy: bool
    optimal_level: str | None


@dataclass(frozen=True)
class Sensitivity:
    """All sensitivity figures of one scenario's recommendation."""

    solution: Solution
    weights: tuple[WeightRange, ...]
    scores: tuple[Radius, ...]
    costs: tuple[Radius, ...]
    marginals: tuple[Marginal, ...]
    prices: tuple[RulePrice, ...]
    order: tuple[BuyStep, ...]
    greedy: dict[str, str]
    greedy_budget: float
    solves: int
    seconds: float
    engine: str


# --------------------------------------------------------------------------- scenario transforms


def with_weight(scenario: Scenario, criterion: str, weight: float) -> Scenario:
    """Return `scenario` with `criterion` at normalised `weight`, the others rescaled in proportion."""
    current = scenario.weights[criterion]
    rest = 1.0 - current
    criteria = []
    for c in scenario.criteria:
        if c.id == criterion:
            w = weight
        elif rest > 0:
            w = c.weight * (1.0 - weight) / rest
        else:
            w = (1.0 - weight) / (len(scenario.criteria) - 1)
        criteria.append(Criterion(c.id, w, c.raw_weight, c.description))
    return dataclasses.replace(scenario, criteria=tuple(criteria))


def _scale_score(score: Score, factor: float) -> Score:
    return score.scaled(factor)


def _replace_niche(scenario: Scenario, niche_id: str, change: Callable[[Level], Level]) -> Scenario:
    niches = []
    for niche in scenario.niches:
        if niche.id == niche_id:
            niche = Niche(**{**niche.__dict__, "levels": tuple(change(lv) for lv in niche.levels)})
        niches.append(niche)
    return dataclasses.replace(scenario, niches=tuple(niches))


def with_score_factor(scenario: Scenario, niche_id: str, factor: float) -> Scenario:
    """Return `scenario` with every score of `niche_id` multiplied by `factor`."""
    return _replace_niche(
        scenario,
        niche_id,
        lambda lv: dataclasses.replace(lv, scores={c: _scale_score(s, factor) for c, s in lv.scores.items()}),
    )


def with_cost_factor(scenario: Scenario, niche_id: str, factor: float) -> Scenario:
    """Return `scenario` with every cost of `niche_id` multiplied by `factor`."""
    return _replace_niche(
        scenario,
        niche_id,
        lambda lv: dataclasses.replace(lv, cost={p: c * factor for p, c in lv.cost.items()}),
    )


# --------------------------------------------------------------------------- solving a variant


def _objective(
    kind: str, scenario: Scenario, portfolio: Mapping[str, str], stars: Mapping[str, float] | None = None
) -> float:
    """Return `portfolio`'s objective in `scenario` (regret against `stars`, each world's best value)."""
    return objective_value(kind, evaluate(scenario, portfolio), stars)


def _beats(kind: str, a: float, b: float) -> bool:
    return a > b + tolerance(b)


def _walk(
    solver: Engine,
    recommended: dict[str, str],
    at: Callable[[float], Scenario],
    start: float,
    end: float,
    grid: tuple[float, ...] = (),
) -> Change | None:
    """Return where, going from `start` to `end`, the recommendation stops being optimal.

    A challenger found at the far end is followed back to where it crosses the
    recommendation (bisection on exact values, no solver); a solve there
    either confirms the crossing or yields a stronger challenger. Where the
    recommendation itself breaks a rule (value floors move with values), the
    boundary is found by bisection on solves.
    """
    kind = solver.kind

    def state(t: float) -> tuple[str, dict[str, str] | None]:
        variant = at(t)
        if violated_rules(variant, recommended):
            return "broken", None
        best = solver.best(variant)
        if (
            best.objective is None
        ):  # the evaluator keeps the recommendation; a solver's tighter tolerance lost it
            return "ok", None
        if _beats(kind, best.objective, _objective(kind, variant, recommended, best.best_by_world)):
            return "beaten", best.portfolio
        return "ok", None

    def taker(t: float) -> Change:
        return _taker(solver, at(t), recommended, t)

    good, bad = start, end
    kind_of, challenger = "ok", None
    for point in (*grid, end):  # a coarse scan first, so a change inside a window is not stepped over
        kind_of, challenger = state(point)
        if kind_of != "ok":
            bad = point
            break
        good = point
    if kind_of == "ok":
        return None
    for _ in range(60):
        if kind_of == "beaten" and challenger is not None:

            def gap(t: float, rival: dict[str, str] = challenger) -> float:
                variant = at(t)
                mine = _objective(kind, variant, recommended)
                return _objective(kind, variant, rival) - mine - tolerance(mine)

            low, high = _crossing(gap, good, bad)
            at_low = state(low)
            if at_low[0] != "ok":  # a stronger challenger, or a broken rule, before this crossing
                bad, (kind_of, challenger) = low, at_low
                continue
            if state(high)[0] != "ok":
                return taker(_clear_of(high, end, lambda t: state(t)[0] != "ok"))
            good = high  # the challenger breaks a rule there: settle it by bisection below
        for _ in range(BISECTION_STEPS // 2):
            middle = (good + bad) / 2
            if state(middle)[0] == "ok":
                good = middle
            else:
                bad = middle
        return taker(bad)
    raise RuntimeError("stability search did not settle")  # pragma: no cover - finite portfolios


def _clear_of(point: float, end: float, changed: Callable[[float], bool]) -> float:
    """Return `point` moved a hair towards `end`, clear of rounding, if the change still holds there.

    At the exact crossing a portfolio beats the recommendation by just over the
    tie tolerance, and evaluators that sum in a different order can disagree.
    """
    step = 1e-9 * max(1.0, abs(point))
    moved = point + step if end > point else point - step
    if (moved - end) * (point - end) <= 0:  # past the end of the range
        return point
    return moved if changed(moved) else point


def _taker(
    solver: Engine,
    variant: Scenario,
    recommended: dict[str, str],
    at: float,
    costs: bool = False,
    rival: dict[str, str] | None = None,
) -> Change:
    """Return what takes over from the recommendation in `variant`: the best of the portfolios beating it.

    Asking for the best portfolio alone could return the recommendation itself
    when the winner beats it by just over the tie tolerance.
    """
    floors = None
    if solver.kind != "regret" and not violated_rules(variant, recommended):
        mine = _objective(solver.kind, variant, recommended)
        floors = {KIND_GOAL[solver.kind]: mine + tolerance(mine)}
    best = solver.best(variant, tie_breaks=True, costs=costs, floors=floors, start=rival)
    if best.metrics is None and floors is not None:
        best = solver.best(variant, tie_breaks=True, costs=costs)
    return Change(at, best.portfolio if best.metrics is not None else None)


def _class_bests(solver: Engine, niche: Niche, recommended: dict[str, str]) -> list[dict[str, str]]:
    """Return the best portfolio with `niche` left out, and with it at each level (those that exist).

    Scaling a niche's scores moves the expected value of every portfolio
    holding it at one level by the same amount, so without value floors the
    best of each such class stays the best of its class at every factor. The
    recommendation is the best of its own class; each other class starts from
    the recommendation moved into it, when that keeps the rules.
    """
    found = []
    for level in (None, *[lv.id for lv in niche.levels]):
        if recommended.get(niche.id) == level:
            continue
        moved = {n: lv for n, lv in recommended.items() if n != niche.id}
        if level is not None:
            moved[niche.id] = level
        moved = fundable(solver.scenario, moved)
        best = solver.best(pins={niche.id: level}, start=moved)
        if best.metrics is not None:
            found.append(best.portfolio)
    return found


def _class_walk(
    solver: Engine,
    recommended: dict[str, str],
    at: Callable[[float], Scenario],
    end: float,
    rivals: list[dict[str, str]],
) -> Change | None:
    """Return where, moving a niche's score factor from 1 to `end`, a class best first beats the
    recommendation (each crossing found by bisection on exact values: expected objective, no floors)."""
    kind = solver.kind
    first: float | None = None
    winner: dict[str, str] | None = None
    for rival in rivals:
        if rival == recommended:
            continue

        def gap(t: float, other: dict[str, str] = rival) -> float:
            variant = at(t)
            mine = _objective(kind, variant, recommended)
            return _objective(kind, variant, other) - mine - tolerance(mine)

        if gap(end) <= 0:
            continue
        _, bad = _crossing(gap, 1.0, end)
        if first is None or abs(bad - 1.0) < abs(first - 1.0):
            first, winner = bad, rival
    if first is None:
        return None

    def changed(t: float) -> bool:
        variant = at(t)
        best = solver.best(variant)
        mine = _objective(kind, variant, recommended)
        return best.objective is not None and _beats(kind, best.objective, mine)

    point = _clear_of(first, end, changed)
    return _taker(solver, at(point), recommended, point, rival=winner)


def _crossing(gap: Callable[[float], float], good: float, bad: float) -> tuple[float, float]:
    """Return the bracket (good, bad) around where `gap` turns positive, narrowed by bisection."""
    for _ in range(BISECTION_STEPS):
        middle = (good + bad) / 2
        if gap(middle) > 0:
            bad = middle
        else:
            good = middle
    return good, bad


def _optimal_at(solver: Engine, variant: Scenario, recommended: dict[str, str]) -> bool:
    if violated_rules(variant, recommended):
        return False
    best = solver.best(variant, costs=True)
    if best.objective is None:  # the evaluator keeps the recommendation; a solver's tighter tolerance lost it
        return True
    mine = _objective(solver.kind, variant, recommended, best.best_by_world)
    return not _beats(solver.kind, best.objective, mine)


def _cost_change(
    solver: Engine, recommended: dict[str, str], niche: str, grid: tuple[float, ...]
) -> Change | None:
    """Return the first factor on the costs of `niche`, along `grid`, at which the recommendation changes.

    Exact where the engine can answer it directly (see `_exact_cost_change`);
    else the grid is scanned and the change refined by bisection on solves.
    """
    exact = _exact_cost_change(solver, recommended, niche, grid[-1])
    if exact is not False:
        return exact
    previous = 1.0
    for factor in grid:
        if _optimal_at(solver, with_cost_factor(solver.scenario, niche, factor), recommended):
            previous = factor
            continue
        good, bad = previous, factor
        for _ in range(COST_STEPS):
            middle = (good + bad) / 2
            if _optimal_at(solver, with_cost_factor(solver.scenario, niche, middle), recommended):
                good = middle
            else:
                bad = middle
        return _taker(solver, with_cost_factor(solver.scenario, niche, bad), recommended, bad, costs=True)
    return None


def _exact_cost_change(
    solver: Engine, recommended: dict[str, str], niche: str, end: float
) -> Change | Literal[False] | None:
    """Return the change of recommendation as the costs of `niche` move from 1 towards `end` (exact).

    Values do not depend on costs, so the recommendation changes where it
    first breaks a rule (found on its own metrics) or where a portfolio that
    beats it first fits (one question to the engine). Return False when this
    cannot be answered exactly here (regret, whose best values move with the
    costs; deals, whose money moves with them; or a verification that
    disagrees by solver tolerance).
    """
    breakpoint_of = getattr(solver, "cost_breakpoint", None)
    kind = solver.kind
    if breakpoint_of is None or kind == "regret" or solver.scenario.deals:
        return False  # with deals, what a deal pays (and so values) move with the costs
    scenario = solver.scenario
    mine = _objective(kind, scenario, recommended)
    upward = end > 1.0
    found = breakpoint_of(niche, mine + tolerance(mine), upward, end)
    rival: dict[str, str] | None = None
    enters: float | None = None
    if found is not None:  # the engine's factor is within its tolerance: settle it on the evaluator
        factor, rival = found
        enters = _entry(scenario, niche, rival, factor, upward)
    leaves = _own_exit(scenario, niche, recommended, end)
    candidates = [f for f in (enters, leaves) if f is not None]
    if not candidates:
        return None
    at = min(candidates) if upward else max(candidates)
    variant = with_cost_factor(scenario, niche, at)
    if at == enters and rival is not None:  # confirm on the evaluator: the rival fits there and beats it
        if violated_rules(variant, rival) or not _beats(kind, _objective(kind, variant, rival), mine):
            return False
    elif not violated_rules(variant, recommended):
        return False
    change = _taker(solver, variant, recommended, at, costs=True, rival=rival if at == enters else None)
    if rival is not None and at == enters and change.portfolio == recommended:
        return Change(at, rival)  # the solver's tighter tolerance misses the rival at its very edge
    return change


def _entry(scenario: Scenario, niche: str, portfolio: dict[str, str], near: float, upward: bool) -> float:
    """Return the factor on `niche`'s costs nearest 1 at which `portfolio` keeps the rules, near `near`."""

    def keeps(factor: float) -> bool:
        return not violated_rules(with_cost_factor(scenario, niche, factor), portfolio)

    towards = 1.0 if upward else -1.0  # the direction in which the portfolio fits
    scale = max(1.0, abs(near))
    outside = near - towards * 1e-4 * scale
    outside = max(outside, 1.0) if upward else min(outside, 1.0)
    inside = next(
        (
            near + towards * step * scale
            for step in (0.0, 1e-9, 1e-7, 1e-5)
            if keeps(near + towards * step * scale)
        ),
        None,
    )
    if inside is None or keeps(outside):
        return near  # not bracketed: keep the engine's figure (the verification decides)
    for _ in range(BISECTION_STEPS):
        middle = (outside + inside) / 2
        if keeps(middle):
            inside = middle
        else:
            outside = middle
    return inside


def _own_exit(scenario: Scenario, niche: str, portfolio: dict[str, str], end: float) -> float | None:
    """Return the first factor on `niche`'s costs, from 1 towards `end`, at which `portfolio` breaks a rule.

    Each rule is linear in the factor for a fixed portfolio, so the factors
    at which it keeps the rules form one interval around 1; its edge is
    found by bisection on the evaluator (the first factor past it).
    """
    if not violated_rules(with_cost_factor(scenario, niche, end), portfolio):
        return None
    good, bad = 1.0, end
    for _ in range(BISECTION_STEPS + 12):
        middle = (good + bad) / 2
        if violated_rules(with_cost_factor(scenario, niche, middle), portfolio):
            bad = middle
        else:
            good = middle
    return bad


# --------------------------------------------------------------------------- marginals and prices


def _limit_gain(engine: Engine, base: float, limits: Mapping[str, float]) -> float | None:
    result = engine.best(engine.scenario, limits=limits)
    if result.objective is None:
        return None
    return base - result.objective if engine.kind == "regret" else result.objective - base


def least_limit(engine: Engine, group: str, base: float) -> float | None:
    """Return the least cap of budget or capacity `group` that buys a better objective than `base`."""
    if engine.kind == "regret":
        return None
    family, _, inner = group.partition("[")
    inner = inner.rstrip("]")
    goal = f"spend[{inner}]" if family == "budget" else f"uses[{inner}]"
    primary = KIND_GOAL[engine.kind]
    for margin in (1.0, 10.0, 100.0):  # the found portfolio must really be better, not within tolerance
        found = engine.best(
            goals=[goal], disabled=frozenset([group]), floors={primary: base + margin * tolerance(base)}
        )
        if found.metrics is None:
            return None
        if objective_value(engine.kind, found.metrics) > base + tolerance(base):
            m = found.metrics
            return m.cost_by_period.get(inner, m.cost) if family == "budget" else m.uses[inner]
    return None


def _step(group: str, limit: float) -> tuple[str, float] | None:
    family = group.split("[")[0]
    if family in ("budget", "capacity"):
        amount = max(1.0, round(abs(limit) * 0.05, 6))
        return f"+{amount:g}", limit + amount
    if family in ("max_exposure", "max_share", "max_imbalance"):
        return "+5.0 pp", min(1.0, limit + 0.05)
    if family in ("min_worst_case", "min_cvar"):
        amount = max(0.5, round(abs(limit) * 0.05, 6))
        return f"-{amount:g}", limit - amount
    if family == "min_niches":
        return "-1", max(0.0, limit - 1)
    if family == "max_niches":
        return "+1", limit + 1
    return None


# --------------------------------------------------------------------------- order of buy


def order_of_buy(
    scenario: Scenario, optimal: Mapping[str, str]
) -> tuple[list[BuyStep], dict[str, str], float]:
    """Rank level increments by value per unit of cost along each niche's convex hull; buy greedily."""
    increments: list[tuple[float, int, str, str, float, float]] = []
    position = 0
    for niche in scenario.niches:
        hull: list[tuple[float, float, str | None]] = [(0.0, 0.0, None)]
        for level in sorted(niche.levels, key=lambda lv: lv.total_cost):  # the hull is built left to right
            cost = level.total_cost
            value = (
                evaluate(scenario, {niche.id: level.id}).expected_value
                - evaluate(scenario, {}).expected_value
            )
            if value <= hull[-1][1] and cost >= hull[-1][0]:
                continue  # dominated: costs more, gives no more
            while len(hull) >= 2:
                (c0, v0, _), (c1, v1, _) = hull[-2], hull[-1]
                if (v1 - v0) * (cost - c1) <= (value - v1) * (c1 - c0):  # hull[-1] under the chord
                    hull.pop()
                else:
                    break
            hull.append((cost, value, level.id))
        for (c0, v0, _), (c1, v1, level_id) in itertools.pairwise(hull):
            dc, dv = c1 - c0, v1 - v0
            ratio = math.inf if dc <= 0 else dv / dc
            position += 1
            assert level_id is not None
            increments.append((ratio, position, niche.id, level_id, dc, dv))
    increments.sort(key=lambda t: (-t[0], t[1]))
    budget = (
        scenario.budget_total
        if scenario.budget_total is not None
        else math.fsum(scenario.budget.get(p, math.inf) for p in scenario.periods)
    )
    steps: list[BuyStep] = []
    greedy: dict[str, str] = {}
    spent = 0.0
    stopped = False
    for ratio, _, niche_id, level_id, dc, dv in increments:
        if dv <= 0:
            stopped = True
        fits = not stopped and spent + dc <= budget + tolerance(budget)
        if fits:
            spent += dc
            greedy[niche_id] = level_id
        else:
            stopped = True
        steps.append(BuyStep(niche_id, level_id, dc, dv, ratio, spent, fits, optimal.get(niche_id)))
    return steps, greedy, budget


# --------------------------------------------------------------------------- the whole analysis


def _niche_radii(
    study: Study, engine: Engine, rec: dict[str, str], tick: Callable[[], None]
) -> list[tuple[Radius | None, Radius]]:
    """Return (score radius, cost radius) of every niche, in declaration order.

    On the MILP engine the niches are shared between two threads, each with its
    own built model (niche i goes to thread i % 2, so each model sees the same
    sequence of solves on every run).
    """
    niches = list(study.scenario.niches)
    if not isinstance(engine, MilpEngine) or len(niches) < 8:
        return [_radii_of(study, engine, rec, niche, tick) for niche in niches]
    twin = MilpEngine(engine.scenario, engine.kind, engine.solver, engine.deadline)
    engines = (engine, twin)

    def share(i: int) -> list[tuple[Radius | None, Radius]]:
        return [_radii_of(study, engines[i], rec, niche, tick) for niche in niches[i::2]]

    pool = ThreadPoolExecutor(max_workers=2)
    try:  # waiting on the futures lets Ctrl-C through at once
        futures = [pool.submit(share, i) for i in range(2)]
        halves = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    study.extra_solves += twin.solves
    merged: list[tuple[Radius | None, Radius]] = []
    for i in range(len(niches)):
        merged.append(halves[i % 2][i // 2])
    return merged


def _radii_of(
    study: Study, engine: Engine, rec: dict[str, str], niche: Niche, tick: Callable[[], None]
) -> tuple[Radius | None, Radius]:
    scenario, kind = study.scenario, study.kind
    score: Radius | None = None
    if kind != "regret":

        def at_score(f: float, n: str = niche.id) -> Scenario:
            return with_score_factor(scenario, n, f)

        down, up = (DOWN, UP) if engine.name == "enumeration" else (DOWN[1::2], UP[1::2])
        positive = all(
            math.fsum(c.weight * lv.scores[c.id].mean for c in scenario.criteria) >= 0 for lv in niche.levels
        )
        # Exact shortcuts: lowering the value of a niche left out cannot unseat the
        # recommendation; without value floors, raising the value of a one-level niche
        # it holds raises it as much as any rival holding it.
        skip_down = positive and niche.id not in rec
        floors = scenario.rules.min_cvar is not None or scenario.rules.min_worst_case is not None
        skip_up = positive and niche.id in rec and len(niche.levels) == 1 and not floors
        if kind == "expected" and not floors and engine.name == "milp":
            rivals = _class_bests(engine, niche, rec)
            low = None if skip_down else _class_walk(engine, rec, at_score, 0.0, rivals)
            high = None if skip_up else _class_walk(engine, rec, at_score, MAX_FACTOR, rivals)
        else:
            low = None if skip_down else _walk(engine, rec, at_score, 1.0, 0.0, down)
            high = None if skip_up else _walk(engine, rec, at_score, 1.0, MAX_FACTOR, up)
        score = Radius(niche.id, "scores", low, high)
    tick()
    cost = Radius(
        niche.id,
        "costs",
        _cost_change(engine, rec, niche.id, (0.9, 0.75, 0.5, 0.25, 0.0)),
        _cost_change(engine, rec, niche.id, (1.1, 1.25, 1.5, 2.0, 3.0, 5.0, MAX_FACTOR)),
    )
    tick()
    return score, cost


def sensitivity(study: Study, progress: Progress | None = None) -> Sensitivity:
    """Return every sensitivity figure of the study's recommendation."""
    clock = time.perf_counter()
    scenario = study.scenario
    kind = study.kind
    engine = study.engine
    before = study.solves
    recommended = study.solution()
    if recommended.metrics is None or recommended.objective is None:
        raise ValueError("the scenario is infeasible: run `niches explain` to see which rules conflict")
    rec = recommended.portfolio
    tasks = len(scenario.criteria) + 2 * len(scenario.niches) + 2
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(min(1.0, done / tasks))

    weights: list[WeightRange] = []
    if kind != "regret":
        for criterion in scenario.criteria:
            w = criterion.weight
            if len(scenario.criteria) > 1:

                def at(t: float, c: str = criterion.id) -> Scenario:
                    return with_weight(scenario, c, t)

                weights.append(
                    WeightRange(
                        criterion.id,
                        w,
                        _walk(engine, rec, at, w, 0.0, tuple(w * (1 - k / 8) for k in range(1, 8))),
                        _walk(engine, rec, at, w, 1.0, tuple(w + (1 - w) * k / 8 for k in range(1, 8))),
                    )
                )
            tick()
    radii = _niche_radii(study, engine, rec, tick)
    scores = [score for score, _ in radii if score is not None]
    costs = [cost for _, cost in radii]
    base = recommended.objective
    marginals: list[Marginal] = []
    limits = numeric_limits(scenario)
    for group, limit in limits.items():
        if not group.startswith(("budget[", "capacity[")):
            continue
        plus = _limit_gain(engine, base, {group: limit + 1})
        minus = _limit_gain(engine, base, {group: limit - 1}) if limit >= 1 else None
        needed = least_limit(engine, group, base)
        step = None if needed is None else max(0.0, needed - limit)
        step_gain = None if needed is None else _limit_gain(engine, base, {group: needed})
        marginals.append(Marginal(group, limit, plus or 0.0, minus, step, step_gain))
    tick()
    prices: list[RulePrice] = []
    for rule, drop_gain in summary_of(study).binding.items():
        relaxed = _step(rule, limits[rule]) if rule in limits else None
        relax_gain = None
        if relaxed is not None:
            relax_gain = _limit_gain(engine, base, {rule: relaxed[1]})
        prices.append(RulePrice(rule, relaxed[0] if relaxed else None, relax_gain, drop_gain))
    tick()
    steps, greedy, budget = order_of_buy(scenario, rec)
    return Sensitivity(
        solution=recommended,
        weights=tuple(weights),
        scores=tuple(scores),
        costs=tuple(costs),
        marginals=tuple(marginals),
        prices=tuple(prices),
        order=tuple(steps),
        greedy=greedy,
        greedy_budget=budget,
        solves=study.solves - before,
        seconds=time.perf_counter() - clock,
        engine=engine.name,
    )


def sensitivity_of(study: Study, progress: Progress | None = None) -> Sensitivity:
    """Return every sensitivity figure of the recommendation."""
    return study.remember("sensitivity", lambda: sensitivity(study, progress))  # type: ignore[no-any-return]


def fragile(result: Sensitivity, count: int = 3) -> list[tuple[float, str]]:
    """Return the `count` most fragile judgements: (distance to a change, sentence), closest first."""
    found: list[tuple[float, str]] = []
    sc = result.solution.scenario
    for w in result.weights:
        for change, side in ((w.low, "fell"), (w.high, "rose")):
            if change is not None:
                distance = abs(change.at - w.weight) / max(w.weight, 1e-9)
                found.append(
                    (
                        distance,
                        f"the weight given to {w.criterion} {side} from {100 * w.weight:.1f}% to "
                        f"{100 * change.at:.1f}%",
                    )
                )
    for radius in (*result.scores, *result.costs):
        name = sc.niche(radius.niche).name
        for change in (radius.low, radius.high):
            if change is not None:
                way = "higher" if change.at > 1 else "lower"
                found.append(
                    (
                        abs(change.at - 1.0),
                        f"the {radius.what} of {name} were {100 * abs(change.at - 1.0):.1f}% {way} than "
                        "estimated",
                    )
                )
    found.sort()
    return found[:count]
