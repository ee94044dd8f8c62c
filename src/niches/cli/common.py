"""The `niches` app: shared options, loading a scenario, error messages and exit codes, the entry point."""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from niches import __version__
from niches.cli.usage import PREFIX as ERROR
from niches.cli.usage import Group
from niches.limits import AUTO_SAMPLES, MAX_SAMPLES, MAX_WORKERS
from niches.numbers import plural

if TYPE_CHECKING:
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


def samples_count(text: str | int) -> int:
    """Return the sample count `--samples` gives: a whole number from 1 to MAX_SAMPLES, or `auto`
    (AUTO_SAMPLES: draw until every core index is precise to +/- 2.5 points). Click also passes an
    option's default through the parser, as the int it is."""
    if isinstance(text, int):
        return text
    if text.strip().lower() == "auto":
        return AUTO_SAMPLES
    try:
        count = int(text)
    except ValueError:
        raise typer.BadParameter(text) from None
    if not 1 <= count <= MAX_SAMPLES:
        raise typer.BadParameter(text)
    return count


WorkersOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--workers",
        min=1,
        max=MAX_WORKERS,
        help="Threads sharing the independent solves (a rule's gain, a stability radius), each with its "
        "own model; 1 to 256. The output is the same whatever the number [default: 2, at most the cores].",
        show_default=False,
    ),
]


ExactOpt = Annotated[
    bool,
    typer.Option(
        "--exact",
        help="Solve every figure exactly, whatever it costs (by default, on a model of more than 400 "
        "binary choices, a binding rule's gain is an interval [a better portfolio found, the LP "
        "bound], marked as such).",
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


def _read_input(path: str | Path) -> bytes:
    """Read an input by the rules of `niches.scenario.inputs`; exit 2 with one line when it cannot be read."""
    from niches.scenario.inputs import InputError, read_bytes

    try:
        return read_bytes(path)
    except InputError as exc:
        _error(EXIT_INVALID, f"{exc}")


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
