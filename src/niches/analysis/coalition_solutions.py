"""Solutions of a game with transferable value: the Shapley value, the core test, the least core,
the nucleolus and the best coalition structure.

A game is its players' names (in their order) and `worth`: every non-empty
group of players, written as the tuple of its names sorted (`key`), -> v(S),
what the group can get on its own (value units; v of the empty group is 0). A
split x gives each player a payoff, and all of them together v(N), the worth of
the grand coalition (efficiency). The excess of a group S at x,
e(S, x) = v(S) - x(S), is its complaint: what its members would gain by
leaving together (0 or less: nothing).

- The core: the splits no group complains of (every excess <= 0).
- The least core: the splits whose largest complaint over the proper groups is
  the least possible, epsilon (one LP). epsilon <= 0 exactly when the core is
  not empty (Shapley & Shubik 1966; Maschler, Peleg & Shapley 1979).
- The nucleolus: the split whose complaints, sorted largest first, are
  lexicographically smallest (Schmeidler 1969); it lies in the least core, so
  in the core when the core is not empty. Found by sequential LPs (Maschler,
  Peleg & Shapley 1979): minimise the largest complaint, fix the groups whose
  complaint cannot go lower, and repeat until the split is unique.

The games here come from `niches coalition` (at most MAX_MEMBERS = 8 players,
so 254 proper groups): every group is listed and every answer is exact up to
the LP solver's tolerance. The LPs are solved by HiGHS in-process
(`niches.optimize.lp`), on data scaled near 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from niches.optimize.lp import LPFailed, Row, minimise
from niches.optimize.tolerances import RELATIVE_TIE

Game = Mapping[tuple[str, ...], float]
"""v(S) of every non-empty group S of players, keyed by `key(S)` (value units)."""

DUAL = 1e-7
"""A row whose dual value is larger than this (in size) is tight in every optimum of its LP."""

SLACK = 1e-9
"""Room given to the least-core rows at epsilon when HiGHS finds them infeasible as they are (scaled
units): epsilon is an LP optimum, exact only up to the solver's tolerance."""


@dataclass(frozen=True)
class LeastCore:
    """The least core and the split proposed from it.

    `epsilon` (value units): the smallest amount such that some split x of
    v(N) gives every proper non-empty group S at least v(S) - epsilon; it is
    <= 0 exactly when the core is not empty. `payoffs` (member -> value units):
    among the splits of the least core, the one nearest the Shapley value:
    the largest |x_i - phi_i| is made as small as it can be, then the next
    largest, and so on (a lexicographic minimum, so the split is unique,
    whatever vertex an LP solver would return).
    """

    epsilon: float
    payoffs: Mapping[str, float]


@dataclass(frozen=True)
class Nucleolus:
    """The nucleolus: `payoffs` (member -> value units), and its largest `complaint`, the largest
    excess v(S) - x(S) over the proper groups (value units; equal to the least core's epsilon)."""

    payoffs: Mapping[str, float]
    complaint: float


@dataclass(frozen=True)
class Partition:
    """A coalition structure: `groups` (each in the players' order, ordered by their first player) and
    `value`, the total of the groups' worths (value units)."""

    groups: tuple[tuple[str, ...], ...]
    value: float


def key(group: Iterable[str]) -> tuple[str, ...]:
    """Return the key of a group in a game: its names sorted."""
    return tuple(sorted(group))


def groups_of(names: Sequence[str], proper: bool = True) -> Iterator[tuple[str, ...]]:
    """Yield every non-empty group (without the grand coalition when `proper`), smaller first, then in
    the players' order; each group's names in the players' order."""
    last = len(names) - 1 if proper else len(names)
    for size in range(1, last + 1):
        yield from itertools.combinations(names, size)


def excess(worth: Game, group: Sequence[str], payoffs: Mapping[str, float]) -> float:
    """Return e(S, x) = v(S) - x(S): what the group would gain by leaving (value units)."""
    return worth[key(group)] - math.fsum(payoffs[m] for m in group)


def largest_complaint(names: Sequence[str], worth: Game, payoffs: Mapping[str, float]) -> float:
    """Return the largest excess of a proper non-empty group at `payoffs` (value units)."""
    return max(excess(worth, group, payoffs) for group in groups_of(names))


def blocks(value: float, got: float) -> bool:
    """Return whether a group worth `value` beats the payoffs `got` of its members (beyond a tie)."""
    return value > got + RELATIVE_TIE * max(1.0, abs(value), abs(got))


def blocking_groups(
    names: Sequence[str], worth: Game, payoffs: Mapping[str, float], proper: bool = True
) -> tuple[tuple[str, ...], ...]:
    """Return the groups (in the order of `groups_of`) whose worth beats their members' payoffs: the
    core test (the grand coalition too when not `proper`)."""
    return tuple(
        group
        for group in groups_of(names, proper)
        if blocks(worth[key(group)], math.fsum(payoffs[m] for m in group))
    )


def shapley_values(names: Sequence[str], worth: Game) -> dict[str, float]:
    """Return each player's Shapley value of the game (of the sub-game of `names`, when `worth` holds
    more players)."""
    n = len(names)
    result = {}
    for player in names:
        others = [p for p in names if p != player]
        total = []
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for group in itertools.combinations(others, size):
                total.append(weight * (worth[key((*group, player))] - worth.get(key(group), 0.0)))
        result[player] = math.fsum(total)
    return result


# --------------------------------------------------------------------------- the least core, the nucleolus


@dataclass(frozen=True)
class _Complaint:
    """An affine function f(x) = constant - coefficients . x of the split, made as small as it can be."""

    coefficients: tuple[float, ...]
    constant: float


def _scale(worth: Game) -> float:
    """Return a power of two near the largest |v(S)| (1 when every worth is 0)."""
    top = max((abs(v) for v in worth.values()), default=0.0)
    return 2.0 ** round(math.log2(top)) if top > 0 else 1.0


def _indicator(names: Sequence[str], group: Sequence[str]) -> tuple[float, ...]:
    return tuple(1.0 if m in group else 0.0 for m in names)


def _excesses(names: Sequence[str], worth: Game, scale: float) -> list[_Complaint]:
    """Return the excess of every proper group as a complaint (scaled)."""
    return [_Complaint(_indicator(names, g), worth[key(g)] / scale) for g in groups_of(names)]


def _efficiency(names: Sequence[str], worth: Game, scale: float) -> Row:
    total = worth[key(names)] / scale
    return Row(tuple(1.0 for _ in names), total, total)


def _stage(
    n: int,
    active: Sequence[_Complaint],
    fixed: Sequence[tuple[_Complaint, float]],
    limits: Sequence[Row],
) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """Minimise t, the largest of the `active` complaints, keeping each `fixed` complaint at most its
    level and every row of `limits`; return t, the split and the dual value of each active row."""
    rows = [Row((*c.coefficients, 1.0), c.constant, math.inf) for c in active]
    rows += [Row((*c.coefficients, 0.0), c.constant - level, math.inf) for c, level in fixed]
    rows += [Row((*r.coefficients, 0.0), r.lower, r.upper) for r in limits]
    solution = minimise((*([0.0] * n), 1.0), rows)
    return solution.objective, solution.x[:n], solution.duals[: len(active)]


def _lexicographic_minimum(
    n: int, complaints: Sequence[_Complaint], limits: Sequence[Row]
) -> tuple[tuple[float, ...], float]:
    """Return the split of {x: limits} whose complaints, sorted largest first, are lexicographically
    smallest, and its largest complaint.

    Sequential LPs (Maschler, Peleg & Shapley 1979): minimise the largest
    active complaint t; a complaint whose row has a non-zero dual value equals
    t in every optimum, so it is fixed at t and leaves the active set, as does
    every complaint then determined by the fixed ones (its coefficients in
    their span: it is constant from there on). Each round fixes at least one
    complaint (the dual values of the active rows add up to 1); the rounds
    stop when the fixed complaints and the equalities among `limits` span
    every direction, so the split is unique. The complaints' coefficients
    must span every direction (they separate splits), which makes the minimum
    unique.
    """
    basis = [r.coefficients for r in limits if r.lower == r.upper]
    active = list(complaints)
    fixed: list[tuple[_Complaint, float]] = []
    first: float | None = None
    for _ in range(len(complaints) + 1):
        level, x, duals = _stage(n, active, fixed, limits)
        first = level if first is None else first
        tight = [i for i, d in enumerate(duals) if abs(d) > DUAL]
        if not tight:
            raise LPFailed("no complaint is tight at the optimum (the dual values are all 0)")
        for i in tight:
            fixed.append((active[i], level))
            basis.append(active[i].coefficients)
        rank = _rank(basis)
        if rank == n:
            return x, first
        tight_set = set(tight)
        active = [
            c for i, c in enumerate(active) if i not in tight_set and _rank([*basis, c.coefficients]) > rank
        ]
        if not active:
            raise LPFailed("the complaints do not determine a unique split")
    raise LPFailed("the sequence of LPs did not end")


def _rank(rows: Sequence[tuple[float, ...]]) -> int:
    return int(np.linalg.matrix_rank(np.array(rows, dtype=np.float64), tol=1e-9)) if rows else 0


def least_core_epsilon(names: Sequence[str], worth: Game) -> float:
    """Return the least core's epsilon: min over splits x of v(N) of the largest v(S) - x(S) over the
    proper non-empty groups (value units; one LP). Needs two players or more."""
    if len(names) < 2:
        raise ValueError("the least core needs two players or more")
    scale = _scale(worth)
    level, _, _ = _stage(len(names), _excesses(names, worth, scale), [], [_efficiency(names, worth, scale)])
    return level * scale


def least_core(names: Sequence[str], worth: Game, anchor: Mapping[str, float] | None = None) -> LeastCore:
    """Return the least core's epsilon and its split nearest `anchor` (default: the Shapley value).

    Two steps: epsilon by one LP (`least_core_epsilon`); then, with every
    proper group S held to x(S) >= v(S) - epsilon, the split that makes the
    largest |x_i - anchor_i| smallest, then the next largest, and so on (the
    first LP of that sequence is the plain minimax distance; the later ones
    only settle ties, so the split does not depend on the LP solver's choice
    among equally near splits).
    """
    epsilon = least_core_epsilon(names, worth)
    anchor = shapley_values(names, worth) if anchor is None else anchor
    n, scale = len(names), _scale(worth)
    distances = []
    for i, m in enumerate(names):
        unit = tuple(1.0 if j == i else 0.0 for j in range(n))
        distances.append(_Complaint(tuple(-u for u in unit), -anchor[m] / scale))  # x_i - anchor_i
        distances.append(_Complaint(unit, anchor[m] / scale))  # anchor_i - x_i
    for slack in (0.0, SLACK):
        floor = epsilon / scale + slack
        limits = [_efficiency(names, worth, scale)]
        limits += [
            Row(_indicator(names, g), worth[key(g)] / scale - floor, math.inf) for g in groups_of(names)
        ]
        try:
            x, _ = _lexicographic_minimum(n, distances, limits)
        except LPFailed:
            if slack:
                raise
            continue
        break
    return LeastCore(epsilon, {m: x[i] * scale for i, m in enumerate(names)})


def nucleolus(names: Sequence[str], worth: Game) -> Nucleolus:
    """Return the nucleolus of the game and its largest complaint. Needs two players or more."""
    if len(names) < 2:
        raise ValueError("the nucleolus is computed for two players or more")
    scale = _scale(worth)
    x, _ = _lexicographic_minimum(
        len(names), _excesses(names, worth, scale), [_efficiency(names, worth, scale)]
    )
    payoffs = {m: x[i] * scale for i, m in enumerate(names)}
    return Nucleolus(payoffs, largest_complaint(names, worth, payoffs))


# --------------------------------------------------------------------------- coalition structures


def partitions(names: Sequence[str]) -> Iterator[tuple[tuple[str, ...], ...]]:
    """Yield every partition of `names` into non-empty groups (Bell(n) of them): each group in the
    players' order, the groups ordered by their first player."""
    if not names:
        yield ()
        return
    first, rest = names[0], names[1:]
    for partition in partitions(rest):
        yield ((first,), *partition)
        for i, group in enumerate(partition):
            yield (*partition[:i], (first, *group), *partition[i + 1 :])


def best_partition(names: Sequence[str], values: Mapping[tuple[str, ...], float | None]) -> Partition:
    """Return the partition of the players into groups that can plan together (`values[key(S)]` not
    None) with the largest total value, found by enumeration.

    Totals within RELATIVE_TIE of the best tie; among them, fewer groups win,
    then the partition that comes first in the players' order: each player
    in turn is labelled with its group's rank (groups ranked by their first
    player), and the smaller sequence of labels wins, so earlier players stay
    together first.
    """
    position = {m: i for i, m in enumerate(names)}
    found: list[tuple[float, tuple[tuple[str, ...], ...]]] = []
    for partition in partitions(names):
        parts = [values[key(g)] for g in partition]
        if all(p is not None for p in parts):
            found.append((math.fsum(p for p in parts if p is not None), _ordered(partition, position)))
    if not found:
        raise ValueError("no partition of the players into groups that can plan together")
    top = max(total for total, _ in found)
    tied = [(total, p) for total, p in found if total >= top - RELATIVE_TIE * max(1.0, abs(top))]
    total, best = min(tied, key=lambda t: (len(t[1]), _labels(t[1], names)))
    return Partition(best, total)


def _labels(partition: tuple[tuple[str, ...], ...], names: Sequence[str]) -> tuple[int, ...]:
    """Return each player's group rank (the groups in order of their first player)."""
    rank = {m: i for i, g in enumerate(partition) for m in g}
    return tuple(rank[m] for m in names)


def _ordered(
    partition: tuple[tuple[str, ...], ...], position: Mapping[str, int]
) -> tuple[tuple[str, ...], ...]:
    groups = [tuple(sorted(g, key=position.__getitem__)) for g in partition]
    return tuple(sorted(groups, key=lambda g: position[g[0]]))
