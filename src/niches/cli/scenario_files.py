"""Commands about scenario files: validate, check, schema, init, diff."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from niches.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    ExcludeOpt,
    Format,
    FormatOpt,
    IncludeOpt,
    PinOpt,
    SolverName,
    SolverOpt,
    _err,
    _error,
    _fail,
    _note,
    _refuse,
    _writable,
    app,
    load,
)
from niches.cli.output import _emit
from niches.numbers import plural


@app.command()
def validate(
    scenarios: Annotated[
        list[str], typer.Argument(help="Scenario files to check (`-` reads standard input).")
    ],
) -> None:
    """Check scenario files (and coalition and constellation files with their members, judgement files
    with the scenario that lists them): print `FILE: ok` for each valid one; exit 2 if any is invalid.

    Example: niches validate scenarios/*.yaml scenarios/panel/*.yaml"""
    from niches.scenario import ScenarioError, judged_by, load_scenario
    from niches.scenario.coalition import is_coalition, load_coalition
    from niches.scenario.constellation import is_constellation, load_constellation

    bad = 0
    for path in scenarios:
        try:
            if path != "-" and is_coalition(path):
                warnings = [w for member in load_coalition(path).members.values() for w in member.warnings]
            elif path != "-" and is_constellation(path):
                loaded = load_constellation(path)
                warnings = [w for member in loaded.members.values() for w in member.warnings]
                warnings += loaded.warnings
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
    from niches.analysis.check import check_of
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
        results = check_of(Study(loaded, solver=solver.value))
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
    from niches.render.diff import diff_json, diff_sections
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
