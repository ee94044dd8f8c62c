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
  round's outcome depends only on the state it starts from). When crowding
  leaves a member no portfolio that keeps its rules (a value floor it can
  no longer reach), the dynamics stop there, stuck.
- The coordinated plan: the portfolios maximising the sum of the members'
  objectives under crowding, as one joint MILP (`formulation.joint`, every
  member's rules kept, with `formulation_crowding.add_crowding`); ties go to
  the larger sum of expected values, then the smaller total spend, then the
  earlier starts and the members' declaration order (`_joint_goals`). Every
  goal is checked against the evaluator (`Disagreement` when they differ).
- The price of anarchy: the coordinated total over the equilibrium total
  (None when the dynamics cycle or the equilibrium total is not positive).

Members are compared on their own objectives (expected value, worst case or
CVaR, in value units). A floor declared as a share of the best CVaR or worst
case is fixed once, from the member alone; every floor is then measured under
crowding like any value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.optimize.metrics import Metrics, evaluate, goal_value, objective_value
from niches.optimize.portfolio import niches_of
from niches.optimize.tolerances import RELATIVE_TIE
from niches.scenario import Scenario
from niches.scenario.constellation import Constellation

if TYPE_CHECKING:
    from niches.optimize.model import Deadline, PortfolioModel

State = Mapping[str, Mapping[str, str]]
"""Every member's portfolio (member -> niche -> level, deals -> taken), in file order."""

MAX_ROUNDS = 200
"""Rounds of best responses run before the dynamics stop unsettled (neither converged nor repeating)."""


class RivalsError(Exception):
    """The game cannot be played or solved; the message says why."""


class Disagreement(RivalsError):
    """The solver's coordinated plan is not worth to the evaluator what the solver says it is."""


@dataclass(frozen=True)
class Standing:
    """The members' portfolios at one point of the game and what each gets there.

    `objectives` maps member -> its own objective (value units) under the
    crowding `portfolios` imply (none for the plans alone); `metrics` are its
    metrics under that crowding.
    """

    portfolios: Mapping[str, dict[str, str]]
    objectives: Mapping[str, float]
    metrics: Mapping[str, Metrics]

    @property
    def total(self) -> float:
        """Return the members' objectives added up (value units)."""
        return math.fsum(self.objectives.values())


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
    `stuck`: the member that had no portfolio keeping its rules against the
    others' portfolios (a floor on its worst case or CVaR that crowding
    breaks), which ended the dynamics in the last round; `states[-1]` is then
    the state it faced. None of these: the dynamics stopped after MAX_ROUNDS
    rounds, unsettled.
    """

    states: tuple[dict[str, dict[str, str]], ...]
    moves: tuple[Move, ...]
    converged: bool
    repeats: int | None
    stuck: str | None = None

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
    `coordinated` the joint optimum under crowding (None: no joint plan keeps
    every member's rules).
    """

    constellation: Constellation
    scenarios: Mapping[str, Scenario]
    solver: str
    alone: Standing
    dynamics: Dynamics
    equilibrium: Standing | None
    coordinated: Standing | None

    @property
    def price_of_anarchy(self) -> float | None:
        """Return the coordinated total over the equilibrium total (None: undefined; see `price_note`)."""
        if self.equilibrium is None or self.coordinated is None or self.equilibrium.total <= 0:
            return None
        return self.coordinated.total / self.equilibrium.total

    @property
    def price_note(self) -> str | None:
        """Return why the price of anarchy is undefined (None when it is defined)."""
        if self.dynamics.repeats is not None:
            return "the best responses cycle, so there is no equilibrium to compare"
        if self.dynamics.stuck is not None:
            return (
                f"{self.dynamics.stuck} had no portfolio keeping its rules against its rivals' plans, "
                "so the best responses stopped short of an equilibrium"
            )
        if self.equilibrium is None:
            return f"the best responses settled neither in {MAX_ROUNDS} rounds nor in a cycle"
        if self.coordinated is None:
            return "no coordinated plan keeps every member's rules under crowding"
        if self.equilibrium.total <= 0:
            return "the equilibrium total is not positive, so a ratio to it would not measure a loss"
        return None


def occupants(constellation: Constellation, portfolios: State, niche: str) -> tuple[str, ...]:
    """Return the members whose portfolios hold `niche` (at any level), in file order."""
    return tuple(m for m, s in constellation.members.items() if niche in niches_of(s, portfolios.get(m, {})))


def crowded(scenario: Scenario, multipliers: Mapping[str, float]) -> Scenario:
    """Return `scenario` with each niche in `multipliers` worth that factor of its value in every world.

    The factor multiplies the niche's outlook in every world (a world it
    leaves out counts 1), so every level's value, and what a deal funding it
    loses where it breaks, scale with it; synergies and deal bonuses do not.
    """
    if not multipliers:
        return scenario
    worlds = [w.id for w in scenario.worlds]
    niches = tuple(
        dataclasses.replace(n, outlook={w: n.outlook.get(w, 1.0) * multipliers[n.id] for w in worlds})
        if n.id in multipliers
        else n
        for n in scenario.niches
    )
    return dataclasses.replace(scenario, niches=niches)


def multipliers_of(constellation: Constellation, member: str, portfolios: State) -> dict[str, float]:
    """Return crowded niche -> m(1 + others in it) for each niche `member` declares, where below 1."""
    found = {}
    for niche, having in constellation.declared_by.items():
        if member not in having:
            continue
        others = sum(
            1 for m in having if m != member and niche in niches_of(constellation.members[m], portfolios[m])
        )
        factor = constellation.multiplier(niche, 1 + others)
        if factor != 1.0:
            found[niche] = factor
    return found


def standing(
    constellation: Constellation, scenarios: Mapping[str, Scenario], portfolios: State, crowding: bool = True
) -> Standing:
    """Return what each member gets from `portfolios`, under the crowding they imply (or none)."""
    chosen = {m: dict(p) for m, p in portfolios.items()}
    metrics = {}
    objectives = {}
    for m, scenario in scenarios.items():
        variant = crowded(scenario, multipliers_of(constellation, m, chosen) if crowding else {})
        metrics[m] = evaluate(variant, chosen[m])
        objectives[m] = objective_value(scenario.objective, metrics[m])
    return Standing(chosen, objectives, metrics)


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
        of their value; None when no portfolio keeps its rules."""
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
        if found.status == "feasible":
            raise RivalsError(
                f"the time limit stopped {member}'s best response before it was proven; raise --time-limit"
            )
        result = None if found.status == "infeasible" else dict(found.portfolio)
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
            if best is None:
                return Dynamics((*states, state), tuple(moves), False, None, m)
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


def crowded_by(constellation: Constellation, member: str, state: State) -> dict[str, tuple[str, ...]]:
    """Return each crowded niche `member` declares -> the other members that hold it in `state`."""
    found = {}
    for n, having in constellation.declared_by.items():
        others = tuple(o for o in occupants(constellation, state, n) if o != member)
        if member in having and others:
            found[n] = others
    return found


# --------------------------------------------------------------------------- the coordinated plan


def coordinate(
    constellation: Constellation,
    scenarios: Mapping[str, Scenario],
    solver: str,
    start: State | None = None,
    deadline: Deadline | None = None,
) -> Standing | None:
    """Return the portfolios maximising the members' objectives added up under crowding (one MILP);
    None when no joint plan keeps every member's rules. `start` is a joint plan to start from."""
    from niches.optimize.formulation import Formulation, joint, minimised
    from niches.optimize.formulation_crowding import add_crowding
    from niches.optimize.model import tolerance
    from niches.optimize.solvers import make_backend

    names = list(constellation.members)
    c = constellation
    parts = [(m, Formulation(scenarios[m])) for m in names]
    model = joint(parts, {})
    crowded_niches = {n: c.declared_by[n] for n in c.crowding if len(c.declared_by[n]) >= 2}
    multipliers = {
        n: {k: c.multiplier(n, k) for k in range(2, len(having) + 1)} for n, having in crowded_niches.items()
    }
    counts = add_crowding(model, multipliers, crowded_niches)
    backend = make_backend(solver, model)
    goals = _joint_goals(scenarios)
    binaries = [i for i, integer in enumerate(model.col_integer) if integer]
    warm = _warm_start(model, counts, constellation, start) if start is not None else None
    found: Standing | None = None
    for index, goal in enumerate(goals):
        vector: dict[int, float] = {}
        for m, name, weight in goal:
            for col, v in model.member_goal(m, name).items():
                vector[col] = vector.get(col, 0.0) + weight * v
        maximise = not minimised(goal[0][1])
        seconds = None if deadline is None else deadline.left()
        outcome = backend.solve(vector, maximise, seconds, warm)
        if outcome.status == "infeasible" and index == 0:
            return None
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
        if index < len(goals) - 1:
            margin = tolerance(exact)
            low, high = (exact - margin, math.inf) if maximise else (-math.inf, exact + margin)
            model.add_row(f"keep[{_goal_words(goal)}]", vector, low, high)
            warm = {i: outcome.values[i] for i in binaries}
    return found


Goal = list[tuple[str, str, float]]
"""A goal of the joint model: (member, the member's goal, weight) terms added up."""


def _joint_goals(scenarios: Mapping[str, Scenario]) -> list[Goal]:
    """Return the coordinated plan's goals in order: the members' objectives added up, their expected
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
        variant = crowded(scenarios[m], multipliers_of(constellation, m, found.portfolios))
        parts.append(weight * goal_value(variant, found.portfolios[m], found.metrics[m], name))
    return math.fsum(parts)


def _goal_words(goal: Goal) -> str:
    names = list(dict.fromkeys(name.replace("_", " ") for _, name, _ in goal))
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
    start = dynamics.states[-1] if dynamics.converged else None
    coordinated = coordinate(constellation, scenarios, solver, start, deadline)
    if coordinated is not None and equilibrium is not None:
        slack = RELATIVE_TIE * max(1.0, abs(equilibrium.total))
        if coordinated.total < equilibrium.total - slack:
            raise Disagreement(
                f"the coordinated plan ({coordinated.total:.6g}) is worth less than the equilibrium "
                f"({equilibrium.total:.6g}), which it may always copy"
            )
    return RivalsReport(
        constellation,
        scenarios,
        solver,
        standing(constellation, scenarios, alone, crowding=False),
        dynamics,
        equilibrium,
        coordinated,
    )
