"""GitHub-flavoured markdown: deterministic text meant to be committed and diffed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from niches.analysis.summary import SolveReport
from niches.numbers import share, value
from niches.render.sections import OBJECTIVE_WORDS, Section, solve_sections


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    right: Iterable[int] = (),
    strong: Iterable[int] = (),
) -> str:
    """Return a markdown table; columns in `right` are right-aligned, rows in `strong` bold."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    right, strong = set(right), set(strong)
    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    for i, row in enumerate(rows):
        cells = [cell(c) for c in row]
        if i in strong:
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def section_markdown(section: Section, level: int = 2) -> str:
    """Return `section` as a heading, a table and its footer line."""
    text = f"{'#' * level} {section.title}\n\n" + table(
        section.header, section.rows, section.right, section.strong
    )
    if section.footer:
        text += "\n" + " · ".join(section.footer) + "\n"
    return text


def solve_markdown(report: SolveReport) -> str:
    """Return `niches solve --format markdown` text."""
    s = report.solution
    sc = s.scenario
    out = [f"# {sc.name}\n"]
    if sc.description:
        out.append(sc.description.strip() + "\n")
    line = f"**Status:** {s.status}"
    if s.objective is not None:
        line += f" · **{OBJECTIVE_WORDS[s.objective_kind]}:** {value(s.objective)} {sc.value_unit}"
    if s.gap is not None:
        line += f" · gap {share(s.gap)}"
    out.append(line + f" · solver {s.solver}\n")
    if s.metrics is None:
        out.append("No portfolio keeps every rule.\n")
    out += [section_markdown(section) for section in solve_sections(report)]
    out += [f"> note: {note}\n" for note in s.notes]
    out += [f"> unfinished: {what}\n" for what in report.unfinished]
    return "\n".join(out)


def sections_markdown(heading: str, sections: list[Section], figure: str | None = None) -> str:
    """Return a heading, an optional figure (markdown, such as mermaid blocks) and sections."""
    out = [f"# {heading}\n"]
    if figure:
        out.append(figure)
    out += [section_markdown(section) for section in sections]
    return "\n".join(out)
