"""Check a solver's answer against the model it was given, in the scenario's units.

A solver's solution is trusted only when its columns keep their bounds (and
integer columns are whole), every row holds, and the objective it reports is
the one its column values give, each within a tolerance relative to the size
of the terms. The size of a term is the larger of its value and its
coefficient times the column's magnitude (`Scaling`): a row of values near
1e9 is checked to 1e3, one of values near 1e-6 to 1e-12.
`problem` says what is wrong, in words for a note, or None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from niches.optimize.formulation import Formulation
from niches.optimize.solvers.outcome import Outcome
from niches.optimize.solvers.scaling import Scaling

TOLERANCE = 1e-6
"""Relative slack allowed on a bound, a row or the objective (the solvers work to 1e-9)."""

WHOLE = 1e-6
"""How far an integer column may be from a whole number."""


def problem(
    form: Formulation,
    objective: Mapping[int, float],
    outcome: Outcome,
    relax: bool,
    scale: Scaling | None = None,
) -> str | None:
    """Return what is wrong with `outcome` as an answer to the formulation as it stands, or None.

    `scale` gives the columns' magnitudes (measured from the formulation when not given).
    """
    x = outcome.values
    if x is None:
        return None
    if len(x) != form.cols or not all(math.isfinite(v) for v in x):
        return "returned a solution with missing or non-finite values"
    if scale is None or len(scale.col) != form.cols:
        scale = Scaling()
        scale.update(form, 0, 0)
    size_of = scale.col
    for c, v in enumerate(x):
        slack = TOLERANCE * max(abs(v), size_of[c])
        if v < form.col_lower[c] - slack or v > form.col_upper[c] + slack:
            return f"returned {form.col_name[c]} = {v:.6g}, outside its bounds"
        if form.col_integer[c] and not relax and abs(v - round(v)) > WHOLE:
            return f"returned a fractional {form.col_name[c]} = {v:.6g}"
    for r, coefs in enumerate(form.row_coef):
        lower, upper = form.row_lower[r], form.row_upper[r]
        if lower == -math.inf and upper == math.inf:
            continue
        terms = [a * x[c] for c, a in coefs.items()]
        activity = math.fsum(terms)
        size = max(
            [
                *(abs(t) for t in terms),
                *(abs(a) * size_of[c] for c, a in coefs.items()),
                *(abs(b) for b in (lower, upper) if math.isfinite(b)),
            ],
            default=1.0,
        )
        if activity < lower - TOLERANCE * size or activity > upper + TOLERANCE * size:
            return f"returned a solution that breaks {form.row_name[r]}"
    if outcome.objective is not None:
        terms = [a * x[c] for c, a in objective.items()]
        value = math.fsum(terms)
        size = max(
            [*(abs(t) for t in terms), *(abs(a) * size_of[c] for c, a in objective.items())], default=1.0
        )
        if not math.isfinite(outcome.objective) or abs(value - outcome.objective) > TOLERANCE * size:
            return "reported an objective its solution does not give"
    return None
