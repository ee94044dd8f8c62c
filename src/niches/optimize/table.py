"""Every portfolio of a small scenario at once, as numpy arrays.

When a scenario has few enough portfolios (each niche out or at one of its
levels: the product of `levels + 1`), analyses that re-solve many variants
(sensitivity, frontiers, Monte Carlo) score all of them in one vectorised pass
instead of calling a MILP solver: the choices are enumerated once, and a
variant only re-scores them. The semantics (values, CVaR, rule checks with
their tolerance, goals and tie-breaks) are those of `niches.optimize.evaluate`, which
tests hold both to.

Per-portfolio sums are gathers (one small lookup table per niche indexed by
the level chosen), not products with a one-hot matrix, so no BLAS threads
start for them.

The table is built in layers, one module each: the rows and what their
choices say (`table_rows`), costs (`table_costs`), the rules values do not
move (`table_rules`) and scoring (`table_scoring`), into the arrays of
`table_arrays`; this module chooses among the scored rows by goals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from niches.optimize.goals import minimised, tie_break_goals
from niches.optimize.table_arrays import Floats, Scores, cvar_of, objective_of
from niches.optimize.table_rows import small_enough
from niches.optimize.table_scoring import Scoring
from niches.optimize.tolerances import RELATIVE_TIE

__all__ = ["PortfolioTable", "Scores", "cvar_of", "objective_of", "small_enough"]


class PortfolioTable(Scoring):
    """All portfolios of a scenario's structure; scores them under any numeric variant.

    `choice[i, j]` is 0 when niche j is out of portfolio i, else 1 + its level index;
    the columns after the niches are the deals (1: taken). Rows whose deals do
    not come with the niches they fund (or fund a niche past its whole cost)
    are never feasible (`admissible`). A variant is a scenario with the same niches, levels, worlds, periods,
    powers and capacities and other numbers (weights, scores, costs, probabilities, limits).
    The rules that values do not move are checked once per set of costs and
    limits and cached; a new set of values re-scores only the portfolios left.
    """

    # ---------------------------------------------------------------- goals
    def goal(self, scores: Scores, goal: str, stars: Floats | None = None) -> Floats:
        """Return every scored portfolio's value of goal `goal` (as evaluate.goal_value defines it)."""
        s = self.scenario
        simple = {
            "expected_value": scores.expected,
            "worst_case": scores.worst,
            "cvar": scores.cvar,
            "total_spend": scores.total,
        }
        if goal in simple:
            return simple[goal]
        if goal == "max_regret":
            if stars is None:
                raise ValueError("regret needs the best value of each world")
            return np.asarray((stars[None, :] - scores.values).max(axis=1), dtype=np.float64)
        if goal == "tie_rank":
            return np.asarray(self.rank[scores.rows], dtype=np.float64)
        if goal == "start_rank":
            return np.asarray(self.start_rank[scores.rows], dtype=np.float64)
        if goal == "budget_scale":
            return self.budget_usage(scores)
        family, _, inner = goal.partition("[")
        inner = inner[:-1]
        if family == "value":
            return scores.values[:, [w.id for w in s.worlds].index(inner)]
        if family == "spend":
            return scores.total if inner == "total" else scores.spend[:, s.periods.index(inner)]
        if family == "uses":
            return scores.uses[:, list(s.capacities).index(inner)]
        raise ValueError(f"unknown goal {goal!r}")

    def budget_usage(self, scores: Scores) -> Floats:
        """Return the least factor on every budget cap at which each portfolio fits."""
        s = self.scenario
        usage = np.zeros(len(scores.rows))
        caps = [(scores.spend[:, s.periods.index(p)], cap) for p, cap in s.budget.items()]
        if s.budget_total is not None:
            caps.append((scores.total, s.budget_total))
        for spend, cap in caps:
            ratio = np.where(spend > 0, spend / cap if cap > 0 else np.inf, 0.0)
            np.maximum(usage, ratio, out=usage)
        return usage

    def chain(
        self,
        scores: Scores,
        goals: Sequence[str],
        floors: Mapping[str, float] | None = None,
        stars: Floats | None = None,
    ) -> int | None:
        """Return the table row optimising `goals` in order (ties within RELATIVE_TIE); None if none.

        `floors` keep goals at least (maximised) or at most (minimised) a value.
        Ties left after the last goal go to the lowest declaration rank.
        """
        at = np.flatnonzero(scores.feasible)
        for goal, bound in (floors or {}).items():
            value = self.goal(scores, goal, stars)[at]
            at = at[value <= bound] if minimised(goal) else at[value >= bound]
        if at.size == 0:
            return None
        for index, goal in enumerate(goals):
            value = self.goal(scores, goal, stars)[at]
            last = index == len(goals) - 1  # the last goal is optimised exactly, as a lone solve would
            if minimised(goal):
                least = value.min()
                at = at[value <= (least if last else least + RELATIVE_TIE * max(1.0, abs(least)))]
            else:
                top = value.max()
                at = at[value >= (top if last else top - RELATIVE_TIE * max(1.0, abs(top)))]
        rows = scores.rows[at]
        return int(rows[np.argmin(self.rank[rows])])  # argmin keeps the first of equal ranks

    def best(self, scores: Scores, kind: str, stars: Floats | None = None) -> int | None:
        """Return the table row of the optimum under `kind`, with the documented tie-breaks; None if none."""
        return self.chain(scores, tie_break_goals(kind, self.scenario.timed), stars=stars)

    def best_by_world(self, scores: Scores) -> Floats | None:
        """Return V*_k over feasible portfolios, or None if none is feasible."""
        if not scores.feasible.any():
            return None
        return np.asarray(scores.values[scores.feasible].max(axis=0), dtype=np.float64)
