"""The `niches` command line: parse, call the core, render, map errors to exit codes.

Heavy modules (pulp, the analyses, rich renderers) are imported inside the
commands that need them, so `niches --help` starts fast.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from niches import __version__

if TYPE_CHECKING:
    from niches.scenario import Scenario

EXIT_OK, EXIT_INFEASIBLE, EXIT_INVALID, EXIT_SOLVER = 0, 1, 2, 3

app = typer.Typer(
    name="niches",
    help="Choose a portfolio of functional niches for a middle power, from a YAML scenario.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Objective(str, enum.Enum):
    expected = "expected"
    worst_case = "worst_case"
    cvar = "cvar"
    regret = "regret"


class SolverName(str, enum.Enum):
    cbc = "cbc"
    highs = "highs"


ScenarioArg = Annotated[
    Optional[str],  # noqa: UP045 (typer reads the annotation at run time on 3.9-style unions)
    typer.Argument(
        help="Scenario YAML file; `-` reads standard input; omitted: the bundled Kazakhstan default.",
        show_default=False,
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
SolverOpt = Annotated[SolverName, typer.Option("--solver", help="MILP solver.")]
TimeLimitOpt = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option("--time-limit", min=0.001, help="Seconds the solver may take (total).", show_default=False),
]


def _err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def _fail(code: int, message: str) -> NoReturn:
    _err(message)
    raise typer.Exit(code)


def load(path: str | None) -> Scenario:
    """Load a scenario (or the bundled default), printing problems and exiting 2 on error."""
    from niches.defaults import DISPLAY_PREFIX, default_scenario
    from niches.scenario import ScenarioError, load_scenario, parse_scenario

    try:
        if path is None:
            default = default_scenario()
            scenario = parse_scenario(default.read_text(encoding="utf-8"), DISPLAY_PREFIX + default.name)
        else:
            scenario = load_scenario(path)
    except ScenarioError as exc:
        for problem in exc.problems:
            _err(str(problem))
        count = sum(1 for p in exc.problems if p.severity == "error")
        _fail(EXIT_INVALID, f"{count} problem{'s' if count != 1 else ''} found; nothing was solved")
    for warning in scenario.warnings:
        _err(warning)
    return scenario


def _print(renderable: object) -> None:
    from rich.console import Console

    Console(highlight=False).print(renderable)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"niches {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Choose a portfolio of functional niches for a middle power, from a YAML scenario."""


@app.command()
def solve(
    scenario: ScenarioArg = None,
    format: FormatOpt = Format.table,
    objective: Annotated[
        Optional[Objective],  # noqa: UP045
        typer.Option("--objective", help="Override the scenario's objective.", show_default=False),
    ] = None,
    solver: SolverOpt = SolverName.cbc,
    time_limit: TimeLimitOpt = None,
    lp: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--lp", help="Also write the model in LP format to this file.", show_default=False),
    ] = None,
) -> None:
    """Choose the best portfolio and show why.

    Exit 0 when solved, 1 when no portfolio keeps every rule, 2 on invalid
    input, 3 when the solver fails or hits the time limit without a portfolio.
    """
    from niches.analysis.summary import summarise
    from niches.model import SolverFailed
    from niches.model import solve as run_solve

    loaded = load(scenario)
    try:
        solution = run_solve(
            loaded,
            objective.value if objective else None,
            solver.value,
            time_limit,
            write_lp=str(lp) if lp else None,
        )
        report = summarise(solution)
    except SolverFailed as exc:
        _fail(EXIT_SOLVER, f"error: {exc}")
    _show(report, format)
    if solution.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)


def _show(report: object, format: Format) -> None:
    from niches.analysis.summary import SolveReport

    assert isinstance(report, SolveReport)
    if format is Format.json:
        from niches.render.json import render_solve

        sys.stdout.write(render_solve(report))
    elif format is Format.markdown:
        from niches.render.markdown import solve_markdown

        sys.stdout.write(solve_markdown(report))
    else:
        from niches.render.terminal import solve_view

        _print(solve_view(report))


@app.command()
def validate(
    scenarios: Annotated[
        list[str], typer.Argument(help="Scenario files to check (`-` reads standard input).")
    ],
) -> None:
    """Check scenario files: print `FILE: ok` for each valid one; exit 2 if any is invalid."""
    from niches.scenario import ScenarioError, load_scenario

    bad = 0
    for path in scenarios:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                _err(str(problem))
            continue
        for warning in scenario.warnings:
            _err(warning)
        typer.echo(f"{'<stdin>' if path == '-' else path}: ok")
    if bad:
        _fail(EXIT_INVALID, f"{bad} of {len(scenarios)} file{'s' if len(scenarios) != 1 else ''} invalid")


def main() -> None:
    """Run the command line (the `niches` entry point)."""
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        raise SystemExit(130) from None
