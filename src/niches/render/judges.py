"""Sections and JSON of `niches judges`: each judge's weights, picks and disagreements."""

from __future__ import annotations

from typing import Any

from niches.analysis.judges import JudgesReport
from niches.numbers import clean, share, value
from niches.render.json import judged_list, units_json
from niches.render.portfolio import _portfolio_json
from niches.render.sections import Section, judged_figure
from niches.scenario.judges import label


def _judged(value: float, judgement: tuple[str, ...]) -> str:
    """Format a judgement's value: weights and probabilities as percentages, scores with two decimals."""
    return share(value) if judgement[0] in ("weight", "probability") else f"{clean(value, 2):.2f}"


def judges_sections(report: JudgesReport) -> list[Section]:
    """Return the sections of `niches judges`: weights, portfolios, spread, disagreements."""
    sc = report.scenario
    names = [v.judge.name for v in report.judges]
    weight_rows: list[tuple[str, ...]] = []
    for c in sc.criteria:
        row = [c.id]
        for view in report.judges:
            w = view.judge.weights
            row.append("-" if w is None else share(w[c.id]))
        weight_rows.append((*row, share(report.weights[c.id])))
    crs = ["-" if v.judge.cr is None else f"{v.judge.cr:.3f}" for v in report.judges]
    group_cr = "-" if report.group_cr is None else f"{report.group_cr:.3f}"
    weight_rows.append(("consistency ratio", *crs, group_cr))
    right = frozenset(range(1, len(names) + 2))
    sections = [
        Section(
            "Weights",
            ("criterion", *names, "group"),
            tuple(weight_rows),
            right,
            frozenset({len(weight_rows) - 1}),
        ),
    ]
    views = {
        j.judgement[1]: j for j in sc.judged if j.judgement[0] == "probability"
    }  # each judge's whole view of every world
    if views:
        rows = [
            (
                w.id,
                judged_figure("probability", views[w.id].declared),
                *(share(views[w.id].judges[n]) if n in views[w.id].judges else "-" for n in names),
                share(w.probability),
            )
            for w in sc.worlds
        ]
        sections.append(
            Section(
                "Probabilities",
                ("world", "file", *names, "group"),
                tuple(rows),
                frozenset(range(1, len(names) + 3)),
                frozenset(),
                (
                    f"a judge's worlds left out keep the file's proportions of what it leaves; "
                    f"the group is the {sc.aggregate} of the judges' views, within their range",
                ),
            )
        )
    portfolios: list[tuple[str, ...]] = []
    for n in sc.niches:
        cells = [(v.portfolio or {}).get(n.id, "-") for v in report.judges]
        group = (report.portfolio or {}).get(n.id, "-")
        if any(c != "-" for c in cells) or group != "-":
            portfolios.append((n.id, *cells, group))
    objectives = ["-" if v.objective is None else value(v.objective) for v in report.judges]
    group_objective = "-" if report.objective is None else value(report.objective)
    portfolios.append((f"objective, own view ({sc.value_unit})", *objectives, group_objective))
    sections.append(
        Section(
            "Each judge's recommendation",
            ("niche", *names, "group"),
            tuple(portfolios),
            frozenset(),
            frozenset(),
            optional=tuple((i,) for i in range(len(names), 0, -1)),
        )
    )
    if report.disagreements:
        rows = []
        strong = set()
        for i, d in enumerate(report.disagreements):
            values = ", ".join(f"{j} {_judged(v, d.judgement)}" for j, v in d.values.items())
            movers = [j for j, moved in d.changes.items() if moved]
            regrets = ", ".join(
                f"{j} {'breaks a rule' if r is None else '+' + value(r)}" for j, r in d.regret.items()
            )
            if movers:
                strong.add(i)
            rows.append(
                (
                    label(d.judgement),
                    values,
                    ", ".join(movers) if movers else "no",
                    regrets,
                )
            )
        sections.append(
            Section(
                f"Disagreements, by consequence (regret in {sc.value_unit})",
                ("judgement", "values", "changes the answer", "regret of the group's choice"),
                tuple(rows),
                frozenset(),
                frozenset(strong),
            )
        )
    return sections


def judges_json(report: JudgesReport) -> dict[str, Any]:
    """Return the JSON object of `niches judges`."""
    return {
        "scenario": report.scenario.name,
        "units": units_json(report.scenario),
        "aggregate": report.scenario.aggregate,
        "judges": [
            {
                "judge": v.judge.name,
                "source": v.judge.source,
                "weights": None
                if v.judge.weights is None
                else {k: clean(w) for k, w in v.judge.weights.items()},
                "cr": None if v.judge.cr is None else clean(v.judge.cr),
                "probabilities": {k: clean(p) for k, p in v.judge.probabilities.items()},
                "portfolio": _portfolio_json(report.scenario, v.portfolio),
            }
            for v in report.judges
        ],
        "group": {
            "weights": {k: clean(w) for k, w in report.weights.items()},
            "probabilities": {w.id: clean(w.probability) for w in report.scenario.worlds},
            "cr": None if report.group_cr is None else clean(report.group_cr),
            "portfolio": _portfolio_json(report.scenario, report.portfolio),
        },
        "judged": judged_list(report.scenario),
        "disagreements": [
            {
                "judgement": label(d.judgement),
                "values": {j: clean(v) for j, v in d.values.items()},
                "changes_recommendation": d.changes_recommendation,
                "regret": {j: None if r is None else clean(r) for j, r in d.regret.items()},
            }
            for d in report.disagreements
        ],
    }
