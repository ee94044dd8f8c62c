"""Sections and JSON of `niches sensitivity`: weights, radii, marginal values, prices, order."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from niches.analysis.sensitivity import Change, Radius, Sensitivity
from niches.numbers import clean, gain, labelled, money, value
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json, change_text
from niches.render.sections import Section
from niches.scenario import Scenario


def _change_cell(sc: Scenario, rec: Mapping[str, str], change: Change | None, fmt: str) -> tuple[str, str]:
    if change is None:
        return "-", "stays"
    return fmt.format(change.at), change_text(sc, rec, change.portfolio)


def weights_section(result: Sensitivity) -> Section:
    sc = result.solution.scenario
    rec = result.solution.portfolio
    rows = []
    for w in result.weights:
        low, low_to = _change_cell(sc, rec, w.low, "{:.4f}")
        high, high_to = _change_cell(sc, rec, w.high, "{:.4f}")
        kept = f"{'0' if low == '-' else low} to {'1' if high == '-' else high}"
        changes = [(f"below {low}", low_to)] if low != "-" else []
        changes += [(f"above {high}", high_to)] if high != "-" else []
        for j, (past, then) in enumerate(changes or [("-", "stays at every weight")]):
            rows.append(
                (w.criterion, f"{w.weight:.4f}", kept, past, then) if j == 0 else ("", "", "", past, then)
            )
    return Section(
        "Weights: the recommendation stays optimal while each weight is in its range (others rescaled)",
        ("criterion", "weight", "range", "past it", "the recommendation becomes"),
        tuple(rows),
        frozenset({1}),
    )


def radius_section(result: Sensitivity, what: str) -> Section:
    sc = result.solution.scenario
    rec = result.solution.portfolio
    radii: tuple[Radius, ...] = result.scores if what == "scores" else result.costs
    rows = []
    for r in radii:
        low, low_to = _change_cell(sc, rec, r.low, "x{:.4f}")
        high, high_to = _change_cell(sc, rec, r.high, "x{:.4f}")
        status = f"in at {rec[r.niche]}" if r.niche in rec else "out"
        changes = [(f"down to {low}", low_to)] if low != "-" else []
        changes += [(f"up to {high}", high_to)] if high != "-" else []
        for j, (at, then) in enumerate(changes or [("-", "stays")]):
            rows.append((r.niche, status, at, then) if j == 0 else ("", "", at, then))
    return Section(
        f"Stability of the recommendation to each niche's {what} (the factor at which it changes)",
        ("niche", "now", "changes at", "the recommendation becomes"),
        tuple(rows),
        frozenset(),
        footer=(f"searched from x0 to x{10:g}",),
    )


def marginals_section(result: Sensitivity) -> Section:
    sc = result.solution.scenario
    rows = []
    for m in result.marginals:
        unit = sc.units if m.rule.startswith("budget") else m.rule[len("capacity[") : -1]
        step = "-" if m.step is None else f"+{m.step:,.6g}"
        buys = "-" if m.step_gain is None else f"+{value(m.step_gain)}"
        rows.append(
            (
                m.rule,
                f"{m.limit:,.6g} {unit}",
                f"{m.plus:+.4f}",
                "-" if m.minus is None else f"{m.minus:+.4f}",
                step,
                buys,
            )
        )
    unit = sc.value_unit
    return Section(
        f"Marginal value of money and capacity (objective change, {unit})",
        ("rule", "limit", "one unit more", "one unit less", "least step that buys anything", "it buys"),
        tuple(rows),
        frozenset({1, 2, 3, 4, 5}),
        optional=((3,), (2,)),
    )


def prices_section(result: Sensitivity) -> Section:
    unit = result.solution.scenario.value_unit
    rows = tuple(
        (
            p.rule,
            p.step or "-",
            "-" if p.relax_gain is None else f"+{value(p.relax_gain)}",
            gain(p.drop_gain.low, p.drop_gain.high),
        )
        for p in result.prices
    )
    return Section(
        f"Price of each binding rule (objective gained, {unit})",
        ("rule", "relax by", labelled("relaxing gains", unit), labelled("dropping gains", unit)),
        rows,
        frozenset({2, 3}),
    )


def order_section(result: Sensitivity) -> Section:
    rows = []
    strong = set()
    for i, step in enumerate(result.order):
        ratio = "free" if math.isinf(step.ratio) else f"{step.ratio:.5f}"
        agree = "yes" if step.in_greedy == (step.optimal_level == step.level) else "differs"
        if agree == "differs":
            strong.add(i)
        rows.append(
            (
                str(i + 1),
                f"{step.niche} ({step.level})",
                money(step.cost),
                value(step.value),
                ratio,
                money(step.cumulative_cost),
                "yes" if step.in_greedy else "no",
                step.optimal_level or "-",
                agree,
            )
        )
    sc = result.solution.scenario
    differs = change_text(sc, result.greedy, result.solution.portfolio)
    return Section(
        "Order of buy: level increments by value per unit of cost, bought greedily "
        f"(money in {sc.units}, value in {sc.value_unit})",
        ("#", "increment", "cost", "value", "per unit", "greedy spent", "greedy buys", "optimum", "agrees"),
        tuple(rows),
        frozenset({2, 3, 4, 5}),
        frozenset(strong),
        footer=(
            f"greedy budget {money(result.greedy_budget)} {sc.units} "
            "(total over periods, other rules ignored); greedy stops at the first increment that does "
            "not fit, and 'greedy spent' is what it has bought so far",
            f"optimum: the level the recommendation takes; from greedy to optimal: {differs}",
        ),
        optional=((4,), (3,), (8,), (7,)),
    )


def sensitivity_sections(result: Sensitivity) -> list[Section]:
    """Return the sections of `niches sensitivity` in reading order."""
    sections = []
    if result.weights:
        sections.append(weights_section(result))
    if result.scores:
        sections.append(radius_section(result, "scores"))
    sections.append(radius_section(result, "costs"))
    if result.marginals:
        sections.append(marginals_section(result))
    if result.prices:
        sections.append(prices_section(result))
    sections.append(order_section(result))
    return sections


def _change_json(sc: Scenario, change: Change | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {"at": clean(change.at), "portfolio": _portfolio_json(sc, change.portfolio)}


def sensitivity_json(result: Sensitivity) -> dict[str, Any]:
    """Return the JSON object of `niches sensitivity`."""
    sc = result.solution.scenario
    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "objective": result.solution.objective_kind,
        "recommended": _portfolio_json(sc, result.solution.portfolio),
        "weights": [
            {
                "criterion": w.criterion,
                "weight": clean(w.weight),
                "low": _change_json(sc, w.low),
                "high": _change_json(sc, w.high),
            }
            for w in result.weights
        ],
        "scores": [
            {"niche": r.niche, "low": _change_json(sc, r.low), "high": _change_json(sc, r.high)}
            for r in result.scores
        ],
        "costs": [
            {"niche": r.niche, "low": _change_json(sc, r.low), "high": _change_json(sc, r.high)}
            for r in result.costs
        ],
        "marginal_values": [
            {
                "rule": m.rule,
                "limit": clean(m.limit),
                "plus_one": clean(m.plus),
                "minus_one": None if m.minus is None else clean(m.minus),
                "least_step": None if m.step is None else clean(m.step),
                "least_step_gain": None if m.step_gain is None else clean(m.step_gain),
            }
            for m in result.marginals
        ],
        "rule_prices": [
            {
                "rule": p.rule,
                "step": p.step,
                "relax_gain": None if p.relax_gain is None else clean(p.relax_gain),
                "drop_gain": None if p.drop_gain.figure is None else clean(p.drop_gain.figure),
                "drop_gain_bounds": [clean(p.drop_gain.low), clean(p.drop_gain.high)],
                "drop_gain_exact": p.drop_gain.exact,
            }
            for p in result.prices
        ],
        "order_of_buy": [
            {
                "niche": s.niche,
                "level": s.level,
                "cost": clean(s.cost),
                "value": clean(s.value),
                "ratio": None if math.isinf(s.ratio) else clean(s.ratio),
                "cumulative_cost": clean(s.cumulative_cost),
                "in_greedy": s.in_greedy,
                "optimal_level": s.optimal_level,
            }
            for s in result.order
        ],
        "greedy": _portfolio_json(sc, result.greedy),
        "engine": result.engine,
        "solves": result.solves,
        "questions": result.questions,
    }
