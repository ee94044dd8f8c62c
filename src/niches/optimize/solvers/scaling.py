"""Scale the model a solver sees so every row and continuous column has magnitude near 1.

A scenario may state money in plain USD (costs of 5e8, budgets of 1e9) and
scores in any unit; solvers work to absolute tolerances near 1e-9, which a
row whose terms are 1e9 cannot meet, and HiGHS then returns wrong optima or
refuses the model. The solver is handed the model with column `c` measured in
units of `col[c]` (x = col[c] * x') and row `r` multiplied by `row[r]`:

    A'[r, c] = row[r] * A[r, c] * col[c]     bounds'(r) = row[r] * bounds(r)
    bounds'(c) = bounds(c) / col[c]          cost'(c) = objective * cost(c) * col[c]

Every factor is a power of two, so scaling and unscaling are exact in
floating point: the solution handed back is the solver's, in the scenario's
units, with no rounding added. Integer columns keep the factor 1.

A continuous column's magnitude is read from the rows it appears in: the
largest term of the row's other (already measured) columns, or its limit,
over the column's own coefficient (`value[k]` takes the size of the values
that define it, `total_spend` the size of the costs). Passes repeat until
every column that can be measured is (columns defined from columns, such as
`expected_value` from `value[k]`, take a pass each).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from niches.optimize.formulation import Formulation


def power_of_two(magnitude: float) -> float:
    """Return the power of two nearest `magnitude` (1 for 0, an infinity or NaN)."""
    if not math.isfinite(magnitude) or magnitude <= 0.0:
        return 1.0
    exponent = max(-200, min(200, round(math.log2(magnitude))))
    return math.ldexp(1.0, exponent)


class Scaling:
    """Row and column factors of a formulation, extended as variants add rows and columns."""

    def __init__(self) -> None:
        self.row: list[float] = []
        self.col: list[float] = []

    def update(self, form: Formulation, rows_from: int, cols_from: int) -> None:
        """Keep the factors of rows before `rows_from` and columns before `cols_from`; measure the rest."""
        del self.row[min(rows_from, len(self.row)) :]
        del self.col[min(cols_from, len(self.col)) :]
        first_col = len(self.col)
        if form.cols > first_col:
            self.col.extend(self._measure_columns(form, first_col))
        for r in range(len(self.row), form.rows):
            self.row.append(self._row_factor(form, r))

    def _measure_columns(self, form: Formulation, first: int) -> list[float]:
        found: dict[int, float] = {}
        unknown: list[int] = []
        for c in range(first, form.cols):
            if form.col_integer[c]:
                found[c] = 1.0
            else:
                unknown.append(c)
        if unknown:
            wanted = set(unknown)
            rows_of: dict[int, list[int]] = {c: [] for c in unknown}
            for r, coefs in enumerate(form.row_coef):
                for c in coefs:
                    if c in wanted:
                        rows_of[c].append(r)

            def known(c: int) -> float | None:
                return self.col[c] if c < first else found.get(c)

            def largest(r: int) -> float:
                """The largest known term of row r, or its limit (0: nothing known yet)."""
                coefs = form.row_coef[r]
                terms = [abs(v) * factor for j, v in coefs.items() if (factor := known(j)) is not None]
                terms += [abs(b) for b in (form.row_lower[r], form.row_upper[r]) if math.isfinite(b)]
                return max(terms, default=0.0)

            while unknown:
                measured: dict[int, float] = {}
                sizes: dict[int, float] = {}  # a row's largest known term, read once per pass
                for c in unknown:
                    size = 0.0
                    for r in rows_of[c]:
                        if r not in sizes:
                            sizes[r] = largest(r)
                        if sizes[r] > 0.0:
                            size = max(size, sizes[r] / abs(form.row_coef[r][c]))
                    if size > 0.0:
                        measured[c] = power_of_two(size)
                if not measured:
                    break
                found.update(measured)
                unknown = [c for c in unknown if c not in measured]
            for c in unknown:  # nothing says how large it is: its bounds, or 1
                lower, upper = form.col_lower[c], form.col_upper[c]
                bounds = [abs(b) for b in (lower, upper) if math.isfinite(b) and b != 0.0]
                found[c] = power_of_two(max(bounds)) if bounds else 1.0
        return [found[c] for c in range(first, form.cols)]

    def _row_factor(self, form: Formulation, r: int) -> float:
        terms = [abs(v) * self.col[c] for c, v in form.row_coef[r].items()]
        if not terms:
            return 1.0
        return 1.0 / power_of_two(max(terms))

    # ---------------------------------------------------------------- to and from the solver
    def coefficient(self, r: int, c: int, value: float) -> float:
        return value * self.row[r] * self.col[c]

    def row_bound(self, r: int, bound: float) -> float:
        return bound * self.row[r]

    def col_bound(self, c: int, bound: float) -> float:
        return bound / self.col[c]

    def objective(self, objective: Mapping[int, float]) -> tuple[dict[int, float], float]:
        """Return the scaled objective vector and its factor (scaled objective = factor x objective)."""
        terms = {c: v * self.col[c] for c, v in objective.items()}
        factor = 1.0 / power_of_two(max((abs(v) for v in terms.values()), default=1.0))
        return {c: v * factor for c, v in terms.items()}, factor

    def values(self, scaled: list[float]) -> list[float]:
        """Return column values in the scenario's units from the solver's."""
        return [v * f for v, f in zip(scaled, self.col, strict=False)]

    @classmethod
    def identity(cls, form: Formulation) -> Scaling:
        """Return the factors that change nothing (every one 1)."""
        scale = cls()
        scale.row, scale.col = [1.0] * form.rows, [1.0] * form.cols
        return scale
