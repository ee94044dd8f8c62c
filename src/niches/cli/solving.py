"""The solving commands: solve, frontier, sensitivity, explain, price, worlds, robust."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from niches.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    EXIT_SOLVER,
    Axis,
    ExactOpt,
    ExcludeOpt,
    Format,
    FormatOpt,
    IncludeOpt,
    MkdirOpt,
    ObjectiveOpt,
    PinOpt,
    ScenarioArg,
    SolverName,
    SolverOpt,
    TimeLimitOpt,
    WorkersOpt,
    _deadline,
    _err,
    _error,
    _fail,
    _writable,
    app,
    committed,
    load,
    samples_count,
)
from niches.cli.output import _columns, _emit, _emit_explanation, _infeasible_exit, _progress, _show
from niches.cli.usage import SAMPLES_METAVAR
from niches.limits import MAX_SEED, MAX_WORKERS, POINTS, POINTS_MILP, SAMPLES
from niches.numbers import plural


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
    exact: ExactOpt = False,
    workers: WorkersOpt = None,
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
    from niches.analysis.explain import explain_of
    from niches.analysis.summary import summary_of
    from niches.optimize.model import SolverFailed
    from niches.study import Study

    deadline = _deadline(time_limit)
    lp_file = _writable(lp, [scenario], mkdir) if lp is not None else None
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(
        loaded,
        objective.value if objective else None,
        solver.value,
        deadline=deadline,
        exact=exact,
        workers=workers,
    )
    try:
        solution = study.solution(write_lp=str(lp_file) if lp_file else None)
        report = summary_of(study)
        explanation = explain_of(study) if solution.status == "infeasible" else None
    except SolverFailed as exc:
        _error(EXIT_SOLVER, f"{exc}")
    _show(report, format, explanation)
    if solution.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)


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
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-points",
            min=1,
            help="Stop a frontier after this many breakpoints (where the best portfolio changes); past "
            "them a budget frontier is bounded by one more solve, and the output says so [default: "
            f"{POINTS}, or {POINTS_MILP} for a scenario too big to enumerate].",
            show_default=False,
        ),
    ] = None,
    format: FormatOpt = Format.table,
    objective: ObjectiveOpt = None,
    solver: SolverOpt = SolverName.highs,
    time_limit: TimeLimitOpt = None,
    exact: ExactOpt = False,
    workers: WorkersOpt = None,
) -> None:
    """Show an exact frontier: value for money (budget), expected value vs CVaR (risk), or the price of
    not choosing sides (exposure); every breakpoint is found by solving. `hull` draws Equity's efficient
    frontier (levels bought by value per unit of money), cheap at any size.

    Example: niches frontier options/kazakhstan.yaml --axis exposure"""
    from niches.analysis.frontier import FrontierError, default_points, frontier_of
    from niches.render.frontier import frontier_chart, frontier_json, frontier_mermaid, frontier_section
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(
        loaded,
        objective.value if objective else None,
        solver.value,
        deadline=deadline,
        exact=exact,
        workers=workers,
    )
    if study.solution().status == "infeasible":
        _infeasible_exit(study, format)
    try:
        with _progress(f"{axis.value} frontier", format) as progress:
            limit = None if exact else max_points or default_points(study)  # --exact: every breakpoint
            result = frontier_of(study, axis.value, start, stop, None, progress, limit)
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
    exact: ExactOpt = False,
    workers: WorkersOpt = None,
) -> None:
    """Show how fragile the recommendation is: weight intervals, stability radii of scores and costs,
    marginal value of money and capacity, the price of each binding rule, and the order of buy.

    Example: niches sensitivity options/kazakhstan.yaml --format json"""
    from niches.analysis.sensitivity import sensitivity_of
    from niches.render.sensitivity import sensitivity_json, sensitivity_sections
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(
        loaded,
        objective.value if objective else None,
        solver.value,
        deadline=deadline,
        exact=exact,
        workers=workers,
    )
    if study.solution().status == "infeasible":
        _infeasible_exit(study, format)
    with _progress("sensitivity", format) as progress:
        result = sensitivity_of(study, progress)
    if format is Format.json:
        from niches.render.json import dumps

        sys.stdout.write(dumps(sensitivity_json(result)))
        return
    from niches.render.portfolio import portfolio_text

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
    from niches.analysis.explain import explain_of
    from niches.study import Study

    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    explanation = explain_of(Study(loaded, solver=solver.value))
    _emit_explanation(explanation, format)
    if not explanation.feasible:
        raise typer.Exit(EXIT_INFEASIBLE)


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
    exact: ExactOpt = False,
    workers: WorkersOpt = None,
) -> None:
    """Price political commitments: the optimum with and without them side by side, what they
    displace, and the rules that make them expensive. Exit 1 when no portfolio keeps them.

    Example: niches price logistics=corridor@2026"""
    from niches.analysis.price import price as price_of
    from niches.render.price import commitments_text, price_json, price_sections
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
    free = Study(loaded, kind, solver.value, deadline=deadline, exact=exact, workers=workers)
    if free.solution().metrics is None:
        _err("no portfolio keeps the scenario's rules even without the commitments")
        _infeasible_exit(free, format)
    committed_study = Study(
        committed(loaded, list(commitments)),
        kind,
        solver.value,
        deadline=deadline,
        exact=exact,
        workers=workers,
    )
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
    from niches.analysis.worlds import worlds_of
    from niches.render.worlds import regret_section, worlds_json, worlds_portfolios_section, worlds_section
    from niches.study import Study

    deadline = _deadline(time_limit)
    loaded = load(scenario, pin=pin, include=include, exclude=exclude)
    study = Study(loaded, solver=solver.value, deadline=deadline)
    report = worlds_of(study)
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
            "--samples",
            "-n",
            parser=samples_count,
            metavar=SAMPLES_METAVAR,
            help="Number of Monte Carlo samples (1 to 1,000,000), or auto: draw until every core index's "
            "95% interval is within +/- 2.5 points (at least 200, at most 5,000; the same count for a "
            f"seed whatever --workers) [default: {SAMPLES}].",
            show_default=False,
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
            "--workers",
            min=1,
            max=MAX_WORKERS,
            help=(
                "Workers sharing the samples, 1 to 256: threads on one model each when the "
                "scenario is solved as a MILP, local processes when it is enumerated."
            ),
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
    from niches.analysis.robust import VARY, RobustError, robust_of
    from niches.render.robust import robust_heading, robust_json, robust_sections
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
            report = robust_of(study, samples, seed, items, workers, scheduler, concentration, progress)
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
        sys.stderr.flush()
        os._exit(code)  # a worker thread still in its sample's solve must not hold the exit
