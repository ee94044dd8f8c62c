"""Coalitions of middle powers: joint niches, each member's gain, a fair split and its stability.

A coalition file (`niches.scenario.coalition` reads it) names member
scenarios, the niches they build together and how a shared niche's cost is
split.

The game: for a set S of members, v(S) is the best total of the members'
objectives when S plans together: one model (`formulation.joint`) holds each
member's own model and rules; a shared niche held by several members of S is
built once (all of them take it at the same level, or none does) and each
pays its share of the cost it declares. `equal` splits a shared niche's cost
evenly among the members that build it; `proportional` in proportion to the
expected value each expects from it at that level (evenly if none expects
any); `shapley` splits the cost evenly and then shares the coalition's total
by Shapley value (side payments in value units). A member's payoff is its own
objective in the joint plan (its Shapley value under `shapley`).

Stability: every sub-coalition S (members alone included) is solved, and S
blocks when v(S) beats what its members get together (the core test,
exactly, for up to MAX_MEMBERS members; no member doing worse than alone is
the test on single members).

When the split is not stable, what comes closest (`coalition_solutions`): the
least core (the least epsilon such that some split gives every group at least
v(S) - epsilon, and its split nearest the Shapley value), the nucleolus, and
the best coalition structure: the partition of the members into groups that
plan together with the largest total, and whether its own split is stable.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from niches.analysis.coalition_solutions import (
    LeastCore,
    Nucleolus,
    best_partition,
    blocking_groups,
    key,
    largest_complaint,
    least_core,
    nucleolus,
    shapley_values,
)
from niches.optimize.evaluate import Metrics, evaluate, objective_value
from niches.optimize.lp import LPFailed
from niches.scenario import Level, Scenario
from niches.scenario.coalition import Coalition


@dataclass(frozen=True)
class Plan:
    """The joint optimum of some members: each one's portfolio, metrics and objective (value units)."""

    members: tuple[str, ...]
    portfolios: Mapping[str, dict[str, str]]
    metrics: Mapping[str, Metrics]
    objectives: Mapping[str, float]

    @property
    def total(self) -> float:
        """Return v(S): the members' objectives added up."""
        return math.fsum(self.objectives.values())


@dataclass(frozen=True)
class MemberResult:
    """One member: its optimum alone, its payoff in the coalition, the gain, its Shapley value, its own
    objective in the joint plan and the side payment it receives (payoff - own; 0 unless `shapley`)."""

    name: str
    alone: float
    joint: float
    gain: float
    shapley: float
    own: float
    transfer: float


@dataclass(frozen=True)
class Structure:
    """The best coalition structure: the partition of the members into groups that plan together with
    the largest total of v (value units).

    `groups`: each group in the members' order, ordered by its first member;
    `value`: the groups' joint optima added up; `payoffs` (member -> value
    units): each member's payoff in its group's joint plan under the
    coalition's split (its own objective, or the Shapley value of its group's
    sub-game under `shapley`); `blocking`: the groups of any members whose
    worth beats their payoffs (in the members' order, smaller first).
    """

    groups: tuple[tuple[str, ...], ...]
    value: float
    payoffs: Mapping[str, float]
    blocking: tuple[tuple[str, ...], ...]

    @property
    def stable(self) -> bool:
        """Return whether no group of members does better than its payoffs in this structure."""
        return not self.blocking


@dataclass(frozen=True)
class CoalitionReport:
    """What `niches coalition` shows.

    `values` maps every sub-coalition (sorted names) -> its joint optimum
    (None: its members cannot plan together); `worth` -> v(S), the joint
    optimum or, where there is none, the best split into smaller groups (the
    game the Shapley values and the core test use); `blocking` the
    sub-coalitions that do better on their own than with their payoffs (in
    the members' order, smaller first). What comes closest to a stable
    split: `least_core`, `nucleolus` and the best coalition `structure`;
    `complaints`: the largest complaint (the largest v(S) - x(S) of a proper
    sub-coalition, value units) of each split shown: "split" (the payoffs in
    use), "shapley", "least_core", "nucleolus".
    """

    coalition: Coalition
    members: tuple[MemberResult, ...]
    grand: Plan
    values: Mapping[tuple[str, ...], float | None]
    blocking: tuple[tuple[str, ...], ...]
    shares: Mapping[tuple[str, str, str], float]
    worth: Mapping[tuple[str, ...], float]
    least_core: LeastCore
    nucleolus: Nucleolus
    structure: Structure
    complaints: Mapping[str, float]

    @property
    def stable(self) -> bool:
        """Return whether no sub-coalition blocks (individual rationality included)."""
        return not self.blocking


class CoalitionError(Exception):
    """A coalition cannot be formed or solved; the message says why."""


# --------------------------------------------------------------------------- the game


def cost_shares(coalition: Coalition, members: Sequence[str]) -> dict[tuple[str, str, str], float]:
    """Return (member, shared niche, level) -> the share of the level's cost the member pays in `members`."""
    shares: dict[tuple[str, str, str], float] = {}
    for nid in coalition.shared:
        building = [m for m in coalition.holders[nid] if m in members]
        if len(building) < 2:
            continue
        for level in coalition.members[building[0]].niche(nid).levels:
            weights = dict.fromkeys(building, 1.0)
            if coalition.split == "proportional":
                expected = {
                    m: max(0.0, _expected_value(coalition.members[m], nid, level.id)) for m in building
                }
                if math.fsum(expected.values()) > 0:
                    weights = expected
            total = math.fsum(weights.values())
            for m in building:
                shares[m, nid, level.id] = weights[m] / total
    return shares


def _expected_value(scenario: Scenario, nid: str, lid: str) -> float:
    """Return what a member expects from niche `nid` at level `lid` alone (value units)."""
    return evaluate(scenario, {nid: lid}).expected_value - evaluate(scenario, {}).expected_value


def member_scenario(
    coalition: Coalition, member: str, shares: Mapping[tuple[str, str, str], float]
) -> Scenario:
    """Return member `member`'s scenario with each shared level costing the member its share."""
    scenario = coalition.members[member]
    niches = []
    for niche in scenario.niches:
        levels = tuple(
            _scaled(level, shares[member, niche.id, level.id])
            if (member, niche.id, level.id) in shares
            else level
            for level in niche.levels
        )
        niches.append(dataclasses.replace(niche, levels=levels) if levels != niche.levels else niche)
    return dataclasses.replace(scenario, niches=tuple(niches))


def _scaled(level: Level, share: float) -> Level:
    return dataclasses.replace(level, cost={p: c * share for p, c in level.cost.items()})


def solve_members(coalition: Coalition, members: Sequence[str], solver: str = "highs") -> Plan | None:
    """Return the joint optimum of `members` (None when no plan keeps every member's rules)."""
    from niches.optimize.formulation import KIND_GOAL, Formulation, joint, minimised
    from niches.optimize.model import resolve_floors, tolerance
    from niches.optimize.solvers import make_backend

    shares = cost_shares(coalition, members)
    scenarios = {m: resolve_floors(member_scenario(coalition, m, shares), solver) for m in members}
    parts = [(m, Formulation(scenarios[m])) for m in members]
    linked = {
        nid: [m for m in coalition.holders[nid] if m in members]
        for nid in coalition.shared
        if sum(1 for m in coalition.holders[nid] if m in members) >= 2
    }
    model = joint(parts, linked)
    backend = make_backend(solver, model)

    goals = [
        {m: KIND_GOAL[scenarios[m].objective] for m in members},
        dict.fromkeys(members, "expected_value"),
        dict.fromkeys(members, "total_spend"),
        dict.fromkeys(members, "tie_rank"),
    ]
    values: list[float] | None = None
    with model.variant():
        for index, goal in enumerate(goals):
            vector: dict[int, float] = {}
            for m, name in goal.items():
                for col, v in model.member_goal(m, name).items():
                    vector[col] = vector.get(col, 0.0) + v
            maximise = not minimised(next(iter(goal.values())))
            outcome = backend.solve(vector, maximise, None)
            if outcome.status == "infeasible":
                return None
            if outcome.status != "optimal" or outcome.values is None or outcome.objective is None:
                raise CoalitionError(f"the {solver} solver stopped without an optimum ({outcome.status})")
            values = outcome.values
            if index < len(goals) - 1:
                bound = outcome.objective
                margin = tolerance(bound)
                low, high = (-math.inf, bound + margin) if not maximise else (bound - margin, math.inf)
                model.add_row(f"keep[goal {index}]", vector, low, high)
    assert values is not None
    portfolios = {m: model.parts[m].portfolio(model.member_values(m, values)) for m in members}
    metrics = {m: evaluate(scenarios[m], portfolios[m]) for m in members}
    objectives = {m: objective_value(scenarios[m].objective, metrics[m]) for m in members}
    return Plan(tuple(members), portfolios, metrics, objectives)


def study_coalition(coalition: Coalition, solver: str = "highs") -> CoalitionReport:
    """Solve every sub-coalition; return the members' results, Shapley values and the core test."""
    names = list(coalition.members)
    values: dict[tuple[str, ...], float | None] = {}
    plans: dict[tuple[str, ...], Plan | None] = {}
    for size in range(1, len(names) + 1):
        for group in itertools.combinations(names, size):
            plan = solve_members(coalition, list(group), solver)
            plans[key(group)] = plan
            values[key(group)] = None if plan is None else plan.total
    grand = plans[tuple(sorted(names))]
    stuck = [m for m in names if values[(m,)] is None]
    if stuck:
        raise CoalitionError(
            f"no portfolio keeps the rules of {', '.join(stuck)} alone; solve it on its own first"
        )
    if grand is None:
        raise CoalitionError(
            "no joint plan keeps every member's rules (a shared niche is built by all the members that "
            "declare it, or by none); share fewer niches, or look at the members apart"
        )
    worth = group_worth(values)
    shapley = shapley_values(names, worth)
    results = []
    payoff: dict[str, float] = {}
    for m in names:
        own = grand.objectives[m]
        payoff[m] = shapley[m] if coalition.split == "shapley" else own
        a = worth[(m,)]
        results.append(MemberResult(m, a, payoff[m], payoff[m] - a, shapley[m], own, payoff[m] - own))
    try:
        closest = least_core(names, worth, shapley)
        fairest = nucleolus(names, worth)
    except LPFailed as exc:
        raise CoalitionError(f"the least core and the nucleolus could not be computed: {exc}") from exc
    splits = {
        "split": payoff,
        "shapley": shapley,
        "least_core": closest.payoffs,
        "nucleolus": fairest.payoffs,
    }
    return CoalitionReport(
        coalition,
        tuple(results),
        grand,
        values,
        blocking_groups(names, worth, payoff),
        cost_shares(coalition, names),
        worth,
        closest,
        fairest,
        best_structure(coalition, plans, worth),
        {name: largest_complaint(names, worth, split) for name, split in splits.items()},
    )


def best_structure(
    coalition: Coalition, plans: Mapping[tuple[str, ...], Plan | None], worth: Mapping[tuple[str, ...], float]
) -> Structure:
    """Return the best coalition structure (the partition of the members into groups that plan together
    with the largest total) with each member's payoff in it and the groups that would block it."""
    names = list(coalition.members)
    best = best_partition(names, {k: None if plan is None else plan.total for k, plan in plans.items()})
    payoffs: dict[str, float] = {}
    for group in best.groups:
        plan = plans[key(group)]
        assert plan is not None
        own = shapley_values(group, worth) if coalition.split == "shapley" else plan.objectives
        payoffs.update((m, own[m]) for m in group)
    return Structure(best.groups, best.value, payoffs, blocking_groups(names, worth, payoffs, proper=False))


def group_worth(values: Mapping[tuple[str, ...], float | None]) -> dict[tuple[str, ...], float]:
    """Return what each group of members can get: its joint optimum, or, when its members cannot plan
    together, the best they get split into smaller groups (every member alone can plan)."""
    worth: dict[tuple[str, ...], float] = {}
    for group in sorted(values, key=len):
        together = values[group]
        if together is not None:
            worth[group] = together
            continue
        first, rest = group[0], group[1:]
        splits = []
        for size in range(len(rest)):  # the part holding `first` takes `size` of the others
            for others in itertools.combinations(rest, size):
                part = tuple(sorted((first, *others)))
                remainder = tuple(m for m in group if m not in part)
                splits.append(worth[part] + worth[remainder])
        worth[group] = max(splits)
    return worth
