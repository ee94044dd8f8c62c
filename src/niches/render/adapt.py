"""Sections, JSON and the sweep chart of `niches adapt`: commit now, then by world, and never."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from niches.analysis.adapt import AdaptReport, SweepRow, Values, Verdict, improvement
from niches.numbers import clean, money, share, value
from niches.render.json import _floats, portfolio_list, units_json
from niches.render.portfolio import portfolio_text
from niches.render.sections import OBJECTIVE_WORDS, Section, portfolio_rows
from niches.scenario import Scenario

REGRET_NOTE = "regret: lower is better, so flexibility and information are the falls in regret"


def adapt_heading(report: AdaptReport) -> str:
    """Return the title line of `niches adapt`."""
    return f"{report.scenario.name}: commit now, decide when the world order shows itself ({report.reveal})"


def _periods(sc: Scenario) -> list[str]:
    return list(sc.periods) if list(sc.periods) != ["total"] else []


def commit_section(report: AdaptReport) -> Section:
    """Return the common choices made before the reveal, with their cost per period and value."""
    sc = report.scenario
    m = report.commit_metrics
    assert m is not None
    periods = _periods(sc)
    rows = portfolio_rows(sc, report.commit, m, periods)
    if not report.commit:
        rows.insert(0, ("nothing", "", *[""] * len(periods), "", ""))
    header = ("niche", "level", *periods, "cost", "value")
    return Section(
        f"Commit now: started before {report.reveal}, the same in every world "
        f"(money in {sc.units}, value in expected {sc.value_unit})",
        header,
        tuple(rows),
        frozenset(range(2, len(header))),
        frozenset([len(rows) - 1]),
        footer=("value: what the common choices deliver alone, before any world adds to them",),
        optional=(tuple(range(2, 2 + len(periods))),) if periods else (),
    )


def by_world_section(report: AdaptReport) -> Section:
    """Return what each world adds or starts at or after the reveal, its cost and value."""
    sc = report.scenario
    rows = [
        (
            w.world,
            share(w.probability),
            portfolio_text(sc, w.adds) if w.adds else "nothing",
            money(sum(w.adds_cost_by_period.values())),
            value(w.added_value),
            value(w.value),
        )
        for w in report.worlds
    ]
    return Section(
        f"Then, by world: what each adds from {report.reveal} "
        f"(money in {sc.units}, value in {sc.value_unit})",
        ("world", "probability", "adds", "cost", "added value", "value"),
        tuple(rows),
        frozenset({1, 3, 4, 5}),
        footer=(
            "added value: what the world's additions bring in that world (synergies with the common "
            "choices included); value: the world's whole portfolio, in that world",
        ),
        optional=((1,), (3,)),
    )


def values_section(report: AdaptReport) -> Section:
    """Return the adaptive, fixed and perfect-foresight values and the two improvements."""
    sc = report.scenario
    v = report.values
    assert v is not None
    rows = [
        ("adaptive plan", value(v.adaptive)),
        ("fixed plan (niches solve)", value(v.fixed)),
        ("perfect foresight", value(v.foresight)),
        ("value of flexibility", value(v.flexibility)),
        ("value of perfect information", value(v.information)),
    ]
    footer = [
        "fixed: every choice the same in every world; perfect foresight: each world's best alone (the "
        "order known from the first period); flexibility: adaptive over fixed; information: foresight "
        "over adaptive, never negative"
    ]
    if report.kind == "regret":
        footer.append(REGRET_NOTE)
    if report.never:
        footer.append(f"never chosen in any world: {', '.join(report.never)}")
    footer += [f"note: {note}" for note in report.notes]
    return Section(
        f"Values ({OBJECTIVE_WORDS[report.kind]}, {sc.value_unit})",
        ("plan", OBJECTIVE_WORDS[report.kind]),
        tuple(rows),
        frozenset({1}),
        frozenset({3, 4}),
        footer=tuple(footer),
    )


def _levels_text(sc: Scenario, verdict: Verdict) -> str:
    """Return where a niche is taken: `hub in every world`, or `corridor@2028 in blocs, escalation`."""
    if verdict.verdict == "never":
        return "-"
    worlds = [w.id for w in sc.worlds]
    by_level: dict[str, list[str]] = {}
    for k in worlds:
        if k in verdict.levels:
            by_level.setdefault(verdict.levels[k], []).append(k)
    if len(by_level) == 1 and len(next(iter(by_level.values()))) == len(worlds):
        return f"{next(iter(by_level))} in every world"
    parts = [f"{level} in {', '.join(ks)}" for level, ks in by_level.items()]
    missing = [k for k in worlds if k not in verdict.levels]
    if missing:
        parts.append(f"none in {', '.join(missing)}")
    return "; ".join(parts)


def verdicts_section(report: AdaptReport) -> Section:
    """Return each niche's verdict: commit now, decide at reveal (where it is taken), never."""
    sc = report.scenario
    rows = [(v.niche, v.verdict, _levels_text(sc, v)) for v in report.verdicts]
    footer = [
        f"commit now: chosen before {report.reveal}, the same in every world; decide at reveal: taken "
        f"from {report.reveal} on, in the worlds named"
    ]
    if report.differs:
        footer.append(f"choices that differ by world: {', '.join(report.differs)}")
    return Section("Verdicts", ("niche", "verdict", "where"), tuple(rows), footer=tuple(footer))


def binding_section(report: AdaptReport) -> Section:
    """Return the rules that bind the adaptive plan: the gain of dropping each in every world."""
    sc = report.scenario
    rows = [
        (
            b.rule,
            str(sc.locations[b.rule]) if b.rule in sc.locations else "-",
            f"+{value(b.gain)}",
            ", ".join(b.tight_in) or "-",
        )
        for b in report.binding
    ]
    return Section(
        f"Rules that bind in any world (gain if dropped in every world, {sc.value_unit})",
        ("rule", "declared at", "gain", "at its limit in"),
        tuple(rows) or (("none", "", "", ""),),
        frozenset({2}),
        footer=("at its limit in: the worlds whose portfolio meets the rule's limit exactly",),
        optional=((1,),),
    )


def _sweep_rows(kind: str, rows: Sequence[SweepRow]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for i, row in enumerate(rows):
        v = row.values
        earlier = (
            "" if i + 1 == len(rows) else value(improvement(kind, v.adaptive, rows[i + 1].values.adaptive))
        )
        found.append(
            (
                row.reveal or "never",
                value(v.adaptive),
                value(v.flexibility),
                value(v.information),
                earlier,
            )
        )
    return found


def sweep_section(report: AdaptReport) -> Section:
    """Return the values with the reveal in every period (never: the fixed plan)."""
    sc = report.scenario
    v = report.values
    assert v is not None
    return Section(
        f"Reveal sweep ({OBJECTIVE_WORDS[report.kind]}, {sc.value_unit})",
        ("reveal", "adaptive", "flexibility", "information", "one period earlier"),
        tuple(_sweep_rows(report.kind, report.sweep)),
        frozenset({1, 2, 3, 4}),
        footer=(
            f"fixed plan {value(v.fixed)}, perfect foresight {value(v.foresight)}; one period earlier: what "
            "knowing the order in that period rather than the next is worth; never: the fixed plan",
        ),
    )


def adapt_sections(report: AdaptReport) -> list[Section]:
    """Return every section of `niches adapt` in order (the sweep last, when asked)."""
    if report.values is None:
        return []
    sections = [
        commit_section(report),
        by_world_section(report),
        values_section(report),
        verdicts_section(report),
        binding_section(report),
    ]
    if report.sweep:
        sections.append(sweep_section(report))
    return sections


def sweep_mermaid(report: AdaptReport) -> str:
    """Return the sweep as a mermaid line chart: adaptive, fixed and foresight by reveal period."""
    rows = report.sweep
    labels = [row.reveal or "never" for row in rows]
    series = [
        [row.values.adaptive for row in rows],
        [row.values.fixed for row in rows],
        [row.values.foresight for row in rows],
    ]
    low = min(min(s) for s in series)
    high = max(max(s) for s in series)
    pad = max((high - low) * 0.1, 0.01 * max(1.0, abs(high)))
    words = OBJECTIVE_WORDS[report.kind]
    lines = [
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#1f4e9c, #7f8c8d, #c0392b", '
        '"backgroundColor": "#ffffff"}}}}%%',
        "xychart-beta",
        f'    title "{words} by reveal period: adaptive (blue), fixed (grey), perfect foresight (red)"',
        f'    x-axis "reveal" [{", ".join(f"{chr(34)}{label}{chr(34)}" for label in labels)}]',
        f'    y-axis "{words} ({report.scenario.value_unit})" {low - pad:.2f} --> {high + pad:.2f}',
        *[f"    line [{', '.join(f'{y:.2f}' for y in ys)}]" for ys in series],
        "```",
    ]
    return "\n".join(lines) + "\n"


def adapt_markdown_section(report: AdaptReport) -> str:
    """Return the report's short section "Commit now, decide later"."""
    sc = report.scenario
    v = report.values
    if v is None:
        return "## Commit now, decide later\n\nNo adaptive plan keeps every rule.\n"
    commit = portfolio_text(sc, report.commit) if report.commit else "nothing"
    waits = [x for x in report.verdicts if x.verdict == "decide at reveal"]
    text = (
        f"## Commit now, decide later\n\nThe world order is taken to show itself in {report.reveal} "
        f"(`adapt` in the scenario). Commit now, the same in every world: {commit}.\n"
    )
    if waits:
        text += (
            "Decide at the reveal: " + "; ".join(f"{x.niche} ({_levels_text(sc, x)})" for x in waits) + ".\n"
        )
    else:
        text += "Nothing is worth waiting for: every choice is made before the reveal.\n"
    unit = sc.value_unit
    text += (
        f"\nThe adaptive plan is worth {value(v.adaptive)} {unit} ({OBJECTIVE_WORDS[report.kind]}), "
        f"the fixed plan {value(v.fixed)} and perfect foresight {value(v.foresight)}: flexibility adds "
        f"{value(v.flexibility)}, perfect information would add {value(v.information)} more. "
        "`niches adapt --sweep` shows what knowing the order earlier is worth.\n"
    )
    if report.never:
        text += f"\nNever, in any world: {', '.join(report.never)}.\n"
    return text


def _values_json(v: Values) -> dict[str, float]:
    return {
        "adaptive": clean(v.adaptive),
        "fixed": clean(v.fixed),
        "foresight": clean(v.foresight),
        "flexibility": clean(v.flexibility),
        "information": clean(v.information),
    }


def _deals_json(sc: Scenario, portfolio: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"deal": d.id, "partner": d.partner} for d in sc.deals if d.id in portfolio]


def adapt_json(report: AdaptReport) -> dict[str, Any]:
    """Return the JSON object of `niches adapt`."""
    sc = report.scenario
    v = report.values
    commit: list[dict[str, Any]] = []
    if report.commit_metrics is not None:
        commit = portfolio_list(sc, report.commit, report.commit_metrics) + _deals_json(sc, report.commit)
    by_world = {
        w.world: {
            "portfolio": portfolio_list(sc, w.portfolio, w.metrics) + _deals_json(sc, w.portfolio),
            "value": clean(w.value),
            "cost_by_period": _floats(dict(w.metrics.cost_by_period)),
            "probability": clean(w.probability),
            "adds": [
                {"niche": n, "level": lv} for n, lv in w.adds.items() if n not in {d.id for d in sc.deals}
            ]
            + _deals_json(sc, w.adds),
            "added_value": clean(w.added_value),
        }
        for w in report.worlds
    }
    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "reveal": report.reveal,
        "status": report.status,
        "objective": {"kind": report.kind, "value": None if v is None else clean(v.adaptive)},
        "commit": commit,
        "by_world": by_world,
        "values": None if v is None else _values_json(v),
        "verdicts": {
            x.niche: {"verdict": x.verdict, "worlds": list(x.levels), "levels": dict(x.levels)}
            for x in report.verdicts
        },
        "never": list(report.never),
        "differs": list(report.differs),
        "binding": [
            {
                "rule": b.rule,
                "gain_if_dropped": clean(b.gain),
                "location": str(sc.locations[b.rule]) if b.rule in sc.locations else None,
                "tight_in": list(b.tight_in),
            }
            for b in report.binding
        ],
        "sweep": [{"reveal": row.reveal, **_values_json(row.values)} for row in report.sweep],
        "notes": list(report.notes),
    }
