"""Sections and JSON of `niches worlds`: each world order's best portfolio and the regrets."""

from __future__ import annotations

from typing import Any

from niches.analysis.worlds import WorldRow, WorldsReport
from niches.numbers import clean, value
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json, portfolio_text
from niches.render.sections import Section


def _row_columns(report: WorldsReport) -> tuple[str, ...]:
    return tuple(f"P{i + 1}" for i in range(len(report.rows)))


def _later_rows_first(report: WorldsReport, first: int) -> tuple[tuple[int, ...], ...]:
    """Return the optional column groups of a table with a column per row from `first` on: P2 on,
    the last first (P1, the recommendation's row, always shows)."""
    return tuple((first + i,) for i in range(len(report.rows) - 1, 0, -1))


def worlds_section(report: WorldsReport) -> Section:
    """Return the value table: a row per world, a column per portfolio (P1, P2, ...), then its figures."""
    sc = report.scenario
    rows: list[tuple[str, ...]] = [
        (
            w.id,
            *(value(row.metrics.value_by_world[w.id]) for row in report.rows),
            value(report.best_by_world[w.id]),
        )
        for w in sc.worlds
    ]
    figures = [
        ("expected value", [row.metrics.expected_value for row in report.rows]),
        ("worst case", [row.metrics.worst_case for row in report.rows]),
        ("CVaR", [row.metrics.cvar for row in report.rows]),
        ("max regret", [row.max_regret for row in report.rows]),
    ]
    strong = frozenset(range(len(rows), len(rows) + len(figures)))
    rows += [(label, *(value(x) for x in xs), "") for label, xs in figures]
    return Section(
        f"Value in each world ({sc.value_unit})",
        ("world", *_row_columns(report), "best alone"),
        tuple(rows),
        frozenset(range(1, len(report.rows) + 2)),
        strong,
        footer=(
            "P1, P2, ...: the portfolios below; best alone: the best value reachable in that world alone",
        ),
        optional=((len(report.rows) + 1,), *_later_rows_first(report, 1)),
    )


def regret_section(report: WorldsReport) -> Section:
    """Return the regret table: a row per world, a column per portfolio (best alone less its value)."""
    sc = report.scenario
    rows = [(w.id, *(value(row.regret[w.id]) for row in report.rows)) for w in sc.worlds]
    rows.append(("max regret", *(value(row.max_regret) for row in report.rows)))
    return Section(
        f"Regret in each world ({sc.value_unit})",
        ("world", *_row_columns(report)),
        tuple(rows),
        frozenset(range(1, len(report.rows) + 1)),
        frozenset({len(rows) - 1}),
        footer=("regret: the best value reachable in that world alone less the portfolio's",),
        optional=_later_rows_first(report, 1),
    )


def _picked_by(picks: tuple[str, ...]) -> str:
    """Return who picks a portfolio in short words: `best in: blocs; rules: expected, regret`."""
    worlds = [p.removeprefix("best in ") for p in picks if p.startswith("best in ")]
    rules = [p.removesuffix(" rule") for p in picks if p.endswith(" rule")]
    parts = ([f"best in: {', '.join(worlds)}"] if worlds else []) + (
        [f"rules: {', '.join(rules)}"] if rules else []
    )
    return "; ".join(parts)


def worlds_portfolios_section(report: WorldsReport) -> Section:
    """Return what each column of the world tables holds, and what picks it."""
    sc = report.scenario
    return Section(
        "The portfolios (a rule picks the portfolio its objective would choose)",
        ("", "picked by", "portfolio"),
        tuple(
            (f"P{i + 1}", _picked_by(row.picked_by), portfolio_text(sc, row.portfolio))
            for i, row in enumerate(report.rows)
        ),
    )


def worlds_json(report: WorldsReport) -> dict[str, Any]:
    """Return the JSON object of `niches worlds`."""
    sc = report.scenario

    def summary(row: WorldRow) -> dict[str, Any]:
        return {
            "portfolio": _portfolio_json(sc, row.portfolio),
            "expected_value": clean(row.metrics.expected_value),
            "worst_case": clean(row.metrics.worst_case),
            "cvar": clean(row.metrics.cvar),
            "max_regret": clean(row.max_regret),
        }

    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "best_by_world": {k: clean(v) for k, v in report.best_by_world.items()},
        "table": [
            {
                "label": row.label,
                "picked_by": list(row.picked_by),
                **summary(row),
                "value_by_world": {k: clean(v) for k, v in row.metrics.value_by_world.items()},
                "regret_by_world": {k: clean(v) for k, v in row.regret.items()},
            }
            for row in report.rows
        ],
        "rules": {kind: summary(report.rows[i]) for kind, i in report.picks.items()},
    }
