"""Sections and JSON of `niches robust`: the Monte Carlo's core index, regrets and stats."""

from __future__ import annotations

from typing import Any

from niches.analysis.robust import SETTLED, RobustReport, Stats, classify
from niches.limits import AUTO_CAP, AUTO_HALF_WIDTH
from niches.numbers import clean, plural, share, value
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json, change_text, portfolio_text
from niches.render.sections import OBJECTIVE_WORDS, Section


def _stats_text(stats: Stats) -> tuple[str, str, str, str]:
    if stats.count == 0:
        return ("-", "-", "-", "-")
    return (value(stats.mean), value(stats.p5), value(stats.p50), value(stats.p95))


LEVEL_UNCERTAIN = "level uncertain"


def core_section(report: RobustReport) -> Section:
    """Return the core index table: each niche's share of samples, its class and its split by level.

    Shared by `niches robust` (terminal and markdown) and `niches report`.
    """
    sc = report.scenario
    rec = report.recommended
    rows = []
    for niche in sc.niches:
        split = report.level_split.get(niche.id, {})
        levels = " · ".join(f"{level} {share(x)}" for level, x in split.items()) or "-"
        index = report.core_index[niche.id]
        flag = LEVEL_UNCERTAIN if niche.id in report.level_uncertain else ""
        rows.append((niche.id, share(index), classify(index), rec.get(niche.id, "-"), levels, flag))
    settled, out_of = SETTLED
    return Section(
        "Core index: share of samples whose optimum contains the niche (core >= 90%, exterior <= 10%)",
        ("niche", "core index", "class", "recommended", "levels", "flag"),
        tuple(rows),
        frozenset({1}),
        footer=(
            "levels: share of samples at each level ever chosen (they add up to the core index)",
            f"{LEVEL_UNCERTAIN}: in the optimum of more than half the samples, "
            f"yet no level holds {settled}/{out_of} of the samples that choose the niche",
        ),
        optional=((3,), (2,)),
    )


def robust_sections(report: RobustReport) -> list[Section]:
    """Return the sections of `niches robust`."""
    sc = report.scenario
    rec = report.recommended
    core = core_section(report)
    figures = Section(
        "The recommendation across samples",
        ("figure", "mean", "p5", "p50", "p95"),
        (
            (OBJECTIVE_WORDS[report.objective_kind], *_stats_text(report.objective)),
            ("regret against each sample's optimum", *_stats_text(report.regret)),
        ),
        frozenset({1, 2, 3, 4}),
        footer=(
            f"optimal in {share(report.optimal_share)} of samples",
            f"breaks a rule in {share(report.broken_share)}",
            f"no portfolio keeps the rules in {share(report.infeasible_share)}",
        ),
    )
    top = Section(
        "Most frequent optimal portfolios",
        ("share", "portfolio", "vs recommended"),
        tuple((share(s), portfolio_text(sc, p), change_text(sc, rec, p)) for p, s in report.top),
        frozenset({0}),
    )
    return [core, figures, top]


def robust_heading(report: RobustReport) -> str:
    state = "partial: interrupted after " if report.partial else ""
    varying = f"seed {report.seed}, varying {', '.join(report.vary) or 'nothing'}"
    name = report.scenario.name
    if report.auto:
        return (
            f"{name}: Monte Carlo, {state}{plural(report.done, 'sample')} ({varying}; {auto_words(report)})"
        )
    return f"{name}: Monte Carlo, {state}{report.done} of {plural(report.samples, 'sample')} ({varying})"


def auto_words(report: RobustReport) -> str:
    """Say how `--samples auto` chose the count: the precision reached, or the cap that stopped it."""
    reached = f"+/- {100 * (report.half_width or 0.0):.1f} points at 95%"
    if report.half_width is not None and report.half_width <= AUTO_HALF_WIDTH:
        return f"auto: every core index within {reached}"
    return f"auto: stopped at the cap of {AUTO_CAP:,} samples, the widest core index {reached}"


def robust_json(report: RobustReport) -> dict[str, Any]:
    """Return the JSON object of `niches robust`."""
    sc = report.scenario

    def stats(s: Stats) -> dict[str, float | None]:
        if s.count == 0:
            return {"mean": None, "p5": None, "p50": None, "p95": None}
        return {"mean": clean(s.mean), "p5": clean(s.p5), "p50": clean(s.p50), "p95": clean(s.p95)}

    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "samples": report.samples,
        "done": report.done,
        "auto": report.auto,
        "half_width": None if report.half_width is None else clean(report.half_width),
        "partial": report.partial,
        "seed": report.seed,
        "vary": list(report.vary),
        "concentration": clean(report.concentration),
        "objective": report.objective_kind,
        "core_index": {k: clean(v) for k, v in report.core_index.items()},
        "level_index": {k: clean(v) for k, v in report.level_index.items()},
        "level_split": {
            niche: {level: clean(x) for level, x in split.items()}
            for niche, split in report.level_split.items()
        },
        "level_uncertain": list(report.level_uncertain),
        "recommended": {
            "portfolio": _portfolio_json(sc, report.recommended),
            "optimal_share": clean(report.optimal_share),
            "objective": stats(report.objective),
            "regret": stats(report.regret),
            "broken_share": clean(report.broken_share),
        },
        "infeasible_share": clean(report.infeasible_share),
        "top_portfolios": [{"portfolio": _portfolio_json(sc, p), "share": clean(s)} for p, s in report.top],
        "engine": report.engine,
    }
