"""Commands about judges, partners and rivals: coalition, rivals, judges, elicit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from niches.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    EXIT_SOLVER,
    Format,
    FormatOpt,
    MkdirOpt,
    ObjectiveOpt,
    ScenarioArg,
    SolverName,
    SolverOpt,
    TimeLimitOpt,
    _deadline,
    _error,
    _fail,
    _note,
    _read_input,
    _refuse,
    _writable,
    app,
    load,
)
from niches.cli.output import _emit, _infeasible_exit
from niches.numbers import plural


@app.command()
def coalition(
    file: Annotated[Path, typer.Argument(help="Coalition file (coalition: members, shared, split).")],
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
) -> None:
    """Plan niches together: each member alone, the joint plan (shared niches built once, their cost
    split), each member's gain and Shapley value, and whether any sub-coalition would do better on
    its own (the core test, solving every sub-coalition). Then the splits that come closest: the
    least core (the least amount every group must give up, and its split nearest the Shapley value)
    and the nucleolus, each with its largest complaint, and the best coalition structure (the
    grouping of the members with the largest total) and whether its split is stable. Exit 1 when
    the coalition is not stable.

    Example: niches coalition options/coalitions/middle_corridor.yaml"""
    from niches.analysis.coalition import CoalitionError, study_coalition
    from niches.render.coalition import coalition_json, coalition_sections
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
def rivals(
    file: Annotated[Path, typer.Argument(help="Constellation file (constellation: members, crowding).")],
    format: FormatOpt = Format.table,
    solver: SolverOpt = SolverName.highs,
) -> None:
    """Rivals crowding the same niches: each member's plan alone, then best responses in file order
    (each member re-solves against the others' plans, its value from a crowded niche multiplied by
    m(k) for the niche's k holders) until no member changes (an equilibrium) or a state repeats (a
    cycle); beside it the coordinated plan that maximises the members' total under crowding with no
    member further short of its value floors than at equilibrium, the price of anarchy (coordinated
    total / equilibrium total, never below 1), and whether each member's value floors hold
    (where crowding leaves no portfolio that keeps them, the member falls as little short as it can,
    and the output says by how much). Exit 1 when the best responses cycle (or settle neither in 200
    rounds nor in a cycle); 0 when they converge, whatever the shortfalls.

    Example: niches rivals tests/data/rivals/seed.yaml"""
    from niches.analysis.rivals import Disagreement, RivalsError, study_rivals
    from niches.render.rivals import rivals_heading, rivals_json, rivals_sections
    from niches.scenario import ScenarioError
    from niches.scenario.constellation import load_constellation

    try:
        loaded = load_constellation(file)
    except ScenarioError as exc:
        _refuse(exc)
    for warning in [*(w for member in loaded.members.values() for w in member.warnings), *loaded.warnings]:
        _note(warning)
    try:
        report = study_rivals(loaded, solver.value)
    except Disagreement as exc:
        _error(EXIT_SOLVER, f"{file}: {exc}")
    except RivalsError as exc:
        _fail(EXIT_INFEASIBLE, f"{file}: {exc}")
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(rivals_json(report)))
    else:
        _emit(rivals_heading(report), rivals_sections(report), format)
    if not report.dynamics.converged:
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
    from niches.render.judges import judges_json, judges_sections
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
