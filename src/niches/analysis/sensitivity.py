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

The walks live in `stability`, the scenario variants in `variants`, the order
of buy in `buy_order`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.analysis.buy_order import BuyStep, order_of_buy
from niches.analysis.stability import Change as Change
from niches.analysis.stability import _class_bests, _class_walk, _cost_change, _walk
from niches.analysis.summary import Gain, summary_of
from niches.analysis.variants import with_cost_factor as with_cost_factor
from niches.analysis.variants import with_score_factor as with_score_factor
from niches.analysis.variants import with_weight as with_weight
from niches.optimize.engine import MilpEngine
from niches.optimize.evaluate import numeric_limits, objective_value
from niches.optimize.formulation import KIND_GOAL
from niches.optimize.model import Solution, tolerance
from niches.parallel import run_shared
from niches.scenario import Niche, Scenario

if TYPE_CHECKING:
    from niches.optimize.engine import Engine
    from niches.study import Study

MAX_FACTOR = 10.0
"""Stability radii are searched up to this factor on scores or costs."""

DOWN = (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
UP = (1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0)
"""Factors scanned before the exact walk, towards 0 and towards MAX_FACTOR."""

Progress = Callable[[float], None]


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
    drop_gain: Gain


@dataclass(frozen=True)
class Sensitivity:
    """All sensitivity figures of one scenario's recommendation.

    `solves` counts the solver calls they took, `questions` the figures asked
    (two ends of each weight's range and of each niche's score and cost
    factors, one more and one less unit and the least step of each capped
    resource, the step relaxing each binding rule), however each was answered.
    """

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
    questions: int = 0


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


# --------------------------------------------------------------------------- the whole analysis


def _niche_radii(
    study: Study, engine: Engine, rec: dict[str, str], tick: Callable[[], None]
) -> list[tuple[Radius | None, Radius]]:
    """Return (score radius, cost radius) of every niche, in declaration order.

    On the MILP engine the niches are shared among the engine's worker threads,
    each with its own built model; each niche starts from a cold solver, so the
    figures are the same whatever the number of threads.
    """
    niches = list(study.scenario.niches)
    if not isinstance(engine, MilpEngine):
        return [_radii_of(study, engine, rec, niche, tick) for niche in niches]
    engines = engine.twins(engine.workers)
    before = sum(e.solves for e in engines[1:])

    def radii(worker: MilpEngine, niche: Niche) -> tuple[Radius | None, Radius]:
        worker.model.fresh()
        return _radii_of(study, worker, rec, niche, tick)

    found = run_shared(engines, radii, niches)
    study.extra_solves += sum(e.solves for e in engines[1:]) - before
    return found


def _radii_of(
    study: Study, engine: Engine, rec: dict[str, str], niche: Niche, tick: Callable[[], None]
) -> tuple[Radius | None, Radius]:
    scenario, kind = study.scenario, study.kind
    score: Radius | None = None
    if kind != "regret":

        def at_score(f: float, n: str = niche.id) -> Scenario:
            return with_score_factor(scenario, n, f)

        down: tuple[float, ...] = DOWN if engine.name == "enumeration" else DOWN[1::2]
        up: tuple[float, ...] = UP if engine.name == "enumeration" else UP[1::2]
        if _linear(scenario, kind):  # the optimal set along the factor is one interval: no scan needed
            down, up = (), ()
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


def _linear(scenario: Scenario, kind: str) -> bool:
    """Return whether every portfolio's objective is affine in one weight or one niche's score factor.

    True for the expected objective without value floors: the set of values
    (of a weight, or a factor) at which the recommendation stays optimal is
    then one interval (the best value of all portfolios is convex in it, the
    recommendation's affine), so a walk that finds it optimal at its far end
    needs nothing in between.
    """
    r = scenario.rules
    return kind == "expected" and r.min_cvar is None and r.min_worst_case is None


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

                lower = tuple(w * (1 - k / 8) for k in range(1, 8))
                upper = tuple(w + (1 - w) * k / 8 for k in range(1, 8))
                if _linear(scenario, kind):  # the optimal set along the weight is one interval: no scan
                    lower, upper = (), ()
                weights.append(
                    WeightRange(
                        criterion.id,
                        w,
                        _walk(engine, rec, at, w, 0.0, lower),
                        _walk(engine, rec, at, w, 1.0, upper),
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
        questions=2 * len(weights) + 2 * len(scores) + 2 * len(costs) + 3 * len(marginals) + len(prices),
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
