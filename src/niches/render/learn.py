"""Sections, JSON and the report section of `niches learn`: what is worth learning first."""

from __future__ import annotations

from typing import Any

from niches.analysis.judgements import Judgement
from niches.analysis.learn import Learned, LearnReport
from niches.numbers import clean, share, value
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json
from niches.render.sections import OBJECTIVE_WORDS, Section

TOP = 10
"""Judgements the terminal and markdown tables list (the JSON lists every one)."""


def _number(x: float) -> str:
    return f"{x:g}"


def drawn_as(judgement: Judgement, concentration: float) -> str:
    """Return how a judgement is drawn, in short: `4 to 8`, `5 / 10 / 14` (low / mode / high), `judges
    6 / 7 / 8` (their least, median and largest values), `Dirichlet, concentration 50`."""
    d = judgement.distribution
    if d is None:
        return f"Dirichlet, concentration {_number(concentration)}" if judgement.what != "everything" else "-"
    if d.kind == "uniform":
        text = f"{_number(d.low)} to {_number(d.high)}"
    else:
        text = f"{_number(d.low)} / {_number(d.mode if d.mode is not None else d.low)} / {_number(d.high)}"
    return f"judges {text}" if judgement.judges else text


def _plus_minus(learned: Learned) -> str:
    return "exact" if learned.stderr is None else f"±{value(learned.stderr)}"


def moved(report: LearnReport, portfolio: dict[str, str] | None) -> str:
    """Return what a changed decision chooses differently, in short: `logistics: corridor@2028, food: hub`
    (a niche it drops: `ai: out`); `no` when it does not change."""
    if portfolio is None:
        return "no"
    sc = report.scenario
    parts = [
        f"{n.id}: {portfolio.get(n.id) or 'out'}"
        for n in sc.niches
        if report.decision.get(n.id) != portfolio.get(n.id)
    ]
    parts += [
        f"deal {d.id}: {'taken' if d.id in portfolio else 'refused'}"
        for d in sc.deals
        if (d.id in report.decision) != (d.id in portfolio)
    ]
    return ", ".join(parts) or "no"


def learn_heading(report: LearnReport) -> str:
    """Return the title line of `niches learn`."""
    return f"{report.scenario.name}: what is worth learning first"


def _methods(report: LearnReport) -> str:
    seed = f"seed {report.seed}"
    if report.kind == "expected":
        return (
            f"scores and weights: {report.points} quantile points each (exact up to the grid); world "
            f"probabilities: {report.samples} Dirichlet draws ({seed}); EVPI: {report.samples} joint draws"
        )
    return (
        f"{report.points} points of each judgement (quantiles; world probabilities: draws), each the mean "
        f"over {report.samples} draws of the others ({seed}); EVPI: {report.samples} joint draws"
    )


def evpi_section(report: LearnReport) -> Section:
    """Return what learning everything at once is worth (EVPI)."""
    sc = report.scenario
    changes = moved(report, report.evpi_changes_to)
    ratio = "-" if abs(report.expected_value) < 1e-12 else share(report.evpi / abs(report.expected_value))
    stderr = "-" if report.evpi_stderr is None else f"±{value(report.evpi_stderr)}"
    return Section(
        f"Learning everything before choosing ({OBJECTIVE_WORDS[report.kind]}, {sc.value_unit})",
        ("what", "worth", "share of value", "error", "changes the decision"),
        (("every judgement at once (EVPI)", value(report.evpi), ratio, stderr, changes),),
        frozenset({1, 2, 3}),
        footer=(
            f"the decision without learning: the recommendation; share of value: of its expected value "
            f"({value(report.expected_value)} {sc.value_unit})",
        ),
        optional=((3,), (2,)),
    )


def judgements_section(report: LearnReport, top: int = TOP) -> Section:
    """Return the judgements ranked by what learning each alone is worth (EVPPI)."""
    sc = report.scenario
    shown = [j for j in report.judgements if j.evppi > 0][:top] if top else list(report.judgements)
    rows = [
        (
            str(i + 1),
            j.judgement.label,
            drawn_as(j.judgement, report.concentration),
            value(j.evppi),
            "-" if j.share_of_value is None else share(j.share_of_value),
            _plus_minus(j),
            moved(report, j.changes_to),
        )
        for i, j in enumerate(shown)
    ]
    rest = len(report.judgements) - len(shown)
    footer = [_methods(report)]
    if rest:
        zero = sum(1 for j in report.judgements if j.evppi <= 0)
        footer.append(
            f"{rest} more judgements not listed ({zero} worth nothing to learn: learning them cannot change "
            "the decision); --format json lists every one"
        )
    return Section(
        f"Worth learning first: each judgement alone ({OBJECTIVE_WORDS[report.kind]}, {sc.value_unit})",
        ("rank", "judgement", "drawn as", "worth", "share of value", "error", "changes the decision"),
        tuple(rows) or (("-", "nothing", "", "", "", "", "no"),),
        frozenset({0, 3, 4}),
        footer=tuple(footer),
        optional=((5,), (2,), (4,)),
    )


def learn_sections(report: LearnReport, top: int = TOP) -> list[Section]:
    """Return every section of `niches learn`."""
    return [evpi_section(report), judgements_section(report, top)]


def learn_markdown_section(report: LearnReport) -> str:
    """Return the report's section "Worth learning first": the top three judgements and EVPI."""
    sc = report.scenario
    unit = sc.value_unit
    text = (
        "## Worth learning first\n\nWhat learning a judgement exactly before choosing would add to the "
        f"{OBJECTIVE_WORDS[report.kind]} (everything else staying as uncertain as the core index draws it). "
        f"Learning every judgement at once is worth {value(report.evpi)} {unit} "
        f"(± {value(report.evpi_stderr or 0.0)}).\n\n"
    )
    top = [j for j in report.judgements if j.evppi > 0][:3]
    if not top:
        return text + "No single judgement is worth learning: none can change the recommendation.\n"
    for i, j in enumerate(top):
        changes = (
            "it would not change the recommendation"
            if j.changes_to is None
            else f"it can change the recommendation ({moved(report, j.changes_to)})"
        )
        text += (
            f"{i + 1}. {j.judgement.label} ({drawn_as(j.judgement, report.concentration)}): worth "
            f"{value(j.evppi)} {unit}; {changes}.\n"
        )
    return text + f"\n{_methods(report)}.\n"


def _judgement_json(report: LearnReport, learned: Learned) -> dict[str, Any]:
    j = learned.judgement
    d = j.distribution
    return {
        "what": j.what,
        "niche": j.niche,
        "level": j.level,
        "criterion": j.criterion,
        "label": j.label,
        "source": j.source,
        "distribution": None
        if d is None
        else {
            "kind": d.kind,
            "low": clean(d.low),
            "mode": None if d.mode is None else clean(d.mode),
            "high": clean(d.high),
        },
        "evppi": clean(learned.evppi),
        "share_of_value": None if learned.share_of_value is None else clean(learned.share_of_value),
        "stderr": None if learned.stderr is None else clean(learned.stderr),
        "method": learned.method,
        "points": learned.points,
        "samples": learned.samples,
        "changes_to": _portfolio_json(report.scenario, learned.changes_to),
    }


def learn_json(report: LearnReport) -> dict[str, Any]:
    """Return the JSON object of `niches learn`."""
    sc = report.scenario
    ratio = None if abs(report.expected_value) < 1e-12 else clean(report.evpi / abs(report.expected_value))
    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "objective": report.kind,
        "decision": _portfolio_json(sc, report.decision),
        "expected_value": clean(report.expected_value),
        "evpi": clean(report.evpi),
        "evpi_stderr": None if report.evpi_stderr is None else clean(report.evpi_stderr),
        "evpi_share_of_value": ratio,
        "evpi_changes_to": _portfolio_json(sc, report.evpi_changes_to),
        "points": report.points,
        "samples": report.samples,
        "seed": report.seed,
        "concentration": report.concentration,
        "judgements": [_judgement_json(report, j) for j in report.judgements],
    }
