"""Sections and JSON of `niches price`: what each commitment costs."""

from __future__ import annotations

from typing import Any

from niches.analysis.price import MEASURES, Price, figures
from niches.numbers import clean, gain, labelled, money, share, signed, value
from niches.render.json import gain_fields, units_json
from niches.render.sections import OBJECTIVE_WORDS, Section


def commitments_text(price: Price) -> str:
    """Return the commitments as given: `logistics=corridor, -ai`."""
    return ", ".join(str(c) for c in price.commitments)


def price_sections(price: Price) -> list[Section]:
    """Return the sections of `niches price`: figures, portfolios and the rules that make it expensive."""
    sc = price.free.solution.scenario
    committed = price.committed
    assert committed is not None
    kind = price.free.solution.objective_kind
    old, new = figures(price.free), figures(committed)
    labels = {
        "objective": f"objective: {OBJECTIVE_WORDS[kind]} ({sc.value_unit})",
        "expected_value": f"expected value ({sc.value_unit})",
        "worst_case": f"worst case ({sc.value_unit})",
        "cvar": f"CVaR, worst {share(sc.rules.cvar_tail)} ({sc.value_unit})",
        "cost": labelled("spend", sc.units),
    }
    rows = []
    shown = {"expected": "expected_value", "worst_case": "worst_case", "cvar": "cvar"}.get(kind)
    for key in MEASURES:
        if key == "objective" and shown:
            continue  # the objective is one of the rows below
        fmt = money if key == "cost" else value
        rows.append((labels[key], fmt(old[key]), fmt(new[key]), signed(fmt(price.delta[key]))))
    figures_section = Section(
        "With and without the commitments",
        ("measure", "free", "committed", "change"),
        tuple(rows),
        frozenset({1, 2, 3}),
    )
    before, after = price.free.solution.portfolio, committed.solution.portfolio
    moved = {m.niche for m in (*price.displaced, *price.entering)}
    portfolio_rows: list[tuple[str, ...]] = []
    strong = set()
    for niche in sc.niches:
        if niche.id not in before and niche.id not in after:
            continue
        was, now = before.get(niche.id), after.get(niche.id)
        if niche.id in moved:
            strong.add(len(portfolio_rows))
            change = "enters" if was is None else ("leaves" if now is None else "changes")
        else:
            change = ""
        portfolio_rows.append((niche.id, was or "-", now or "-", change))
    for deal in sc.deals:
        was_taken, now_taken = deal.id in before, deal.id in after
        if was_taken or now_taken:
            if was_taken != now_taken:
                strong.add(len(portfolio_rows))
            change = "" if was_taken == now_taken else ("taken" if now_taken else "refused")
            portfolio_rows.append(
                (f"deal {deal.id}", "taken" if was_taken else "-", "taken" if now_taken else "-", change)
            )
    portfolio_section = Section(
        "Portfolios",
        ("niche", "free", "committed", "change"),
        tuple(portfolio_rows),
        strong=frozenset(strong),
    )
    sections = [figures_section, portfolio_section]
    if price.expensive:
        sections.append(
            Section(
                f"Rules that make it expensive: gain if dropped ({sc.value_unit})",
                ("rule", "declared at", "committed", "free"),
                tuple(
                    (
                        r.rule,
                        str(committed.solution.scenario.locations.get(r.rule, "-")),
                        gain(r.committed.low, r.committed.high),
                        "-" if r.free is None else gain(r.free.low, r.free.high),
                    )
                    for r in price.expensive
                ),
                frozenset({2, 3}),
                optional=((1,),),
            )
        )
    return sections


def _location(price: Price, rule: str) -> str | None:
    assert price.committed is not None
    found = price.committed.solution.scenario.locations.get(rule)
    return None if found is None else str(found)


def price_json(price: Price) -> dict[str, Any]:
    """Return the JSON object of `niches price`."""
    from niches.render.json import solve_dict

    scenario = price.free.solution.scenario
    return {
        "scenario": scenario.name,
        "units": units_json(scenario),
        "commitments": [str(c) for c in price.commitments],
        "free": solve_dict(price.free),
        "committed": None if price.committed is None else solve_dict(price.committed),
        "delta": {k: clean(v) for k, v in price.delta.items()},
        "displaced": [{"niche": m.niche, "from": m.before, "to": m.after} for m in price.displaced],
        "entering": [{"niche": m.niche, "level": m.after} for m in price.entering],
        "expensive": [
            {
                "rule": r.rule,
                "location": _location(price, r.rule),
                **gain_fields(r.committed),
                **(
                    gain_fields(r.free, "_free")
                    if r.free is not None
                    else {"gain_if_dropped_free": None, "gain_bounds_free": None, "exact_free": None}
                ),
            }
            for r in price.expensive
        ],
    }
