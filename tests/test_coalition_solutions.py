"""The least core, the nucleolus and the best coalition structure: published games, and random games
held to independent computations (an LP written with PuLP and solved by CBC, random splits, dynamic
programming over coalition structures)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pulp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niches.analysis.coalition_solutions import (
    Game,
    best_partition,
    blocking_groups,
    key,
    largest_complaint,
    least_core,
    least_core_epsilon,
    nucleolus,
    partitions,
    shapley_values,
)

TOL = 1e-6
"""Agreement asked of two computations of the same figure (relative to the game's largest worth)."""


def _approx(found: Mapping[str, float], expected: Mapping[str, float]) -> None:
    assert found == pytest.approx(expected, abs=1e-7)


# --------------------------------------------------------------------------- published games


def test_the_glove_game() -> None:
    """One left glove (a), two right gloves (b, c); a pair is worth 1. The core is the single split
    (1, 0, 0), so it is the least core (epsilon 0) and the nucleolus (Shapley & Shubik 1969, "On market
    games", J. Econ. Theory 1; Maschler, Peleg & Shapley 1979, Math. Oper. Res. 4)."""
    names = ["a", "b", "c"]
    game = {key(g): float("a" in g and len(g) > 1) for g in _subsets(names)}
    core = least_core(names, game)
    assert core.epsilon == pytest.approx(0.0, abs=1e-9)
    _approx(core.payoffs, {"a": 1.0, "b": 0.0, "c": 0.0})
    found = nucleolus(names, game)
    _approx(found.payoffs, {"a": 1.0, "b": 0.0, "c": 0.0})
    assert found.complaint == pytest.approx(0.0, abs=1e-9)
    assert blocking_groups(names, game, found.payoffs) == ()
    assert shapley_values(names, game) == pytest.approx({"a": 2 / 3, "b": 1 / 6, "c": 1 / 6})
    assert blocking_groups(names, game, shapley_values(names, game)) == (("a", "b"), ("a", "c"))


def test_the_three_player_majority_game() -> None:
    """v(S) = 1 when S holds two players or three, 0 for one: the core is empty, the least core is the
    single split (1/3, 1/3, 1/3) at epsilon 1/3, so is the nucleolus (Maschler, Peleg & Shapley 1979)."""
    names = ["a", "b", "c"]
    game = {key(g): float(len(g) >= 2) for g in _subsets(names)}
    assert least_core_epsilon(names, game) == pytest.approx(1 / 3)
    core = least_core(names, game)
    _approx(core.payoffs, dict.fromkeys(names, 1 / 3))
    found = nucleolus(names, game)
    _approx(found.payoffs, dict.fromkeys(names, 1 / 3))
    assert found.complaint == pytest.approx(1 / 3)
    assert blocking_groups(names, game, found.payoffs) == (("a", "b"), ("a", "c"), ("b", "c"))


@pytest.mark.parametrize(
    ("estate", "expected"),
    [(100, (100 / 3, 100 / 3, 100 / 3)), (200, (50, 75, 75)), (300, (50, 100, 150))],
)
def test_the_bankruptcy_games_of_the_talmud(estate: float, expected: tuple[float, ...]) -> None:
    """Claims 100, 200, 300 on an estate of 100, 200 or 300; v(S) = max(0, E - the claims outside S).
    The nucleolus is the Talmud's division (Aumann & Maschler 1985, "Game theoretic analysis of a
    bankruptcy problem from the Talmud", J. Econ. Theory 36, 195-213): (33 1/3, 33 1/3, 33 1/3),
    (50, 75, 75), (50, 100, 150). These games are convex, so the core is not empty (epsilon < 0) and
    the nucleolus lies in it."""
    claims = {"first": 100.0, "second": 200.0, "third": 300.0}
    names = list(claims)
    game = {
        key(g): max(0.0, estate - math.fsum(c for m, c in claims.items() if m not in g))
        for g in _subsets(names)
    }
    found = nucleolus(names, game)
    assert [found.payoffs[m] for m in names] == pytest.approx(expected)
    assert least_core_epsilon(names, game) < 0
    assert blocking_groups(names, game, found.payoffs) == ()
    assert found.complaint == pytest.approx(least_core_epsilon(names, game))


def test_a_two_player_game_splits_the_surplus_evenly() -> None:
    """With two players the nucleolus (and the Shapley value) gives each its worth alone and half the
    surplus (the standard solution of a two-person bargaining game)."""
    game = {("a",): 1.0, ("b",): 3.0, ("a", "b"): 10.0}
    _approx(nucleolus(["a", "b"], game).payoffs, {"a": 4.0, "b": 6.0})
    core = least_core(["a", "b"], game)
    assert core.epsilon == pytest.approx(-3.0)
    _approx(core.payoffs, {"a": 4.0, "b": 6.0})


def _subsets(names: Sequence[str]) -> list[tuple[str, ...]]:
    return [g for size in range(1, len(names) + 1) for g in itertools.combinations(names, size)]


# --------------------------------------------------------------------------- independent checks


def _cbc_least_core(names: Sequence[str], worth: Game) -> tuple[float, dict[str, float]]:
    """Return the least core's epsilon and one of its splits: the LP written with PuLP, solved by CBC."""
    problem = pulp.LpProblem("least_core", pulp.LpMinimize)
    x = {m: pulp.LpVariable(f"x_{i}") for i, m in enumerate(names)}
    epsilon = pulp.LpVariable("epsilon")
    problem += epsilon
    for g in _subsets(names)[:-1]:
        problem += pulp.lpSum(x[m] for m in g) + epsilon >= worth[key(g)]
    problem += pulp.lpSum(x.values()) == worth[key(names)]
    problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[problem.status] == "Optimal"
    return float(pulp.value(epsilon)), {m: float(pulp.value(v)) for m, v in x.items()}


def _cbc_nearest(names: Sequence[str], worth: Game, epsilon: float, anchor: Mapping[str, float]) -> float:
    """Return the least max |x_i - anchor_i| over the least core at `epsilon` (PuLP and CBC)."""
    problem = pulp.LpProblem("nearest", pulp.LpMinimize)
    x = {m: pulp.LpVariable(f"x_{i}") for i, m in enumerate(names)}
    d = pulp.LpVariable("d")
    problem += d
    for g in _subsets(names)[:-1]:
        problem += pulp.lpSum(x[m] for m in g) >= worth[key(g)] - epsilon - 1e-7 * _size(worth)
    problem += pulp.lpSum(x.values()) == worth[key(names)]
    for m in names:
        problem += x[m] - anchor[m] <= d
        problem += anchor[m] - x[m] <= d
    problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[problem.status] == "Optimal"
    return float(pulp.value(d))


def _size(worth: Game) -> float:
    return max(1.0, *(abs(v) for v in worth.values()))


def _sorted_excesses(names: Sequence[str], worth: Game, splits: np.ndarray) -> np.ndarray:
    """Return, for each split (a row of `splits`), its proper groups' excesses sorted largest first."""
    groups = _subsets(names)[:-1]
    member = np.array([[m in g for m in names] for g in groups], dtype=float)
    v = np.array([worth[key(g)] for g in groups])
    return -np.sort(-(v[None, :] - splits @ member.T), axis=1)


def _lexicographically_no_larger(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    for p, q in zip(a, b, strict=True):
        if p < q - tol:
            return True
        if p > q + tol:
            return False
    return True


def _best_structure_value(names: Sequence[str], values: Mapping[tuple[str, ...], float | None]) -> float:
    """The best total over partitions into groups that can plan, by dynamic programming over subsets
    (best(S) = max(v(S), best(A) + best(S - A)) over the splits of S; Yeh 1986)."""
    n = len(names)
    best = [-math.inf] * (1 << n)
    for mask in range(1, 1 << n):
        group = [names[i] for i in range(n) if mask >> i & 1]
        v = values[key(group)]
        top = -math.inf if v is None else v
        low = mask & -mask  # the part holding the lowest member: each split counted once
        sub = (mask - 1) & mask
        while sub:
            if sub & low:
                top = max(top, best[sub] + best[mask ^ sub])
            sub = (sub - 1) & mask
        best[mask] = top
    return best[-1]


Drawn = tuple[list[str], dict[tuple[str, ...], float], dict[tuple[str, ...], float | None]]


def _labellings(n: int) -> list[tuple[int, ...]]:
    """Every partition of n players as the group label of each player in turn, a new group taking the
    next label (restricted growth strings; Bell(n) of them)."""
    found: list[tuple[int, ...]] = [()]
    for _ in range(n):
        found = [(*p, label) for p in found for label in range(max(p, default=-1) + 2)]
    return found


def _best_by_enumeration(
    names: Sequence[str], values: Mapping[tuple[str, ...], float | None]
) -> tuple[float, list[tuple[float, int, tuple[int, ...]]]]:
    """Return the best total over every partition into groups that can plan, and every partition as
    (total, number of groups, labels)."""
    found = []
    for labels in _labellings(len(names)):
        groups = [[m for m, g in zip(names, labels, strict=True) if g == label] for label in set(labels)]
        parts = [values[key(g)] for g in groups]
        if all(p is not None for p in parts):
            found.append((math.fsum(p or 0.0 for p in parts), len(groups), labels))
    return max(t for t, _, _ in found), found


@st.composite
def games(draw: st.DrawFn, sizes: tuple[int, int] = (2, 5)) -> Drawn:
    """Draw a game: worths whole (many ties, degenerate LPs) or not, superadditive (each worth raised
    to its best split) or not, small, plain or large; and joint optima (`values`) where some groups
    cannot plan together (None), for the coalition structures."""
    n = draw(st.integers(*sizes))
    names = [f"p{i}" for i in range(n)]
    whole = draw(st.booleans())
    number = st.integers(0, 12).map(float) if whole else st.floats(-5, 20).map(lambda x: round(x, 3))
    scale = draw(st.sampled_from([1.0, 1.0, 1.0, 1e-3, 1e6]))
    worth = {key(g): draw(number) * scale for g in _subsets(names)}
    if draw(st.booleans()):
        for g in sorted(worth, key=len):
            for size in range(1, len(g)):
                for part in itertools.combinations(g, size):
                    rest = tuple(m for m in g if m not in part)
                    worth[g] = max(worth[g], worth[part] + worth[rest])
    values: dict[tuple[str, ...], float | None] = dict(worth)
    for g in _subsets(names)[n:]:  # a member alone can always plan
        if draw(st.integers(0, 3)) == 0:
            values[key(g)] = None
    return names, worth, values


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _held_to_independent_checks(
    names: list[str], worth: dict[tuple[str, ...], float], values: dict[tuple[str, ...], float | None]
) -> None:
    size = _size(worth)
    tol = TOL * size
    epsilon, cbc_split = _cbc_least_core(names, worth)
    core = least_core(names, worth)
    assert abs(core.epsilon - epsilon) <= tol, (core.epsilon, epsilon)
    assert math.fsum(core.payoffs.values()) == pytest.approx(worth[key(names)], abs=tol)
    for g in _subsets(names)[:-1]:
        assert math.fsum(core.payoffs[m] for m in g) >= worth[key(g)] - core.epsilon - tol, g
    shapley = shapley_values(names, worth)
    nearest = max(abs(core.payoffs[m] - shapley[m]) for m in names)
    assert abs(nearest - _cbc_nearest(names, worth, core.epsilon, shapley)) <= tol

    found = nucleolus(names, worth)
    x = np.array([found.payoffs[m] for m in names])
    assert x.sum() == pytest.approx(worth[key(names)], abs=tol)  # efficient
    assert abs(largest_complaint(names, worth, found.payoffs) - epsilon) <= tol  # in the least core
    assert abs(found.complaint - epsilon) <= tol
    if core.epsilon <= -tol:  # the core is not empty: the nucleolus is in it
        assert blocking_groups(names, worth, found.payoffs) == ()
    rng = np.random.default_rng(len(names) * 1000 + int(abs(worth[key(names)])) % 1000)
    others = [np.array([cbc_split[m] for m in names]), np.array([core.payoffs[m] for m in names])]
    others.append(np.array([shapley[m] for m in names]))
    for spread in (1e-3, 1e-2, 0.1, 1.0):  # 200 random efficient splits near the nucleolus and farther
        steps = rng.normal(size=(50, len(names))) * spread * size
        steps -= steps.mean(axis=1, keepdims=True)
        others.extend(x + steps)
    ours = _sorted_excesses(names, worth, x[None, :])[0]
    for theirs in _sorted_excesses(names, worth, np.array(others)):
        assert _lexicographically_no_larger(ours, theirs, tol), (ours, theirs)

    best = best_partition(names, values)
    assert best.value == pytest.approx(_best_structure_value(names, values), abs=tol)
    if len(names) <= 6:
        top, every = _best_by_enumeration(names, values)
        assert best.value == pytest.approx(top, abs=tol)
        tied = [(count, labels) for total, count, labels in every if total >= top - 1e-6 * max(1.0, abs(top))]
        rank = {m: i for i, g in enumerate(best.groups) for m in g}
        assert (len(best.groups), tuple(rank[m] for m in names)) == min(tied)  # fewer groups, then order
    assert sorted(m for g in best.groups for m in g) == sorted(names)
    assert all(values[key(g)] is not None for g in best.groups)
    assert best.value == pytest.approx(math.fsum(values[key(g)] or 0.0 for g in best.groups))


@given(games())
@settings(SETTINGS, max_examples=150)
def test_random_games_of_two_to_five_players(game: Drawn) -> None:
    _held_to_independent_checks(*game)


@given(games(sizes=(6, 8)))
@settings(SETTINGS, max_examples=8)
def test_random_games_of_six_to_eight_players(game: Drawn) -> None:
    _held_to_independent_checks(*game)


@given(st.integers(3, 6), st.data())
@settings(SETTINGS, max_examples=25)
def test_symmetric_players_get_the_same(n: int, data: st.DataObject) -> None:
    """p0 and p1 are interchangeable (v(S) depends on how many of the two S holds, and on the rest):
    the nucleolus and the least core's split give them the same (both are unique and the game does
    not change when they swap)."""
    names = [f"p{i}" for i in range(n)]
    by_pattern: dict[tuple[int, tuple[str, ...]], float] = {}
    worth = {}
    for g in _subsets(names):
        pattern = (sum(m in ("p0", "p1") for m in g), tuple(m for m in g if m not in ("p0", "p1")))
        if pattern not in by_pattern:
            by_pattern[pattern] = float(data.draw(st.integers(0, 10)))
        worth[key(g)] = by_pattern[pattern]
    found = nucleolus(names, worth)
    assert found.payoffs["p0"] == pytest.approx(found.payoffs["p1"], abs=1e-7)
    core = least_core(names, worth)
    assert core.payoffs["p0"] == pytest.approx(core.payoffs["p1"], abs=1e-7)


def test_partitions_are_counted_by_the_bell_numbers() -> None:
    for n, bell in enumerate([1, 1, 2, 5, 15, 52, 203, 877, 4140]):
        found = list(partitions([f"p{i}" for i in range(n)]))
        assert len(found) == bell
        assert len({frozenset(frozenset(g) for g in p) for p in found}) == bell


def test_ties_between_structures_go_to_fewer_groups_then_member_order() -> None:
    names = ["c", "a", "b"]  # the members' order, not the alphabet's
    values: dict[tuple[str, ...], float | None] = {
        key(g): float(len(g)) for g in _subsets(names)
    }  # every partition is worth 3
    assert best_partition(names, values).groups == (("c", "a", "b"),)
    values[key(names)] = None
    assert best_partition(names, values).groups == (("c", "a"), ("b",))
    values[("a", "c")] = None
    assert best_partition(names, values).groups == (("c", "b"), ("a",))
