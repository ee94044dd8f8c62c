"""Rival middle powers crowding the same niches: best responses, their equilibrium, the coordinated plan.

A constellation file (`niches.scenario.constellation` reads it) names member
scenarios and, for each crowded niche n, the multiplier m_n(k) on every
occupant's value from n when k members occupy it (at any level). A member's
value from n is the value of its chosen level in every world (and, with a
deal that funds n, what the deal loses of it where it breaks); synergy
bonuses and a deal's own bonus are not scaled.

- Alone: each member's own optimum, as `niches solve` finds it (no crowding).
- Best-response dynamics: from the plans alone, members re-solve in file
  order, each given the others' current portfolios: its value from each
  crowded niche n it declares is scaled by m_n(1 + the others in n). The
  scaling is a variant scenario whose outlook of n in every world is
  multiplied by that factor (`crowded`), so the evaluator scores it as the
  model does; each best response is that variant's optimum with `solve`'s
  tie-breaks. A round is one pass over every member. After each round the
  joint state (every member's portfolio) is compared with the states at the
  end of the earlier rounds (and the start): a round that changes no member
  ends the dynamics at a pure Nash equilibrium; a state seen before is a
  cycle (the states from its first occurrence on repeat for ever, since a
  round's outcome depends only on the state it starts from).
- The coordinated plan (`niches.analysis.coordinated`): the portfolios
  maximising the sum of the members' objectives under crowding, as one
  joint MILP with every member's rules, and with no member falling further
  short of its value floors than at the equilibrium (see below); ties go to
  the larger sum of expected values, then the smaller total spend, then the
  earlier starts and the members' declaration order.
- The price of anarchy: the coordinated total over the equilibrium total
  (None when the dynamics cycle or the equilibrium total is not positive).
  Never below 1: the equilibrium is one of the plans the coordinated plan
  chooses from (`_check_against` holds it to that).

Members are compared on their own objectives (expected value, worst case or
CVaR, in value units). A floor declared as a share of the best CVaR or worst
case is fixed once, from the member alone; every floor is then measured under
crowding like any value.

Value floors (`min_worst_case`, `min_cvar`) are the only rules crowding can
break (it changes values, not costs), and they hold where they can: a best
response keeps them when some portfolio does under the crowding the member
faces; when none does, the member falls as little short of them as it can
(each floor's shortfall as a share of the floor's size, a floor of 0 counting
in value units, added up, as `niches explain` measures a combined relaxation:
`niches.optimize.elastic`), then optimises its objective with `solve`'s
tie-breaks. So every member has a best response to any plans of its rivals (a
member that cannot keep its rules alone is refused), and the dynamics end
converged, in a cycle, or unsettled after `MAX_ROUNDS` rounds. `Standing`
says how far each member falls short (the same measure, a member's `share`).

The coordinated plan holds each member to its shortfall at the equilibrium:
a member whose floors hold there keeps them, and one that falls short falls
no further short (within the tie tolerance); it may fall less short, but
maximises the total, not the floors kept. With no equilibrium (a cycle, or
dynamics that do not settle) there is no shortfall to hold each member to:
the coordinated plan then first minimises the members' total shortfall (0
when some joint plan keeps every floor, and then every floor holds), then
maximises the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.analysis.coordinated import coordinate
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
from niches.optimize.metrics import evaluate, objective_value
from niches.optimize.tolerances import RELATIVE_TIE
from niches.scenario import Scenario
from niches.scenario.constellation import Constellation

if TYPE_CHECKING:
    from niches.optimize.model import Deadline, PortfolioModel

__all__ = [
    "MAX_ROUNDS",
    "Disagreement",
    "Dynamics",
    "Move",
    "Responder",
    "RivalsError",
    "RivalsReport",
    "Standing",
    "State",
    "best_response_dynamics",
    "coordinate",
    "crowded",
    "multipliers_of",
    "occupants",
    "standing",
    "study_rivals",
]

MAX_ROUNDS = 200
"""Rounds of best responses run before the dynamics stop unsettled (neither converged nor repeating)."""


@dataclass(frozen=True)
class Move:
    """A best response that changed a member's portfolio, in round `round` (from 1).

    `objective` is the member's objective (value units) with its new portfolio,
    under the crowding of the others' portfolios at that moment.
    """

    round: int
    member: str
    before: dict[str, str]
    after: dict[str, str]
    objective: float


@dataclass(frozen=True)
class Dynamics:
    """The best-response dynamics: the start and the state after each round, and the moves made.

    `converged`: the last round changed no member (a pure Nash equilibrium).
    `repeats`: when the dynamics cycle, the index in `states` of the state
    the last round repeated (the cycle is `states[repeats:-1]`); None otherwise.
    Neither: the dynamics stopped after MAX_ROUNDS rounds, unsettled.
    """

    states: tuple[dict[str, dict[str, str]], ...]
    moves: tuple[Move, ...]
    converged: bool
    repeats: int | None

    @property
    def rounds(self) -> int:
        """Return the number of rounds run."""
        return len(self.states) - 1

    @property
    def cycle(self) -> tuple[dict[str, dict[str, str]], ...] | None:
        """Return the states that repeat for ever, in order (None unless the dynamics cycle)."""
        return None if self.repeats is None else self.states[self.repeats : -1]


@dataclass(frozen=True)
class RivalsReport:
    """What `niches rivals` shows.

    `scenarios` are the members' scenarios with their floors resolved (alone);
    `alone` the members' own optima, each objective without crowding;
    `equilibrium` the last state of converged dynamics (None otherwise);
    `coordinated` the joint optimum under crowding: the largest total with no
    member further short of its value floors than at the equilibrium (with
    no equilibrium, the least total shortfall below the floors, then the
    largest total).
    """

    constellation: Constellation
    scenarios: Mapping[str, Scenario]
    solver: str
    alone: Standing
    dynamics: Dynamics
    equilibrium: Standing | None
    coordinated: Standing

    @property
    def price_of_anarchy(self) -> float | None:
        """Return the coordinated total over the equilibrium total (None: undefined; see `price_note`)."""
        if self.equilibrium is None or self.equilibrium.total <= 0:
            return None
        return self.coordinated.total / self.equilibrium.total

    @property
    def price_note(self) -> str | None:
        """Return why the price of anarchy is undefined (None when it is defined)."""
        if self.dynamics.repeats is not None:
            return "the best responses cycle, so there is no equilibrium to compare"
        if self.equilibrium is None:
            return f"the best responses settled neither in {MAX_ROUNDS} rounds nor in a cycle"
        if self.equilibrium.total <= 0:
            return "the equilibrium total is not positive, so a ratio to it would not measure a loss"
        return None


# --------------------------------------------------------------------------- best responses


class Responder:
    """Each member's best response to a crowding: its own model, built once, re-solved under variants."""

    def __init__(self, scenarios: Mapping[str, Scenario], solver: str, deadline: Deadline) -> None:
        self.scenarios = scenarios
        self.solver = solver
        self.deadline = deadline
        self.models: dict[str, PortfolioModel] = {}
        self.memo: dict[tuple[str, tuple[tuple[str, float], ...]], dict[str, str] | None] = {}

    def best(self, member: str, multipliers: Mapping[str, float]) -> dict[str, str] | None:
        """Return the member's optimum (with `solve`'s tie-breaks) when its niches are worth `multipliers`
        of their value. When no portfolio keeps its value floors there, the portfolio that falls least
        short of them (`least_shortfall`), then the best; None when no portfolio keeps its other rules
        (or, with no crowding, its floors: the member cannot plan alone)."""
        from niches.optimize.elastic import least_shortfall
        from niches.optimize.metrics import value_table
        from niches.optimize.model import PortfolioModel, solve

        key = (member, tuple(sorted(multipliers.items())))
        if key in self.memo:
            return self.memo[key]
        base = self.scenarios[member]
        if member not in self.models:
            self.models[member] = PortfolioModel(base, self.solver)
        model = self.models[member]
        variant = crowded(base, multipliers)
        table = value_table(variant)
        values = {key: v for key, v in table.items() if key[0] in multipliers}
        with model.variant(values=values):
            found = solve(variant, base.objective, self.solver, model=model, deadline=self.deadline)
            status, portfolio = found.status, found.portfolio
            if status == "infeasible" and multipliers:
                chain = least_shortfall(model, variant, self.deadline)
                status, portfolio = chain.status, chain.portfolio
        if status == "feasible":
            raise RivalsError(
                f"the time limit stopped {member}'s best response before it was proven; raise --time-limit"
            )
        result = None if status == "infeasible" else dict(portfolio)
        self.memo[key] = result
        return result


def best_response_dynamics(
    constellation: Constellation, responder: Responder, start: State, max_rounds: int = MAX_ROUNDS
) -> Dynamics:
    """Run rounds of best responses in file order from `start` until a round changes no member, or the
    state after a round repeats one seen before (a cycle), or `max_rounds` rounds ran."""
    names = list(constellation.members)
    state = {m: dict(start[m]) for m in names}
    states = [state]
    seen = {_key(state, names): 0}
    moves: list[Move] = []
    for number in range(1, max_rounds + 1):
        changed = False
        for m in names:
            multipliers = multipliers_of(constellation, m, state)
            best = responder.best(m, multipliers)
            if best is None:  # its rules other than its value floors do not depend on crowding
                raise RivalsError(f"no portfolio keeps the rules of {m} other than its value floors")
            if best != state[m]:
                variant = crowded(responder.scenarios[m], multipliers)
                objective = objective_value(variant.objective, evaluate(variant, best))
                moves.append(Move(number, m, state[m], best, objective))
                state = {**state, m: best}
                changed = True
        states.append(state)
        if not changed:
            return Dynamics(tuple(states), tuple(moves), True, None)
        key = _key(state, names)
        if key in seen:
            return Dynamics(tuple(states), tuple(moves), False, seen[key])
        seen[key] = number
    return Dynamics(tuple(states), tuple(moves), False, None)


def _key(state: State, names: Sequence[str]) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(sorted(state[m].items())) for m in names)


# --------------------------------------------------------------------------- the whole study


def study_rivals(
    constellation: Constellation, solver: str = "highs", deadline: Deadline | None = None
) -> RivalsReport:
    """Solve each member alone, run the best-response dynamics, solve the coordinated plan."""
    from niches.optimize.model import Deadline, resolve_floors

    deadline = deadline or Deadline()
    scenarios = {m: resolve_floors(s, solver, deadline) for m, s in constellation.members.items()}
    responder = Responder(scenarios, solver, deadline)
    alone: dict[str, dict[str, str]] = {}
    for m in scenarios:
        best = responder.best(m, {})
        if best is None:
            raise RivalsError(f"no portfolio keeps the rules of {m} alone; solve it on its own first")
        alone[m] = best
    dynamics = best_response_dynamics(constellation, responder, alone)
    equilibrium = standing(constellation, scenarios, dynamics.states[-1]) if dynamics.converged else None
    coordinated = coordinate(constellation, scenarios, solver, equilibrium, deadline)
    if equilibrium is not None:
        _check_against(coordinated, equilibrium)
    return RivalsReport(
        constellation,
        scenarios,
        solver,
        standing(constellation, scenarios, alone, crowding=False),
        dynamics,
        equilibrium,
        coordinated,
    )


def _check_against(coordinated: Standing, equilibrium: Standing) -> None:
    """Raise Disagreement unless the coordinated plan is at least as good as the equilibrium, which it
    may always copy: no member further short of its value floors (within the tie tolerance), and no
    smaller total."""
    for m, held in equilibrium.shares.items():
        short = coordinated.shares[m]
        if short > held + RELATIVE_TIE * max(1.0, held):
            raise Disagreement(
                f"the coordinated plan leaves {m} further short of its value floors ({short:.6g} as shares "
                f"of them) than the equilibrium ({held:.6g}), which it may not"
            )
    slack = RELATIVE_TIE * max(1.0, abs(equilibrium.total))
    if coordinated.total < equilibrium.total - slack:
        raise Disagreement(
            f"the coordinated plan ({coordinated.total:.6g}) is worth less than the equilibrium "
            f"({equilibrium.total:.6g}), which it may always copy"
        )
