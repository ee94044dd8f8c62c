"""Policy assertions declared in a scenario, evaluated against its recommendation.

A scenario repository runs `niches check` in CI the way tests guard code: an
assertion that stops holding after a change of assumptions fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.analysis.worlds import best_by_world_of
from niches.numbers import share, value

if TYPE_CHECKING:
    from niches.study import Study


@dataclass(frozen=True)
class AssertionResult:
    """One assertion: what was required, what was found, whether it holds, where it is declared."""

    assertion: str
    required: str
    found: str
    holds: bool
    location: str | None


def check(study: Study) -> list[AssertionResult]:
    """Evaluate every assertion of the study's scenario; an infeasible scenario fails them all."""
    scenario = study.scenario
    a = scenario.assertions
    solution = study.solution()
    results: list[AssertionResult] = []

    def add(key: str, name: str, required: str, found: str, holds: bool) -> None:
        location = scenario.locations.get(f"assertion[{key}]")
        results.append(
            AssertionResult(name, required, found, holds, None if location is None else str(location))
        )

    m = solution.metrics
    portfolio = solution.portfolio
    for nid, level in a.recommend.items():
        found = portfolio.get(nid, "left out")
        add(
            "recommend",
            f"recommend {nid}",
            level or "any level",
            found,
            nid in portfolio and level in (None, found, scenario.niche(nid).level(found).base),
        )
    for nid in a.exclude:
        add("exclude", f"exclude {nid}", "left out", portfolio.get(nid, "left out"), nid not in portfolio)
    bounds = (
        ("min_expected_value", ">=", None if m is None else m.expected_value),
        ("min_worst_case", ">=", None if m is None else m.worst_case),
        ("min_cvar", ">=", None if m is None else m.cvar),
        ("max_cost", "<=", None if m is None else m.cost),
    )
    for key, sign, actual in bounds:
        limit = getattr(a, key)
        if limit is None:
            continue
        holds = actual is not None and (actual >= limit if sign == ">=" else actual <= limit)
        add(key, key, f"{sign} {limit:g}", "infeasible" if actual is None else value(actual), holds)
    for power, cap in a.max_exposure.items():
        actual = None if m is None else m.exposure.get(power, 0.0)
        found = "infeasible" if actual is None else share(actual)
        add(
            "max_exposure",
            f"max_exposure {power}",
            f"<= {share(cap)}",
            found,
            actual is not None and actual <= cap,
        )
    if a.max_regret is not None:
        stars = best_by_world_of(study)
        actual = None
        if m is not None and stars is not None:
            actual = max(stars[k] - v for k, v in m.value_by_world.items())
        found = "infeasible" if actual is None else value(actual)
        add(
            "max_regret",
            "max_regret",
            f"<= {a.max_regret:g}",
            found,
            actual is not None and actual <= a.max_regret,
        )
    if a.core_index:
        if m is None:
            for nid, least in a.core_index.items():
                add("core_index", f"core_index {nid}", f">= {share(least)}", "infeasible", False)
        else:
            from niches.analysis.robust import robust_of  # numpy: only when core_index is asserted

            report = robust_of(study, a.samples, a.seed)
            for nid, least in a.core_index.items():
                actual = report.core_index[nid]
                add(
                    "core_index",
                    f"core_index {nid}",
                    f">= {share(least)}",
                    share(actual),
                    actual >= least,
                )
    return results


def check_of(study: Study) -> list[AssertionResult]:
    """Evaluate the scenario's policy assertions against the recommendation."""
    return study.remember("check", lambda: check(study))  # type: ignore[no-any-return]
