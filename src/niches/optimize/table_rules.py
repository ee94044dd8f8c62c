"""The rules that values do not move, checked on every row of a portfolio table at once (and cached)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from niches.optimize.table_arrays import Bools, Floats, Static
from niches.optimize.table_costs import CostArrays
from niches.optimize.tolerances import FEASIBILITY_TOLERANCE
from niches.scenario import Scenario


class RuleMasks(CostArrays):
    """Finds the rows keeping the budget, capacity, count, list, share, exposure and link rules."""

    def _static(self, s: Scenario, disabled: frozenset[str], limits: Mapping[str, float]) -> Static:
        costs = tuple(lv.cost[p] for n in s.niches for lv in n.levels for p in s.periods)
        key = (costs, disabled, tuple(sorted(limits.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        arrays = self.cost_arrays(s)
        spend, total = arrays.spend, arrays.total
        uses = self._uses
        ok = _Checker(self._fixed_mask(s, disabled, limits) & self.admissible_under(s), disabled)

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
        ok = _Checker(np.ones(len(self.choice), dtype=bool), disabled)
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
