"""Why no portfolio keeps every rule: a minimal conflicting set and the way out of it.

A deletion filter over named rule groups (`budget[2027]`, `min_cvar`,
`must_include[mediation]`, `requires[ai -> energy]`, ...) finds a minimal set
that cannot hold together: drop any member and the rest of the set can be
kept. For each member, the smallest relaxation that alone (every other rule of
the scenario kept) restores feasibility is found by bisection on its limit,
then read off exactly from the portfolio that fits there.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.evaluate import numeric_limits, rule_checks, rule_groups
from niches.render.numbers import share
from niches.scenario import Scenario

if TYPE_CHECKING:
    from niches.engine import Engine
    from niches.study import Study

STEPS = 40
LOWER = ("min_niches", "min_worst_case", "min_cvar")
"""Rule families that are floors: relaxing them means lowering the limit."""


@dataclass(frozen=True)
class Conflict:
    """One member of a minimal conflicting set, where it is declared, and how to relax it."""

    rule: str
    location: str | None
    relaxation: str
    restores: bool
    limit: float | None = None  # the relaxed limit, for numeric rules that restore feasibility


@dataclass(frozen=True)
class Explanation:
    """Whether the scenario is feasible, and if not, a minimal conflicting set of rules."""

    scenario: Scenario
    feasible: bool
    conflict: tuple[Conflict, ...]
    solves: int
    seconds: float


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
    return Explanation(
        scenario, not members, tuple(conflict), study.solves - before, time.perf_counter() - clock
    )
