"""Every portfolio of a small scenario at once, as numpy arrays.

When a scenario has few enough portfolios (each niche out or at one of its
levels: the product of `levels + 1`), analyses that re-solve many variants
(sensitivity, frontiers, Monte Carlo) score all of them in one vectorised pass
instead of calling a MILP solver: the choices are enumerated once, and a
variant only re-scores them. The semantics (values, CVaR, rule checks with
their tolerance, goals and tie-breaks) are those of `niches.evaluate`, which
tests hold both to.

Per-portfolio sums are gathers (one small lookup table per niche indexed by
the level chosen), not products with a one-hot matrix, so no BLAS threads
start for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from niches.evaluate import FEASIBILITY_TOLERANCE, RELATIVE_TIE, rule_groups
from niches.formulation import minimised, tie_break_goals
from niches.scenario import Scenario

ENUMERATION_LIMIT = 1_000_000
"""Largest number of portfolios enumerated; above it analyses use the MILP."""

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def portfolio_count(scenario: Scenario) -> int:
    """Return the number of portfolios (including the empty one)."""
    return math.prod(len(n.levels) + 1 for n in scenario.niches)


def small_enough(scenario: Scenario, limit: int = ENUMERATION_LIMIT) -> bool:
    """Return whether every portfolio of `scenario` can be enumerated."""
    return portfolio_count(scenario) <= limit


@dataclass(frozen=True)
class Scores:
    """Measures of the portfolios that keep the rules not moved by values, under one variant.

    `rows` are the table rows scored (every other portfolio breaks a budget,
    capacity, count, share, exposure or link rule); the other arrays follow
    `rows`. `feasible` also applies the value floors (min_worst_case, min_cvar).
    """

    rows: NDArray[np.int64]
    values: Floats  # (len(rows), worlds)
    expected: Floats
    worst: Floats
    cvar: Floats
    spend: Floats  # (len(rows), periods)
    total: Floats
    uses: Floats  # (len(rows), capacities)
    feasible: Bools


@dataclass(frozen=True)
class _Static:
    rows: NDArray[np.int64]
    spend: Floats
    total: Floats
    uses: Floats


class PortfolioTable:
    """All portfolios of a scenario's structure; scores them under any numeric variant.

    `choice[i, j]` is 0 when niche j is out of portfolio i, else 1 + its level index.
    A variant is a scenario with the same niches, levels, worlds, periods,
    powers and capacities and other numbers (weights, scores, costs, probabilities, limits).
    The rules that values do not move are checked once per set of costs and
    limits and cached; a new set of values re-scores only the portfolios left.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        sizes = [len(n.levels) + 1 for n in scenario.niches]
        count = math.prod(sizes)
        if count > 50 * ENUMERATION_LIMIT:
            raise ValueError(f"{count} portfolios are too many to enumerate")
        index = np.arange(count, dtype=np.int64)
        choice = np.empty((count, len(sizes)), dtype=np.int16)
        stride = 1
        for j in reversed(range(len(sizes))):  # the last niche varies fastest
            choice[:, j] = (index // stride) % sizes[j]
            stride *= sizes[j]
        self.choice = choice
        self.chosen = choice > 0
        self.count = self.chosen.sum(axis=1)
        self.offsets = np.cumsum([0] + [len(n.levels) for n in scenario.niches])[:-1]
        self.levels = [(n.id, lv.id) for n in scenario.niches for lv in n.levels]
        self.rank = self.gather(np.arange(1.0, len(self.levels) + 1)[:, None])[:, 0]
        index_of = {n.id: j for j, n in enumerate(scenario.niches)}
        self.pairs = [(index_of[n.id], index_of[o]) for n in scenario.niches for o in n.synergy]
        self.both = (
            np.stack([self.chosen[:, a] & self.chosen[:, b] for a, b in self.pairs], axis=1).astype(
                np.float64
            )
            if self.pairs
            else np.zeros((count, 0))
        )
        self.scenario_groups = tuple(rule_groups(scenario))
        self._cache: dict[object, _Static] = {}

    def gather(self, per_level: Floats, rows: NDArray[np.int64] | None = None) -> Floats:
        """Return, for each portfolio (or `rows`), the sum over its chosen levels of `per_level` rows."""
        choice = self.choice if rows is None else self.choice[rows]
        out = np.zeros((len(choice), per_level.shape[1]))
        for j, offset in enumerate(self.offsets):
            width = len(self.scenario.niches[j].levels)
            lookup = np.vstack([np.zeros((1, per_level.shape[1])), per_level[offset : offset + width]])
            out += lookup[choice[:, j]]
        return out

    def portfolio(self, row: int) -> dict[str, str]:
        """Return portfolio `row` as niche -> level."""
        result = {}
        for j, niche in enumerate(self.scenario.niches):
            c = int(self.choice[row, j])
            if c:
                result[niche.id] = niche.levels[c - 1].id
        return result

    def row_of(self, portfolio: Mapping[str, str]) -> int:
        """Return the row of `portfolio`."""
        row = 0
        for niche in self.scenario.niches:
            c = 0
            if niche.id in portfolio:
                c = 1 + [lv.id for lv in niche.levels].index(portfolio[niche.id])
            row = row * (len(niche.levels) + 1) + c
        return row

    # ---------------------------------------------------------------- scoring
    def level_values(self, variant: Scenario) -> Floats:
        """Return the (levels, worlds) matrix of v(n, l, k) under `variant`."""
        rows = []
        for niche in variant.niches:
            for level in niche.levels:
                base = math.fsum(c.weight * level.scores[c.id].mean for c in variant.criteria)
                rows.append([niche.outlook.get(w.id, 1.0) * base for w in variant.worlds])
        return np.array(rows).reshape(len(self.levels), len(variant.worlds))

    def synergy_bonuses(self, variant: Scenario) -> Floats:
        """Return the bonus of each synergy pair, in the table's pair order."""
        return np.array([n.synergy[o] for n in variant.niches for o in n.synergy])

    def _static(self, s: Scenario, disabled: frozenset[str], limits: Mapping[str, float]) -> _Static:
        costs = tuple(lv.cost[p] for n in s.niches for lv in n.levels for p in s.periods)
        key = (costs, disabled, tuple(sorted(limits.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        cost_matrix = np.array(costs).reshape(len(self.levels), len(s.periods))
        spend = self.gather(cost_matrix)
        total = spend.sum(axis=1)
        use_matrix = np.array(
            [[lv.uses.get(r, 0.0) for r in s.capacities] for n in s.niches for lv in n.levels]
        ).reshape(len(self.levels), len(s.capacities))
        uses = self.gather(use_matrix)
        ok = _Checker(np.ones(len(self.choice), dtype=bool), disabled)

        def limit(group: str, default: float) -> float:
            return limits.get(group, default)

        for period, cap in s.budget.items():
            group = f"budget[{period}]"
            ok.upper(group, spend[:, s.periods.index(period)], limit(group, cap))
        if s.budget_total is not None:
            ok.upper("budget[total]", total, limit("budget[total]", s.budget_total))
        for i, (resource, amount) in enumerate(s.capacities.items()):
            group = f"capacity[{resource}]"
            ok.upper(group, uses[:, i], limit(group, amount))
        r = s.rules
        if r.min_niches is not None:
            ok.lower("min_niches", self.count.astype(float), limit("min_niches", r.min_niches), exact=True)
        if r.max_niches is not None:
            ok.upper("max_niches", self.count.astype(float), limit("max_niches", r.max_niches), exact=True)
        index = {n.id: j for j, n in enumerate(s.niches)}
        for nid in r.must_include:
            ok.require(f"must_include[{nid}]", self.chosen[:, index[nid]])
        for nid in r.must_exclude:
            ok.require(f"must_exclude[{nid}]", ~self.chosen[:, index[nid]])
        level_totals = cost_matrix.sum(axis=1)
        if r.max_share is not None and "max_share" not in disabled:
            largest = np.zeros(len(self.choice))
            for j, offset in enumerate(self.offsets):
                column = np.concatenate(([0.0], level_totals[offset : offset + len(s.niches[j].levels)]))
                np.maximum(largest, column[self.choice[:, j]], out=largest)
            ok.upper("max_share", largest, limit("max_share", r.max_share) * total)
        caps: dict[str, float] = {
            p: limits.get(f"max_exposure[{p}]", r.max_exposure.get(p, 1.0))
            for p in s.powers
            if f"max_exposure[{p}]" in limits or p in r.max_exposure
        }
        imbalance = r.max_imbalance is not None and len(s.powers) >= 2 and "max_imbalance" not in disabled
        if caps or imbalance:
            exposure = np.array(
                [[n.exposure.get(p, 0.0) for p in s.powers] for n in s.niches for _ in n.levels]
            ).reshape(len(self.levels), len(s.powers))
            numerators = self.gather(exposure * level_totals[:, None])
            for power, cap in caps.items():
                group = f"max_exposure[{power}]"
                ok.upper(group, numerators[:, s.powers.index(power)], cap * total)
            if imbalance:
                assert r.max_imbalance is not None
                high = numerators[:, 0].copy()
                low = numerators[:, 0].copy()
                for i in range(1, len(s.powers)):  # column by column: much faster than max(axis=1)
                    np.maximum(high, numerators[:, i], out=high)
                    np.minimum(low, numerators[:, i], out=low)
                ok.upper("max_imbalance", high - low, limit("max_imbalance", r.max_imbalance) * total)
        for niche in s.niches:
            a = self.chosen[:, index[niche.id]]
            for needed in niche.requires:
                ok.require(f"requires[{niche.id} -> {needed}]", ~a | self.chosen[:, index[needed]])
            for other in niche.excludes:
                ok.require(f"excludes[{niche.id}, {other}]", ~(a & self.chosen[:, index[other]]))
        rows = np.flatnonzero(ok.feasible)
        static = _Static(rows, spend[rows], total[rows], uses[rows])
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = static
        return static

    def score(
        self,
        variant: Scenario | None = None,
        disabled: frozenset[str] = frozenset(),
        limits: Mapping[str, float] | None = None,
        level_values: Floats | None = None,
        probabilities: Floats | None = None,
    ) -> Scores:
        """Score every portfolio that keeps the value-free rules, and apply the value floors."""
        s = variant or self.scenario
        limits = limits or {}
        static = self._static(s, disabled, limits)
        table = self.level_values(s) if level_values is None else level_values
        values = self.gather(table, static.rows)
        if self.pairs:
            values = values + (self.both[static.rows] @ self.synergy_bonuses(s))[:, None]
        probs = np.array([w.probability for w in s.worlds]) if probabilities is None else probabilities
        expected = values @ probs
        worst = values.min(axis=1)
        cvar = cvar_of(values, probs, s.rules.cvar_tail)
        ok = _Checker(np.ones(len(static.rows), dtype=bool), disabled)
        r = s.rules
        if r.min_worst_case is not None:
            ok.lower("min_worst_case", worst, limits.get("min_worst_case", r.min_worst_case))
        if r.min_cvar is not None:
            ok.lower("min_cvar", cvar, limits.get("min_cvar", r.min_cvar))
        return Scores(
            static.rows, values, expected, worst, cvar, static.spend, static.total, static.uses, ok.feasible
        )

    # ---------------------------------------------------------------- goals
    def goal(self, scores: Scores, goal: str, stars: Floats | None = None) -> Floats:
        """Return every scored portfolio's value of goal `goal` (as evaluate.goal_value defines it)."""
        s = self.scenario
        simple = {
            "expected_value": scores.expected,
            "worst_case": scores.worst,
            "cvar": scores.cvar,
            "total_spend": scores.total,
        }
        if goal in simple:
            return simple[goal]
        if goal == "max_regret":
            if stars is None:
                raise ValueError("regret needs the best value of each world")
            return np.asarray((stars[None, :] - scores.values).max(axis=1), dtype=np.float64)
        if goal == "tie_rank":
            return np.asarray(self.rank[scores.rows], dtype=np.float64)
        if goal == "budget_scale":
            return self.budget_usage(scores)
        family, _, inner = goal.partition("[")
        inner = inner[:-1]
        if family == "value":
            return scores.values[:, [w.id for w in s.worlds].index(inner)]
        if family == "spend":
            return scores.total if inner == "total" else scores.spend[:, s.periods.index(inner)]
        if family == "uses":
            return scores.uses[:, list(s.capacities).index(inner)]
        raise ValueError(f"unknown goal {goal!r}")

    def budget_usage(self, scores: Scores) -> Floats:
        """Return the least factor on every budget cap at which each portfolio fits."""
        s = self.scenario
        usage = np.zeros(len(scores.rows))
        caps = [(scores.spend[:, s.periods.index(p)], cap) for p, cap in s.budget.items()]
        if s.budget_total is not None:
            caps.append((scores.total, s.budget_total))
        for spend, cap in caps:
            ratio = np.where(spend > 0, spend / cap if cap > 0 else np.inf, 0.0)
            np.maximum(usage, ratio, out=usage)
        return usage

    def chain(
        self,
        scores: Scores,
        goals: Sequence[str],
        floors: Mapping[str, float] | None = None,
        stars: Floats | None = None,
    ) -> int | None:
        """Return the table row optimising `goals` in order (ties within RELATIVE_TIE); None if none.

        `floors` keep goals at least (maximised) or at most (minimised) a value.
        Ties left after the last goal go to the lowest declaration rank.
        """
        at = np.flatnonzero(scores.feasible)
        for goal, bound in (floors or {}).items():
            value = self.goal(scores, goal, stars)[at]
            at = at[value <= bound] if minimised(goal) else at[value >= bound]
        if at.size == 0:
            return None
        for index, goal in enumerate(goals):
            value = self.goal(scores, goal, stars)[at]
            last = index == len(goals) - 1  # the last goal is optimised exactly, as a lone solve would
            if minimised(goal):
                least = value.min()
                at = at[value <= (least if last else least + RELATIVE_TIE * max(1.0, abs(least)))]
            else:
                top = value.max()
                at = at[value >= (top if last else top - RELATIVE_TIE * max(1.0, abs(top)))]
        rows = scores.rows[at]
        return int(rows[np.argmin(self.rank[rows])])  # argmin keeps the first of equal ranks

    def best(self, scores: Scores, kind: str, stars: Floats | None = None) -> int | None:
        """Return the table row of the optimum under `kind`, with the documented tie-breaks; None if none."""
        return self.chain(scores, tie_break_goals(kind), stars=stars)

    def best_by_world(self, scores: Scores) -> Floats | None:
        """Return V*_k over feasible portfolios, or None if none is feasible."""
        if not scores.feasible.any():
            return None
        return np.asarray(scores.values[scores.feasible].max(axis=0), dtype=np.float64)


def objective_of(scores: Scores, kind: str, stars: Floats | None = None) -> Floats:
    """Return each portfolio's objective, oriented so that higher is better (regret negated)."""
    if kind == "expected":
        return scores.expected
    if kind == "worst_case":
        return scores.worst
    if kind == "cvar":
        return scores.cvar
    if kind == "regret":
        if stars is None:
            raise ValueError("regret needs the best value of each world")
        return -np.asarray((stars[None, :] - scores.values).max(axis=1), dtype=np.float64)
    raise ValueError(f"unknown objective {kind!r}")


def cvar_of(values: Floats, probabilities: Floats, tail: float) -> Floats:
    """Return the lower-tail CVaR of each row of `values` (worlds weighted by `probabilities`)."""
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    masses = probabilities[order]
    before = np.cumsum(masses, axis=1) - masses
    taken = np.clip(np.minimum(masses, tail - before), 0.0, None)
    total = (taken * ordered).sum(axis=1)
    remaining = tail - taken.sum(axis=1)
    total = total + np.where(remaining > 1e-12, remaining, 0.0) * ordered[:, -1]
    return np.asarray(total / tail, dtype=np.float64)


def _over(amount: Floats, cap: Floats | float) -> Bools:
    scale = np.maximum(np.maximum(1.0, np.abs(cap)), np.abs(amount))
    return np.asarray(amount > cap + FEASIBILITY_TOLERANCE * scale)


class _Checker:
    """Clear the feasibility flags of portfolios breaking an enabled rule group."""

    def __init__(self, feasible: Bools, disabled: frozenset[str]) -> None:
        self.feasible = feasible
        self.disabled = disabled

    def upper(self, group: str, amount: Floats, cap: Floats | float, exact: bool = False) -> None:
        if group not in self.disabled:
            self.feasible &= (amount <= cap) if exact else ~_over(amount, cap)

    def lower(self, group: str, amount: Floats, floor: Floats | float, exact: bool = False) -> None:
        if group not in self.disabled:
            self.feasible &= (
                (amount >= floor) if exact else ~_over(np.broadcast_to(floor, amount.shape), amount)
            )

    def require(self, group: str, keep: Bools) -> None:
        if group not in self.disabled:
            self.feasible &= keep
