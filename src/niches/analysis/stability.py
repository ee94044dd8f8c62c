"""Where the recommendation stops being optimal as one weight or factor moves: the walks and bisections.

Integer programs have no useful LP duals, so each boundary is found by
re-solving one built model under variants, following challengers back to
where they cross the recommendation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from niches.analysis.variants import with_cost_factor
from niches.optimize.evaluate import evaluate, fundable, objective_value, violated_rules
from niches.optimize.formulation import KIND_GOAL
from niches.optimize.model import tolerance
from niches.scenario import Niche, Scenario

if TYPE_CHECKING:
    from niches.optimize.engine import Engine

BISECTION_STEPS = 40
EDGE = 1e-6
"""How far (relative) inside a cost factor's edge the portfolio taking over is asked for."""
COST_STEPS = 16
"""Bisection steps on solves for a cost factor: the bracket shrinks 65,536-fold."""


@dataclass(frozen=True)
class Change:
    """A change of recommendation: at `at` (a weight or a factor), `portfolio` takes over."""

    at: float
    portfolio: dict[str, str] | None  # None: no portfolio keeps the rules there


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
    beaten_by: dict[float, dict[str, str]] = {}  # the best portfolio where one beats the recommendation

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
            beaten_by[t] = best.portfolio
            return "beaten", best.portfolio
        return "ok", None

    def taker(t: float) -> Change:  # where a probe found the best there, only its tie-breaks are left
        rival = beaten_by.get(t)
        return _taker(solver, at(t), recommended, t, rival=rival, settled=rival is not None)

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
    settled: bool = False,
) -> Change:
    """Return what takes over from the recommendation in `variant`: the best of the portfolios beating it.

    Asking for the best portfolio alone could return the recommendation itself
    when the winner beats it by just over the tie tolerance. `settled`: `rival`
    is known to be the best there (only the tie-breaks are left to settle).
    """
    floors = None
    broken = bool(violated_rules(variant, recommended))
    if solver.kind != "regret" and not broken:
        mine = _objective(solver.kind, variant, recommended)
        floors = {KIND_GOAL[solver.kind]: mine + tolerance(mine)}
    best = solver.best(variant, tie_breaks=True, costs=costs, floors=floors, start=rival, settled=settled)
    if best.metrics is None and floors is not None:
        best = solver.best(variant, tie_breaks=True, costs=costs)
    if broken and best.portfolio == recommended:  # the solver's tolerance lets it hold at its very edge
        best = solver.best(variant, tie_breaks=True, costs=costs, avoid=[recommended])
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

    assert winner is not None

    def changed(t: float, rival: dict[str, str] = winner) -> bool:  # a class best stays its class's best
        variant = at(t)
        return _beats(kind, _objective(kind, variant, rival), _objective(kind, variant, recommended))

    point = _clear_of(first, end, changed)
    # No class has crossed before the winner, and it is its class's best: the best portfolio there.
    return _taker(solver, at(point), recommended, point, rival=winner, settled=True)


def _crossing(gap: Callable[[float], float], good: float, bad: float) -> tuple[float, float]:
    """Return the bracket (good, bad) around where `gap` turns positive, at most 2^-39 of its width.

    `gap` is at most 0 at `good` and positive at `bad`. Each step estimates the
    crossing by regula falsi (the Illinois variant: a side kept twice has its
    gap halved), then probes one bracket-width on either side of it, so the
    bracket ends clear of the crossing on both sides. An affine gap takes one
    step (four evaluations, where bisection takes forty); a step that does not
    halve the bracket is followed by a bisection, so it is never much slower.
    """
    width = abs(bad - good) / 2**BISECTION_STEPS
    g_good, g_bad = min(gap(good), 0.0), max(gap(bad), math.ulp(0.0))
    kept = 0  # which side stayed put last time: -1 good, +1 bad
    previous = abs(bad - good)
    for step in range(2 * BISECTION_STEPS):
        span = abs(bad - good)
        if span <= 2 * width:
            break
        if step % 2 == 1 and span > previous / 2:  # not halving: bisect once
            estimate = (good + bad) / 2
        else:
            estimate = bad - g_bad * (bad - good) / (g_bad - g_good)
        previous = span
        towards = 1.0 if bad > good else -1.0
        moved = {-1: False, 1: False}
        for probe in (estimate - towards * width, estimate + towards * width):
            if not (min(good, bad) < probe < max(good, bad)):
                continue
            g = gap(probe)
            if g > 0:
                bad, g_bad = probe, g
                moved[1] = True
                break  # the crossing lies before it: nothing to learn past it
            good, g_good = probe, g
            moved[-1] = True
        if not moved[-1]:
            g_good = g_good / 2 if kept == -1 else g_good
            kept = -1
        elif not moved[1]:
            g_bad = g_bad / 2 if kept == 1 else g_bad
            kept = 1
        else:
            kept = 0
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
    if at == enters and rival is not None:
        # The rival fits from `at` on by the evaluator's tolerance; the solver's scaled rows may not
        # see it fit at that very edge (nor its equals): ask a hair inside, where both agree.
        inside = at * (1.0 + EDGE) if upward else at * (1.0 - EDGE)
        if not violated_rules(with_cost_factor(scenario, niche, inside), rival):
            variant = with_cost_factor(scenario, niche, inside)
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
