"""What a planner asks of one solution: which rules bind, and why niches were left out."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from niches.optimize.evaluate import (
    FEASIBILITY_TOLERANCE,
    RELATIVE_TIE,
    Metrics,
    RuleCheck,
    evaluate,
    objective_value,
    rule_checks,
    rule_groups,
    starts_in_time,
    violated_rules,
)
from niches.optimize.model import Solution
from niches.optimize.relaxed import Without
from niches.scenario import TAKEN

if TYPE_CHECKING:
    from niches.study import Study


@dataclass(frozen=True)
class LeftOut:
    """A niche the recommendation leaves out, and why (in words)."""

    niche: str
    reason: str


@dataclass(frozen=True)
class Gain:
    """What the objective would gain without a rule (value units; for `regret`, the fall in regret).

    Exact when `low == high`; otherwise the gain lies between the two (`low` is
    reached by a portfolio found without the rule, `high` is a proven bound).
    """

    low: float
    high: float

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def figure(self) -> float | None:
        """Return the exact gain, or None when only its bounds are known."""
        return self.low if self.exact else None


@dataclass(frozen=True)
class SolveReport:
    """A solution with its rule checks, binding rules and left-out niches.

    `binding` maps each rule group whose removal would improve the objective
    to that improvement (a `Gain`: exact, or bounded on a large model where
    the exact figure would cost a MILP of its own; `niches.optimize.relaxed`).
    `unknown` lists the rule groups the time limit left unexamined (neither
    binding nor not binding); `unfinished` says in words what was cut short.
    """

    solution: Solution
    checks: tuple[RuleCheck, ...]
    binding: dict[str, Gain]
    left_out: tuple[LeftOut, ...]
    unknown: tuple[str, ...] = ()
    unfinished: tuple[str, ...] = ()
    deal_worth: dict[str, float | None] = field(default_factory=dict)
    """Deal -> what taking it is worth to the plan: the objective with it taken less without (value
    units; for `regret`, the fall in regret), as `niches price DEAL` / `-DEAL` say; None where one of
    the two keeps no rule."""


def deal_worth(study: Study) -> dict[str, float | None]:
    """Return what taking each deal is worth to the plan (see SolveReport.deal_worth)."""
    solution = study.solution()
    if solution.status != "optimal" or solution.objective is None:
        return {}
    base, kind = solution.objective, solution.objective_kind
    found: dict[str, float | None] = {}
    for deal in solution.scenario.deals:
        taken = deal.id in solution.portfolio
        other = study.engine.best(pins={deal.id: None if taken else TAKEN}).objective
        if other is None:
            found[deal.id] = None
            continue
        with_it, without = (base, other) if taken else (other, base)
        found[deal.id] = without - with_it if kind == "regret" else with_it - without
    return found


def binding_rules(study: Study, exact: bool | None = None) -> tuple[dict[str, Gain], list[str]]:
    """Return (rule group -> what dropping it gains, for the groups that bind; groups not examined).

    A family of groups (all budget caps, all exposure caps, ...) none of whose
    members binds alone is also tried as a whole, and listed as `family[*]`.
    Groups the time limit left unexamined are returned in the second list,
    never reported as not binding. `exact` (default: the study's) solves every
    gain whatever it costs; otherwise, on a large model, a binding rule's gain
    may be an interval (whether a rule binds is always decided).
    """
    solution = study.solution()
    if solution.status != "optimal" or solution.objective is None:
        return {}, []
    scenario = solution.scenario
    kind = solution.objective_kind
    base = solution.objective
    engine = study.engine
    deadline = study.deadline
    exact = study.exact if exact is None else exact
    tie = RELATIVE_TIE * max(1.0, abs(base))

    def gain(relaxed: Without | None) -> Gain | None:
        if relaxed is None:
            return None
        if kind == "regret":
            return Gain(base - relaxed.high, base - relaxed.low)
        return Gain(relaxed.low - base, relaxed.high - base)

    groups = rule_groups(scenario)
    singles = engine.relaxed(solution, [frozenset([g]) for g in groups], deadline, exact)
    result: dict[str, Gain] = {}
    unknown: list[str] = []
    families: dict[str, list[str]] = {}
    for group in groups:
        families.setdefault(group.split("[")[0], []).append(group)
        found = gain(singles[frozenset([group])])
        if found is None or (found.low <= tie < found.high):  # cut short before it was decided
            unknown.append(group)
        elif found.low > tie:
            result[group] = found
    joint = [
        (family, frozenset(members))
        for family, members in families.items()
        if len(members) > 1 and not any(m in result or m in unknown for m in members)
    ]
    together = engine.relaxed(solution, [members for _, members in joint], deadline, exact) if joint else {}
    for family, members in joint:
        found = gain(together[members])
        if found is None or (found.low <= tie < found.high):
            unknown.append(f"{family}[*]")
        elif found.low > tie:
            result[f"{family}[*]"] = found  # binds only jointly: no single member does
    return result, unknown


def left_out(solution: Solution) -> list[LeftOut]:
    """Explain, for every niche not chosen, what adding it (at each level) would do.

    The trial portfolios (the recommendation plus one level of one left-out
    niche) are measured together with numpy; the words about the best trial
    of each niche come from the exact evaluator.
    """
    import numpy as np

    from niches.optimize.table import cvar_of

    scenario = solution.scenario
    m = solution.metrics
    if m is None:
        return []
    chosen = solution.portfolio
    if scenario.deals:
        return _left_out_one_by_one(solution)
    trials = [(n, lv) for n in scenario.niches if n.id not in chosen for lv in n.levels]
    if not trials:
        return []
    periods = list(scenario.periods)
    worlds = [w.id for w in scenario.worlds]
    powers = list(scenario.powers)
    r = scenario.rules
    niche_of = {n.id: n for n in scenario.niches}
    cost = np.array([[lv.cost[p] for p in periods] for _, lv in trials]) + np.array(
        [m.cost_by_period[p] for p in periods]
    )
    total = np.array([lv.total_cost for _, lv in trials]) + m.cost
    uses = {
        res: np.array([lv.uses.get(res, 0.0) for _, lv in trials]) + m.uses[res]
        for res in scenario.capacities
    }
    pairs = [(n.id, other, bonus) for n in scenario.niches for other, bonus in n.synergy.items()]
    share = {nid: niche_of[nid].level(lid).share for nid, lid in chosen.items()}
    synergy_with = [
        sum(
            bonus * min(lv.share, share[b if a == n.id else a])
            for a, b, bonus in pairs
            if (a == n.id and b in chosen) or (b == n.id and a in chosen)
        )
        for n, lv in trials
    ]
    weights = {c.id: c.weight for c in scenario.criteria}
    base_values = np.array([m.value_by_world[k] for k in worlds])
    values = (
        np.array(
            [
                [
                    n.outlook.get(k, 1.0) * sum(weights[c] * lv.scores[c].mean for c in weights) + synergy
                    for k in worlds
                ]
                for (n, lv), synergy in zip(trials, synergy_with, strict=True)
            ]
        ).reshape(len(trials), len(worlds))
        + base_values
    )
    odds = np.array([w.probability for w in scenario.worlds])
    worst = values.min(axis=1)
    cvar = cvar_of(values, odds, r.cvar_tail)
    base_numerators = {
        p: sum(
            niche_of[n].level(lv).total_cost * niche_of[n].exposure.get(p, 0.0) for n, lv in chosen.items()
        )
        for p in powers
    }
    numerators = {
        p: np.array([lv.total_cost * n.exposure.get(p, 0.0) for n, lv in trials]) + base_numerators[p]
        for p in powers
    }
    largest_chosen = max((niche_of[n].level(lv).total_cost for n, lv in chosen.items()), default=0.0)
    largest = np.maximum(np.array([lv.total_cost for _, lv in trials]), largest_chosen)

    def over(amount: np.ndarray, cap: np.ndarray | float) -> np.ndarray:
        scale = np.maximum(np.maximum(1.0, np.abs(cap)), np.abs(amount))
        return np.asarray(amount > cap + FEASIBILITY_TOLERANCE * scale)

    count = m.count + 1
    broken: list[tuple[str, np.ndarray]] = []
    for period, cap in scenario.budget.items():
        broken.append((f"budget[{period}]", over(cost[:, periods.index(period)], cap)))
    if scenario.budget_total is not None:
        broken.append(("budget[total]", over(total, scenario.budget_total)))
    for resource, amount in scenario.capacities.items():
        broken.append((f"capacity[{resource}]", over(uses[resource], amount)))
    nothing = np.zeros(len(trials), dtype=bool)
    if r.min_niches is not None:
        broken.append(("min_niches", nothing | (count < r.min_niches)))
    if r.max_niches is not None:
        broken.append(("max_niches", nothing | (count > r.max_niches)))
    for nid in r.must_include:
        broken.append((f"must_include[{nid}]", nothing | (nid not in chosen)))
    for nid in r.must_exclude:
        broken.append((f"must_exclude[{nid}]", np.array([n.id == nid or nid in chosen for n, _ in trials])))
    for nid, allowed in r.pins.items():
        broken.append(
            (
                f"pin[{nid}]",
                np.array(
                    [chosen.get(nid, lv.id if n.id == nid else None) not in allowed for n, lv in trials]
                ),
            )
        )
    if r.max_share is not None:
        broken.append(("max_share", over(largest, r.max_share * total)))
    for power, cap in r.max_exposure.items():
        broken.append((f"max_exposure[{power}]", over(numerators[power], cap * total)))
    if r.max_imbalance is not None:
        limit = r.max_imbalance * total
        spread = nothing.copy()
        for a, b in itertools.permutations(powers, 2):
            spread |= over(numerators[a] - numerators[b], limit)
        broken.append(("max_imbalance", spread))
    if r.min_worst_case is not None:
        broken.append(("min_worst_case", over(np.full(len(trials), r.min_worst_case), worst)))
    if r.min_cvar is not None:
        broken.append(("min_cvar", over(np.full(len(trials), r.min_cvar), cvar)))
    for niche in scenario.niches:
        for needed in niche.requires:
            flags = [
                niche.id in trial and not starts_in_time(scenario, trial, niche.id, needed)
                for trial in ({**chosen, n.id: lv.id} for n, lv in trials)
            ]
            broken.append((f"requires[{niche.id} -> {needed}]", np.array(flags)))
        for other in niche.excludes:
            flags = [
                (n.id == niche.id or niche.id in chosen) and (other in chosen or n.id == other)
                for n, _ in trials
            ]
            broken.append((f"excludes[{niche.id}, {other}]", np.array(flags)))
    found = []
    kind = solution.objective_kind
    stars = solution.best_by_world
    before = objective_value(kind, m, stars)
    label = {"expected": "expected value", "worst_case": "worst case", "cvar": "CVaR"}.get(kind, "regret")
    for niche in scenario.niches:
        if niche.id in chosen:
            continue
        mine = [i for i, (n, _) in enumerate(trials) if n.id == niche.id]
        breaks = {i: [name for name, flags in broken if flags[i]] for i in mine}
        keeps = [i for i in mine if not breaks[i]]
        if keeps:
            measured = [(i, evaluate(scenario, {**chosen, niche.id: trials[i][1].id})) for i in keeps]
            i, best = max(measured, key=lambda t: t[1].expected_value)
            reason = _adding(trials[i][1].id, label, before, objective_value(kind, best, stars))
        else:
            fewest = min(mine, key=lambda i: (len(breaks[i]), trials[i][1].id))
            reason = f"adding it at {trials[fewest][1].id} would break {', '.join(breaks[fewest])}"
        found.append(LeftOut(niche.id, reason))
    return found


def _adding(level: str, label: str, before: float, after: float) -> str:
    """Return what adding a left-out niche at `level` does to the objective (`label`: its words)."""
    if abs(after - before) <= RELATIVE_TIE * max(1.0, abs(before)):
        return (
            f"adding it at {level} changes {label} by less than the tie tolerance; "
            "the cheaper portfolio wins the tie"
        )
    return f"adding it at {level} would change {label} from {before:.2f} to {after:.2f}"


def _left_out_one_by_one(solution: Solution) -> list[LeftOut]:
    """Explain each niche left out by measuring every trial exactly (the deals taken kept)."""
    scenario, chosen, m = solution.scenario, solution.portfolio, solution.metrics
    assert m is not None
    kind, stars = solution.objective_kind, solution.best_by_world
    before = objective_value(kind, m, stars)
    label = {"expected": "expected value", "worst_case": "worst case", "cvar": "CVaR"}.get(kind, "regret")
    found = []
    for niche in scenario.niches:
        if niche.id in chosen:
            continue
        keeps: list[tuple[str, Metrics]] = []
        breaks: dict[str, list[str]] = {}
        for level in niche.levels:
            trial = {**chosen, niche.id: level.id}
            breaks[level.id] = violated_rules(scenario, trial)
            if not breaks[level.id]:
                keeps.append((level.id, evaluate(scenario, trial)))
        if keeps:
            level_id, best = max(keeps, key=lambda t: t[1].expected_value)
            reason = _adding(level_id, label, before, objective_value(kind, best, stars))
        else:
            fewest = min(niche.levels, key=lambda lv: (len(breaks[lv.id]), lv.id))
            reason = f"adding it at {fewest.id} would break {', '.join(breaks[fewest.id])}"
        found.append(LeftOut(niche.id, reason))
    return found


def summarise(study: Study, find_binding: bool = True) -> SolveReport:
    """Gather what the solve views show beside the portfolio."""
    solution = study.solution()
    checks: tuple[RuleCheck, ...] = ()
    if solution.metrics is not None:
        checks = tuple(rule_checks(solution.scenario, solution.portfolio, solution.metrics))
    binding: dict[str, Gain] = {}
    unknown: list[str] = []
    if find_binding:
        binding, unknown = binding_rules(study)
    if unknown:
        study.note_unfinished(f"binding rules not examined before the time limit: {', '.join(unknown)}")
    worth = deal_worth(study) if solution.scenario.deals else {}
    return SolveReport(
        solution,
        checks,
        binding,
        tuple(left_out(solution)),
        tuple(unknown),
        tuple(study.unfinished),
        worth,
    )


def summary_of(study: Study, find_binding: bool = True) -> SolveReport:
    """Return the recommendation with its rule checks, binding rules and left-out niches."""
    return study.remember(("summary", find_binding), lambda: summarise(study, find_binding))  # type: ignore[no-any-return]
