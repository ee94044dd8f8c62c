"""Why no portfolio keeps every rule: a minimal conflicting set and the way out of it.

A deletion filter over named rule groups (`budget[2027]`, `min_cvar`,
`must_include[mediation]`, `requires[ai -> energy]`, ...) finds a minimal set
that cannot hold together: drop any member and the rest of the set can be
kept. For each member, the smallest relaxation that alone (every other rule of
the scenario kept) restores feasibility is found by bisection on its limit,
then read off exactly from the portfolio that fits there.

When no member restores feasibility alone, the conflict's numeric rules are
relaxed together: one MILP loosens each of them by an elastic amount (caps
raised, floors lowered, shares raised as a share of total spend), keeps every
other rule, and minimises the sum of the amounts, each as a share of its limit
(a limit of 0 counts in units of the rule's own unit: see
`niches.optimize.evaluate.relaxation_scale`). The amounts are read off exactly from the
portfolio found, which is checked to keep every rule at the relaxed limits.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.numbers import share, value
from niches.optimize.evaluate import numeric_limits, past_limits, rule_checks, rule_groups, violated_rules
from niches.scenario import Scenario

if TYPE_CHECKING:
    from niches.optimize.engine import Engine
    from niches.study import Study

STEPS = 40
LOWER = ("min_niches", "min_worst_case", "min_cvar")
"""Rule families that are floors: relaxing them means lowering the limit."""
BLOCKED = (
    "relaxing the conflict's limits together does not restore feasibility either: other rules conflict too"
)
"""What the combined relaxation says when the rules without a limit (or outside the conflict) block it."""
WIDER = "the conflict's limits together are not enough; with the scenario's other limits: "
"""What precedes a combined relaxation that also moves limits outside the conflict."""


@dataclass(frozen=True)
class Conflict:
    """One member of a minimal conflicting set, where it is declared, and how to relax it."""

    rule: str
    location: str | None
    relaxation: str
    restores: bool
    limit: float | None = None  # the relaxed limit, for numeric rules that restore feasibility


@dataclass(frozen=True)
class Relaxation:
    """One rule's part in the smallest combined relaxation: its limit, the relaxed limit, in words.

    `amount` (>= 0, in the rule's unit, shares as fractions) is how far the
    limit moves: caps and shares rise by it, floors fall by it.
    """

    rule: str
    location: str | None
    limit: float
    relaxed: float
    amount: float
    text: str


@dataclass(frozen=True)
class Explanation:
    """Whether the scenario is feasible, and if not, a minimal conflicting set of rules.

    When no member alone restores feasibility, `combined` is the smallest
    relaxation of the conflict's numeric rules together and `combined_text`
    says it in words (or that relaxing them together does not restore
    feasibility either, with `combined` empty); otherwise `combined_text` is None.
    """

    scenario: Scenario
    feasible: bool
    conflict: tuple[Conflict, ...]
    solves: int
    seconds: float
    combined: tuple[Relaxation, ...] = ()
    combined_text: str | None = None


def _feasible(engine: Engine, disabled: frozenset[str], limits: dict[str, float] | None = None) -> bool:
    return engine.best(engine.scenario, disabled=disabled, limits=limits).metrics is not None


def minimal_conflict(engine: Engine) -> list[str]:
    """Return a minimal set of rule groups that cannot all hold (empty if the scenario is feasible)."""
    groups = rule_groups(engine.scenario)
    if _feasible(engine, frozenset()):
        return []
    keep = list(groups)
    for group in list(keep):
        trial = [g for g in keep if g != group]
        if not _feasible(engine, frozenset(g for g in groups if g not in trial)):
            keep = trial  # still infeasible without it: it is not needed for the conflict
    return keep


def _measured(scenario: Scenario, portfolio: dict[str, str], group: str) -> float:
    for check in rule_checks(scenario, portfolio):
        if check.rule == group:
            return check.measured
    raise KeyError(group)


def _number(group: str, value: float, units: str, outward: int = 0) -> str:
    """Format a limit in its rule's unit; shares as percentages with one decimal.

    `outward` rounds a share up (+1) or down (-1) so the figure shown still
    restores feasibility.
    """
    if group.startswith(("max_share", "max_exposure", "max_imbalance")):
        if not outward:
            return share(value)
        tenths = math.ceil(value * 1000 - 1e-9) if outward > 0 else math.floor(value * 1000 + 1e-9)
        return f"{tenths / 10:.1f}%"
    if group.startswith(("min_niches", "max_niches")):
        return f"{value:.0f}"
    if group.startswith("budget"):
        return f"{value:,.6g} {units}"
    return f"{value:.6g}"


def relaxation(engine: Engine, group: str) -> tuple[str, bool, float | None]:
    """Return the smallest relaxation of `group` that alone restores feasibility, in words."""
    scenario = engine.scenario
    limits = numeric_limits(scenario)
    alone = engine.best(scenario, disabled=frozenset([group]))
    if alone.metrics is None:
        return "relaxing it alone does not restore feasibility: other rules conflict too", False, None
    if group not in limits:
        family, _, inner = group.partition("[")
        return f"drop {family}: {inner.rstrip(']')}", True, None
    limit = limits[group]
    fits = alone.portfolio
    bad, good = limit, _measured(scenario, fits, group)
    if group in ("min_niches", "max_niches"):  # whole numbers: walk outwards from the limit
        step = -1.0 if group == "min_niches" else 1.0
        count = limit + step
        while count != good:
            trial = engine.best(scenario, limits={group: count})
            if trial.metrics is not None:
                fits = trial.portfolio
                break
            count += step
    else:
        for _ in range(STEPS):
            middle = (bad + good) / 2
            trial = engine.best(scenario, limits={group: middle})
            if trial.metrics is not None:
                good, fits = middle, trial.portfolio
            else:
                bad = middle
    needed = _measured(scenario, fits, group)
    units = scenario.units
    if group.startswith(LOWER):
        return (
            f"lower {group} from {_number(group, limit, units)} to {_number(group, needed, units, -1)}",
            True,
            needed,
        )
    change = needed - limit
    if group.startswith(("budget", "capacity")):
        return (
            f"raise {group} by {_number(group, change, units)} to {_number(group, needed, units)}",
            True,
            needed,
        )
    return (
        f"raise {group} from {_number(group, limit, units)} to {_number(group, needed, units, +1)}",
        True,
        needed,
    )


def with_limits(scenario: Scenario, limits: Mapping[str, float]) -> Scenario:
    """Return `scenario` with the limits of numeric rule groups replaced (group -> limit)."""
    budget, capacities = dict(scenario.budget), dict(scenario.capacities)
    total = scenario.budget_total
    rules: dict[str, object] = {}
    exposure = dict(scenario.rules.max_exposure)
    for group, limit in limits.items():
        family, _, inner = group.partition("[")
        inner = inner.rstrip("]")
        if family == "budget" and inner in budget:  # a scenario without periods caps its one period, `total`
            budget[inner] = limit
        elif group == "budget[total]":
            total = limit
        elif family == "capacity":
            capacities[inner] = limit
        elif family == "max_exposure":
            exposure[inner] = limit
        elif group in ("min_niches", "max_niches"):
            rules[group] = int(limit) if limit == int(limit) else limit
        else:
            rules[group] = limit
    relaxed_rules = dataclasses.replace(scenario.rules, max_exposure=exposure, **rules)  # type: ignore[arg-type]
    return dataclasses.replace(
        scenario, budget=budget, budget_total=total, capacities=capacities, rules=relaxed_rules
    )


def _moved(group: str, limit: float, relaxed: float, units: str) -> str:
    """Say how one limit moves in the combined relaxation, rounded outward so the figures still fit."""
    if group.startswith(("max_share", "max_exposure", "max_imbalance")):
        shown = _number(group, relaxed, units, +1)
        points = float(shown.rstrip("%")) - round(limit * 100, 1)
        return f"raise {group} by {points:.1f} pp to {shown}"
    if group in ("min_worst_case", "min_cvar"):
        floor = math.floor(relaxed * 100 + 1e-9) / 100
        return f"lower {group} by {value(limit - floor)} to {value(floor)}"
    verb = "lower" if group.startswith(LOWER) else "raise"
    return (
        f"{verb} {group} by {_number(group, abs(relaxed - limit), units)} to {_number(group, relaxed, units)}"
    )


def _together(parts: Sequence[str]) -> str:
    """Join clauses with commas and a last `and`, saying a verb once while it repeats."""
    said = []
    for i, part in enumerate(parts):
        verb, _, rest = part.partition(" ")
        said.append(rest if i and parts[i - 1].partition(" ")[0] == verb else part)
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


def combined_relaxation(study: Study, groups: Sequence[str]) -> tuple[tuple[Relaxation, ...], str]:
    """Return the smallest relaxation of the numeric rule groups among `groups` together, and it in words.

    Every other rule holds. The relaxation is empty when none restores
    feasibility (the words say so). Solved on the MILP whatever the study's
    engine.
    """
    scenario = study.scenario
    limits = numeric_limits(scenario)
    numeric = [g for g in groups if g in limits]
    fits = study.milp.least_relaxation(numeric) if numeric else None
    if fits is None:
        return (), BLOCKED
    needed = past_limits(scenario, fits, numeric)
    relaxed = {
        g: limits[g] - amount if g.startswith(LOWER) else limits[g] + amount
        for g, amount in needed.items()
        if amount > 0
    }
    broken = violated_rules(with_limits(scenario, relaxed), fits)
    if broken:  # the solver's tolerances let a rule slip; say so rather than hide it
        note = f" (solver tolerance: the portfolio found still breaks {', '.join(broken)} slightly)"
    else:
        note = ""
    combined = []
    for group in numeric:
        if group in relaxed:
            location = scenario.locations.get(group) or scenario.locations.get(group.split("[")[0])
            text = _moved(group, limits[group], relaxed[group], scenario.units)
            combined.append(
                Relaxation(
                    group,
                    None if location is None else str(location),
                    limits[group],
                    relaxed[group],
                    needed[group],
                    text,
                )
            )
    words = _together([r.text for r in combined]) if combined else "no relaxation is needed"
    return tuple(combined), words + note


def explain(study: Study) -> Explanation:
    """Return why the study's scenario is infeasible (or that it is not)."""
    clock = time.perf_counter()
    scenario = study.scenario
    engine = study.engine
    before = study.solves
    members = minimal_conflict(engine)
    conflict = []
    for group in members:
        text, restores, limit = relaxation(engine, group)
        location = scenario.locations.get(group) or scenario.locations.get(group.split("[")[0])
        conflict.append(Conflict(group, None if location is None else str(location), text, restores, limit))
    combined: tuple[Relaxation, ...] = ()
    combined_text = None
    if members and not any(c.restores for c in conflict):
        combined, combined_text = combined_relaxation(study, members)
        if not combined:  # the conflict's limits are not enough: relax any limit of the scenario
            wider, text = combined_relaxation(study, rule_groups(scenario))
            if wider:
                combined, combined_text = wider, f"{WIDER}{text}"
    return Explanation(
        scenario,
        not members,
        tuple(conflict),
        study.solves - before,
        time.perf_counter() - clock,
        combined,
        combined_text,
    )


def explain_of(study: Study) -> Explanation:
    """Return why the scenario is infeasible (or that it is not)."""
    return study.remember("explain", lambda: explain(study))  # type: ignore[no-any-return]
