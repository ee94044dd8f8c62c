"""Commands about what is known when: adapt (commit now, decide at the reveal) and learn (what is worth
learning first)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from niches.cli.common import (
    EXIT_INVALID,
    EXIT_SOLVER,
    ExcludeOpt,
    Format,
    FormatOpt,
    IncludeOpt,
    ObjectiveOpt,
    PinOpt,
    ScenarioArg,
    SolverName,
    SolverOpt,
    TimeLimitOpt,
    _deadline,
    _error,
    app,
    load,
)
from niches.cli.output import _emit, _infeasible_exit
from niches.limits import MAX_SAMPLES, MAX_SEED


@app.command()
def adapt(
    scenario: ScenarioArg = None,
    reveal: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--reveal",
            metavar="PERIOD",
            help="The period from which the world order is known (default: the scenario's adapt.reveal).",
            show_default=False,
        ),
    ] = None,
    sweep: Annotated[
        bool,
        typer.Option("--sweep", help="Also the values for every reveal period, as a table and a chart."),
    ] = False,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Plan to adapt: commit now to what starts before the world order shows itself, decide the rest
    world by world; the adaptive, fixed and perfect-foresight values, and a verdict for every niche.

    Example: niches adapt options/kazakhstan.yaml --reveal 2028 --sweep"""
    from niches.analysis.adapt import AdaptError, adapt_of
    from niches.optimize.model import SolverFailed
    from niches.render.adapt import adapt_heading, adapt_json, adapt_sections, sweep_mermaid
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    if reveal is not None and reveal not in loaded.periods:
        known = ", ".join(loaded.periods)
        _error(EXIT_INVALID, f"--reveal {reveal}: the scenario has no period {reveal}; choose one of {known}")
    study = Study(loaded, objective.value if objective else None, solver.value, deadline=deadline)
    try:
        if study.solution().status == "infeasible":
            _infeasible_exit(study, format)
        report = adapt_of(study, reveal, sweep)
    except AdaptError as exc:
        _error(EXIT_INVALID, f"{exc}")
    except SolverFailed as exc:
        _error(EXIT_SOLVER, f"{exc}")
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(adapt_json(report)))
        return
    figure = sweep_mermaid(report) if report.sweep else None
    _emit(adapt_heading(report), adapt_sections(report), format, figure=figure)


@app.command()
def learn(
    scenario: ScenarioArg = None,
    points: Annotated[
        int,
        typer.Option(
            "--points",
            min=1,
            max=1000,
            help="Quantile points a score or weight is integrated over (1 to 1,000).",
        ),
    ] = 33,
    samples: Annotated[
        int,
        typer.Option(
            "--samples",
            "-n",
            min=1,
            max=MAX_SAMPLES,
            help="Monte Carlo draws: of the world probabilities, of the other judgements, for EVPI.",
        ),
    ] = 200,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed (0 to 2^63-1); the draws are robust's.")
    ] = 0,
    concentration: Annotated[
        float, typer.Option("--concentration", min=0.001, help="Dirichlet concentration for probabilities.")
    ] = 50.0,
    top: Annotated[
        int, typer.Option("--top", min=0, help="Judgements the table lists (0: every one; JSON lists all).")
    ] = 10,
    pin: PinOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Rank what is worth learning first: for each uncertain judgement (scores, weights, judges' spreads,
    the world probabilities), the expected value of learning it exactly before choosing (EVPPI), whether
    that can change the recommendation and to what, and of learning everything (EVPI).

    Example: niches learn options/kazakhstan.yaml --format json"""
    from niches.analysis.learn import LearnError, learn_of
    from niches.optimize.model import SolverFailed
    from niches.render.learn import learn_heading, learn_json, learn_sections
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, objective.value if objective else None, solver.value, deadline=deadline)
    try:
        if study.solution().status == "infeasible":
            _infeasible_exit(study, format)
        report = learn_of(study, points, samples, seed, concentration)
    except LearnError as exc:
        _error(EXIT_INVALID, f"{exc}")
    except SolverFailed as exc:
        _error(EXIT_SOLVER, f"{exc}")
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(learn_json(report)))
        return
    _emit(learn_heading(report), learn_sections(report, top), format)
