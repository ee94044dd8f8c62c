"""The `niches` command line: parse, call the core, render, map errors to exit codes.

Heavy modules (pulp, the analyses, rich renderers) are imported inside the
commands that need them, so `niches --help` starts fast.
"""

from __future__ import annotations

import contextlib
import enum
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from niches import __version__
from niches.cli.usage import PREFIX as ERROR
from niches.cli.usage import Group
from niches.limits import MAX_SAMPLES, MAX_SEED, MAX_WORKERS, SAMPLES
from niches.numbers import plural

if TYPE_CHECKING:
    from niches.report import Provenance
    from niches.scenario import Scenario, ScenarioError

EXIT_OK, EXIT_INFEASIBLE, EXIT_INVALID, EXIT_SOLVER = 0, 1, 2, 3

app = typer.Typer(
    name="niches",
    help="Choose a portfolio of functional niches for a middle power, from a YAML scenario.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=Group,
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
    highs = "highs"
    cbc = "cbc"


class Axis(str, enum.Enum):
    budget = "budget"
    risk = "risk"
    exposure = "exposure"
    hull = "hull"


ScenarioArg = Annotated[
    Optional[str],  # noqa: UP045 (typer reads the annotation at run time on 3.9-style unions)
    typer.Argument(
        help="Scenario YAML file; `-` reads standard input; omitted: the bundled Kazakhstan default.",
        show_default=False,
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
SolverOpt = Annotated[
    SolverName, typer.Option("--solver", help="MILP solver: HiGHS in-process, or CBC in a subprocess.")
]
ObjectiveOpt = Annotated[
    Optional[Objective],  # noqa: UP045
    typer.Option("--objective", help="Override the scenario's objective.", show_default=False),
]
TimeLimitOpt = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--time-limit",
        min=0.001,
        help="Seconds the whole command may take; what it cuts short is marked as unfinished.",
        show_default=False,
    ),
]


PinOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--pin",
        metavar="NICHE=LEVEL[@PERIOD]",
        help="Keep NICHE at LEVEL (started in PERIOD), as a rule of the scenario. Repeatable.",
        show_default=False,
    ),
]
IncludeOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--include",
        metavar="NICHE",
        help="Choose NICHE at some level (like must_include). Repeatable.",
        show_default=False,
    ),
]
ExcludeOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--exclude",
        metavar="NICHE",
        help="Leave NICHE out (like must_exclude). Repeatable.",
        show_default=False,
    ),
]


def _commitments(pin: list[str] | None, include: list[str] | None, exclude: list[str] | None) -> list[Any]:
    """Read `--pin`, `--include` and `--exclude` into commitments; exit 2 on a malformed one."""
    from niches.scenario import Commitment

    found = []
    for text in pin or []:
        c = Commitment.parse(text)
        if c.excluded or c.level is None or not c.level:
            _error(EXIT_INVALID, f"--pin {text}: write NICHE=LEVEL or NICHE=LEVEL@PERIOD")
        found.append(c)
    for option, items, excluded in (("--include", include, False), ("--exclude", exclude, True)):
        for text in items or []:
            if not text or "=" in text or text.startswith("-"):
                _error(EXIT_INVALID, f"{option} {text}: give a niche id")
            found.append(Commitment(text, excluded=excluded))
    return found


def committed(scenario: Scenario, commitments: list[Any]) -> Scenario:
    """Return `scenario` with `commitments` as rules from the command line; exit 2 if one is unknown."""
    from niches.scenario import CommitmentError, commit

    try:
        return commit(scenario, commitments)
    except CommitmentError as exc:
        _error(EXIT_INVALID, f"{exc}")


def _err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


QUIET = False
"""`niches --quiet`: notes and warnings are not printed (errors still are)."""


def _note(text: str) -> None:
    """Print a note or warning on standard error, unless --quiet."""
    if not QUIET:
        _err(text)


def _fail(code: int, message: str) -> NoReturn:
    _err(message)
    raise typer.Exit(code)


def _error(code: int, message: str) -> NoReturn:
    """Print `niches: error: MESSAGE` and exit with `code`."""
    _fail(code, f"{ERROR}{message}")


def _refuse(exc: ScenarioError) -> NoReturn:
    """Print every problem of a file and exit 2."""
    for problem in exc.problems:
        _err(str(problem))
    count = sum(1 for p in exc.problems if p.severity == "error")
    _fail(EXIT_INVALID, f"{plural(count, 'problem')} found; nothing was solved")


def load(
    path: str | None,
    text: str | None = None,
    pin: list[str] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> Scenario:
    """Load a scenario (or the bundled default), printing problems and exiting 2 on error.

    `text`, when given, is the scenario already read from `path` (standard input read once);
    `pin`, `include` and `exclude` are the command line's commitments, added as rules.
    """
    from niches.scenario import ScenarioError, load_scenario, parse_scenario
    from niches.scenario.defaults import default_choice

    wanted = _commitments(pin, include, exclude)  # a malformed option is refused before any reading
    try:
        if text is not None:
            scenario = parse_scenario(text, "<stdin>" if path == "-" else str(path))
        elif path is None:
            default, shown = default_choice()
            _note(f"niches: no scenario given; reading {shown}")
            scenario = parse_scenario(default.read_text(encoding="utf-8"), shown)
        else:
            scenario = load_scenario(path)
    except ScenarioError as exc:
        _refuse(exc)
    for warning in scenario.warnings:
        _note(warning)
    return committed(scenario, wanted)


def _deadline(seconds: float | None) -> Any:
    """Start the clock of `--time-limit`: it bounds the whole command, loading included."""
    from niches.optimize.model import Deadline

    return Deadline(seconds)


MkdirOpt = Annotated[bool, typer.Option("--mkdir", help="Create the output's folder when it does not exist.")]


def _writable(path: Path | str, reads: Sequence[str | Path | None] = (), mkdir: bool = False) -> Path:
    """Return `path` if an output file can be written there, else exit 2 with one line (before any work).

    `reads` are the command's inputs: an output may not be one of them. A
    missing folder is refused unless `mkdir`.
    """
    from niches.files import OutputError, check_writable

    target = Path(path)
    for read in reads:
        if read is not None and str(read) != "-" and _same_file(target, Path(read)):
            _error(EXIT_INVALID, f"{path}: is also what this command reads; write the output elsewhere")
    try:
        return check_writable(path, mkdir)
    except OutputError as exc:
        _error(EXIT_INVALID, f"{exc}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _print(renderable: Any) -> None:
    """Print a rich renderable; to a file or pipe, as plain lines with no trailing spaces."""
    from rich.console import Console

    from niches.render.terminal import plain_text

    console = Console(highlight=False)
    if console.is_terminal:
        console.print(renderable)
        return
    sys.stdout.write(plain_text(renderable, console.width))


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
    allow_path: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(
            "--allow-path",
            help="Also read files that a scenario, coalition or report names inside this folder "
            "(by default only inside the current folder and the naming file's own). Repeatable.",
            show_default=False,
            metavar="DIR",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print no notes or warnings on standard error, only errors.")
    ] = False,
) -> None:
    """Choose a portfolio of functional niches for a middle power, from a YAML scenario.

    Example: niches solve options/kazakhstan.yaml"""
    from niches.scenario.inputs import allow

    global QUIET
    QUIET = quiet
    allow(allow_path or [])


@app.command()
def solve(
    scenario: ScenarioArg = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
    lp: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--lp", help="Also write the model in LP format to this file.", show_default=False),
    ] = None,
    mkdir: MkdirOpt = False,
) -> None:
    """Choose the best portfolio and show why.

    Exit 0 when solved, 1 when no portfolio keeps every rule, 2 on invalid
    input, 3 when the solver fails or hits the time limit without a portfolio.

    Example: niches solve options/kazakhstan.yaml --format markdown"""
    from niches.optimize.model import SolverFailed
    from niches.study import Study

    deadline = _deadline(time_limit)
    lp_file = _writable(lp, [scenario], mkdir) if lp is not None else None
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, objective.value if objective else None, solver.value, deadline=deadline)
    try:
        solution = study.solution(write_lp=str(lp_file) if lp_file else None)
        report = study.summary()
        explanation = study.explain() if solution.status == "infeasible" else None
    except SolverFailed as exc:
        _error(EXIT_SOLVER, f"{exc}")
    _show(report, format, explanation)
    if solution.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)


def _show(report: Any, format: Format, explanation: Any = None) -> None:
    if format is Format.json:
        from niches.render.analysis import combined_json, conflict_json
        from niches.render.json import dumps, solve_dict

        data = solve_dict(report)
        if explanation is not None:
            data["conflict"] = conflict_json(explanation)
            data["combined_relaxation"] = combined_json(explanation)
        sys.stdout.write(dumps(data))
    elif format is Format.markdown:
        from niches.render.analysis import conflict_section
        from niches.render.markdown import section_markdown, solve_markdown

        text = solve_markdown(report)
        if explanation is not None:
            text += "\n" + section_markdown(conflict_section(explanation))
        sys.stdout.write(text)
    else:
        from rich.console import Group

        from niches.render.analysis import conflict_section
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
    _emit_explanation(study.explain(), format)
    raise typer.Exit(EXIT_INFEASIBLE)


def _emit_explanation(explanation: Any, format: Format) -> None:
    from niches.render.analysis import combined_json, conflict_json, conflict_section

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


@app.command()
def frontier(
    scenario: ScenarioArg = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    axis: Annotated[Axis, typer.Option("--axis", help="What to trade the objective against.")] = Axis.budget,
    start: Annotated[float, typer.Option("--from", min=0.0, help="Budget axis: smallest scale.")] = 0.0,
    stop: Annotated[float, typer.Option("--to", min=0.0, help="Budget axis: largest scale.")] = 1.5,
    max_points: Annotated[
        int,
        typer.Option(
            "--max-points",
            min=1,
            help="Stop a frontier after this many breakpoints (where the best portfolio changes).",
        ),
    ] = 500,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Show an exact frontier: value for money (budget), expected value vs CVaR (risk), or the price of
    not choosing sides (exposure); every breakpoint is found by solving. `hull` draws Equity's efficient
    frontier (levels bought by value per unit of money), cheap at any size.

    Example: niches frontier options/kazakhstan.yaml --axis exposure"""
    from niches.analysis.frontier import FrontierError
    from niches.render.analysis import frontier_chart, frontier_json, frontier_mermaid, frontier_section
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, objective.value if objective else None, solver.value, deadline=deadline)
    if study.solution().status == "infeasible":
        _infeasible_exit(study, format)
    try:
        with _progress(f"{axis.value} frontier", format) as progress:
            result = study.frontier(axis.value, start, stop, None, progress, max_points)
    except FrontierError as exc:
        _error(EXIT_INVALID, f"{exc}")
    if not result.points:  # feasible as written, but nowhere in the range swept
        if format is Format.json:
            from niches.render.json import dumps

            sys.stdout.write(dumps(frontier_json(result)))
        where = f" from scale {start:g} to {stop:g}" if axis.value == "budget" else ""
        _fail(
            EXIT_INFEASIBLE,
            f"niches frontier: no portfolio keeps the rules anywhere{where}; widen the range "
            "(--from/--to): the scenario as written is feasible at scale 1",
        )
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(frontier_json(result)))
        return
    heading = f"{loaded.name}: {axis.value} frontier"
    figure = (f"Note: {result.note}.\n\n" if result.note else "") + frontier_mermaid(result)
    chart = frontier_chart(result, width=max(20, min(56, _columns() - 12)))
    _emit(heading, [frontier_section(result)], format, chart, figure)


@app.command()
def sensitivity(
    scenario: ScenarioArg = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Show how fragile the recommendation is: weight intervals, stability radii of scores and costs,
    marginal value of money and capacity, the price of each binding rule, and the order of buy.

    Example: niches sensitivity options/kazakhstan.yaml --format json"""
    from niches.render.analysis import sensitivity_json, sensitivity_sections
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, objective.value if objective else None, solver.value, deadline=deadline)
    if study.solution().status == "infeasible":
        _infeasible_exit(study, format)
    with _progress("sensitivity", format) as progress:
        result = study.sensitivity(progress)
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(sensitivity_json(result)))
        return
    from niches.render.analysis import portfolio_text

    chosen = portfolio_text(loaded, result.solution.portfolio)
    heading = f"{loaded.name}: sensitivity of the recommendation ({chosen})"
    _emit(heading, sensitivity_sections(result), format)


@app.command()
def explain(
    scenario: ScenarioArg = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
) -> None:
    """Explain an infeasible scenario: a minimal set of conflicting rules, where each is declared,
    and the smallest relaxation of each that restores feasibility. Exit 1 when infeasible.

    Example: niches explain tests/data/valid/infeasible.yaml"""
    from niches.study import Study

    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    explanation = Study(loaded, solver=solver.value).explain()
    _emit_explanation(explanation, format)
    if not explanation.feasible:
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def validate(
    scenarios: Annotated[
        list[str], typer.Argument(help="Scenario files to check (`-` reads standard input).")
    ],
) -> None:
    """Check scenario files (and coalition files with their members, judgement files with the scenario
    that lists them): print `FILE: ok` for each valid one; exit 2 if any is invalid.

    Example: niches validate scenarios/*.yaml scenarios/panel/*.yaml"""
    from niches.scenario import ScenarioError, judged_by, load_scenario
    from niches.scenario.coalition import is_coalition, load_coalition

    bad = 0
    for path in scenarios:
        try:
            if path != "-" and is_coalition(path):
                warnings = [w for member in load_coalition(path).members.values() for w in member.warnings]
            elif path != "-" and _is_judgement(path):
                warnings = list(judged_by(path).warnings)
            else:
                warnings = list(load_scenario(path).warnings)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                _err(str(problem))
            continue
        for warning in warnings:
            _note(warning)
        typer.echo(f"{'<stdin>' if path == '-' else path}: ok")
    if bad:
        _fail(EXIT_INVALID, f"{bad} of {plural(len(scenarios), 'file')} invalid")


def _is_judgement(path: str) -> bool:
    """Return whether the file at `path` is a judgement file (False when it cannot be read)."""
    from niches.scenario import ScenarioError, read_source
    from niches.scenario.judges import is_judgement_file

    try:
        return is_judgement_file(read_source(path))
    except ScenarioError:
        return False


def _on_signal(signum: int, frame: object) -> None:
    from niches.interrupts import Interrupted

    raise Interrupted(signum)


def main() -> None:
    """Run the command line (the `niches` entry point).

    SIGINT and SIGTERM stop the work in hand: a CBC child process is ended and
    its folder removed on the way out, one line says what was interrupted, and
    the exit code is 130 (SIGINT) or 143 (SIGTERM).
    """
    import os
    import signal

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)  # both become Interrupted, which no layer swallows
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "niches")
    try:
        app()
    except Exception as exc:
        from niches.files import OutputError
        from niches.optimize.solvers import SolverFailed

        if isinstance(exc, OutputError):  # a full disk or an I/O error while writing: nothing half-written
            _err(f"{ERROR}{exc}")
            raise SystemExit(EXIT_INVALID) from None
        if not isinstance(exc, SolverFailed):
            raise
        _err(f"{ERROR}{exc}")
        raise SystemExit(EXIT_SOLVER) from None
    except BaseException as exc:
        from niches.interrupts import Interrupted

        if not isinstance(exc, Interrupted):
            raise
        _err(f"niches {command}: {exc.word}")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exc.code)  # solver threads abandoned mid-solve must not hold the exit


@app.command(context_settings={"ignore_unknown_options": True})
def price(
    items: Annotated[
        list[str],
        typer.Argument(
            metavar="[SCENARIO] COMMITMENT...",
            help="Optional scenario file (.yaml, .yml or -), then commitments: NICHE=LEVEL[@PERIOD] "
            "(that level, from that period), NICHE (any level), -NICHE (left out).",
            show_default=False,
        ),
    ],
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Price political commitments: the optimum with and without them side by side, what they
    displace, and the rules that make them expensive. Exit 1 when no portfolio keeps them.

    Example: niches price logistics=corridor@2026"""
    from niches.analysis.price import price as price_of
    from niches.render.analysis import commitments_text, price_json, price_sections
    from niches.scenario import Commitment
    from niches.study import Study

    deadline = _deadline(time_limit)
    path = None
    if items and (items[0] == "-" or items[0].lower().endswith((".yaml", ".yml"))):
        path, items = items[0], items[1:]
    if not items:
        _error(EXIT_INVALID, "give at least one commitment (NICHE=LEVEL[@PERIOD], NICHE or -NICHE)")
    commitments = tuple(Commitment.parse(text) for text in items)
    for c, text in zip(commitments, items, strict=True):
        if not c.niche or c.level == "" or text.startswith("--"):
            _error(EXIT_INVALID, f"{text}: write NICHE=LEVEL[@PERIOD], NICHE or -NICHE")
    loaded = load(path)
    kind = objective.value if objective else None
    free = Study(loaded, kind, solver.value, deadline=deadline)
    if free.solution().metrics is None:
        _err("no portfolio keeps the scenario's rules even without the commitments")
        _infeasible_exit(free, format)
    committed_study = Study(committed(loaded, list(commitments)), kind, solver.value, deadline=deadline)
    result = price_of(free, committed_study, commitments)
    if result.committed is None:
        _err(f"no portfolio keeps the scenario's rules with {commitments_text(result)}")
        _infeasible_exit(committed_study, format)
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(price_json(result)))
        return
    _emit(f"{loaded.name}: the price of {commitments_text(result)}", price_sections(result), format)


@app.command()
def coalition(
    file: Annotated[Path, typer.Argument(help="Coalition file (coalition: members, shared, split).")],
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
) -> None:
    """Plan niches together: each member alone, the joint plan (shared niches built once, their cost
    split), each member's gain and Shapley value, and whether any sub-coalition would do better on
    its own (the core test, solving every sub-coalition). Exit 1 when the coalition is not stable.

    Example: niches coalition options/coalitions/middle_corridor.yaml"""
    from niches.analysis.coalition import CoalitionError, study_coalition
    from niches.render.analysis import coalition_json, coalition_sections
    from niches.scenario import ScenarioError
    from niches.scenario.coalition import load_coalition

    try:
        loaded = load_coalition(file)
    except ScenarioError as exc:
        _refuse(exc)
    try:
        report = study_coalition(loaded, solver.value)
    except CoalitionError as exc:
        _fail(EXIT_INFEASIBLE, f"{file}: {exc}")
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(coalition_json(report)))
    else:
        heading = f"{loaded.name}: {plural(len(loaded.members), 'member')}, split {loaded.split}"
        _emit(heading, coalition_sections(report), format)
    if not report.stable:
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def judges(
    scenario: ScenarioArg = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Compare the judges of a scenario: each one's weights and consistency ratio, each one's own
    recommendation beside the group's, and the disagreements ranked by what they cost the group's
    choice. Exit 2 when the scenario declares no judges.

    Example: niches judges options/kazakhstan.yaml"""
    from niches.analysis.judges import judges_report
    from niches.render.analysis import judges_json, judges_sections
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario)
    if not loaded.judges:
        _error(EXIT_INVALID, f"{loaded.source}: declares no judges; list judgement files under 'judges:'")
    study = Study(loaded, objective.value if objective else None, solver.value, deadline=deadline)
    if study.solution().metrics is None:
        _infeasible_exit(study, format)
    report = judges_report(study)
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(judges_json(report)))
        return
    heading = f"{loaded.name}: {plural(len(loaded.judges), 'judge')}, aggregated by {loaded.aggregate}"
    _emit(heading, judges_sections(report), format)


@app.command()
def elicit(
    scenario: ScenarioArg = None,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The judgement file to write (atomically).", show_default=False),
    ] = Path("judgement.yaml"),
    resume: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--from",
            help="A judgement file whose answers are offered again (Enter keeps one).",
            show_default=False,
        ),
    ] = None,
    mkdir: MkdirOpt = False,
) -> None:
    """Ask one judge the pairwise comparisons of the criteria (and, optionally, scores of chosen
    niches), show the consistency ratio as it goes, point at the comparison to revisit when it is
    above 0.1, and write a judgement file to list under `judges:`. Reads answers from the terminal
    or from a pipe.

    Example: niches elicit options/kazakhstan.yaml -o judges/me.yaml"""
    import yaml
    from rich.console import Console

    from niches.cli.elicit import Abandoned, Answers, judgement_yaml, resumed, session
    from niches.files import write_atomically

    target = _writable(output, mkdir=mkdir)
    loaded = load(scenario)
    answers = Answers()
    if resume is not None:
        text = _read_input(resume).decode("utf-8", errors="replace")
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{resume}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(resume)
            _error(EXIT_INVALID, f"{where}: not valid YAML; fix the file or start again without --from")
        if not isinstance(data, dict):
            _error(EXIT_INVALID, f"{resume}: a judgement file is a mapping")
        answers = resumed(data, [c.id for c in loaded.criteria])
    console = Console(highlight=False)

    def ask(prompt: str) -> str:
        try:
            return console.input(prompt)
        except EOFError:
            raise Abandoned from None

    try:
        answers = session(loaded, ask, console.print, answers)
    except Abandoned:
        _error(EXIT_INVALID, f"input ended before the session did; nothing written to {output}")
    write_atomically(target, judgement_yaml(answers))
    console.print(f"wrote {output}; list it under 'judges:' in the scenario")


@app.command()
def worlds(
    scenario: ScenarioArg = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Compare world orders: the best portfolio for each world alone, a regret table of those and of the
    optimum under each decision rule (expected, worst_case, cvar, regret), and which rule picks what.

    Example: niches worlds options/kazakhstan.yaml"""
    from niches.render.analysis import regret_section, worlds_json, worlds_portfolios_section, worlds_section
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, solver=solver.value, deadline=deadline)
    report = study.worlds()
    if report is None:
        _infeasible_exit(study, format)
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(worlds_json(report)))
        return
    sections = [worlds_section(report), regret_section(report), worlds_portfolios_section(report)]
    _emit(f"{loaded.name}: world orders side by side", sections, format)


@app.command()
def robust(
    scenario: ScenarioArg = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    samples: Annotated[
        int,
        typer.Option(
            "--samples", "-n", min=1, max=MAX_SAMPLES, help="Number of Monte Carlo samples (1 to 1,000,000)."
        ),
    ] = SAMPLES,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", min=0, max=MAX_SEED, help="Seed (0 to 2^63-1); sample i depends only on (seed, i)."
        ),
    ] = 0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, max=MAX_WORKERS, help="Local processes to spread samples over (1 to 256)."
        ),
    ] = 1,
    vary: Annotated[
        str, typer.Option("--vary", help="What to draw: any of scores,weights,probabilities.")
    ] = "scores,weights,probabilities",
    concentration: Annotated[
        float, typer.Option("--concentration", min=0.001, help="Dirichlet concentration for probabilities.")
    ] = 50.0,
    scheduler: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://HOST:8786); needs niches[dask].",
            show_default=False,
        ),
    ] = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
) -> None:
    """Monte Carlo over the uncertainty the scenario declares: core index of every niche and level,
    the recommendation's objective and regret across samples, and the most frequent optima.
    Ctrl-C stops cleanly and reports the samples done so far, marked as partial.

    Example: niches robust options/kazakhstan.yaml --samples 1000 --seed 1"""
    from niches.analysis.robust import VARY, RobustError
    from niches.render.analysis import robust_heading, robust_json, robust_sections
    from niches.study import Study

    items = tuple(v.strip() for v in vary.split(",") if v.strip())
    unknown = [v for v in items if v not in VARY]
    if unknown:  # a wrong option is refused before any work
        _error(EXIT_INVALID, f"unknown --vary item '{unknown[0]}'; choose from {', '.join(VARY)}")
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, objective.value if objective else None, solver.value)
    if study.solution().status == "infeasible":
        _infeasible_exit(study, format)
    try:
        with _progress("Monte Carlo", format) as progress:
            report = study.robust(samples, seed, items, workers, scheduler, concentration, progress)
    except RobustError as exc:
        _error(EXIT_INVALID, f"{exc}")
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(robust_json(report)))
    else:
        _emit(robust_heading(report), robust_sections(report), format)
    if report.partial:  # stopped by Ctrl-C or SIGTERM: the samples done are shown, marked partial
        from niches.analysis.robust import STOPPED

        sys.stdout.flush()
        code = STOPPED[-1] if STOPPED else 130
        word = "terminated" if code == 143 else "interrupted"
        _err(f"niches robust: {word} after {report.done} of {plural(samples, 'sample')}")
        raise typer.Exit(code)


@app.command()
def check(
    scenarios: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(help="Scenario files (default: the bundled Kazakhstan scenario).", show_default=False),
    ] = None,
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
) -> None:
    """Evaluate the policy assertions declared under `assertions:`; exit 1 listing what failed,
    0 when all hold (a CI job guards a strategy the way tests guard code).

    Example: niches check options/*.yaml"""
    from niches.scenario import ScenarioError, judged_by
    from niches.study import Study

    failures = 0
    paths: list[str | None] = list(scenarios) if scenarios else [None]
    for path in paths:
        if path is not None and path != "-" and _is_judgement(path):  # its assertions are its scenario's
            try:
                named = judged_by(path)
            except ScenarioError as exc:
                _refuse(exc)
            if format is not Format.json:
                typer.echo(f"{path}: a judgement file, valid with {named.source} (check that scenario)")
            continue
        loaded = load(path, pin=pin, include=include, exclude=exclude)
        results = Study(loaded, solver=solver.value).check()
        failed = [r for r in results if not r.holds]
        failures += len(failed)
        if format is Format.json:
            from niches.render.json import dumps, units_json

            data = {
                "scenario": loaded.name,
                "units": units_json(loaded),
                "passed": not failed,
                "assertions": [
                    {
                        "assertion": r.assertion,
                        "required": r.required,
                        "found": r.found,
                        "holds": r.holds,
                        "location": r.location,
                    }
                    for r in results
                ],
            }
            sys.stdout.write(dumps(data))
        else:
            from niches.render.sections import Section

            rows = tuple(
                (r.assertion, r.required, r.found, "ok" if r.holds else "FAILED", r.location or "-")
                for r in results
            )
            section = Section(
                "Assertions",
                ("assertion", "required", "found", "result", "where"),
                rows,
                strong=frozenset(i for i, r in enumerate(results) if not r.holds),
            )
            verdict = (
                "no assertions declared"
                if not results
                else f"{len(failed)} of {plural(len(results), 'assertion')} failed"
                if failed
                else "1 assertion holds"
                if len(results) == 1
                else f"all {plural(len(results), 'assertion')} hold"
            )
            _emit(f"{loaded.name}: {verdict}", [section] if results else [], format)
        for r in failed:
            _err(
                f"{r.location or loaded.source}: assertion failed: {r.assertion}: required {r.required}, "
                f"found {r.found}"
            )
    if failures:
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (for editors: `# yaml-language-server: $schema=...`).

    Example: niches schema > niches.schema.json"""
    from niches.scenario.schema import schema_text

    sys.stdout.write(schema_text())


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter scenario.")] = Path(
        "scenario.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter scenario that validates and solves, and beside it `niches.schema.json`,
    the schema its first line points editors at (rewritten: it is what `niches schema` prints).

    Example: niches init scenarios/plan.yaml"""
    from niches.files import write_atomically
    from niches.scenario.schema import schema_text
    from niches.scenario.starter import SCHEMA_FILE, STARTER

    if str(path) == "-":
        _error(EXIT_INVALID, "init writes a file; give its name (niches init scenario.yaml)")
    if path.exists() and not force:
        _error(EXIT_INVALID, f"{path}: already exists; pass --force to overwrite it")
    target = _writable(path, mkdir=True)  # a starter may open a new folder (scenarios/plan.yaml)
    schema_file = _writable(target.parent / SCHEMA_FILE)
    schema = schema_text()
    if schema_file.exists() and not force and schema_file.read_bytes() != schema.encode("utf-8"):
        _error(EXIT_INVALID, f"{schema_file}: already exists (another version); pass --force to overwrite it")
    write_atomically(schema_file, schema)
    write_atomically(target, STARTER)
    typer.echo(f"wrote {path} and {schema_file}; next: niches validate {path} && niches solve {path}")


@app.command()
def report(
    scenario: ScenarioArg = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--output", "-o", help="Write the report to this file (atomically).", show_default=False
        ),
    ] = None,
    check: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--check",
            metavar="FILE.md",
            help="Write nothing: regenerate the report in memory and compare it with FILE.md byte for "
            "byte (exit 0 up to date, 1 stale). SCENARIO, --samples, --seed, --solver and the timestamp "
            "default to what FILE.md's provenance block records.",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--samples",
            "-n",
            min=1,
            max=MAX_SAMPLES,
            help=f"Monte Carlo samples, 1 to 1,000,000 [default: {SAMPLES}].",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--seed",
            min=0,
            max=MAX_SEED,
            help="Monte Carlo seed, 0 to 2^63-1 [default: 0].",
            show_default=False,
        ),
    ] = None,
    solver: Annotated[
        Optional[SolverName],  # noqa: UP045
        typer.Option(
            "--solver",
            help="MILP solver: HiGHS in-process, or CBC in a subprocess [default: highs].",
            show_default=False,
        ),
    ] = None,
    timestamp: Annotated[bool, typer.Option("--timestamp", help="Add the time of the run (UTC).")] = False,
    time_limit: TimeLimitOpt = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    mkdir: MkdirOpt = False,
) -> None:
    """Write one GitHub markdown report: summary, portfolio, budget, risk, exposure, binding rules and
    their price, value-for-money and risk frontiers, core index, regret table, fragile judgements,
    assumptions and provenance. Identical inputs give identical bytes (no timestamp unless asked).

    `--check FILE.md` regenerates it in memory and compares: exit 0 when FILE.md is up to date, 1 when
    stale (the line says the command that regenerates it), 2 when FILE.md cannot be read.

    Example: niches report options/kazakhstan.yaml -o plan.md"""
    if check is not None:
        if output is not None:
            _error(EXIT_INVALID, "--check writes nothing; drop -o")
        if timestamp:
            _error(EXIT_INVALID, "--check reuses the timestamp FILE.md records; drop --timestamp")
        _check_report(check, scenario, samples, seed, solver, time_limit, _options(pin, include, exclude))
        return
    deadline = _deadline(time_limit)
    target = _writable(output, [scenario], mkdir) if output is not None else None
    stamp = None
    if timestamp:
        import datetime

        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    options = _options(pin, include, exclude)
    loaded, source = _report_source(scenario, options)
    chosen = (solver or SolverName.highs).value
    text, feasible = _report_text(
        loaded,
        source,
        samples or SAMPLES,
        seed or 0,
        chosen,
        stamp,
        deadline,
        quiet=target is None,
        options=options,
    )
    if target is None:
        sys.stdout.write(text)
    else:
        from niches.files import write_atomically

        write_atomically(target, text)
        typer.echo(f"wrote {output}")
    if not feasible:  # the report explains the conflict; exit like solve
        raise typer.Exit(EXIT_INFEASIBLE)


def _options(pin: list[str] | None, include: list[str] | None, exclude: list[str] | None) -> list[str]:
    """Return the commitment options as words: `["--pin", "a=b", "--exclude", "c"]`."""
    words = []
    for option, items in (("--pin", pin), ("--include", include), ("--exclude", exclude)):
        for item in items or []:
            words += [option, item]
    return words


def _split_options(words: Sequence[str]) -> dict[str, list[str]]:
    """Return option words (as `_options` makes them) as pin, include and exclude lists."""
    found: dict[str, list[str]] = {"pin": [], "include": [], "exclude": []}
    for option, item in zip(words[::2], words[1::2], strict=False):
        found.setdefault(option.lstrip("-"), []).append(item)
    return found


def _report_source(scenario: str | None, options: Sequence[str] = ()) -> tuple[Scenario, Provenance]:
    """Load `scenario` (read once) with the commitment `options`; return it with its provenance."""
    from niches.report import provenance
    from niches.scenario.defaults import default_choice

    given = _split_options(options)
    pin, include, exclude = given["pin"], given["include"], given["exclude"]
    if scenario == "-":  # read once: the same bytes are parsed and hashed
        from niches.scenario.inputs import InputError, decoded

        data = _read_input("-")
        try:
            text = decoded(data, "<stdin>")
        except InputError as exc:
            _error(EXIT_INVALID, f"{exc}")
        return load(scenario, text, pin, include, exclude), provenance("<stdin>", data)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    real, shown = default_choice() if scenario is None else (Path(scenario), scenario)
    return loaded, provenance(shown, _read_input(real))


def _read_input(path: str | Path) -> bytes:
    """Read an input by the rules of `niches.scenario.inputs`; exit 2 with one line when it cannot be read."""
    from niches.scenario.inputs import InputError, read_bytes

    try:
        return read_bytes(path)
    except InputError as exc:
        _error(EXIT_INVALID, f"{exc}")


def _report_text(
    loaded: Scenario,
    source: Provenance,
    samples: int,
    seed: int,
    solver: str,
    stamp: str | None,
    deadline: Any,
    quiet: bool = True,
    options: Sequence[str] = (),
) -> tuple[str, bool]:
    """Return the report of the scenario and whether it is feasible."""
    from niches.report import build_report
    from niches.study import Study

    study = Study(loaded, solver=solver, deadline=deadline)
    with _progress("report", Format.json if quiet else Format.table) as progress:
        text = build_report(study, source, samples, seed, stamp, progress, options)
    return text, study.solution().status != "infeasible"


def _check_report(
    path: str,
    scenario: str | None,
    samples: int | None,
    seed: int | None,
    solver: SolverName | None,
    time_limit: float | None,
    options: list[str],
) -> NoReturn:
    """Compare the report at `path` with the one these options make now; exit 0 (same), 1 or 2."""
    import shlex

    from niches.report import recorded
    from niches.scenario.inputs import InputError, named_path

    deadline = _deadline(time_limit)
    data = _read_input(path)
    was = recorded(data.decode("utf-8", errors="replace"))
    if scenario is None:
        if was.scenario is None:
            _error(EXIT_INVALID, f"{path}: no provenance names its scenario; give SCENARIO")
        if was.scenario == "<stdin>":
            _error(EXIT_INVALID, f"{path}: was made from standard input; give SCENARIO (`-` reads it)")
        try:  # a path written in the report: read only inside the allowed folders
            named_path(was.scenario, path, relative_to_file=False)
        except InputError as exc:
            if not exc.message.startswith("is outside"):
                _error(EXIT_INVALID, f"{path}: the scenario its provenance names: {exc.message}")
            _error(
                EXIT_INVALID,
                f"{path}: its provenance names a scenario outside the folder niches runs in and "
                "the report's folder; give SCENARIO, or allow its folder with niches --allow-path DIR",
            )
        scenario = was.scenario
    if samples is None and was.samples is not None and not 1 <= was.samples <= MAX_SAMPLES:
        _error(
            EXIT_INVALID,
            f"{path}: its provenance records {was.samples:,} samples, outside 1 to "
            f"{MAX_SAMPLES:,}; give --samples",
        )
    if seed is None and was.seed is not None and not 0 <= was.seed <= MAX_SEED:
        _error(
            EXIT_INVALID,
            f"{path}: its provenance records seed {was.seed}, outside 0 to 2^63-1; give --seed",
        )
    samples = samples or was.samples or SAMPLES
    seed = seed if seed is not None else was.seed if was.seed is not None else 0
    chosen = solver.value if solver else was.solver or "highs"
    options = options or list(was.commitments)
    loaded, source = _report_source(scenario, options)
    if was.sha256 in (None, source.sha256):  # other bytes: stale without computing anything
        text, _ = _report_text(
            loaded, source, samples, seed, chosen, was.timestamp, deadline, options=options
        )
        if text.encode("utf-8") == data:
            typer.echo(f"{path} is up to date")
            raise typer.Exit(EXIT_OK)
    words = ["niches", "report", scenario, "-o", path]
    words += ["--samples", str(samples)] if samples != SAMPLES else []
    words += ["--seed", str(seed)] if seed != 0 else []
    words += ["--solver", chosen] if chosen != "highs" else []
    words += options
    words += ["--timestamp"] if was.timestamp else []
    words += ["--time-limit", f"{time_limit:g}"] if time_limit is not None else []
    _fail(EXIT_INFEASIBLE, f"{path} is stale: regenerate it with `{shlex.join(words)}`")


@app.command()
def diff(
    old: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="The old scenario: a file or git REV:PATH.", show_default=False),
    ] = None,
    new: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="The new scenario: a file or git REV:PATH.", show_default=False),
    ] = None,
    rev: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--rev",
            help="Compare PATH at this git revision with the working copy: --rev main PATH.",
            show_default=False,
        ),
    ] = None,
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
) -> None:
    """Show what a change of assumptions does: the assumptions changed, the recommendation before and
    after, and which change caused each move of the portfolio. `--format markdown` suits a pull request.

    Example: niches diff --rev main options/kazakhstan.yaml --format markdown"""
    from niches.analysis.diff import SourceError
    from niches.analysis.diff import diff as run_diff
    from niches.render.analysis import diff_json, diff_sections
    from niches.scenario import ScenarioError

    if rev is not None:
        if old is None or new is not None:
            _error(EXIT_INVALID, "with --rev give exactly one PATH: niches diff --rev main options/x.yaml")
        old, new = f"{rev}:{old}", old
    if old is None or new is None:
        _error(EXIT_INVALID, "give OLD and NEW (files or REV:PATH), or --rev REV PATH")
    try:
        result = run_diff(old, new, solver.value)
    except SourceError as exc:
        _error(EXIT_INVALID, f"{exc}")
    except ScenarioError as exc:
        for problem in exc.problems:
            _err(str(problem))
        _fail(EXIT_INVALID, "the scenarios must be valid to compare them")
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(diff_json(result)))
        return
    _emit(f"niches diff {result.old_name} -> {result.new_name}", diff_sections(result), format)
