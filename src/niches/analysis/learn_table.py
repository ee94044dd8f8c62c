"""The value of learning on the portfolio table: every portfolio that keeps the rules, scored at every point.

The candidates are the table rows that keep every rule at the scenario's own
values; `optimize.learning.RowScorer` scores all of them under a batch of
value tables at once, so a judgement's points (and a nested Monte Carlo's
inner draws) cost one vectorised pass each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from niches.analysis.judgements import Judgement, grid, quantile
from niches.analysis.learn_common import (
    GROUPS,
    Floats,
    Inputs,
    Learned,
    Learner,
    everything,
    settle,
    stderr_of,
)
from niches.optimize.learning import RowScorer, row_objective

if TYPE_CHECKING:
    from niches.study import Study


class TableLearner(Learner):
    """EVPPI and EVPI over every portfolio of a small scenario."""

    def __init__(self, study: Study, inputs: Inputs, points: int, samples: int) -> None:
        assert study.table is not None
        table = study.table.table
        s = study.scenario
        scores = table.score(s)
        self.rows = scores.rows[scores.feasible]
        self.table = table
        self.scorer = RowScorer(table, self.rows)
        self.decision = study.solution().portfolio
        at = int(np.searchsorted(self.rows, table.row_of(self.decision)))
        self.preferred = at if at < len(self.rows) and self.rows[at] == table.row_of(self.decision) else None
        self.kind = study.kind
        self.tail = s.rules.cvar_tail
        self.inputs = inputs
        self.points = points
        self.samples = samples
        self._inner: tuple[Floats, Floats, Floats, Floats] | None = None

    def portfolio(self, index: int) -> dict[str, str]:
        return self.table.portfolio(int(self.rows[index]))

    def objective(self, tables: Floats, odds: Floats) -> Floats:
        """Return every candidate's objective (batch, candidates) under value tables and probabilities."""
        values, stressed = self.scorer.values(tables)
        return row_objective(self.kind, values, stressed, odds, self.tail)

    def _tables(self, scores: Floats, weights: Floats) -> Floats:
        """Return value tables (draws, levels, worlds) of drawn scores and normalised weights."""
        base = np.einsum("nlc,nc->nl", scores, weights)
        return np.asarray(base[:, :, None] * self.inputs.sampler.outlook[None, :, :])

    def inner(self) -> tuple[Floats, Floats, Floats, Floats]:
        """Return robust's joint draws 0..samples-1 (computed once)."""
        if self._inner is None:
            self._inner = self.inputs.draws(0, self.samples)
        return self._inner

    def evppi(self, judgement: Judgement) -> Learned:
        if self.kind == "expected":
            count = self.samples if judgement.what == "probabilities" else self.points
            tables, odds = self.inputs.at_points(judgement, count)
            found = settle(self.objective(tables, odds), self.preferred, self.portfolio)
            if judgement.what == "probabilities":
                stderr = stderr_of(found.gains)
                return Learned(
                    judgement, found.evppi, stderr, "monte carlo", count, 0, found.changes_to, None
                )
            return Learned(judgement, found.evppi, None, "quantiles", count, 0, found.changes_to, None)
        return self._nested(judgement)

    def _nested(self, judgement: Judgement) -> Learned:
        """Return EVPPI by nested Monte Carlo: at each outer point, the mean over the inner draws of the
        other judgements (the same draws at every point), groups of them giving the standard error."""
        scores, raw, weights, odds = self.inner()
        groups = min(GROUPS, self.samples)
        means, grouped = [], []
        outer_odds = None
        if judgement.what == "probabilities":
            outer_odds = self.inputs.draws(self.samples, self.points)[3]
        for i, u in enumerate(grid(self.points)):
            s, w, p = scores, weights, odds
            if judgement.what == "score":
                s = np.array(scores)
                c = self.inputs.criteria.index(judgement.criterion or "")
                for row in self.inputs.rows_of(judgement):
                    s[:, row, c] = quantile(self.inputs.levels[row][1].scores[judgement.criterion or ""], u)
            elif judgement.what == "weight":
                assert judgement.distribution is not None
                r = np.array(raw)
                r[:, self.inputs.criteria.index(judgement.criterion or "")] = quantile(
                    judgement.distribution, u
                )
                total = r.sum(axis=1, keepdims=True)
                w = np.where(total > 0, r / np.where(total > 0, total, 1.0), self.inputs.weights[None, :])
            else:
                assert outer_odds is not None
                p = np.repeat(outer_odds[i][None, :], self.samples, axis=0)
            objective = self.objective(self._tables(s, w), p)
            means.append(objective.mean(axis=0))
            grouped.append([part.mean(axis=0) for part in np.array_split(objective, groups)])
        found = settle(np.stack(means), self.preferred, self.portfolio)
        per_group = np.array(
            [
                settle(np.stack([g[k] for g in grouped]), self.preferred, self.portfolio).evppi
                for k in range(groups)
            ]
        )
        stderr = float(np.std(per_group, ddof=1) / np.sqrt(groups)) if groups > 1 else 0.0
        return Learned(
            judgement,
            found.evppi,
            stderr,
            "nested monte carlo",
            self.points,
            self.samples,
            found.changes_to,
            None,
        )

    def evpi(self) -> Learned:
        scores, _, weights, odds = self.inner()
        found = settle(self.objective(self._tables(scores, weights), odds), self.preferred, self.portfolio)
        stderr = stderr_of(found.gains)
        return Learned(
            everything(), found.evppi, stderr, "monte carlo", self.samples, 0, found.changes_to, None
        )
