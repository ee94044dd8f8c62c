"""`niches report`: one deterministic GitHub markdown document that gathers every analysis.

Charts are mermaid `xychart-beta` blocks (GitHub renders them), each with the
numbers in a table beside it. Nothing in the text depends on the clock unless
a timestamp is asked for, so identical inputs give identical bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

from niches.analysis.explain import explain_of
from niches.analysis.frontier import Frontier, frontier_of
from niches.analysis.judges import JudgesReport
from niches.analysis.robust import RobustReport, robust_of
from niches.analysis.sensitivity import fragile, sensitivity_of
from niches.analysis.summary import summary_of
from niches.analysis.worlds import worlds_of
from niches.limits import AUTO_FIRST, POINTS_MILP
from niches.numbers import gain as gain_text
from niches.numbers import money, plural, share, value
from niches.optimize.model import TimedOut
from niches.parallel import default_workers
from niches.provenance import Made, with_provenance
from niches.provenance import Provenance as Provenance
from niches.provenance import Recorded as Recorded
from niches.provenance import provenance as provenance
from niches.provenance import recorded as recorded
from niches.render import mermaid
from niches.render.brief import GLOSSARY as GLOSSARY
from niches.render.brief import _glossary, _in_brief, _summary
from niches.render.frontier import displayed, frontier_mermaid, per_money_text
from niches.render.markdown import section_markdown, table
from niches.render.portfolio import portfolio_text
from niches.render.rivals import RivalsSection, rivals_markdown
from niches.render.robust import auto_words, core_section
from niches.render.sections import OBJECTIVE_WORDS, solve_sections
from niches.render.worlds import regret_section, worlds_portfolios_section, worlds_section
from niches.scenario import Criterion, Scenario
from niches.study import Study

T = TypeVar("T")
REPORT_BAND = (0.8, 1.2)
"""Budget scales the report's exact frontier spans when the scenario is too big to enumerate."""
BATCH = 50
"""The report's progress advances one step per this many Monte Carlo samples."""
ANALYSES = 8
"""Steps of a feasible report besides the Monte Carlo: the recommendation, its summary, two frontiers,
the world orders, the sensitivity, the adaptive plan and the value of learning."""

Progress = Callable[[float], None]


class Stages:
    """The report's progress, in steps: each analysis one step, the Monte Carlo one per batch of samples.

    `progress` receives the share of steps done: never less than before (the sensitivity reports
    from two threads), and 1.0 once `finish` is called.
    """

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0
        self.shown = 0.0
        self.lock = threading.Lock()

    def _show(self, steps: float) -> None:
        if self.progress is None:
            return
        with self.lock:
            fraction = min(1.0, steps / self.total)
            if fraction > self.shown:
                self.shown = fraction
                self.progress(fraction)

    @contextlib.contextmanager
    def stage(self, steps: int = 1, whole: bool = False) -> Iterator[Progress]:
        """Yield a callback for the stage's own progress (0 to 1) spread over its `steps`;
        `whole` shows only completed steps. Leaving the stage completes its steps."""
        start = self.done

        def within(fraction: float) -> None:
            part = max(0.0, min(1.0, fraction)) * steps
            self._show(start + (math.floor(part) if whole else part))

        try:
            yield within
        finally:
            self.done = start + steps
            self._show(self.done)

    def finish(self) -> None:
        """Show every step done."""
        self.done = self.total
        self._show(self.total)


def build_report(
    study: Study,
    source: Provenance,
    made: Made | None = None,
    progress: Progress | None = None,
    rivals: RivalsSection | None = None,
) -> str:
    """Return the full markdown report of the study's scenario (every analysis computed once).

    `made` says how (Monte Carlo samples and seed, timestamp, the command line's commitments),
    recorded in the provenance with the study's solver and exactness. `progress` receives the
    share of the work done as each analysis ends (the Monte Carlo after each batch of `BATCH`
    samples), ending at 1.0. `rivals` (`--constellation`) adds the section "Rivals".
    """
    scenario = study.scenario
    made = dataclasses.replace(made or Made(), solver=study.solver, exact=study.exact)
    samples, seed = made.samples, made.seed
    batches = math.ceil((samples or AUTO_FIRST) / BATCH)  # auto: its first round
    stages = Stages(progress, ANALYSES + batches)
    with stages.stage():
        solution = study.solution()
    if solution.metrics is None:
        from niches.render.explain import conflict_section

        stages.total = 2  # the recommendation, then why there is none
        with stages.stage():
            explanation = explain_of(study)
        stages.finish()
        return with_provenance(
            f"# {scenario.name}\n\n**Infeasible:** no portfolio keeps every rule.\n\n"
            + section_markdown(conflict_section(explanation))
            + "\n",
            source,
            made,
        )
    with stages.stage():
        report = summary_of(study)
    kind = solution.objective_kind
    small = study.table is not None  # every portfolio enumerated: the whole range is cheap
    start, stop = (0.0, 1.5) if small else REPORT_BAND
    with stages.stage() as within:
        budget = _attempt(
            study,
            "value for money",
            lambda: frontier_of(
                study,
                "budget",
                start,
                stop,
                objective=None if kind != "regret" else "expected",
                progress=within,
                max_points=None if study.exact else POINTS_MILP,
            ),
        )
    with stages.stage() as within:
        risk = _attempt(study, "risk frontier", lambda: frontier_of(study, "risk", progress=within))
    with stages.stage(batches, whole=True) as within:
        threads = 1 if small else (study.workers or default_workers())  # each sample a MILP: share them
        robustness = _attempt(
            study, "core index", lambda: robust_of(study, samples, seed, workers=threads, progress=within)
        )
    if robustness is not None and robustness.partial:
        _stop_again()  # a signal cut the Monte Carlo short: no report rather than one with fewer samples
    with stages.stage():
        world_report = _attempt(study, "world orders", lambda: worlds_of(study))
    with stages.stage() as within:
        sens = _attempt(study, "fragile judgements", lambda: sensitivity_of(study, within))
    with stages.stage():
        adaptive = _adaptive(study) if scenario.adapt is not None else None
    with stages.stage():
        learning = _learning(study, seed)
    panel = None
    if scenario.judges:
        from niches.analysis.judges import judges_report

        panel = _attempt(study, "judges and disagreements", lambda: judges_report(study))
    stages.finish()
    weak = fragile(sens) if sens is not None else []
    out = [f"# {scenario.name}\n"]
    if scenario.description:
        out.append(scenario.description.strip() + "\n")
    out.append(_in_brief(report, robustness, weak))
    out.append("## Summary\n\n" + _summary(report, robustness, weak))
    out += [section_markdown(section) for section in solve_sections(report)]
    if report.binding:
        rows = [
            (rule, str(scenario.locations.get(rule, "-")), gain_text(gain.low, gain.high))
            for rule, gain in report.binding.items()
        ]
        out.append(
            "## Price of the binding rules\n\n"
            + table(
                ("rule", "declared at", f"{OBJECTIVE_WORDS[kind]} gained if dropped ({scenario.value_unit})"),
                rows,
                (2,),
            )
        )
    out.append(_budget_section(budget, start, stop) if budget is not None else _missing("Value for money"))
    out.append(_risk_section(risk) if risk is not None else _missing("Risk frontier"))
    out.append(_core_section(robustness) if robustness is not None else _missing("Core index"))
    if world_report is not None:
        out.append(
            section_markdown(worlds_section(world_report))
            + "\n"
            + section_markdown(regret_section(world_report), 3)
            + "\n"
            + section_markdown(worlds_portfolios_section(world_report), 3)
        )
    out.append(_fragile_section(weak) if sens is not None else _missing("The most fragile judgements"))
    if scenario.adapt is not None:
        out.append(adaptive or _missing("Commit now, decide later"))
    out.append(learning or _missing("Worth learning first"))
    if scenario.judges:
        out.append(_judges_section(panel) if panel is not None else _missing("Judges and disagreements"))
    if rivals is not None:
        out.append(rivals_markdown(rivals))
    out.append(_assumptions(scenario))
    if study.unfinished:
        out.append(
            "## Not finished\n\nThe time limit cut these short:\n\n"
            + "".join(f"- {what}\n" for what in study.unfinished)
        )
    out.append(_glossary())
    return with_provenance("\n".join(out) + "\n", source, made)


def _adaptive(study: Study) -> str | None:
    """Return the section "Commit now, decide later" (None: the time limit came first)."""
    from niches.analysis.adapt import AdaptError, adapt_of
    from niches.render.adapt import adapt_markdown_section

    try:
        found = _attempt(study, "commit now, decide later", lambda: adapt_of(study, binding=False))
    except AdaptError as exc:
        return f"## Commit now, decide later\n\nNot computed: {exc}.\n"
    return None if found is None else adapt_markdown_section(found)


def _learning(study: Study, seed: int) -> str | None:
    """Return the section "Worth learning first" (None: the time limit came first)."""
    from niches.analysis.learn import LearnError, learn_of
    from niches.render.learn import learn_markdown_section

    try:
        found = _attempt(study, "worth learning first", lambda: learn_of(study, seed=seed))
    except LearnError as exc:
        return f"## Worth learning first\n\nNot computed: {exc}.\n"
    return None if found is None else learn_markdown_section(found)


def _stop_again() -> NoReturn:
    """Raise again the stop (SIGINT or SIGTERM) the Monte Carlo caught to keep its partial samples."""
    import signal

    from niches.analysis.robust import STOPPED
    from niches.interrupts import Interrupted

    raise Interrupted(STOPPED[-1] - 128 if STOPPED else signal.SIGINT)


def _attempt(study: Study, what: str, compute: Callable[[], T]) -> T | None:
    """Return `compute()`, or None (noted as unfinished) when the time limit stops it."""
    try:
        return compute()
    except TimedOut:
        study.note_unfinished(what)
        return None


def _missing(title: str) -> str:
    return f"## {title}\n\nNot computed: the time limit ran out first.\n"


def _budget_section(f: Frontier, start: float = 0.0, stop: float = 1.5) -> str:
    f = displayed(f)
    sc = f.scenario
    text = (
        "## Value for money\n\nEvery budget cap scaled by one factor; each row is where a better "
        "portfolio becomes affordable.\n\n"
    )
    if (start, stop) != (0.0, 1.5):
        text += (
            f"The scenario is too big to enumerate, so the exact frontier is drawn between scales "
            f"{start:g} and {stop:g} of the budget; `niches frontier` draws any range, and "
            "`niches frontier --axis hull` the whole curve at once.\n\n"
        )
    if f.note:
        text += f"Note: {f.note}.\n\n"
    if not f.points:
        return text + f"No portfolio fits any scale up to {stop:g}.\n"
    text += frontier_mermaid(f)
    rows = []
    for i, p in enumerate(f.points):
        change = (
            portfolio_text(sc, p.portfolio) if i == 0 else _diff(sc, f.points[i - 1].portfolio, p.portfolio)
        )
        rows.append(
            (
                f"{p.scale:.4f}",
                money(p.metrics.cost),
                value(p.objective),
                per_money_text(p.metrics),
                "current budget" if p.marked else "",
                change,
            )
        )
    header = (
        "scale",
        f"cost ({sc.units})",
        f"{OBJECTIVE_WORDS[f.objective_kind]} ({sc.value_unit})",
        f"{sc.value_unit} per {sc.units}",
        "mark",
        "portfolio (then: change)",
    )
    return text + "\n" + table(header, rows, (0, 1, 2, 3))


def _diff(sc: Scenario, old: dict[str, str], new: dict[str, str]) -> str:
    from niches.render.portfolio import change_text

    return change_text(sc, old, new)


def _risk_section(f: Frontier) -> str:
    sc = f.scenario
    text = (
        "## Risk frontier\n\nPortfolios no other beats on both expected value and CVaR (all rules kept).\n\n"
    )
    if len(f.points) < 3:
        rec = next((p for p in f.points if p.marked), f.points[0] if f.points else None)
        if rec is None:
            return text + "No portfolio keeps the rules.\n"
        if len(f.points) == 1:
            return text + (
                f"No trade-off: the recommendation is also the best on CVaR ({value(rec.metrics.cvar)} "
                f"{sc.value_unit}) under the rules, so no portfolio gives up expected value for safety.\n"
            )
        other = next(p for p in f.points if p is not rec)
        return text + (
            f"Two portfolios only: the recommendation ({value(rec.metrics.expected_value)} expected, "
            f"CVaR {value(rec.metrics.cvar)} {sc.value_unit}) and {portfolio_text(sc, other.portfolio)} "
            f"({value(other.metrics.expected_value)} expected, CVaR {value(other.metrics.cvar)}).\n"
        )
    text += frontier_mermaid(f) + "\n"
    rows = [
        (
            value(p.metrics.cvar),
            value(p.metrics.expected_value),
            value(p.metrics.worst_case),
            "recommended" if p.marked else "",
            portfolio_text(sc, p.portfolio),
        )
        for p in f.points
    ]
    unit = sc.value_unit
    header = (f"CVaR ({unit})", f"expected value ({unit})", f"worst case ({unit})", "mark", "portfolio")
    text += table(header, rows, (0, 1, 2))
    if f.note:
        text += f"\n{f.note}.\n"
    return text


def _core_section(r: RobustReport) -> str:
    sc = r.scenario
    text = (
        f"## Core index\n\nShare of {plural(r.done, 'Monte Carlo sample')} (seed {r.seed}; "
        f"scores, weights and probabilities drawn) whose optimum contains each niche.\n\n"
    )
    if r.auto:  # the count was chosen by precision
        text += f"The number of samples was chosen by precision ({auto_words(r)}).\n\n"
    unsettled = [n for n in sc.niches if 0.0 < r.core_index[n.id] < 1.0]
    if unsettled:
        text += mermaid.bar_chart(
            "Core index (%) of the niches some samples leave out",
            "niche",
            [n.name for n in unsettled],
            "share of samples",
            [100 * r.core_index[n.id] for n in unsettled],
        )
    always = [n.name for n in sc.niches if r.core_index[n.id] >= 1.0]
    never = [n.name for n in sc.niches if r.core_index[n.id] <= 0.0]
    if always:
        text += f"\nIn every sample's optimum: {', '.join(always)}.\n"
    if never:
        text += f"\nIn no sample's optimum: {', '.join(never)}.\n"
    core = core_section(r)  # the same table as `niches robust`
    text += "\n" + table(core.header, core.rows, core.right, core.strong)
    text += "\n" + " · ".join(core.footer) + "\n"
    stats = r.regret
    if stats.count:
        text += (
            f"\nRegret of the recommendation against each sample's optimum: mean {value(stats.mean)}, "
            f"p5 {value(stats.p5)}, p50 {value(stats.p50)}, p95 {value(stats.p95)}; optimal in "
            f"{share(r.optimal_share)} of samples.\n"
        )
    return text


def _fragile_section(weak: list[tuple[float, str]]) -> str:
    text = "## The most fragile judgements\n\n"
    if not weak:
        return text + "No judgement within the searched range changes the recommendation.\n"
    return text + "".join(
        f"{i + 1}. The recommendation changes if {sentence}.\n" for i, (_, sentence) in enumerate(weak)
    )


def _as_declared(sc: Scenario, c: Criterion) -> str:
    """Return criterion `c`'s weight as the scenario file declares it (before any judge)."""
    judged = next((j for j in sc.judged if j.judgement == ("weight", c.id)), None)
    if judged is not None and judged.declared is not None:
        return (
            f"{judged.declared:.4g} (judges: {', '.join(f'{n} {v:.4g}' for n, v in judged.judges.items())})"
        )
    return _declared(c.raw_weight)


def _assumptions(sc: Scenario) -> str:
    criteria = table(
        ("criterion", "weight", "as declared", "description"),
        [(c.id, f"{c.weight:.4f}", _as_declared(sc, c), c.description) for c in sc.criteria],
        (1,),
    )
    worlds_table = table(
        ("world", "probability", "description"),
        [(w.id, share(w.probability), w.description) for w in sc.worlds],
        (1,),
    )
    r = sc.rules
    shares = ("max_share", "max_imbalance", "cvar_tail")
    unit = {"min_niches": "niches", "max_niches": "niches", "min_worst_case": sc.value_unit}
    unit["min_cvar"] = sc.value_unit
    rules = [
        (name, share(getattr(r, name)) if name in shares else f"{getattr(r, name):g} {unit[name]}")
        for name in (
            "min_niches",
            "max_niches",
            "max_share",
            "max_imbalance",
            "min_worst_case",
            "min_cvar",
            "cvar_tail",
        )
        if getattr(r, name) is not None
    ]
    rules += [("must_include", ", ".join(r.must_include))] if r.must_include else []
    rules += [("must_exclude", ", ".join(r.must_exclude))] if r.must_exclude else []
    rules += [(f"pin[{n}]", " or ".join(levels)) for n, levels in r.pins.items()]
    rules += [(f"max_exposure[{p}]", share(c)) for p, c in r.max_exposure.items()]
    budget = [(f"budget[{p}]", f"{money(c)} {sc.units}") for p, c in sc.budget.items()]
    if sc.budget_total is not None:
        budget.append(("budget[total]", f"{money(sc.budget_total)} {sc.units}"))
    budget += [(f"capacity[{k}]", f"{v:g} {k}") for k, v in sc.capacities.items()]
    return (
        "## Assumptions\n\n### Criteria and weights\n\n"
        + criteria
        + "\n### Worlds and probabilities\n\n"
        + worlds_table
        + "\n### Budget, capacities and rules\n\n"
        + table(("rule", "value"), budget + rules)
        + f"\nObjective: {OBJECTIVE_WORDS[sc.objective]}.\n"
    )


def _declared(score: object) -> str:
    from niches.scenario import Score

    assert isinstance(score, Score)
    if score.kind == "point":
        return f"{score.low:g}"
    if score.kind == "uniform":
        return f"[{score.low:g}, {score.high:g}]"
    return f"{{low: {score.low:g}, mode: {score.mode:g}, high: {score.high:g}}}"


def _judges_section(panel: JudgesReport) -> str:
    """Return the judges' weights, recommendations and disagreements, under one heading."""
    from niches.render.judges import judges_sections

    sc = panel.scenario
    lead = (
        f"## Judges and disagreements\n\n{plural(len(sc.judges), 'judge')} "
        f"({', '.join(f'{j.name} ({j.source})' for j in sc.judges)}), aggregated by {sc.aggregate}. "
        "A disagreement's regret is what the group's choice gives up where that judge's value holds.\n"
    )
    return lead + "".join("\n" + section_markdown(s, 3) for s in judges_sections(panel))
