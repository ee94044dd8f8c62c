"""Scores of the table's rows under a variant or many samples: values per world, expected value, CVaR."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from niches.optimize.table_arrays import Batch, Floats, Scores, Static, cvar_of
from niches.optimize.table_rules import RuleMasks, _Checker, _over
from niches.scenario import Scenario


class Scoring(RuleMasks):
    """Scores the rows that keep the value-free rules, and applies the value floors."""

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

    def avoiding(self, scores: Scores, portfolios: Sequence[Mapping[str, str]]) -> Scores:
        """Return `scores` with each of `portfolios` marked infeasible."""
        keep = scores.feasible.copy()
        ids = [n.id for n in self.scenario.niches] + [d.id for d in self.scenario.deals]
        levels = [[lv.id for lv in n.levels] for n in self.scenario.niches] + [["taken"]] * len(
            self.scenario.deals
        )
        for portfolio in portfolios:
            same = np.ones(len(scores.rows), dtype=bool)
            for j, (item, names) in enumerate(zip(ids, levels, strict=True)):
                chosen = portfolio.get(item)
                wanted = 0 if chosen is None else 1 + names.index(chosen)
                same &= self.choice[scores.rows, j] == wanted
            keep &= ~same
        return dataclasses.replace(scores, feasible=keep)
