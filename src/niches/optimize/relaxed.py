"""The objective with some rule groups dropped: proven, found, bounded, or solved exactly.

"What would the plan gain without this rule?" is one MILP per rule group, and
on a large model each costs about as much as the solve itself. Most groups are
settled for much less (the MILP engine asks these in order):

1. Proven: the LP relaxation of the portfolios that break the group (or, for a
   group of several rows, of every portfolio without it) cannot beat the
   recommendation: the group does not bind, and nothing is solved.
2. Found: a small MILP in the neighbourhood where that LP's solution and the
   recommendation agree (every choice on which they agree is fixed: RINS)
   usually finds a better portfolio without the group in milliseconds; then
   the group binds, and its figure lies between that portfolio's objective and
   the LP bound.
3. Decided: when no better portfolio was found, a MILP decides (exactly) whether
   one exists, with every choice the LP's reduced costs pin fixed first.
4. Exact when cheap: on a model of at most `EXACT_CHOICES` binary choices
   every figure is solved exactly (the MILP with the choices the LP's reduced
   costs pin fixed, started from the portfolio found), where it costs about as
   much as the steps above; on a larger one a binding group's figure stays the
   interval [found, LP bound], marked as such, unless the two meet. `exact`
   solves every figure whatever it costs. The rule depends on the model alone,
   so the same scenario gets the same figures on every machine.

Every figure is answered from a cold solver (nothing kept from the group
before), so the figures do not depend on how many threads share the groups.
On CBC (no cutoff questions) every figure is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.optimize.formulation_matrix import INF
from niches.optimize.goals import KIND_GOAL
from niches.optimize.metrics import evaluate, objective_value
from niches.optimize.model import Deadline, PortfolioModel, Solution, tolerance

if TYPE_CHECKING:
    from niches.scenario import Scenario

INTEGRAL = ("requires[", "excludes[", "must_include[", "must_exclude[", "pin[", "min_niches", "max_niches")
"""Rule groups whose rows count whole niches: a violation is off by at least one."""

EXACT_CHOICES = 400
"""Models with at most this many binary choices get every figure exactly (step 4 for all)."""


@dataclass(frozen=True)
class Without:
    """The objective without some rule groups (value units; lower is better for regret).

    `low` is reached by a portfolio without the groups; nothing without them
    beats `high`. The figure is exact when the two are equal.
    """

    low: float
    high: float

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @staticmethod
    def of(value: float) -> Without:
        """Return the exact figure `value`."""
        return Without(value, value)


Relaxed = dict[frozenset[str], "Without | None"]
"""Rule groups dropped -> the objective without them (None: not computed before the time limit)."""


@dataclass
class Pending:
    """A set of groups the LP could not settle: its LP bound and solution, and the best portfolio found."""

    groups: frozenset[str]
    bound: float
    lp: list[float]
    found: float
    portfolio: dict[str, str] | None = None


def breaking(form_model: PortfolioModel, groups: frozenset[str]) -> bool:
    """Restrict to portfolios breaking a lone one-row group (return True), else drop the groups."""
    form = form_model.form
    if len(groups) == 1:
        (name,) = groups
        group = form.groups[name]
        if len(group.rows) == 1:
            row = group.rows[0]
            low, high = form.row_lower[row], form.row_upper[row]
            step = 1.0 if name.startswith(INTEGRAL) else 0.0
            if group.how == "share" or (math.isinf(low) and not math.isinf(high)):
                form.set_row_bounds(row, high + step, INF)
                return True
            if math.isinf(high) and not math.isinf(low):
                form.set_row_bounds(row, -INF, low - step)
                return True
    for name in groups:
        form.drop(name)
    return False


class Settler:
    """Settles whether rule groups bind, and what dropping them gains, on one model (one thread)."""

    def __init__(
        self, model: PortfolioModel, scenario: Scenario, base: Solution, deadline: Deadline, exact: bool
    ) -> None:
        assert base.objective is not None
        self.model = model
        self.scenario = scenario
        self.base = base
        self.deadline = deadline
        self.goal = KIND_GOAL[base.objective_kind]
        self.cutoff = base.objective + tolerance(base.objective)
        binaries = len(model.form.choose) + len(model.form.take)
        self.exact = exact or not hasattr(model.backend, "beyond") or binaries <= EXACT_CHOICES

    def figure(self, groups: frozenset[str]) -> Without | None:
        """Return the objective without `groups` (None: the time limit came first).

        Answered from a cold solver, so the figure does not depend on what
        this model was asked before (or on how many threads share the work).
        """
        if self.deadline.expired:
            return None
        self.model.fresh()
        screened = self.screen(groups)
        if isinstance(screened, Without):
            return screened
        item = screened
        if not self.exact:
            self._neighbourhood(item)
            if item.found <= self.cutoff:
                decided = self._decided(item)
                if decided is not None:
                    return decided
            if item.found > self.cutoff:  # it binds: the interval, exact when it has closed
                if item.found >= item.bound - tolerance(item.bound):
                    return Without.of(item.found)
                return Without(item.found, item.bound)
        return self._solved(item)

    def screen(self, groups: frozenset[str]) -> Without | Pending:
        """Return the exact figure when the LP proves the groups do not bind, else what is left to do."""
        base = self.base.objective
        assert base is not None
        with self.model.form.variant():
            breaking(self.model, groups)
            bound = self.model.optimise(self.goal, self.deadline.left(), relax=True)
        if bound.status == "infeasible":
            return Without.of(base)
        if bound.status != "optimal" or bound.objective is None or bound.values is None:
            return Pending(groups, INF, [], base)
        if bound.objective <= self.cutoff:
            return Without.of(base)
        return Pending(groups, bound.objective, bound.values, base)

    def _neighbourhood(self, item: Pending) -> None:
        """Look for a better portfolio where the LP's solution and the recommendation agree (RINS)."""
        if not item.lp or self.deadline.expired:
            return
        model, form = self.model, self.model.form
        start = form.binary_start(self.base.portfolio)
        columns = [*form.choose.values(), *form.take.values()]
        with form.variant():
            breaks = breaking(model, item.groups)
            for col in columns:
                if abs(item.lp[col] - start.get(col, 0.0)) <= 1e-6:
                    form.set_col_bounds(col, start.get(col, 0.0), start.get(col, 0.0))
            outcome = model.optimise(
                self.goal, self.deadline.left(), start=None if breaks else self.base.portfolio
            )
        if outcome.values is None or outcome.status not in ("optimal", "feasible"):
            return
        portfolio = model.portfolio(outcome)
        value = objective_value(self.base.objective_kind, evaluate(self.scenario, portfolio))
        if value > item.found:
            item.found, item.portfolio = value, portfolio

    def _fix_pinned(self, item: Pending) -> None:
        """Fix the choices the LP's reduced costs pin for every portfolio at least as good as `item.found`.

        Any such portfolio keeps every choice whose reduced cost in the LP
        exceeds the LP bound less `item.found`, so fixing those loses nothing.
        """
        model, form = self.model, self.model.form
        fixing = getattr(model.backend, "fixed_by_reduced_costs", None)
        if fixing is None or not model.aided or not math.isfinite(item.bound):
            return
        lp = model.optimise(self.goal, self.deadline.left(), relax=True)
        if lp.status == "optimal" and lp.objective is not None:
            for col, value in fixing(list(form.choose.values()), lp.objective - item.found).items():
                form.set_col_bounds(col, value, value)

    def _decided(self, item: Pending) -> Without | None:
        """Decide whether anything beats the recommendation without the groups: None when something
        does (then `item` holds it), the recommendation's figure when nothing does.

        One MILP that stops at the first portfolio beating the recommendation
        (`beyond`: the solver prunes with that cutoff from the start).
        """
        base = self.base.objective
        assert base is not None
        model, form = self.model, self.model.form
        beyond = getattr(model.backend, "beyond", None)
        if beyond is None or self.deadline.expired:
            return None
        with form.variant():
            breaking(model, item.groups)
            self._fix_pinned(item)
            vector = form.goal(self.goal)
            outcome = beyond(vector, True, self.deadline.left(), self.cutoff)
        if outcome.status == "infeasible":
            return Without.of(base)
        if outcome.values is None:
            return None
        portfolio = model.portfolio(outcome)
        value = objective_value(self.base.objective_kind, evaluate(self.scenario, portfolio))
        if value > item.found:
            item.found, item.portfolio = value, portfolio
        if item.found <= self.cutoff and outcome.status == "optimal":
            return Without.of(base)  # proven: the best without the groups does not beat it
        return None

    def _solved(self, item: Pending) -> Without | None:
        """Return the exact figure: the MILP with the choices the LP pins fixed, from the best found."""
        base = self.base.objective
        assert base is not None
        model, form = self.model, self.model.form
        if self.deadline.expired:
            return None
        with form.variant():
            breaks = breaking(model, item.groups)
            start = (
                item.portfolio if item.portfolio is not None else (None if breaks else self.base.portfolio)
            )
            self._fix_pinned(item)
            outcome = model.optimise(self.goal, self.deadline.left(), start=start)
        if outcome.status == "infeasible":
            return Without.of(max(base, item.found))  # nothing in reach does better than what is known
        if outcome.status != "optimal" or outcome.values is None:
            return None if item.portfolio is None else Without(item.found, item.bound)
        value = objective_value(self.base.objective_kind, evaluate(self.scenario, model.portfolio(outcome)))
        return Without.of(max(value, item.found, base) if breaks else max(value, item.found))
