"""Every portfolio of a scenario's structure as a table row: choices, ranks, shares, admissible deals."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from niches.numbers import plural
from niches.optimize.checks import rule_groups
from niches.optimize.table_arrays import Bools, Costs, Floats, Static
from niches.optimize.tolerances import FEASIBILITY_TOLERANCE
from niches.scenario import TAKEN, Deal, Level, Scenario

ENUMERATION_LIMIT = 1_000_000
"""Largest number of portfolios enumerated; above it analyses use the MILP."""


def portfolio_count(scenario: Scenario) -> int:
    """Return the number of table rows: every choice of levels with every set of deals (none included)."""
    return math.prod(len(n.levels) + 1 for n in scenario.niches) << len(scenario.deals)


def small_enough(scenario: Scenario, limit: int = ENUMERATION_LIMIT) -> bool:
    """Return whether every portfolio of `scenario` can be enumerated."""
    return portfolio_count(scenario) <= limit


class TableRows:
    """The table's rows: every choice of levels with every set of deals, and what is read off the choices."""

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

    def niche_sum(self, j: int, per_level: Floats) -> Floats:
        """Return each portfolio's value of `per_level` (levels of niche j, in rows) for niche j alone."""
        width = len(self.scenario.niches[j].levels)
        lookup = np.vstack([np.zeros((1, per_level.shape[1])), per_level])
        assert lookup.shape[0] == width + 1
        return np.asarray(lookup[self.choice[:, j]], dtype=np.float64)

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

    def admissible_under(self, s: Scenario) -> Bools:
        """Return `admissible` under the costs of the variant `s` (what a deal may fund moves with them)."""
        if not s.deals or s is self.scenario:
            return self.admissible
        return self._admissible(s)

    def _admissible(self, variant: Scenario | None = None) -> Bools:
        """Return which rows take each deal only with the niches it funds, none funded past its whole cost."""
        s = variant or self.scenario
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
