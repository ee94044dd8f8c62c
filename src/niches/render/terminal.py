"""Rich renderables for the terminal. Build them here; the CLI prints them."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from niches.analysis.summary import SolveReport
from niches.numbers import plural, share, value
from niches.render.sections import OBJECTIVE_WORDS, Section, solve_sections


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _widths(section: Section) -> list[int]:
    """Return the least width of each column: its longest word (header or cell)."""
    return [
        max([_longest_word(column), *(_longest_word(row[i]) for row in section.rows)])
        for i, column in enumerate(section.header)
    ]


def _natural(section: Section) -> list[int]:
    """Return the width of each column with nothing wrapped: its longest line."""
    return [
        max(
            [
                len(column),
                *(max((len(line) for line in row[i].splitlines()), default=0) for row in section.rows),
            ]
        )
        for i, column in enumerate(section.header)
    ]


def layout(section: Section, width: int) -> list[int] | None:
    """Return the text width of each column within `width`, or None when even the least widths overflow.

    Every column gets its longest word; the room left goes to the columns that
    would wrap, in proportion to what wrapping would save them.
    """
    least, natural = _widths(section), _natural(section)
    rules = 3 * len(least) - 1  # one space either side of a cell, one rule between columns
    room = width - rules
    if sum(natural) <= room:
        return natural
    if sum(least) > room:
        return None
    spare = room - sum(least)
    wants = [n - m for n, m in zip(natural, least, strict=True)]
    total = sum(wants)
    given = [m + spare * w // total for m, w in zip(least, wants, strict=True)]
    for i in sorted(range(len(given)), key=lambda i: -wants[i]):  # what integer division left over
        if sum(given) >= room:
            break
        if given[i] < natural[i]:
            given[i] += 1
    return given


def _squeezed(section: Section, width: int) -> list[int]:
    """Return column widths for a table whose longest words overflow `width`: every column gets its
    longest word but the widest ones, which share what is left (their longest words fold)."""
    least = _widths(section)
    room = width - (3 * len(least) - 1)
    given = list(least)
    while sum(given) > room:
        widest = max(range(len(given)), key=lambda i: (given[i], -i))
        if given[widest] <= 4:
            break
        given[widest] -= 1
    return given


def section_table(section: Section, widths: list[int] | None = None) -> Table:
    """Return `section` as a rich table whose columns never cut a number or an id.

    Each column is at least as wide as its longest word (or exactly `widths`);
    longer cells wrap between words.
    """
    table = Table(title=Text(section.title), title_justify="left", title_style="bold", show_edge=False)
    least = _widths(section)
    for i, column in enumerate(section.header):
        table.add_column(
            column,
            justify="right" if i in section.right else "left",
            min_width=least[i] if widths is None else None,
            width=None if widths is None else widths[i],
            overflow="fold",
        )
    for i, row in enumerate(section.rows):
        table.add_row(*(Text(cell) for cell in row), style="bold" if i in section.strong else None)
    return table


def section_list(section: Section) -> Group:
    """Return `section` one row at a time (label: value lines), for terminals too narrow for its table."""
    parts: list[RenderableType] = [Text(section.title, style="bold")]
    for i, row in enumerate(section.rows):
        block = Table(show_header=False, show_edge=False, box=None, padding=(0, 1, 0, 2))
        block.add_column(overflow="fold")
        block.add_column(overflow="fold")
        first, *rest = row
        heading = Text(f"{section.header[0]}: {first}" if first else section.header[0])
        heading.stylize("bold" if i in section.strong else "")
        parts.append(heading)
        for label, cell in zip(section.header[1:], rest, strict=True):
            if cell:
                block.add_row(Text(label or "note", style="dim"), Text(cell))
        parts.append(block)
    return Group(*parts)


LIST_BELOW = 60
"""Below this many columns a table that does not fit is shown one row at a time (label: value)."""


class FittedSection:
    """A section drawn as a table that fits the terminal: with every column, else without its
    optional columns (group by group, saying which), else (below LIST_BELOW columns) one row at a time."""

    def __init__(self, section: Section) -> None:
        self.section = section

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        section = self.section
        widths = layout(section, width)
        dropped: frozenset[int] = frozenset()
        for group in section.optional:
            if widths is not None:
                break
            dropped = dropped | frozenset(group)
            widths = layout(section.without(dropped), width)
        if widths is None:
            if width < LIST_BELOW or not section.rows:
                yield section_list(section)
                return
            widths = _squeezed(section.without(dropped), width)
        shown = section.without(dropped) if dropped else section
        yield section_table(shown, widths)
        if dropped:
            names = ", ".join(section.header[i] for i in sorted(dropped))
            yield Text(
                f" not shown at {width} columns: {names} (a wider terminal or --format markdown shows them)"
            )


def section_view(section: Section) -> RenderableType:
    """Return `section` as a table with its footer line below."""
    if not section.footer:
        return FittedSection(section)
    return Group(FittedSection(section), Text(" " + " · ".join(section.footer)))


def headline(report: SolveReport) -> Text:
    """Return the one-line verdict: status, objective, solver."""
    s = report.solution
    text = Text()
    text.append(s.scenario.name, style="bold")
    colour = {"optimal": "green", "feasible": "yellow", "infeasible": "red"}[s.status]
    text.append("  ")
    text.append(s.status, style=f"bold {colour}")
    if s.objective is not None:
        text.append(f"  {OBJECTIVE_WORDS[s.objective_kind]} {value(s.objective)} {s.scenario.value_unit}")
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


def plain_text(renderable: RenderableType, width: int) -> str:
    """Return `renderable` drawn at `width` columns as plain lines: no colour, no trailing spaces."""
    import io

    out = io.StringIO()
    Console(file=out, width=width, highlight=False, color_system=None, force_terminal=False).print(renderable)
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())
