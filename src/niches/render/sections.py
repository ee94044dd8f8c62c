"""The tables every view of a solve shares, as plain rows of formatted text.

Terminal and markdown renderers draw the same sections, so both views always
agree on what is shown and how numbers are written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from niches.analysis.summary import SolveReport
from niches.numbers import gain as gain_text
from niches.numbers import labelled, measured, money, share, signed, value
from niches.optimize.evaluate import Metrics
from niches.scenario import Scenario

OBJECTIVE_WORDS = {
    "expected": "expected value",
    "worst_case": "worst case",
    "cvar": "CVaR",
    "regret": "maximum regret",
}


@dataclass(frozen=True)
class Section:
    """A titled table: header, rows of text, right-aligned columns, emphasised rows.

    `optional` lists groups of columns a narrow terminal may leave out, the
    first group first (each later group with the ones before it); the view
    then says which columns it left out. Markdown and JSON show every column.
    """

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()
    strong: frozenset[int] = frozenset()
    footer: tuple[str, ...] = field(default_factory=tuple)
    optional: tuple[tuple[int, ...], ...] = ()

    def without(self, columns: frozenset[int]) -> Section:
        """Return the section with `columns` left out (alignment and the other fields kept)."""
        keep = [i for i in range(len(self.header)) if i not in columns]
        return Section(
            self.title,
            tuple(self.header[i] for i in keep),
            tuple(tuple(row[i] for i in keep) for row in self.rows),
            frozenset(keep.index(i) for i in self.right if i in keep),
            self.strong,
            self.footer,
        )


def _numeric_from(start: int, width: int) -> frozenset[int]:
    return frozenset(range(start, width))


def portfolio_rows(
    sc: Scenario, portfolio: Mapping[str, str], m: Metrics, periods: list[str]
) -> list[tuple[str, ...]]:
    """Return a portfolio's rows: each chosen niche's level, cost per period, cost and expected value,
    then its synergies, the money each deal brings, and the total (the last row)."""
    rows = []
    for niche in sc.niches:
        if niche.id in portfolio:
            level = niche.level(portfolio[niche.id])
            rows.append(
                (
                    niche.id,
                    level.id,
                    *[money(level.cost[p]) for p in periods],
                    money(level.total_cost),
                    value(m.niche_value[niche.id]),
                )
            )
    if m.synergy_value:
        rows.append(("synergies", "", *[""] * len(periods), "", value(m.synergy_value)))
    for did, money_in in m.deal_money.items():
        paid = m.deal_money_by_period[did]
        rows.append(
            (
                f"deal {did}",
                sc.deal(did).partner,
                *[money(-paid[p]) for p in periods],
                money(-money_in),
                value(m.deal_value[did]),
            )
        )
    rows.append(
        ("total", "", *[money(m.cost_by_period[p]) for p in periods], money(m.cost), value(m.expected_value))
    )
    return rows


def portfolio_section(report: SolveReport) -> Section:
    s = report.solution
    sc = s.scenario
    m = s.metrics
    assert m is not None
    periods = list(sc.periods) if list(sc.periods) != ["total"] else []
    header = ("niche", "level", *periods, "cost", "value")
    rows = portfolio_rows(sc, s.portfolio, m, periods)
    title = f"Portfolio (money in {sc.units}, value in expected {sc.value_unit})"
    optional = (tuple(range(2, 2 + len(periods))),) if periods else ()
    return Section(
        title,
        header,
        tuple(rows),
        _numeric_from(2, len(header)),
        frozenset([len(rows) - 1]),
        optional=optional,
    )


def deals_section(report: SolveReport) -> Section:
    """Return every deal offered: what it funds, whether the portfolio takes it, and what it brings."""
    s = report.solution
    sc = s.scenario
    m = s.metrics
    assert m is not None
    rows = []
    for deal in sc.deals:
        taken = deal.id in m.deal_money
        shaky = sorted(
            (w.id for w in sc.worlds if deal.holds(w.id) < 1.0), key=[w.id for w in sc.worlds].index
        )
        worth = report.deal_worth.get(deal.id)
        rows.append(
            (
                deal.id,
                deal.partner,
                ", ".join(deal.funds),
                share(deal.share) if deal.share is not None else f"{money(deal.amount or 0.0)}/period",
                "yes" if taken else "no",
                money(m.deal_money[deal.id]) if taken else "-",
                "-" if worth is None else signed(value(worth)),
                ", ".join(f"{w} {share(deal.holds(w))}" for w in shaky) or "always",
            )
        )
    header = (
        "deal",
        "partner",
        "funds",
        "pays",
        "taken",
        labelled("money", sc.units),
        labelled("worth", sc.value_unit),
        "holds",
    )
    footer = (
        f"worth: the {OBJECTIVE_WORDS[s.objective_kind]} with the deal taken less without it, each plan "
        "at its best (as `niches price DEAL` and `-DEAL` say)",
        "in the portfolio table a deal's value is its own: its bonus, less what it funds where it may break",
        "worst case and CVaR count a deal as broken in every world where it may break",
    )
    return Section(
        "Deals", header, tuple(rows), frozenset({5, 6}), footer=footer, optional=((7,), (2,), (3,))
    )


def budget_section(report: SolveReport) -> Section:
    sc = report.solution.scenario
    m = report.solution.metrics
    assert m is not None
    rows = []
    for period in sc.periods:
        cap = sc.budget.get(period)
        used = m.cost_by_period[period]
        rows.append(
            (
                period,
                money(used),
                "-" if cap is None else money(cap),
                "-" if cap is None else money(cap - used),
            )
        )
    if sc.budget_total is not None:
        rows.append(("total", money(m.cost), money(sc.budget_total), money(sc.budget_total - m.cost)))
    return Section(
        f"Budget ({sc.units})", ("period", "used", "available", "left"), tuple(rows), frozenset({1, 2, 3})
    )


def worlds_section(report: SolveReport) -> Section:
    s = report.solution
    sc = s.scenario
    m = s.metrics
    assert m is not None
    stars = s.best_by_world
    unit = sc.value_unit
    header = (
        "world",
        "probability",
        labelled("value", unit),
        *((labelled("best alone", unit), labelled("regret", unit)) if stars else ()),
    )
    rows = []
    for world in sc.worlds:
        v = m.value_by_world[world.id]
        extra = (value(stars[world.id]), value(stars[world.id] - v)) if stars else ()
        rows.append((world.id, share(world.probability), value(v), *extra))
    footer = (
        f"expected value {value(m.expected_value)} {unit}",
        f"worst case {value(m.worst_case)} {unit}",
        f"CVaR (worst {share(sc.rules.cvar_tail)}) {value(m.cvar)} {unit}",
    )
    return Section("Value by world", header, tuple(rows), _numeric_from(1, len(header)), footer=footer)


def exposure_section(report: SolveReport) -> Section:
    sc = report.solution.scenario
    m = report.solution.metrics
    assert m is not None
    caps = sc.rules.max_exposure
    rows = tuple((p, share(m.exposure[p]), share(caps[p]) if p in caps else "-") for p in sc.powers)
    return Section("Exposure (share of spend)", ("power", "exposure", "cap"), rows, frozenset({1, 2}))


def rules_section(report: SolveReport) -> Section:
    sc = report.solution.scenario
    rows: list[tuple[str, ...]] = []
    strong = set()
    unknown = set(report.unknown)
    loose: list[str] = []
    for check in report.checks:
        gain = report.binding.get(check.rule)
        binds = gain_text(gain.low, gain.high) if gain is not None else ("tight" if check.tight else "")
        if check.rule in unknown:
            binds = "not examined: time limit"
        if gain is not None:
            strong.add(len(rows))
            if not check.tight and check.unit != "share":
                loose.append(
                    f"{check.rule} binds with {measured(check.slack, check.unit, sc.units)} "
                    f"{_unit_of(check.unit, sc)} left: the next step up it would allow costs more than that"
                )
        rows.append(
            (
                check.rule,
                measured(check.measured, check.unit, sc.units),
                measured(check.limit, check.unit, sc.units),
                measured(check.slack, check.unit, sc.units),
                _unit_of(check.unit, sc),
                binds,
            )
        )
    listed = {c.rule for c in report.checks}
    for rule, gain in report.binding.items():
        if rule not in listed:
            strong.add(len(rows))
            words = "jointly " if rule.endswith("[*]") else ""
            rows.append((rule, "", "", "", "", f"{words}{gain_text(gain.low, gain.high)}"))
    for rule in report.unknown:
        if rule not in listed:
            rows.append((rule, "", "", "", "", "not examined: time limit"))
    return Section(
        f"Rules (gain: what the objective would gain without the rule, in {sc.value_unit})",
        ("rule", "measured", "limit", "slack", "unit", "gain"),
        tuple(rows),
        frozenset({1, 2, 3, 5}),
        frozenset(strong),
        (*floor_notes(sc), *loose),
        optional=((4,),),
    )


def floor_notes(sc: Scenario) -> list[str]:
    """Return a line for each floor declared as a share: the figure it became, and from what."""
    r = sc.rules
    lines = []
    for rule, part in r.floor_shares.items():
        measure = "CVaR" if rule == "min_cvar" else "worst case"
        best = r.floor_bests.get(rule, math.nan)
        limit = r.min_cvar if rule == "min_cvar" else r.min_worst_case
        if limit is None or math.isnan(best):
            lines.append(f"{rule}: {share(part)} of the best {measure}; no portfolio keeps the other rules")
        else:
            lines.append(
                f"{rule}: {share(part)} of the best {measure} under the other rules "
                f"({value(best)} {sc.value_unit}) = {value(limit)} {sc.value_unit}"
            )
    return lines


def _unit_of(unit: str, sc: Scenario) -> str:
    return {"share": "of spend", "value": sc.value_unit}.get(unit, unit)


def left_out_section(report: SolveReport) -> Section:
    rows = tuple((item.niche, item.reason) for item in report.left_out)
    return Section("Left out", ("niche", "why"), rows)


def judged_figure(kind: str, figure: float | None) -> str:
    """Return a judged figure as text: weights and probabilities as shares, scores as values."""
    if figure is None:
        return "-"
    return share(figure) if kind in ("weight", "probability") else value(figure)


def judged_section(scenario: Scenario) -> Section:
    """Return the figures the judges changed: the file's, each judge's and the group's."""
    names = [j.name for j in scenario.judges]
    rows = []
    for j in scenario.judged:
        kind = j.judgement[0]
        rows.append(
            (
                j.what,
                judged_figure(kind, j.declared),
                *(judged_figure(kind, j.judges.get(n)) for n in names),
                judged_figure(kind, j.group),
            )
        )
    footer = (
        f"judges' figures aggregated by {scenario.aggregate}; a judge's probabilities are its whole view "
        "(worlds it leaves out keep the file's proportions)",
    )
    return Section(
        "What the judges changed",
        ("figure", "file", *names, "group"),
        tuple(rows),
        frozenset(range(1, len(names) + 3)),
        frozenset(),
        footer,
        optional=((1,), tuple(range(2, 2 + len(names)))),
    )


def solve_sections(report: SolveReport) -> list[Section]:
    """Return the sections of a solve view, in reading order."""
    s = report.solution
    if s.metrics is None:
        return []
    sections = [portfolio_section(report)]
    if s.scenario.deals:
        sections.append(deals_section(report))
    sections += [budget_section(report), worlds_section(report)]
    if s.scenario.powers:
        sections.append(exposure_section(report))
    if report.checks or report.binding or report.unknown:
        sections.append(rules_section(report))
    if report.left_out:
        sections.append(left_out_section(report))
    if s.scenario.judged:
        sections.append(judged_section(s.scenario))
    return sections
