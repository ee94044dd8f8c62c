"""Value floors held as far as they can be: the portfolio that falls least short of them, then the best.

When no portfolio keeps a scenario's value floors (`min_worst_case`,
`min_cvar`) but every other rule can hold, `least_shortfall` keeps as much of
the floors as it can: each floor's row is loosened by an elastic column
(`Formulation.add_relaxations`), the first goal is the shortfall (each
floor's as a share of the floor's size, a floor of 0 counting in value
units, added up: `niches explain`'s combined relaxation), and the
objective and `solve`'s tie-breaks follow, each pinned in turn. Every other
rule holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from niches.optimize.goals import tie_break_goals
from niches.optimize.model import Chain, Deadline, PortfolioModel, measure_goals
from niches.optimize.relaxation import value_floors, weighted_relaxation
from niches.scenario import Scenario


def least_shortfall(model: PortfolioModel, scenario: Scenario, deadline: Deadline) -> Chain:
    """Return the portfolio of `scenario` falling least short of its value floors, then the best.

    `model` is `scenario`'s model (inside the variant `scenario` states, if
    any); the chain is the shortfall (`relaxation`, lower is better), then
    the scenario's objective with `solve`'s tie-breaks. Its status is
    "infeasible" only when the rules other than the value floors cannot hold.
    """
    if scenario.objective == "regret":
        raise ValueError("a shortfall below the floors is weighed against expected, worst_case or cvar")
    floors = list(value_floors(scenario))
    exact = measure_goals(scenario)

    def measure(portfolio: Mapping[str, str], goal: str) -> float:
        if goal == "relaxation":
            return weighted_relaxation(scenario, portfolio, floors)
        return exact(portfolio, goal)

    with model.form.variant():
        model.form.add_relaxations(floors)
        goals = ["relaxation", *tie_break_goals(scenario.objective, scenario.timed)]
        return model.chain(goals, measure, deadline)
