"""What a planner asks of one solution: which rules bind, and why niches were left out."""

from __future__ import annotations

from dataclasses import dataclass

from niches.analysis.engine import Engine, make_engine
from niches.evaluate import (
    RELATIVE_TIE,
    RuleCheck,
    evaluate,
    objective_value,
    rule_checks,
    rule_groups,
    violated_rules,
)
from niches.model import Solution


@dataclass(frozen=True)
class LeftOut:
    """A niche the recommendation leaves out, and why (in words)."""

    niche: str
    reason: str


@dataclass(frozen=True)
class SolveReport:
    """A solution with its rule checks, binding rules and left-out niches.

    `binding` maps each rule group whose removal would improve the objective
    to that improvement (value units; for `regret`, the fall in regret).
    """

    solution: Solution
    checks: tuple[RuleCheck, ...]
    binding: dict[str, float]
    left_out: tuple[LeftOut, ...]


def binding_rules(solution: Solution, engine: Engine | None = None) -> dict[str, float]:
    """Return rule group -> objective gained by dropping it, for the groups that bind.

    A family of groups (all budget caps, all exposure caps, ...) none of whose
    members binds alone is also tried as a whole, and listed as `family[*]`.
    """
    if solution.status != "optimal" or solution.objective is None:
        return {}
    scenario = solution.scenario
    kind = solution.objective_kind
    base = solution.objective
    engine = engine or make_engine(scenario, kind, solution.solver)

    def gain_without(groups: frozenset[str]) -> float | None:
        relaxed = engine.best(scenario, disabled=groups)
        if relaxed.objective is None:
            return None
        gain = base - relaxed.objective if kind == "regret" else relaxed.objective - base
        return gain if gain > RELATIVE_TIE * max(1.0, abs(base)) else None

    result: dict[str, float] = {}
    families: dict[str, list[str]] = {}
    for group in rule_groups(scenario):
        gain = gain_without(frozenset([group]))
        if gain is not None:
            result[group] = gain
        families.setdefault(group.split("[")[0], []).append(group)
    for family, members in families.items():
        if len(members) > 1 and not any(m in result for m in members):
            gain = gain_without(frozenset(members))
            if gain is not None:
                result[f"{family}[*]"] = gain  # binds only jointly: no single member does
    return result


def left_out(solution: Solution) -> list[LeftOut]:
    """Explain, for every niche not chosen, what adding it would do."""
    scenario = solution.scenario
    if solution.metrics is None:
        return []
    found = []
    for niche in scenario.niches:
        if niche.id in solution.portfolio:
            continue
        trials = []
        for level in niche.levels:
            trial = {**solution.portfolio, niche.id: level.id}
            metrics = evaluate(scenario, trial)
            trials.append((violated_rules(scenario, trial, metrics), level.id, metrics))
        keeps = [t for t in trials if not t[0]]
        if keeps:
            kind = solution.objective_kind
            stars = solution.best_by_world
            best = max(keeps, key=lambda t: t[2].expected_value)
            before = objective_value(kind, solution.metrics, stars)
            after = objective_value(kind, best[2], stars)
            word = {"expected": "expected value", "worst_case": "worst case", "cvar": "CVaR"}
            label = word.get(kind, "regret")
            if abs(after - before) <= RELATIVE_TIE * max(1.0, abs(before)):
                reason = (
                    f"adding it at {best[1]} changes {label} by less than the tie tolerance; "
                    "the cheaper portfolio wins the tie"
                )
            else:
                reason = f"adding it at {best[1]} would change {label} from {before:.2f} to {after:.2f}"
        else:
            fewest = min(trials, key=lambda t: (len(t[0]), t[1]))
            reason = f"adding it at {fewest[1]} would break {', '.join(fewest[0])}"
        found.append(LeftOut(niche.id, reason))
    return found


def summarise(solution: Solution, find_binding: bool = True) -> SolveReport:
    """Gather what the solve views show beside the portfolio."""
    checks: tuple[RuleCheck, ...] = ()
    if solution.metrics is not None:
        checks = tuple(rule_checks(solution.scenario, solution.portfolio, solution.metrics))
    binding = binding_rules(solution) if find_binding else {}
    return SolveReport(solution, checks, binding, tuple(left_out(solution)))
