"""The report's plain words: the decision in brief, the summary and the glossary."""

from __future__ import annotations

import math

from niches.analysis.robust import RobustReport, classify
from niches.analysis.summary import SolveReport
from niches.numbers import gain, money, plural, share, value
from niches.render.sections import OBJECTIVE_WORDS
from niches.render.words import rule_words

GLOSSARY = {
    "points": "the unit of value: each niche's scores on the criteria, weighted by how much each "
    "criterion matters (and by how well the niche fares in each world order), added up",
    "expected value": "the value averaged over the world orders, each counted by its probability",
    "worst case": "the value in the least favourable world order",
    "CVaR": "conditional value at risk: the average value over the least favourable world orders that "
    "make up the stated share of probability (the worst 30%, say)",
    "core index": "the share of the draws of the uncertain judgements in whose best portfolio a niche "
    "appears",
    "binding rule": "a rule (a budget cap, an exposure limit ...) without which a better portfolio would be "
    "chosen; what it costs is how much better",
    "exposure": "the share of the portfolio's spend that depends on one great power",
    "regret": "in one world order, the best value reachable there alone less the portfolio's value",
    "deal": "an offer by a partner to pay part of some niches' cost, which the plan may take or refuse",
}
"""Every term the report uses that a reader outside the analysis may not know, defined once."""


def _in_brief(report: SolveReport, robustness: RobustReport | None, weak: list[tuple[float, str]]) -> str:
    """Return the report's first section: the decision in plain words, for the people who approve it."""
    s = report.solution
    sc = s.scenario
    m = s.metrics
    assert m is not None
    levels = [
        f"{n.name} ({n.level(s.portfolio[n.id]).name.lower()})" for n in sc.niches if n.id in s.portfolio
    ]
    deals = [f"{d.id.replace('_', ' ')} from {d.partner}" for d in sc.deals if d.id in m.deal_money]
    caps = sc.budget_total if sc.budget_total is not None else math.fsum(sc.budget.values())
    span = f"{sc.periods[0]}-{sc.periods[-1]}" if len(sc.periods) > 1 else "the plan's period"
    unit = sc.value_unit
    lines = [
        f"**What to fund.** {plural(len(levels), 'niche')}: {', '.join(levels) or 'none'}."
        + (f" Take the offer{'s' if len(deals) > 1 else ''} of {', '.join(deals)}." if deals else ""),
        f"**What it costs.** {money(m.cost)} {sc.units} over {span}, of the {money(caps)} available.",
        f"**What it buys.** An expected value of {value(m.expected_value)} {unit}; in the least favourable "
        f"world order (the worst case) {value(m.worst_case)} {unit}.",
    ]
    changes = []
    if weak:
        changes.append(f"the plan would change if {weak[0][1]}")
    if robustness is not None:
        changes.append(
            f"it stays the best plan in {share(robustness.optimal_share)} of "
            f"{plural(robustness.done, 'draw')} of the uncertain judgements (scores, weights, probabilities)"
        )
    if changes:
        text = "; ".join(changes)
        lines.append(f"**What could change the answer.** {text[0].upper()}{text[1:]}.")
    lines.append(
        f"**What you are asked to approve.** Funding these {plural(len(levels), 'niche')} at the levels "
        f"named, {money(m.cost)} {sc.units} over {span}"
        + (", and the offers named above" if deals else "")
        + ". The sections below give the figures, the risks and the judgements behind them; the "
        "glossary at the end defines the terms."
    )
    return "## In brief\n\n" + "\n\n".join(lines) + "\n"


def _glossary() -> str:
    return "## Glossary\n\n" + "".join(f"- **{term}**: {text}.\n" for term, text in GLOSSARY.items())


def _summary(report: SolveReport, robustness: RobustReport | None, weak: list[tuple[float, str]]) -> str:
    s = report.solution
    sc = s.scenario
    m = s.metrics
    assert m is not None
    chosen = [
        f"**{n.name}** at *{n.level(s.portfolio[n.id]).name.lower()}*"
        for n in sc.niches
        if n.id in s.portfolio
    ]
    out = sc.niches and [n.name for n in sc.niches if n.id not in s.portfolio]
    deals = [
        f"**{d.id}** ({d.partner}, {money(m.deal_money[d.id])} {sc.units})"
        for d in sc.deals
        if d.id in m.deal_money
    ]
    caps = sc.budget_total if sc.budget_total is not None else sum(sc.budget.values())
    lines = [
        f"- **Invest in {plural(len(chosen), 'niche')}:** {', '.join(chosen)}"
        + (f"; leave out {', '.join(out)}." if out else "."),
        *([f"- **Take {plural(len(deals), 'deal')}:** {', '.join(deals)}."] if deals else []),
        f"- **Cost:** {money(m.cost)} of {money(caps)} {sc.units} available; "
        f"{OBJECTIVE_WORDS[s.objective_kind]} {value(s.objective or 0.0)} {sc.value_unit}, "
        f"worst world {value(m.worst_case)} {sc.value_unit}, "
        f"CVaR {value(m.cvar)} {sc.value_unit}.",
    ]
    if report.binding:
        binding = ", ".join(
            f"{rule_words(r)} ({gain(g.low, g.high)} {sc.value_unit} if dropped)"
            for r, g in report.binding.items()
        )
        lines.append(f"- **What holds it back:** {binding}.")
    else:
        lines.append("- **What holds it back:** no single rule; the choice is driven by value for money.")
    if robustness is not None:
        names = {n.id: n.name for n in sc.niches}
        core = [names.get(n, n) for n, x in robustness.core_index.items() if classify(x) == "core"]
        border = [names.get(n, n) for n, x in robustness.core_index.items() if classify(x) == "borderline"]
        lines.append(
            f"- **Robustness:** optimal in {share(robustness.optimal_share)} of "
            f"{plural(robustness.done, 'draw')} of the uncertain judgements; "
            f"core niches: {', '.join(core) or 'none'}; borderline: {', '.join(border) or 'none'}."
        )
    if weak:
        lines.append(f"- **Most fragile judgement:** the recommendation changes if {weak[0][1]}.")
    return "\n".join(lines) + "\n"
