"""The report command: write the markdown report, or check one is up to date (`--check`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from niches.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_SOLVER,
    ExactOpt,
    ExcludeOpt,
    Format,
    IncludeOpt,
    MkdirOpt,
    PinOpt,
    ScenarioArg,
    SolverName,
    TimeLimitOpt,
    WorkersOpt,
    _deadline,
    _error,
    _fail,
    _read_input,
    _refuse,
    _writable,
    app,
    load,
    samples_count,
)
from niches.cli.output import _progress
from niches.cli.usage import SAMPLES_METAVAR
from niches.limits import AUTO_SAMPLES, MAX_SAMPLES, MAX_SEED, SAMPLES
from niches.provenance import Made

if TYPE_CHECKING:
    from niches.provenance import Provenance
    from niches.scenario import Scenario


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
            help="Write nothing: check FILE.md is up to date (exit 0 up to date, 1 stale). Up to date "
            "without solving when its provenance block records the bytes of the scenario, its judge files "
            "and the report, the versions and the options of this run; else the report is regenerated in "
            "memory and compared byte for byte. SCENARIO, --samples, --seed, --solver and the timestamp "
            "default to what FILE.md's provenance block records.",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--samples",
            "-n",
            parser=samples_count,
            metavar=SAMPLES_METAVAR,
            help=f"Monte Carlo samples, 1 to 1,000,000, or auto (draw until every core index's 95% "
            f"interval is within +/- 2.5 points) [default: {SAMPLES}, or auto for a scenario too big to "
            "enumerate].",
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
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="With --check: regenerate the report and compare it byte for byte even when its "
            "provenance block matches every input.",
        ),
    ] = False,
    time_limit: TimeLimitOpt = None,
    exact: ExactOpt = False,
    workers: WorkersOpt = None,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    constellation: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--constellation",
            metavar="FILE",
            help="Add a section 'Rivals': the scenario among the members of this constellation file (it "
            "must be one of them): the niches it shares with rivals at equilibrium, the multipliers, and "
            "what the equilibrium changes in its plan.",
            show_default=False,
        ),
    ] = None,
    mkdir: MkdirOpt = False,
) -> None:
    """Write one GitHub markdown report: summary, portfolio, budget, risk, exposure, binding rules and
    their price, value-for-money and risk frontiers, core index, regret table, fragile judgements,
    assumptions and provenance. Identical inputs give identical bytes (no timestamp unless asked).

    `--check FILE.md` writes nothing: FILE.md is up to date (exit 0) when its provenance block records
    what this run would (the SHA-256 of the scenario, its judge files and the report's body, the niches
    and solver versions, the options), without solving; otherwise the report is regenerated in memory
    and compared (`--full` always does). Exit 1 when stale (the line says the command that
    regenerates it), 2 when FILE.md cannot be read.

    Example: niches report options/kazakhstan.yaml -o plan.md"""
    if full and check is None:
        _error(EXIT_INVALID, "--full goes with --check FILE.md")
    if check is not None:
        if output is not None:
            _error(EXIT_INVALID, "--check writes nothing; drop -o")
        if timestamp:
            _error(EXIT_INVALID, "--check reuses the timestamp FILE.md records; drop --timestamp")
        given = Made(
            solver=solver.value if solver else "",
            samples=-1 if samples is None else samples,
            seed=-1 if seed is None else seed,
            commitments=tuple(_options(pin, include, exclude)),
            exact=exact,
            constellation=constellation,
        )
        _check_report(check, scenario, given, time_limit, full, workers)
        return
    deadline = _deadline(time_limit)
    target = _writable(output, [scenario], mkdir) if output is not None else None
    stamp = None
    if timestamp:
        import datetime

        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    among = _constellation(constellation, scenario)
    loaded, source = _report_source(scenario, tuple(_options(pin, include, exclude)), among)
    made = Made(
        solver=(solver or SolverName.highs).value,
        samples=_default_samples(loaded) if samples is None else samples,
        seed=seed or 0,
        timestamp=stamp,
        commitments=tuple(_options(pin, include, exclude)),
        exact=exact,
        constellation=constellation,
    )
    text, feasible = _report_text(
        loaded, source, made, deadline, quiet=target is None, among=among, workers=workers
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


def _report_source(
    scenario: str | None, options: Sequence[str] = (), among: tuple[Any, str, str] | None = None
) -> tuple[Scenario, Provenance]:
    """Load `scenario` (read once) with the commitment `options`; return it with its provenance (which
    also hashes its judge files, and `among`'s constellation file and members)."""
    from niches.provenance import provenance
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
        loaded = load(scenario, text, pin, include, exclude)
        return loaded, provenance("<stdin>", data, _read_files(loaded, among))
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    real, shown = default_choice() if scenario is None else (Path(scenario), scenario)
    return loaded, provenance(shown, _read_input(real), _read_files(loaded, among))


def _read_files(loaded: Scenario, among: tuple[Any, str, str] | None) -> list[tuple[str, bytes]]:
    """Return the other files the report reads, each (what it is and its path, its bytes): the
    scenario's judge files, then the constellation file, its members and their judge files."""
    found = [(f"judge file {judge.source}", _read_input(judge.source)) for judge in loaded.judges]
    if among is not None:
        constellation, _, path = among
        found.append((f"constellation file {path}", _read_input(path)))
        for name, where in constellation.paths.items():
            found.append((f"constellation member {where}", _read_input(str(where))))
            for judge in constellation.members[name].judges:
                found.append((f"judge file {judge.source}", _read_input(judge.source)))
    return found


def _constellation(path: str | None, scenario: str | None) -> tuple[Any, str, str] | None:
    """Read `--constellation` and name the member the report's scenario is (None without the option);
    exit 2 when the file is invalid or the scenario is not one of its members."""
    if path is None:
        return None
    from niches.scenario import ScenarioError
    from niches.scenario.constellation import load_constellation
    from niches.scenario.defaults import default_choice

    try:
        loaded = load_constellation(path)
    except ScenarioError as exc:
        _refuse(exc)
    real, shown = default_choice() if scenario is None else (Path(scenario), scenario)
    member = None if scenario == "-" else loaded.member_of(real)
    if member is None:
        _error(
            EXIT_INVALID,
            f"{'<stdin>' if scenario == '-' else shown}: not a member of {path} "
            f"({', '.join(loaded.members)}); give the scenario of one of its members",
        )
    return loaded, member, path


def _rivals(among: tuple[Any, str, str], loaded: Scenario, solver: str) -> Any:
    """Play the constellation's game with the report's scenario (its commitments kept) as its member."""
    import dataclasses

    from niches.analysis.rivals import Disagreement, RivalsError, study_rivals
    from niches.render.rivals import RivalsSection

    constellation, member, path = among
    members = {**constellation.members, member: loaded}
    try:
        game = study_rivals(dataclasses.replace(constellation, members=members), solver)
    except Disagreement as exc:
        _error(EXIT_SOLVER, f"{path}: {exc}")
    except RivalsError as exc:
        return RivalsSection(None, member, path, str(exc))
    return RivalsSection(game, member, path)


def _default_samples(loaded: Scenario) -> int:
    """Return the report's Monte Carlo sample count when not told: SAMPLES for a scenario small enough
    to enumerate (every sample is one pass over the table), else auto (each sample is a MILP)."""
    from niches.optimize.table_rows import small_enough

    return SAMPLES if small_enough(loaded) else AUTO_SAMPLES


def _report_text(
    loaded: Scenario,
    source: Provenance,
    made: Made,
    deadline: Any,
    quiet: bool = True,
    among: tuple[Any, str, str] | None = None,
    workers: int | None = None,
) -> tuple[str, bool]:
    """Return the report of the scenario and whether it is feasible (`among`: the constellation, the
    scenario's member name and the file's path, for the section "Rivals")."""
    from niches.report import build_report
    from niches.study import Study

    study = Study(loaded, solver=made.solver, deadline=deadline, exact=made.exact, workers=workers)
    rivals = None
    if among is not None and study.solution().status != "infeasible":
        rivals = _rivals(among, loaded, made.solver)
    elif among is not None:
        from niches.render.rivals import RivalsSection

        rivals = RivalsSection(None, among[1], among[2], "the scenario is infeasible")
    with _progress("report", Format.json if quiet else Format.table) as progress:
        text = build_report(study, source, made, progress, rivals)
    return text, study.solution().status != "infeasible"


def _confined(path: str, written: str, what: str) -> None:
    """Exit 2 unless the file a report's provenance names may be read (inside the allowed folders)."""
    from niches.scenario.inputs import InputError, named_path

    try:
        named_path(written, path, relative_to_file=False)
    except InputError as exc:
        if not exc.message.startswith("is outside"):
            _error(EXIT_INVALID, f"{path}: the {what} its provenance names: {exc.message}")
        option = "SCENARIO" if what == "scenario" else "--constellation FILE"
        _error(
            EXIT_INVALID,
            f"{path}: its provenance names a {what} outside the folder niches runs in and "
            f"the report's folder; give {option}, or allow its folder with niches --allow-path DIR",
        )


def _recorded_as_made(data: bytes, source: Provenance, made: Made) -> bool:
    """Return whether the report `data` is its own body followed by the provenance these inputs write.

    The block records the SHA-256 of the scenario, of each judge file and of the body, the niches and
    solver versions and the options: when all of them are what this run would write, the report is up
    to date without solving anything (`--full` regenerates it anyway).
    """
    from niches.provenance import body_of, with_provenance

    text = data.decode("utf-8", errors="replace")
    body = body_of(text)
    if body is None:
        return False
    return with_provenance(body, source, made).encode("utf-8") == data


def _check_report(
    path: str,
    scenario: str | None,
    given: Made,
    time_limit: float | None,
    full: bool = False,
    workers: int | None = None,
) -> NoReturn:
    """Compare the report at `path` with the one these options make now; exit 0 (same), 1 or 2.

    `given` holds the options given on the command line, each empty (solver "", samples -1, seed
    -1, no commitments, not exact, no constellation) where the report's provenance block is to say it.
    """
    import shlex

    from niches.provenance import recorded

    deadline = _deadline(time_limit)
    data = _read_input(path)
    was = recorded(data.decode("utf-8", errors="replace"))
    if scenario is None:
        if was.scenario is None:
            _error(EXIT_INVALID, f"{path}: no provenance names its scenario; give SCENARIO")
        if was.scenario == "<stdin>":
            _error(EXIT_INVALID, f"{path}: was made from standard input; give SCENARIO (`-` reads it)")
        _confined(path, was.scenario, "scenario")  # a path written in the report: only where allowed
        scenario = was.scenario
    if given.samples < 0 and was.samples not in (None, AUTO_SAMPLES) and not 1 <= was.samples <= MAX_SAMPLES:
        _error(
            EXIT_INVALID,
            f"{path}: its provenance records {was.samples:,} samples, outside 1 to "
            f"{MAX_SAMPLES:,}; give --samples",
        )
    if given.seed < 0 and was.seed is not None and not 0 <= was.seed <= MAX_SEED:
        _error(
            EXIT_INVALID,
            f"{path}: its provenance records seed {was.seed}, outside 0 to 2^63-1; give --seed",
        )
    made = Made(
        solver=given.solver or was.solver or "highs",
        samples=given.samples if given.samples >= 0 else was.samples if was.samples is not None else SAMPLES,
        seed=given.seed if given.seed >= 0 else was.seed if was.seed is not None else 0,
        timestamp=was.timestamp,
        commitments=given.commitments or was.commitments,
        exact=given.exact or was.exact,
        constellation=given.constellation or was.constellation,
    )
    if given.constellation is None and was.constellation is not None:
        _confined(path, was.constellation, "constellation")
    among = _constellation(made.constellation, scenario)
    loaded, source = _report_source(scenario, made.commitments, among)
    if was.sha256 in (None, source.sha256):  # other bytes: stale without computing anything
        if not full and _recorded_as_made(data, source, made):
            typer.echo(f"{path} is up to date")
            raise typer.Exit(EXIT_OK)
        text, _ = _report_text(loaded, source, made, deadline, among=among, workers=workers)
        if text.encode("utf-8") == data:
            typer.echo(f"{path} is up to date")
            raise typer.Exit(EXIT_OK)
    words = ["niches", "report", scenario, "-o", path, *made.words()]
    words += ["--time-limit", f"{time_limit:g}"] if time_limit is not None else []
    _fail(EXIT_INFEASIBLE, f"{path} is stale: regenerate it with `{shlex.join(words)}`")
