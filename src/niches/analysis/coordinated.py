"""The coordinated plan of rivals crowding the same niches: one joint MILP over every member.

When the best responses reach an equilibrium, the portfolios maximising the
sum of the members' objectives under crowding, with every member's rules
kept and no member falling further short of its value floors than at the
equilibrium (`_hold_shortfalls`: each member's shortfall at most its own
there, within the tie tolerance; a member whose floors hold there keeps
them). The equilibrium is one such plan, so the coordinated total is never
below the equilibrium's and the price of anarchy never below 1. When there
is no equilibrium (the best responses cycle or do not settle), the
portfolios falling least short of the members' value floors in all, then
maximising the sum of their objectives. Both use `formulation.joint` with
`formulation_crowding.add_crowding`; ties go to the larger sum of expected
values, then the smaller total spend, then the earlier starts and the
members' declaration order (`_joint_goals`). Every goal is checked against
the evaluator (`Disagreement` when they differ). After each goal but the
shortfall and the last, one MILP asks whether another joint plan comes within
the tie tolerance on it (`_alone`, HiGHS only); when none does, the goals left
are skipped, since they could not change the plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from niches.analysis.crowding import (
    Disagreement,
    RivalsError,
    Standing,
    State,
    crowded,
    multipliers_of,
    occupants,
    standing,
)
from niches.optimize.metrics import goal_value
from niches.optimize.relaxation import relaxation_scale, value_floors
from niches.scenario import Scenario
from niches.scenario.constellation import Constellation

if TYPE_CHECKING:
    from niches.optimize.formulation import Joint
    from niches.optimize.model import Deadline
    from niches.optimize.solvers import Backend


def coordinate(
    constellation: Constellation,
    scenarios: Mapping[str, Scenario],
    solver: str,
    equilibrium: Standing | None = None,
    deadline: Deadline | None = None,
) -> Standing:
    """Return the portfolios maximising the members' objectives added up under crowding (one MILP) with
    no member further short of its value floors than at `equilibrium` (also the joint plan to start
    from); with no equilibrium, the portfolios falling least short of the floors in all, then the same.

    Each member's floor rows are loosened by a column `member/relax[floor]`
    (value units; a member's shortfall adds them up, each over the floor's
    size). Against an equilibrium, each member's shortfall is held to its
    own there (`_hold_shortfalls`). Without one, the first goal adds up every
    member's shortfall; when its least is 0 (some joint plan keeps every
    floor) the columns are fixed at 0 for the goals that follow; otherwise
    the total is held within the tie tolerance of its least.
    """
    from niches.optimize.formulation import Formulation, joint, minimised
    from niches.optimize.formulation_crowding import add_crowding
    from niches.optimize.model import tolerance
    from niches.optimize.solvers import make_backend

    names = list(constellation.members)
    c = constellation
    parts = [(m, Formulation(scenarios[m])) for m in names]
    model = joint(parts, {})
    slack = _add_floor_slack(model, scenarios)
    crowded_niches = {n: c.declared_by[n] for n in c.crowding if len(c.declared_by[n]) >= 2}
    multipliers = {
        n: {k: c.multiplier(n, k) for k in range(2, len(having) + 1)} for n, having in crowded_niches.items()
    }
    counts = add_crowding(model, multipliers, crowded_niches)
    backend = make_backend(solver, model)
    goals = _joint_goals(scenarios)
    if equilibrium is not None:
        _hold_shortfalls(model, slack, equilibrium)
        goals = goals[1:]  # the floors are held member by member, not added up
    elif not any(slack.values()):
        goals = goals[1:]  # no member has a value floor
    binaries = [i for i, integer in enumerate(model.col_integer) if integer]
    warm = None if equilibrium is None else _warm_start(model, counts, constellation, equilibrium.portfolios)
    found: Standing | None = None
    for index, goal in enumerate(goals):
        vector: dict[int, float] = {}
        for m, name, weight in goal:
            terms = slack[m] if name == "relaxation" else model.member_goal(m, name)
            for col, v in terms.items():
                vector[col] = vector.get(col, 0.0) + weight * v
        maximise = not minimised(goal[0][1])
        seconds = None if deadline is None else deadline.left()
        outcome = backend.solve(vector, maximise, seconds, warm)
        if outcome.status != "optimal" or outcome.values is None or outcome.objective is None:
            raise RivalsError(
                f"the {solver} solver stopped without the coordinated optimum ({outcome.status})"
            )
        portfolios = {m: model.parts[m].portfolio(model.member_values(m, outcome.values)) for m in names}
        found = standing(constellation, scenarios, portfolios)
        exact = _goal_total(constellation, scenarios, found, goal)
        if abs(exact - outcome.objective) > tolerance(exact):
            raise Disagreement(
                f"the {solver} solver's coordinated plan is worth {outcome.objective:.6g} on "
                f"{_goal_words(goal)} by its own count, but {exact:.6g} to the evaluator"
            )
        last = index == len(goals) - 1
        asked = not last and goal[0][1] != "relaxation"
        if asked and _alone(model, backend, vector, maximise, exact, outcome.values, deadline):
            break  # no other joint plan ties on this goal: the tie-breaks cannot change it
        if not last:
            if goal[0][1] == "relaxation" and exact == 0.0:  # every floor holds: keep them all
                for col in vector:
                    model.set_col_bounds(col, 0.0, 0.0)
            else:
                margin = tolerance(exact)
                low, high = (exact - margin, math.inf) if maximise else (-math.inf, exact + margin)
                model.add_row(f"keep[{_goal_words(goal)}]", vector, low, high)
            warm = {i: outcome.values[i] for i in binaries}
    assert found is not None
    return found


def _alone(
    model: Joint,
    backend: Backend,
    vector: Mapping[int, float],
    maximise: bool,
    exact: float,
    values: Sequence[float],
    deadline: Deadline | None,
) -> bool:
    """Return whether no joint plan but the one of `values` comes within the tie tolerance of `exact` on
    the goal `vector` (one MILP that stops at the first other plan, pruned by the cutoff; False when the
    back end cannot ask)."""
    from niches.optimize.formulation_matrix import INF
    from niches.optimize.model import tolerance

    beyond = getattr(backend, "beyond", None)
    if beyond is None:
        return False
    binaries = [
        model.column(m, col)
        for m, part in model.parts.items()
        for col in (*part.choose.values(), *part.take.values())
    ]
    held = [col for col in binaries if values[col] > 0.5]
    margin = tolerance(exact)
    with model.variant():
        row = {col: -1.0 for col in binaries} | dict.fromkeys(held, 1.0)
        model.add_row("differs_from[coordinated]", row, -INF, len(held) - 1.0)
        seconds = None if deadline is None else deadline.left()
        outcome = beyond(vector, maximise, seconds, exact - 2 * margin if maximise else exact + 2 * margin)
    return bool(outcome.status == "infeasible")


def _add_floor_slack(model: Joint, scenarios: Mapping[str, Scenario]) -> dict[str, dict[int, float]]:
    """Loosen each member's value floors by a column `member/relax[floor]` (>= 0, value units) in the
    floor's row; return member -> column -> its weight in the total shortfall (1 over the floor's size)."""
    from niches.optimize.formulation_matrix import INF

    found: dict[str, dict[int, float]] = {}
    for m, scenario in scenarios.items():
        part = model.parts[m]
        found[m] = {}
        for rule, floor in value_floors(scenario).items():
            col = model.add_col(f"{m}/relax[{rule}]", 0.0, INF)
            for row in part.groups[rule].rows:
                model.set_coefficient(model.row(m, row), col, 1.0)
            found[m][col] = 1.0 / relaxation_scale(floor)
    return found


def _hold_shortfalls(model: Joint, slack: Mapping[str, Mapping[int, float]], equilibrium: Standing) -> None:
    """Keep each member with value floors no further short of them than at `equilibrium`: its slack
    columns, weighted as in its shortfall (`_add_floor_slack`), add up to at most its share there plus the
    tie tolerance; a member whose floors hold there keeps them (its columns fixed at 0). The
    equilibrium's own portfolios keep these rows, so the coordinated plan can always copy them."""
    from niches.optimize.model import tolerance

    for m, columns in slack.items():
        if not columns:
            continue
        held = equilibrium.shares[m]
        if held == 0.0:
            for col in columns:
                model.set_col_bounds(col, 0.0, 0.0)
        else:
            model.add_row(f"{m}/short_as_at_equilibrium", dict(columns), -math.inf, held + tolerance(held))


Goal = list[tuple[str, str, float]]
"""A goal of the joint model: (member, the member's goal, weight) terms added up."""


def _joint_goals(scenarios: Mapping[str, Scenario]) -> list[Goal]:
    """Return the coordinated plan's goals in order: the members' shortfalls below their value floors
    added up (lower; `relaxation`, each as a share of its floor; left out against an equilibrium, where
    each member's is held instead), their objectives added up, their expected
    values, their spend (lower), then one goal of order: the earlier starts (when a member's levels may
    start later), then each member's declaration order, the earlier members weighing more (member i of M
    counts M - i times its tie rank, so that two members never trade choices one for one)."""
    from niches.optimize.formulation import KIND_GOAL

    names = list(scenarios)
    order: Goal = [(m, "tie_rank", float(len(names) - i)) for i, m in enumerate(names)]
    if any(s.timed for s in scenarios.values()):
        most = sum(weight * _positions(scenarios[m]) for m, _, weight in order)
        order += [(m, "start_rank", most + 1.0) for m in names]
    return [
        [(m, "relaxation", 1.0) for m in names],
        [(m, KIND_GOAL[scenarios[m].objective], 1.0) for m in names],
        [(m, "expected_value", 1.0) for m in names],
        [(m, "total_spend", 1.0) for m in names],
        order,
    ]


def _positions(scenario: Scenario) -> float:
    """Return the largest tie rank a portfolio of `scenario` can have (every position added up)."""
    count = sum(len(n.levels) for n in scenario.niches) + len(scenario.deals)
    return count * (count + 1) / 2


def _goal_total(
    constellation: Constellation, scenarios: Mapping[str, Scenario], found: Standing, goal: Goal
) -> float:
    """Return the exact value of a joint goal for the portfolios of `found`."""
    parts = []
    for m, name, weight in goal:
        if name == "relaxation":
            parts.append(weight * found.shares[m])
            continue
        variant = crowded(scenarios[m], multipliers_of(constellation, m, found.portfolios))
        parts.append(weight * goal_value(variant, found.portfolios[m], found.metrics[m], name))
    return math.fsum(parts)


def _goal_words(goal: Goal) -> str:
    words = {"relaxation": "shortfalls below the value floors"}
    names = list(dict.fromkeys(words.get(name, name.replace("_", " ")) for _, name, _ in goal))
    return "the sum of " + " and ".join(names)


def _warm_start(
    model: object, counts: Mapping[str, Mapping[int, int]], constellation: Constellation, start: State
) -> dict[int, float]:
    """Return the joint model's binary columns for the joint plan `start` (a start for the first solve)."""
    from niches.optimize.formulation import Joint

    assert isinstance(model, Joint)
    warm: dict[int, float] = {}
    for m, part in model.parts.items():
        for col, value in part.binary_start(start[m]).items():
            if part.col_integer[col]:
                warm[model.column(m, col)] = value
    for niche, count in counts.items():
        held = len(occupants(constellation, start, niche))
        for k, col in count.items():
            warm[col] = 1.0 if k == held else 0.0
    return warm
