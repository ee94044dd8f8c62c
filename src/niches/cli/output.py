"""How commands print: a solve report, sections in each format, an explanation, a progress bar."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import typer

from niches.cli.common import EXIT_INFEASIBLE, Format


def _print(renderable: Any) -> None:
    """Print a rich renderable; to a file or pipe, as plain lines with no trailing spaces."""
    from rich.console import Console

    from niches.render.terminal import plain_text

    console = Console(highlight=False)
    if console.is_terminal:
        console.print(renderable)
        return
    sys.stdout.write(plain_text(renderable, console.width))


def _show(report: Any, format: Format, explanation: Any = None) -> None:
    if format is Format.json:
        from niches.render.explain import combined_json, conflict_json
        from niches.render.json import dumps, solve_dict

        data = solve_dict(report)
        if explanation is not None:
            data["conflict"] = conflict_json(explanation)
            data["combined_relaxation"] = combined_json(explanation)
        sys.stdout.write(dumps(data))
    elif format is Format.markdown:
        from niches.render.explain import conflict_section
        from niches.render.markdown import section_markdown, solve_markdown

        text = solve_markdown(report)
        if explanation is not None:
            text += "\n" + section_markdown(conflict_section(explanation))
        sys.stdout.write(text)
    else:
        from rich.console import Group

        from niches.render.explain import conflict_section
        from niches.render.terminal import section_view, solve_view

        view = solve_view(report)
        if explanation is not None:
            view = Group(view, "", section_view(conflict_section(explanation)))
        _print(view)


@contextlib.contextmanager
def _progress(label: str, format: Format) -> Iterator[Callable[[float], None] | None]:
    """Yield a progress callback drawing a bar on standard error, or None when it should stay silent."""
    if format is not Format.table or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda done: bar.update(task, completed=done)


def _infeasible_exit(study: Any, format: Format) -> NoReturn:
    """Explain why no portfolio keeps the rules, then exit 1."""
    from niches.analysis.explain import explain_of

    _emit_explanation(explain_of(study), format)
    raise typer.Exit(EXIT_INFEASIBLE)


def _emit_explanation(explanation: Any, format: Format) -> None:
    from niches.render.explain import combined_json, conflict_json, conflict_section

    scenario = explanation.scenario
    if format is Format.json:
        from niches.render.json import dumps, units_json

        data = {
            "scenario": scenario.name,
            "units": units_json(scenario),
            "status": "feasible" if explanation.feasible else "infeasible",
            "conflict": conflict_json(explanation),
            "combined_relaxation": combined_json(explanation),
        }
        sys.stdout.write(dumps(data))
        return
    sections = [] if explanation.feasible else [conflict_section(explanation)]
    heading = f"{scenario.name}: " + (
        "feasible, nothing to explain" if explanation.feasible else "infeasible"
    )
    _emit(heading, sections, format)


def _columns() -> int:
    """Return the terminal width rich will use (COLUMNS when set)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def _emit(
    heading: str, sections: list[Any], format: Format, chart: str | None = None, figure: str | None = None
) -> None:
    """Print sections: with the text `chart` in the terminal, the markdown `figure` in markdown."""
    if format is Format.markdown:
        from niches.render.markdown import sections_markdown

        sys.stdout.write(sections_markdown(heading, sections, figure))
    else:
        from niches.render.terminal import sections_view

        _print(sections_view(heading, sections, chart))
