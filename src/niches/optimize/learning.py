"""The objective of fixed portfolios under many value tables and probabilities, for the value of learning.

Learning a judgement changes values, not the rules: the portfolios compared are
those that keep every rule at the scenario's own values. Two ways to ask "what
is the best of them under these values?":

- `RowScorer` holds the table rows of those portfolios (small scenarios) and
  scores all of them under a batch of value tables at once: values per world
  (deals at their odds), stressed values (deals broken where they may break),
  and each objective read off them (`row_objective`).
- `expected_vector` writes the expected value under a value table and
  probabilities as an objective over a formulation's choice columns (as the
  rows `value_of[k]` and `expected_value_of` define it), for a MILP that keeps
  the rules as they are (the floors read the scenario's values, not these).

A value table is the (levels, worlds) matrix of v(n, l, k) with levels in
declaration order (niche by niche, level by level), as `analysis.sampling`
draws it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from niches.optimize.formulation import Formulation
from niches.optimize.table import PortfolioTable, cvar_of

Floats = NDArray[np.float64]


class RowScorer:
    """Scores fixed rows of a portfolio table under batches of value tables."""

    def __init__(self, table: PortfolioTable, rows: NDArray[np.int64]) -> None:
        self.table = table
        self.rows = rows
        onehot = np.zeros((len(rows), len(table.levels)))
        choice = table.choice[rows]
        for j, offset in enumerate(table.offsets):
            picked = np.flatnonzero(choice[:, j] > 0)
            onehot[picked, offset + choice[picked, j] - 1] = 1.0
        self.onehot = onehot
        s = table.scenario
        self.synergy = (
            np.asarray(table.both[rows] @ table.synergy_bonuses(s)) if table.pairs else np.zeros(len(rows))
        )

    def values(self, level_values: Floats) -> tuple[Floats, Floats]:
        """Return (values, stressed values), each (batch, rows, worlds), for value tables (batch, levels,
        worlds): deals count at their odds in the first, broken wherever they may break in the second."""
        values = np.einsum("rl,blk->brk", self.onehot, level_values) + self.synergy[None, :, None]
        if not self.table.scenario.deals:
            return values, values
        expected, stressed = self.table._deal_values(self.table.scenario, level_values, self.rows)
        return values + expected, values + stressed


def row_objective(kind: str, values: Floats, stressed: Floats, probabilities: Floats, tail: float) -> Floats:
    """Return each row's objective under each sample of a batch, oriented so that higher is better.

    `values` and `stressed` are (batch, rows, worlds), `probabilities` (batch, worlds). Regret is
    measured against the best value of each world among the rows themselves (V*_k of the sample) and
    negated.
    """
    if kind == "expected":
        return np.asarray(np.einsum("brk,bk->br", values, probabilities))
    if kind == "worst_case":
        return np.asarray(stressed.min(axis=2))
    if kind == "cvar":
        batch, rows, worlds = stressed.shape
        odds = np.repeat(probabilities, rows, axis=0)
        return cvar_of(stressed.reshape(batch * rows, worlds), odds, tail).reshape(batch, rows)
    if kind == "regret":
        stars = values.max(axis=1, keepdims=True)
        return np.asarray(-(stars - values).max(axis=2))
    raise ValueError(f"unknown objective {kind!r}")


def expected_vector(
    form: Formulation, level_values: Floats, probabilities: Mapping[str, float] | Floats
) -> dict[int, float]:
    """Return the expected value under `level_values` (levels, worlds) and `probabilities` as an objective
    vector over the formulation's choice, pair, deal and funding columns."""
    s = form.scenario
    worlds = [w.id for w in s.worlds]
    odds = (
        np.array([probabilities[k] for k in worlds]) if isinstance(probabilities, Mapping) else probabilities
    )
    index: dict[tuple[str, str], int] = {}
    for niche in s.niches:
        for level in niche.levels:
            index[niche.id, level.id] = len(index)
    expected = level_values @ odds
    vector: dict[int, float] = {}
    for key, col in form.choose.items():
        vector[col] = float(expected[index[key]])
    for (a, b), col in form.both.items():
        vector[col] = s.niche(a).synergy[b] * float(odds.sum())
    for deal in s.deals:
        bonus = np.array([deal.holds(k) * deal.value.get(k, 0.0) for k in worlds])
        vector[form.take[deal.id]] = float(bonus @ odds)
    for (did, nid, lid), col in form.fund.items():
        deal = s.deal(did)
        fraction = deal.funded_fraction(s.niche(nid).level(lid).cost)
        broken = np.array([1.0 - deal.holds(k) for k in worlds])
        vector[col] = -fraction * float((broken * level_values[index[nid, lid]]) @ odds)
    return {col: v for col, v in vector.items() if v != 0.0}
