"""Rich renderables for the terminal. Build them here; the CLI prints them."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from niches.analysis.summary import SolveReport
from niches.render.numbers import plural, share, value
from niches.render.sections import OBJECTIVE_WORDS, Section, solve_sections


def section_table(section: Section) -> Table:
    """Return `section` as a rich table."""
    table = Table(title=Text(section.title), title_justify="left", title_style="bold", show_edge=False)
    for i, column in enumerate(section.header):
        table.add_column(column, justify="right" if i in section.right else "left")
    for i, row in enumerate(section.rows):
        table.add_row(*(Text(cell) for cell in row), style="bold" if i in section.strong else None)
    return table


def section_view(section: Section) -> RenderableType:
    """Return `section` as a table with its footer line below."""
    if not section.footer:
        return section_table(section)
    return Group(section_table(section), Text(" " + " · ".join(section.footer)))


def headline(report: SolveReport) -> Text:
    """Return the one-line verdict: status, objective, solver."""
    s = report.solution
    text = Text()
    text.append(s.scenario.name, style="bold")
    colour = {"optimal": "green", "feasible": "yellow", "infeasible": "red"}[s.status]
    text.append("  ")
    text.append(s.status, style=f"bold {colour}")
    if s.objective is not None:
        text.append(f"  {OBJECTIVE_WORDS[s.objective_kind]} {value(s.objective)}")
    if s.gap is not None:
        text.append(f"  gap {share(s.gap)}")
    text.append(f"  ({s.solver}, {plural(s.solves, 'solve')})", style="dim")
    return text


def solve_view(report: SolveReport) -> RenderableType:
    """Return everything `niches solve` shows in the terminal."""
    parts: list[RenderableType] = [headline(report)]
    if report.solution.metrics is None:
        parts.append(
            Panel(
                "No portfolio keeps every rule. Loosen a budget cap, a floor or a must_include.",
                title="infeasible",
                border_style="red",
            )
        )
        return Group(*parts)
    for section in solve_sections(report):
        parts += ["", section_view(section)]
    for note in report.solution.notes:
        parts.append(Text(f"note: {note}", style="yellow"))
    for what in report.unfinished:
        parts.append(Text(f"unfinished: {what}", style="yellow"))
    for warning in report.solution.scenario.warnings:
        parts.append(Text(warning, style="yellow"))
    return Group(*parts)


def sections_view(heading: str, sections: list[Section], chart: str | None = None) -> RenderableType:
    """Return a heading, optional text chart and sections, for the analysis commands."""
    parts: list[RenderableType] = [Text(heading, style="bold")]
    if chart:
        parts += ["", Text(chart.rstrip("\n"))]
    for section in sections:
        parts += ["", section_view(section)]
    return Group(*parts)
