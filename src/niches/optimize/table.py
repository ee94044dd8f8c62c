"""Every portfolio of a small scenario at once, as numpy arrays.

When a scenario has few enough portfolios (each niche out or at one of its
levels: the product of `levels + 1`), analyses that re-solve many variants
(sensitivity, frontiers, Monte Carlo) score all of them in one vectorised pass
instead of calling a MILP solver: the choices are enumerated once, and a
variant only re-scores them. The semantics (values, CVaR, rule checks with
their tolerance, goals and tie-breaks) are those of `niches.optimize.evaluate`, which
tests hold both to.

Per-portfolio sums are gathers (one small lookup table per niche indexed by
the level chosen), not products with a one-hot matrix, so no BLAS threads
start for them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from niches.numbers import plural
from niches.optimize.evaluate import FEASIBILITY_TOLERANCE, RELATIVE_TIE, rule_groups
from niches.optimize.formulation import minimised, tie_break_goals
from niches.scenario import TAKEN, Deal, Level, Scenario

ENUMERATION_LIMIT = 1_000_000
"""Largest number of portfolios enumerated; above it analyses use the MILP."""

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def portfolio_count(scenario: Scenario) -> int:
    """Return the number of table rows: every choice of levels with every set of deals (none included)."""
    return math.prod(len(n.levels) + 1 for n in scenario.niches) << len(scenario.deals)


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
class Costs:
    """Every portfolio's cost-dependent measures, for one set of level costs (`matrix`)."""

    matrix: Floats  # (levels, periods)
    spend: Floats  # (portfolios, periods): what the country pays (deals' money deducted)
    total: Floats
    numerators: Floats  # (portfolios, powers): spend weighted by exposure
    largest: Floats  # the largest chosen level's total cost (0 without max_share)
    gross: Floats  # the chosen levels' whole cost: the base of every share


@dataclass(frozen=True)
class Batch:
    """Scores of the same portfolios under many samples: arrays are (samples, portfolios[, worlds])."""

    static: Static
    values: Floats
    expected: Floats
    worst: Floats
    cvar: Floats
    feasible: Bools

    def sample(self, b: int) -> Scores:
        """Return the scores under sample `b`."""
        st = self.static
        return Scores(
            st.rows,
            self.values[b],
            self.expected[b],
            self.worst[b],
            self.cvar[b],
            st.spend,
            st.total,
            st.uses,
            self.feasible[b],
        )


@dataclass(frozen=True)
class Static:
    rows: NDArray[np.int64]
    spend: Floats
    total: Floats
    uses: Floats


class PortfolioTable:
    """All portfolios of a scenario's structure; scores them under any numeric variant.

    `choice[i, j]` is 0 when niche j is out of portfolio i, else 1 + its level index;
    the columns after the niches are the deals (1: taken). Rows whose deals do
    not come with the niches they fund (or fund a niche past its whole cost)
    are never feasible (`admissible`). A variant is a scenario with the same niches, levels, worlds, periods,
    powers and capacities and other numbers (weights, scores, costs, probabilities, limits).
    The rules that values do not move are checked once per set of costs and
    limits and cached; a new set of values re-scores only the portfolios left.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        sizes = [len(n.levels) + 1 for n in scenario.niches] + [2] * len(scenario.deals)
        count = math.prod(sizes)
        if count > 50 * ENUMERATION_LIMIT:
            raise ValueError(f"{plural(count, 'portfolio')} are too many to enumerate")
        index = np.arange(count, dtype=np.int64)
        choice = np.empty((count, len(sizes)), dtype=np.int16)
        stride = 1
        for j in reversed(range(len(sizes))):  # the last niche varies fastest
            choice[:, j] = (index // stride) % sizes[j]
            stride *= sizes[j]
        width = len(scenario.niches)
        self.choice = choice
        self.chosen = choice[:, :width] > 0
        self.taken = choice[:, width:] > 0  # (portfolios, deals)
        self.count = self.chosen.sum(axis=1)
        self.offsets = np.cumsum([0] + [len(n.levels) for n in scenario.niches])[:-1]
        self.levels = [(n.id, lv.id) for n in scenario.niches for lv in n.levels]
        self.rank = self.gather(np.arange(1.0, len(self.levels) + 1)[:, None])[:, 0]
        if scenario.deals:  # a deal ranks after every level, in declaration order
            self.rank = self.rank + self.taken @ np.arange(
                len(self.levels) + 1.0, len(self.levels) + 1 + len(scenario.deals)
            )
        self.admissible = self._admissible()
        index_of = {n.id: j for j, n in enumerate(scenario.niches)}
        self.pairs = [(index_of[n.id], index_of[o]) for n in scenario.niches for o in n.synergy]
        self.offset = self._per_niche(lambda lv: float(lv.offset))  # start offset of each chosen niche
        self.share = self._per_niche(lambda lv: lv.share)  # active share of each niche, 0 when left out
        self.start_rank = self.offset.sum(axis=1)
        self.both = (  # the smaller active share of each synergy pair (1 when both are chosen throughout)
            np.stack([np.minimum(self.share[:, a], self.share[:, b]) for a, b in self.pairs], axis=1)
            if self.pairs
            else np.zeros((count, 0))
        )
        self.scenario_groups = tuple(rule_groups(scenario))
        self._cache: dict[object, Static] = {}
        self._mask_cache: dict[object, Bools] = {}
        self._largest_cache: dict[int, Floats] = {}
        self._base_costs: Costs | None = None
        self._onehot_cache: tuple[tuple[int, int, int], Floats] | None = None
        use_matrix = np.array(
            [[lv.uses.get(r, 0.0) for r in scenario.capacities] for n in scenario.niches for lv in n.levels]
        ).reshape(len(self.levels), len(scenario.capacities))
        self._uses = self.gather(use_matrix)

    def _per_niche(self, of: Callable[[Level], float]) -> Floats:
        """Return the (portfolios, niches) matrix of `of(chosen level)` (0 where a niche is left out)."""
        columns = [
            self.niche_sum(j, np.array([[of(lv)] for lv in n.levels]))[:, 0]
            for j, n in enumerate(self.scenario.niches)
        ]
        return np.stack(columns, axis=1) if columns else np.zeros((len(self.choice), 0))

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
        for d, deal in enumerate(self.scenario.deals):
            if self.taken[row, d]:
                result[deal.id] = TAKEN
        return result

    def row_of(self, portfolio: Mapping[str, str]) -> int:
        """Return the row of `portfolio`."""
        row = 0
        for niche in self.scenario.niches:
            c = 0
            if niche.id in portfolio:
                c = 1 + [lv.id for lv in niche.levels].index(portfolio[niche.id])
            row = row * (len(niche.levels) + 1) + c
        for deal in self.scenario.deals:
            row = row * 2 + (deal.id in portfolio)
        return row

    # ---------------------------------------------------------------- deals
    def _deal_lookup(self, deal: Deal, nid: str, of: Callable[[Level], Floats]) -> Floats:
        """Return (levels + 1, k) rows of `of(level)` for the levels of `nid` deal funds (0 elsewhere)."""
        niche = self.scenario.niche(nid)
        rows = [np.asarray(of(lv), dtype=np.float64) for lv in niche.levels]
        width = rows[0].shape[0] if rows else 0
        lookup = np.zeros((len(niche.levels) + 1, width))
        for i, level in enumerate(niche.levels):
            if level.id in deal.funds[nid]:
                lookup[i + 1] = rows[i]
        return lookup

    def _admissible(self) -> Bools:
        """Return which rows take each deal only with the niches it funds, none funded past its whole cost."""
        s = self.scenario
        index = {n.id: j for j, n in enumerate(s.niches)}
        ok = np.ones(len(self.choice), dtype=bool)
        funded = np.zeros((len(self.choice), len(s.niches)))
        for d, deal in enumerate(s.deals):
            taken = self.taken[:, d]
            for nid in deal.funds:
                j = index[nid]
                eligible = self._deal_lookup(deal, nid, lambda lv: np.ones(1))[:, 0] > 0
                ok &= ~taken | eligible[self.choice[:, j]]
                shares = {lv.id: deal.funded_fraction(lv.cost) for lv in s.niche(nid).levels}

                def share_of(lv: Level, shares: dict[str, float] = shares) -> Floats:
                    return np.array([shares[lv.id]])

                fraction = self._deal_lookup(deal, nid, share_of)
                funded[:, j] += np.where(taken, fraction[self.choice[:, j], 0], 0.0)
        return np.asarray(ok & (funded <= 1.0 + FEASIBILITY_TOLERANCE).all(axis=1), dtype=bool)

    def _deal_money(self, s: Scenario, matrix: Floats) -> tuple[Floats, Floats]:
        """Return the deals' money per period (portfolios, periods) and the exposure it moves (.., powers)."""
        money = np.zeros((len(self.choice), len(s.periods)))
        moved = np.zeros((len(self.choice), len(s.powers)))
        level_row = {key: i for i, key in enumerate(self.levels)}
        index = {n.id: j for j, n in enumerate(s.niches)}
        for d, deal in enumerate(s.deals):
            taken = self.taken[:, d]
            for nid in deal.funds:
                niche = s.niche(nid)

                def paid(lv: Level, nid: str = nid, deal: Deal = deal) -> Floats:
                    cost = dict(zip(s.periods, matrix[level_row[nid, lv.id]], strict=True))
                    return np.array([deal.funding(cost)[p] for p in s.periods])

                per_period = self._deal_lookup(deal, nid, paid)[self.choice[:, index[nid]]]
                per_period[~taken] = 0.0
                money += per_period
                if s.powers:
                    shift = np.array(
                        [deal.exposure.get(p, 0.0) - niche.exposure.get(p, 0.0) for p in s.powers]
                    )
                    moved += per_period.sum(axis=1)[:, None] * shift[None, :]
        return money, moved

    def _deal_values(self, s: Scenario, table: Floats, rows: NDArray[np.int64]) -> tuple[Floats, Floats]:
        """Return what deals add to `rows`' values per world: at their odds, and broken where they may be.

        `table` is (levels, worlds) or (samples, levels, worlds); the results have its leading shape.
        """
        batch = table.ndim == 3
        shape = (table.shape[0], len(rows), table.shape[-1]) if batch else (len(rows), table.shape[-1])
        expected, stressed = np.zeros(shape), np.zeros(shape)
        level_row = {key: i for i, key in enumerate(self.levels)}
        index = {n.id: j for j, n in enumerate(s.niches)}
        worlds = [w.id for w in s.worlds]
        for d, deal in enumerate(s.deals):
            taken = self.taken[rows, d]
            holds = np.array([deal.holds(k) for k in worlds])
            bonus = np.array([deal.value.get(k, 0.0) for k in worlds])
            funded = np.zeros(shape)
            for nid in deal.funds:
                niche = s.niche(nid)
                fractions = np.zeros(len(niche.levels) + 1)
                at = np.zeros(len(niche.levels) + 1, dtype=np.int64)
                for i, level in enumerate(niche.levels):
                    if level.id in deal.funds[nid]:
                        fractions[i + 1] = deal.funded_fraction(level.cost)
                    at[i + 1] = level_row[nid, level.id]
                chosen = self.choice[rows, index[nid]]
                if batch:
                    funded += (
                        (fractions[chosen][None, :, None])
                        * table[:, at[chosen], :]
                        * (chosen > 0)[None, :, None]
                    )
                else:
                    funded += (fractions[chosen] * (chosen > 0))[:, None] * table[at[chosen], :]
            mask = taken[None, :, None] if batch else taken[:, None]
            expected += np.where(mask, holds * bonus - (1.0 - holds) * funded, 0.0)
            stressed += np.where(
                mask, np.where(holds >= 1.0, bonus, 0.0) - np.where(holds < 1.0, funded, 0.0), 0.0
            )
        return expected, stressed

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

    def niche_sum(self, j: int, per_level: Floats) -> Floats:
        """Return each portfolio's value of `per_level` (levels of niche j, in rows) for niche j alone."""
        width = len(self.scenario.niches[j].levels)
        lookup = np.vstack([np.zeros((1, per_level.shape[1])), per_level])
        assert lookup.shape[0] == width + 1
        return np.asarray(lookup[self.choice[:, j]], dtype=np.float64)

    def cost_arrays(self, s: Scenario) -> Costs:
        """Return every portfolio's spend per period, total, exposure numerators and largest level cost.

        Computed once for the scenario's costs; a variant that changes the costs
        of one or two niches (a cost factor) is updated from it, not recomputed.
        """
        matrix = np.array([[lv.cost[p] for p in s.periods] for n in s.niches for lv in n.levels]).reshape(
            len(self.levels), len(s.periods)
        )
        base = self._base_costs
        if base is None:
            base = self._base_costs = self._costs_from_scratch(matrix)
        changed = [
            j
            for j, offset in enumerate(self.offsets)
            if not np.array_equal(
                matrix[offset : offset + len(s.niches[j].levels)],
                base.matrix[offset : offset + len(s.niches[j].levels)],
            )
        ]
        if not changed:
            return base
        if len(changed) > 2 or s.deals:
            return self._costs_from_scratch(matrix)
        spend = base.spend.copy()
        numerators = base.numerators.copy()
        largest = base.largest
        for j in changed:
            offset, width = self.offsets[j], len(s.niches[j].levels)
            old, new = base.matrix[offset : offset + width], matrix[offset : offset + width]
            spend += self.niche_sum(j, new - old)
            exposure = np.array([[s.niches[j].exposure.get(p, 0.0) for p in s.powers]])
            if s.powers:
                delta_totals = (new.sum(axis=1) - old.sum(axis=1))[:, None] * exposure
                numerators += self.niche_sum(j, delta_totals)
            if s.rules.max_share is not None:
                largest = np.maximum(
                    self.largest_without(j), self.niche_sum(j, new.sum(axis=1)[:, None])[:, 0]
                )
        total = spend.sum(axis=1)
        return Costs(matrix, spend, total, numerators, largest, total)

    def _costs_from_scratch(self, matrix: Floats) -> Costs:
        s = self.scenario
        spend = self.gather(matrix)
        totals = matrix.sum(axis=1)
        exposure = np.array(
            [[n.exposure.get(p, 0.0) for p in s.powers] for n in s.niches for _ in n.levels]
        ).reshape(len(self.levels), len(s.powers))
        numerators = self.gather(exposure * totals[:, None])
        largest = np.zeros(len(self.choice))
        if s.rules.max_share is not None:
            for j, offset in enumerate(self.offsets):
                column = np.concatenate(([0.0], totals[offset : offset + len(s.niches[j].levels)]))
                np.maximum(largest, column[self.choice[:, j]], out=largest)
        gross = spend.sum(axis=1)
        if s.deals:
            money, moved = self._deal_money(s, matrix)
            spend = spend - money
            numerators = numerators + moved
        return Costs(matrix, spend, spend.sum(axis=1), numerators, largest, gross)

    def largest_without(self, j: int) -> Floats:
        """Return each portfolio's largest level cost among niches other than j (base costs)."""
        if j not in self._largest_cache:
            base = self._base_costs
            assert base is not None
            totals = base.matrix.sum(axis=1)
            largest = np.zeros(len(self.choice))
            for i, offset in enumerate(self.offsets):
                if i != j:
                    column = np.concatenate(
                        ([0.0], totals[offset : offset + len(self.scenario.niches[i].levels)])
                    )
                    np.maximum(largest, column[self.choice[:, i]], out=largest)
            self._largest_cache[j] = largest
        return self._largest_cache[j]

    def _static(self, s: Scenario, disabled: frozenset[str], limits: Mapping[str, float]) -> Static:
        costs = tuple(lv.cost[p] for n in s.niches for lv in n.levels for p in s.periods)
        key = (costs, disabled, tuple(sorted(limits.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        arrays = self.cost_arrays(s)
        spend, total = arrays.spend, arrays.total
        uses = self._uses
        ok = _Checker(self._fixed_mask(s, disabled, limits), disabled)

        def limit(group: str, default: float) -> float:
            return limits.get(group, default)

        for period, cap in s.budget.items():
            group = f"budget[{period}]"
            ok.upper(group, spend[:, s.periods.index(period)], limit(group, cap))
        if s.budget_total is not None:
            ok.upper("budget[total]", total, limit("budget[total]", s.budget_total))
        r = s.rules
        gross = arrays.gross
        if r.max_share is not None:
            ok.upper("max_share", arrays.largest, limit("max_share", r.max_share) * gross)
        caps: dict[str, float] = {
            p: limits.get(f"max_exposure[{p}]", r.max_exposure.get(p, 1.0))
            for p in s.powers
            if f"max_exposure[{p}]" in limits or p in r.max_exposure
        }
        numerators = arrays.numerators
        for power, cap in caps.items():
            ok.upper(f"max_exposure[{power}]", numerators[:, s.powers.index(power)], cap * gross)
        if r.max_imbalance is not None and len(s.powers) >= 2 and "max_imbalance" not in disabled:
            high = numerators[:, 0].copy()
            low = numerators[:, 0].copy()
            for i in range(1, len(s.powers)):  # column by column: much faster than max(axis=1)
                np.maximum(high, numerators[:, i], out=high)
                np.minimum(low, numerators[:, i], out=low)
            ok.upper("max_imbalance", high - low, limit("max_imbalance", r.max_imbalance) * gross)
        rows = np.flatnonzero(ok.feasible)
        static = Static(rows, spend[rows], total[rows], uses[rows])
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = static
        return static

    def _fixed_mask(self, s: Scenario, disabled: frozenset[str], limits: Mapping[str, float]) -> Bools:
        """Return which portfolios keep the rules costs do not move: capacities, counts, lists, links."""
        key = (
            disabled,
            tuple(
                sorted((g, v) for g, v in limits.items() if g.startswith(("capacity", "min_", "max_niches")))
            ),
        )
        cached = self._mask_cache.get(key)
        if cached is not None:
            return np.array(cached, dtype=bool)
        ok = _Checker(self.admissible.copy(), disabled)
        for i, (resource, amount) in enumerate(s.capacities.items()):
            group = f"capacity[{resource}]"
            ok.upper(group, self._uses[:, i], limits.get(group, amount))
        r = s.rules
        if r.min_niches is not None:
            ok.lower(
                "min_niches", self.count.astype(float), limits.get("min_niches", r.min_niches), exact=True
            )
        if r.max_niches is not None:
            ok.upper(
                "max_niches", self.count.astype(float), limits.get("max_niches", r.max_niches), exact=True
            )
        index = {n.id: j for j, n in enumerate(s.niches)}
        held = {n.id: self.chosen[:, j] for j, n in enumerate(s.niches)}
        held |= {deal.id: self.taken[:, d] for d, deal in enumerate(s.deals)}
        for nid in r.must_include:
            ok.require(f"must_include[{nid}]", held[nid])
        for nid in r.must_exclude:
            ok.require(f"must_exclude[{nid}]", ~held[nid])
        for nid, allowed in r.pins.items():
            j = index[nid]
            wanted = [1 + k for k, lv in enumerate(s.niches[j].levels) if lv.id in allowed]
            ok.require(f"pin[{nid}]", np.isin(self.choice[:, j], wanted))
        for niche in s.niches:
            a = self.chosen[:, index[niche.id]]
            for needed in niche.requires:
                b = index[needed]
                in_time = self.chosen[:, b] & (self.offset[:, b] <= self.offset[:, index[niche.id]])
                ok.require(f"requires[{niche.id} -> {needed}]", ~a | in_time)
            for other in niche.excludes:
                ok.require(f"excludes[{niche.id}, {other}]", ~(a & self.chosen[:, index[other]]))
        for d, deal in enumerate(s.deals):
            taken = self.taken[:, d]
            for needed in deal.requires:
                nid, _, lid = needed.partition(".")
                if needed in held:
                    present = held[needed]
                else:
                    wanted = [1 + k for k, lv in enumerate(s.niche(nid).levels) if lv.base == lid]
                    present = np.isin(self.choice[:, index[nid]], wanted)
                ok.require(f"requires[{deal.id} -> {needed}]", ~taken | present)
            for other in deal.excludes:
                ok.require(f"excludes[{deal.id}, {other}]", ~(taken & held[other]))
        if len(self._mask_cache) > 64:
            self._mask_cache.clear()
        self._mask_cache[key] = ok.feasible
        return np.array(ok.feasible, dtype=bool)

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
        stressed = values
        if s.deals:
            expected_part, stressed_part = self._deal_values(s, table, static.rows)
            values, stressed = values + expected_part, values + stressed_part
        probs = np.array([w.probability for w in s.worlds]) if probabilities is None else probabilities
        expected = values @ probs
        worst = stressed.min(axis=1)
        cvar = cvar_of(stressed, probs, s.rules.cvar_tail)
        ok = _Checker(np.ones(len(static.rows), dtype=bool), disabled)
        r = s.rules
        if r.min_worst_case is not None:
            ok.lower("min_worst_case", worst, limits.get("min_worst_case", r.min_worst_case))
        if r.min_cvar is not None:
            ok.lower("min_cvar", cvar, limits.get("min_cvar", r.min_cvar))
        return Scores(
            static.rows, values, expected, worst, cvar, static.spend, static.total, static.uses, ok.feasible
        )

    def _onehot(self, rows: NDArray[np.int64]) -> Floats:
        """Return the (rows, levels) 0/1 matrix of the levels each portfolio of `rows` chooses."""
        key = (len(rows), int(rows[0]) if len(rows) else -1, int(rows[-1]) if len(rows) else -1)
        if self._onehot_cache is None or self._onehot_cache[0] != key:
            onehot = np.zeros((len(rows), len(self.levels)))
            choice = self.choice[rows]
            for j, offset in enumerate(self.offsets):
                picked = np.flatnonzero(choice[:, j] > 0)
                onehot[picked, offset + choice[picked, j] - 1] = 1.0
            self._onehot_cache = (key, onehot)
        return self._onehot_cache[1]

    def static(self, variant: Scenario | None = None) -> Static:
        """Return the portfolios keeping the rules values do not move (all rules enabled)."""
        return self._static(variant or self.scenario, frozenset(), {})

    def score_batch(
        self,
        rows: NDArray[np.int64],
        level_values: Floats,
        probabilities: Floats,
        kind: str,
        always: int | None = None,
    ) -> Batch:
        """Score portfolios `rows` (those of `static()`) under many samples of values and probabilities.

        `level_values` is (samples, levels, worlds) and `probabilities` (samples, worlds).
        CVaR, the costly measure, is computed only where `kind` or a rule reads it;
        with a CVaR floor, a portfolio that cannot be the optimum under `kind`
        is marked as breaking the rules instead (exact for the optimum: it never
        wins). Column `always` (the recommendation) is always measured exactly.
        """
        s = self.scenario
        static = self.static()
        assert np.array_equal(rows, static.rows)
        samples, levels, worlds = level_values.shape
        onehot = self._onehot(rows)
        stacked = level_values.transpose(1, 0, 2).reshape(levels, samples * worlds)
        values = (onehot @ stacked).reshape(len(rows), samples, worlds).transpose(1, 0, 2)
        if self.pairs:
            values = values + (self.both[rows] @ self.synergy_bonuses(s))[None, :, None]
        stressed = values
        if s.deals:
            expected_part, stressed_part = self._deal_values(s, level_values, rows)
            values, stressed = values + expected_part, values + stressed_part
        expected = np.einsum("bfk,bk->bf", values, probabilities)
        worst = stressed.min(axis=2)
        # worst <= CVaR <= the mean of the values CVaR reads (below, `bound` prunes by it)
        ceiling = expected if not s.deals else np.einsum("bfk,bk->bf", stressed, probabilities)
        r = s.rules
        feasible = np.ones((samples, len(rows)), dtype=bool)
        if r.min_worst_case is not None:
            feasible &= ~_over(np.full_like(worst, r.min_worst_case), worst)
        cvar = np.full((samples, len(rows)), np.nan)  # computed only where something reads it
        wanted = np.zeros((samples, len(rows)), dtype=bool)
        exact = feasible.copy()  # before pruning, for the recommendation's own column
        if kind == "cvar":  # worst <= CVaR <= ceiling: below the best worst case, none can win
            bound = np.where(feasible, worst, -np.inf).max(axis=1, keepdims=True)
            feasible &= ceiling >= bound - 1e-6 * np.maximum(1.0, np.abs(bound))
            wanted |= feasible
        if r.min_cvar is not None:
            # worst <= CVaR <= expected, so only the rows in between need it; and only those that could
            # still be the optimum: no better than a portfolio surely keeping the floor, they cannot
            floor = r.min_cvar
            slack = 1e-6 * max(1.0, abs(floor))
            sure = feasible & (worst >= floor)
            unsure = feasible & ~sure & (ceiling >= floor - slack)
            feasible &= sure | unsure
            if kind in ("expected", "worst_case"):
                objective = expected if kind == "expected" else worst
                bound = np.where(sure, objective, -np.inf).max(axis=1, keepdims=True)
                unsure &= objective >= bound - 1e-6 * np.maximum(1.0, np.abs(bound))
                feasible &= sure | unsure
            wanted |= unsure
        if always is not None and (kind == "cvar" or r.min_cvar is not None):
            feasible[:, always] = exact[:, always]
            wanted[:, always] = exact[:, always]
        if wanted.any():
            at = np.nonzero(wanted)
            cvar[at] = cvar_of(stressed[at], probabilities[at[0]], r.cvar_tail)
        if r.min_cvar is not None:
            checked = np.isnan(cvar)  # rows left unchecked already kept or lost the floor above
            feasible &= checked | ~_over(np.full_like(cvar, r.min_cvar), np.nan_to_num(cvar, nan=np.inf))
        return Batch(static, values, expected, worst, cvar, feasible)

    def pinned(self, scores: Scores, pins: Mapping[str, str | None]) -> Scores:
        """Return `scores` keeping feasible only portfolios choosing `pins` (niche -> level or None;
        deal -> TAKEN or None)."""
        keep = scores.feasible.copy()
        for j, niche in enumerate(self.scenario.niches):
            if niche.id in pins:
                level = pins[niche.id]
                wanted = 0 if level is None else 1 + [lv.id for lv in niche.levels].index(level)
                keep &= self.choice[scores.rows, j] == wanted
        for k, deal in enumerate(self.scenario.deals):  # a deal: None refused, anything else taken
            if deal.id in pins:
                taken = 0 if pins[deal.id] is None else 1
                keep &= self.choice[scores.rows, len(self.scenario.niches) + k] == taken
        return dataclasses.replace(scores, feasible=keep)

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
        if goal == "start_rank":
            return np.asarray(self.start_rank[scores.rows], dtype=np.float64)
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
        return self.chain(scores, tie_break_goals(kind, self.scenario.timed), stars=stars)

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
    """Return the lower-tail CVaR of each row of `values` (worlds weighted by `probabilities`).

    `probabilities` is one vector for every row, or one row per row of `values`.
    Rockafellar-Uryasev: CVaR = max over t of t - E[(t - V)+] / tail, and the
    maximum is at one of the row's own values, so no sorting is needed.
    """
    odds = probabilities if probabilities.ndim == 2 else probabilities[None, :]
    rows, worlds = values.shape
    best = np.full(rows, -np.inf)
    for k in range(worlds):
        threshold = values[:, k]
        shortfall = np.maximum(threshold[:, None] - values, 0.0)
        candidate = threshold - (shortfall * odds).sum(axis=1) / tail
        np.maximum(best, candidate, out=best)
    return np.asarray(best, dtype=np.float64)


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
