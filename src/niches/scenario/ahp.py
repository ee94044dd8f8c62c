"""Weights from pairwise comparisons (Saaty's analytic hierarchy process), in pure Python.

A judge says "a is x times as important as b" for every pair of criteria, x on
Saaty's 1-9 scale (1/9 ... 9). The weights are the principal right eigenvector
of the reciprocal matrix, normalised to sum 1; its consistency index is
CI = (lambda_max - n) / (n - 1) and the consistency ratio CR = CI / RI(n),
with Saaty's random indices. A CR above 0.1 is a warning, and the comparison
whose change lowers CR most is named with the value consistent with the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
"""Saaty's random consistency indices RI(n); n = 11..15 from his extended table."""
RANDOM_INDEX |= {11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
CR_LIMIT = 0.1
"""A consistency ratio above this is a warning (Saaty's 10% rule)."""
SCALE = (1.0 / 9.0, 9.0)
"""The range of a comparison on Saaty's scale."""

Matrix = list[list[float]]


@dataclass(frozen=True)
class Priorities:
    """Weights derived from one reciprocal matrix, with its consistency.

    `weights` sum to 1 (in the order of the matrix); `cr` is CI / RI(n) (0 for n <= 2).
    """

    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float


@dataclass(frozen=True)
class Revisit:
    """The comparison to revisit: a vs b, as given, the value consistent with the rest, and CR after."""

    a: int
    b: int
    given: float
    consistent: float
    cr_after: float


def matrix(n: int, pairs: Sequence[tuple[int, int, float]]) -> Matrix:
    """Return the n x n reciprocal matrix of `pairs` (i, j, x): a[i][j] = x, a[j][i] = 1/x."""
    a = [[1.0] * n for _ in range(n)]
    for i, j, x in pairs:
        a[i][j] = x
        a[j][i] = 1.0 / x
    return a


def priorities(a: Matrix, iterations: int = 1000, tolerance: float = 1e-13) -> Priorities:
    """Return the principal eigenvector of positive matrix `a` (power iteration) and its consistency."""
    n = len(a)
    w = [1.0 / n] * n
    for _ in range(iterations):
        nxt = [math.fsum(a[i][j] * w[j] for j in range(n)) for i in range(n)]
        total = math.fsum(nxt)
        nxt = [x / total for x in nxt]
        done = max(abs(x - y) for x, y in zip(nxt, w, strict=True)) < tolerance
        w = nxt
        if done:
            break
    lam = math.fsum(math.fsum(a[i][j] * w[j] for j in range(n)) / w[i] for i in range(n)) / n
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, 1.59)
    cr = max(0.0, ci / ri) if ri > 0 else 0.0
    return Priorities(tuple(w), lam, max(0.0, ci), cr)


def revisit(a: Matrix) -> Revisit | None:
    """Return the comparison whose replacement by w_i / w_j lowers CR most (None when n <= 2)."""
    n = len(a)
    if n <= 2:
        return None
    w = priorities(a).weights
    best: Revisit | None = None
    for i in range(n):
        for j in range(i + 1, n):
            trial = [row[:] for row in a]
            consistent = w[i] / w[j]
            trial[i][j], trial[j][i] = consistent, 1.0 / consistent
            after = priorities(trial).cr
            if best is None or after < best.cr_after - 1e-12:
                best = Revisit(i, j, a[i][j], consistent, after)
    return best


def geometric_mean(matrices: Sequence[Matrix]) -> Matrix:
    """Return the element-wise geometric mean of reciprocal matrices (Saaty's AIJ: still reciprocal)."""
    n = len(matrices[0])
    k = len(matrices)
    return [[math.prod(m[i][j] for m in matrices) ** (1.0 / k) for j in range(n)] for i in range(n)]


def ratio(text: str) -> float | None:
    """Return a comparison written `3`, `0.5` or `1/3` as a number (None if it is not one)."""
    text = text.strip()
    top, slash, bottom = text.partition("/")
    try:
        if slash:
            return float(top) / float(bottom)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def on_scale(x: float) -> bool:
    """Return whether comparison `x` lies on Saaty's 1/9 - 9 scale."""
    low, high = SCALE
    return low * (1 - 1e-9) <= x <= high * (1 + 1e-9)
