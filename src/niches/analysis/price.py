"""The price of a political commitment: the optimum with and without it, side by side.

A commitment (`logistics=corridor`, `logistics=corridor@2028`, `ai` for any
level, `-ai` to rule it out) is a rule declared on the command line. Its price
is what the best portfolio loses by keeping it: the deltas of the objective,
expected value, worst case, CVaR and spend; the niches it displaces; and the
rules that make it expensive (what dropping each would win back, with the
commitment and without).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.analysis.summary import Gain, summary_of
from niches.scenario import Commitment

if TYPE_CHECKING:
    from niches.analysis.summary import SolveReport
    from niches.study import Study

MEASURES = ("objective", "expected_value", "worst_case", "cvar", "cost")
"""The figures compared, as the JSON `delta` names them."""


@dataclass(frozen=True)
class Move:
    """A niche whose choice the commitments change: `before` and `after` are level ids (None: left out)."""

    niche: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class RulePrice:
    """A rule that binds under the commitments: what dropping it would win back, with and without them.

    Values are in value units (for `regret`, the fall in regret); `free` is
    None when the rule does not bind without the commitments.
    """

    rule: str
    committed: Gain
    free: Gain | None


@dataclass(frozen=True)
class Price:
    """The optimum without (`free`) and with (`committed`, None when no portfolio keeps them) the commitments.

    `delta` maps each of MEASURES to committed minus free (value units, or
    money for `cost`); `displaced` lists niches of the free optimum that leave
    or change level or start; `entering` the niches the commitments bring in.
    """

    commitments: tuple[Commitment, ...]
    free: SolveReport
    committed: SolveReport | None
    delta: dict[str, float]
    displaced: tuple[Move, ...]
    entering: tuple[Move, ...]
    expensive: tuple[RulePrice, ...]


def figures(report: SolveReport) -> dict[str, float]:
    """Return the MEASURES of a solved report."""
    solution = report.solution
    m = solution.metrics
    assert m is not None and solution.objective is not None
    return {
        "objective": solution.objective,
        "expected_value": m.expected_value,
        "worst_case": m.worst_case,
        "cvar": m.cvar,
        "cost": m.cost,
    }


def price(free: Study, committed: Study, commitments: tuple[Commitment, ...]) -> Price:
    """Return the price of `commitments`: `committed` is the study of the scenario that keeps them."""
    free_report = summary_of(free)
    if free_report.solution.metrics is None:
        raise ValueError("the scenario is infeasible without the commitments")
    report = summary_of(committed)
    if report.solution.metrics is None:
        return Price(commitments, free_report, None, {}, (), (), ())
    before, after = free_report.solution.portfolio, report.solution.portfolio
    order = [n.id for n in free.scenario.niches] + [d.id for d in free.scenario.deals]
    displaced = tuple(
        Move(n, before[n], after.get(n)) for n in order if n in before and after.get(n) != before[n]
    )
    entering = tuple(Move(n, None, after[n]) for n in order if n in after and n not in before)
    old, new = figures(free_report), figures(report)
    own = _own_groups(commitments)
    expensive = tuple(
        RulePrice(rule, gain, free_report.binding.get(rule))
        for rule, gain in report.binding.items()
        if rule not in own
    )
    return Price(
        commitments,
        free_report,
        report,
        {k: new[k] - old[k] for k in MEASURES},
        displaced,
        entering,
        expensive,
    )


def _own_groups(commitments: tuple[Commitment, ...]) -> set[str]:
    """Return the rule groups the commitments themselves add."""
    groups = set()
    for c in commitments:
        if c.excluded:
            groups.add(f"must_exclude[{c.niche}]")
        elif c.level is None:
            groups.add(f"must_include[{c.niche}]")
        else:
            groups.add(f"pin[{c.niche}]")
    return groups
