"""Every portfolio's spend, exposure and largest level under one set of level costs (deals deducted)."""

from __future__ import annotations

import numpy as np

from niches.optimize.table_arrays import Costs, Floats
from niches.optimize.table_rows import TableRows
from niches.scenario import Deal, Level, Scenario


class CostArrays(TableRows):
    """Computes the cost-dependent measures of every row, once per set of costs (updated for a factor)."""

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
