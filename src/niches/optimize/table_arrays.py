"""The arrays a portfolio table scores into, and the objectives and CVaR read off them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


Bools = NDArray[np.bool_]


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
