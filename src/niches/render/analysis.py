"""Sections and JSON for the trade-off analyses: frontiers, sensitivity, infeasibility.

Terminal and markdown views draw the same `Section`s (see `sections.py`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

from niches.analysis.coalition import CoalitionReport
from niches.analysis.diff import Diff, metric_deltas
from niches.analysis.explain import Explanation
from niches.analysis.frontier import Frontier, FrontierPoint
from niches.analysis.judges import JudgesReport
from niches.analysis.price import MEASURES, Price, figures
from niches.analysis.robust import SETTLED, RobustReport, Stats, classify
from niches.analysis.sensitivity import Change, Radius, Sensitivity
from niches.analysis.worlds import WorldRow, WorldsReport
from niches.numbers import clean, labelled, money, plural, share, share_change, signed, value
from niches.optimize.evaluate import RELATIVE_TIE, Metrics
from niches.render import mermaid
from niches.render.json import judged_list, units_json
from niches.render.sections import OBJECTIVE_WORDS, Section, judged_figure
from niches.scenario import Scenario
from niches.scenario.coalition import Coalition
from niches.scenario.judges import label


def portfolio_text(scenario: Scenario, portfolio: Mapping[str, str] | None) -> str:
    """Return `niche (level), ...` in declaration order ("nothing" when empty)."""
    if portfolio is None:
        return "no portfolio keeps the rules"
    parts = [f"{n.id} ({portfolio[n.id]})" for n in scenario.niches if n.id in portfolio]
    parts += [f"deal {d.id}" for d in scenario.deals if d.id in portfolio]
    return ", ".join(parts) or "nothing"


def change_text(scenario: Scenario, old: Mapping[str, str], new: Mapping[str, str] | None) -> str:
    """Return what differs from `old` to `new`: `+a (lead), -b, c (maintain -> expand)`."""
    if new is None:
        return "no portfolio keeps the rules"
    parts = []
    for niche in scenario.niches:
        before, after = old.get(niche.id), new.get(niche.id)
        if before == after:
            continue
        if before is None:
            parts.append(f"+{niche.id} ({after})")
        elif after is None:
            parts.append(f"-{niche.id}")
        else:
            parts.append(f"{niche.id} ({before} -> {after})")
    for deal in scenario.deals:
        if (deal.id in old) != (deal.id in new):
            parts.append(f"{'+' if deal.id in new else '-'}deal {deal.id}")
    return ", ".join(parts) or "the same portfolio"


def _portfolio_json(scenario: Scenario, portfolio: Mapping[str, str] | None) -> list[dict[str, str]] | None:
    if portfolio is None:
        return None
    found = [{"niche": n.id, "level": portfolio[n.id]} for n in scenario.niches if n.id in portfolio]
    return found + [{"deal": d.id} for d in scenario.deals if d.id in portfolio]


# --------------------------------------------------------------------------- frontier


def displayed(f: Frontier) -> Frontier:
    """Return the frontier as charts and tables show it: on the budget axis the current budget has
    its own point at scale 1 (the breakpoint before it, whose optimum holds there) when no
    breakpoint falls on it. JSON keeps the breakpoints only."""
    if f.axis != "budget":
        return f
    at = next((i for i, p in enumerate(f.points) if p.marked), None)
    if at is None:
        return f
    p = f.points[at]
    if p.scale is None or p.scale >= 1 - 1e-9 or (f.span is not None and f.span[1] < 1):
        return f
    plain = dataclasses.replace(p, marked=False)
    current = dataclasses.replace(p, scale=1.0, marked=True)
    return dataclasses.replace(f, points=(*f.points[:at], plain, current, *f.points[at + 1 :]))


def frontier_section(f: Frontier) -> Section:
    """Return the frontier as a table, one row per point in axis order."""
    found = len(f.points)
    f = displayed(f)
    sc = f.scenario
    word = OBJECTIVE_WORDS[f.objective_kind]
    separate = f.axis != "risk" and f.objective_kind == "regret"  # the only objective not in a column
    lead = {
        "budget": ("budget scale",),
        "hull": ("spend / budget",),
        "exposure": ("exposure cap", "largest exposure"),
        "risk": (),
    }[f.axis]
    unit = sc.value_unit
    per_money = f.axis in ("budget", "hull")
    header = (
        *lead,
        "cost",
        *((word,) if separate else ()),
        "expected value",
        *(("per unit of money",) if per_money else ()),
        "CVaR",
        "worst case",
        "portfolio (then: change)",
        "mark",
    )
    first_figure = len(lead)
    worst_col = first_figure + 3 + int(separate) + int(per_money)
    optional = (
        (worst_col,),
        (worst_col - 1,),
        *(((first_figure + 2 + int(separate),),) if per_money else ()),
        *(((1,),) if f.axis == "exposure" else ()),
    )
    rows = []
    strong = set()
    for i, p in enumerate(f.points):
        m = p.metrics
        first: tuple[str, ...] = ()
        if f.axis in ("budget", "hull"):
            first = (f"{p.scale:.4f}",)
        elif f.axis == "exposure":
            first = (share(p.cap or 0.0), share(max(m.exposure.values())))
        objective = (value(p.objective),) if separate else ()
        ratio = (per_money_text(m),) if per_money else ()
        figures = (
            money(m.cost),
            *objective,
            value(m.expected_value),
            *ratio,
            value(m.cvar),
            value(m.worst_case),
        )
        mark = ""
        if p.marked:
            strong.add(i)
            mark = "current budget" if f.axis in ("budget", "hull") else "recommended"
        previous = f.points[i - 1].portfolio if i else None
        described = (
            portfolio_text(sc, p.portfolio) if previous is None else change_text(sc, previous, p.portfolio)
        )
        rows.append((*first, *figures, described, mark))
    right = frozenset(range(0, len(header) - 2))
    title = {
        "budget": "Value for money: the optimum as every budget cap is scaled",
        "risk": "Risk frontier: expected value against CVaR (Pareto set)",
        "exposure": "Price of not choosing sides: the optimum as every exposure cap tightens",
        "hull": "Efficient frontier (convex hull): levels bought in order of value per unit of money",
    }[f.axis]
    title += f" (money in {sc.units}, values in {unit})"
    footer: tuple[str, ...] = (plural(found, "breakpoint"), plural(f.solves, "solve"))
    if f.note:
        footer = (*footer, f.note)
    return Section(title, header, tuple(rows), right, frozenset(strong), footer, optional)


def value_per_money(m: Metrics) -> float | None:
    """Return expected value per unit of money (None at zero cost)."""
    return None if m.cost <= 0 else m.expected_value / m.cost


def per_money_text(m: Metrics) -> str:
    """Return value per unit of money with 4 decimals, "-" at zero cost."""
    ratio = value_per_money(m)
    return "-" if ratio is None else f"{clean(ratio, 4):.4f}"


def frontier_chart(f: Frontier, width: int = 56, height: int = 12) -> str:
    """Return a text chart of the frontier (x: the axis, y: the objective)."""
    f = displayed(f)
    if not f.points:
        return "(no points)"
    xs, ys, xlabel = _chart_data(f)
    ylabel = "expected value" if f.axis == "risk" else OBJECTIVE_WORDS[f.objective_kind]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1.0
    if y1 == y0:
        y1 = y0 + 1.0
    grid = [[" "] * width for _ in range(height)]

    def cell(x: float, y: float) -> tuple[int, int]:
        col = round((x - x0) / (x1 - x0) * (width - 1))
        row = height - 1 - round((y - y0) / (y1 - y0) * (height - 1))
        return row, col

    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        row, col = cell(x, y)
        if f.axis in ("budget", "hull", "exposure") and i + 1 < len(xs):  # a step: flat until the next point
            _, next_col = cell(xs[i + 1], y)
            for c in range(min(col, next_col) + 1, max(col, next_col)):
                if grid[row][c] == " ":
                    grid[row][c] = "─"
        grid[row][col] = "◆" if f.points[i].marked else "●"
    label_width = max(len(value(y1)), len(value(y0)))
    lines = []
    for r, line in enumerate(grid):
        label = value(y1) if r == 0 else value(y0) if r == height - 1 else ""
        lines.append(f"{label:>{label_width}} │{''.join(line)}")
    lines.append(" " * label_width + " └" + "─" * width)
    left, right = _tick(f, x0), _tick(f, x1)
    lines.append(" " * (label_width + 2) + left + " " * max(1, width - len(left) - len(right)) + right)
    legend = f"x: {xlabel} · y: {ylabel}"
    if any(p.marked for p in f.points):
        legend += " · ◆ " + ("current budget" if f.axis in ("budget", "hull") else "recommended")
    lines.append(f"{' ' * (label_width + 2)}{legend}")
    return "\n".join(lines) + "\n"


def _chart_data(f: Frontier) -> tuple[list[float], list[float], str]:
    if f.axis in ("budget", "hull"):
        return [p.scale or 0.0 for p in f.points], [p.objective for p in f.points], "budget scale"
    if f.axis == "exposure":
        return [p.cap or 0.0 for p in f.points], [p.objective for p in f.points], "exposure cap"
    return [p.metrics.cvar for p in f.points], [p.metrics.expected_value for p in f.points], "CVaR"


def frontier_mermaid(f: Frontier) -> str:
    """Return the frontier as mermaid charts on a numeric x axis, each point at its true position.

    Budget and exposure frontiers are steps (an optimum holds until the next
    breakpoint); the risk frontier is the best expected value at each CVaR or
    more. The budget frontier adds value per unit of money.
    """
    f = displayed(f)
    if not f.points:
        return ""
    sc = f.scenario
    unit = sc.value_unit
    word = OBJECTIVE_WORDS[f.objective_kind]
    if f.axis == "risk":
        ordered = sorted(f.points, key=lambda p: p.metrics.cvar)
        xs = [p.metrics.cvar for p in ordered]
        if xs[-1] - xs[0] <= 1e-9 * max(1.0, abs(xs[0])):  # one point: no curve to draw
            return ""
        at = mermaid.positions(xs[0], xs[-1])
        ys = mermaid.step_before(xs, [p.metrics.expected_value for p in ordered], at)
        return mermaid.line_chart(
            "Best expected value at each CVaR or more",
            labelled("CVaR", unit),
            (xs[0], xs[-1]),
            labelled("expected value", unit),
            ys,
        )
    if f.axis == "exposure":
        ordered = sorted(f.points, key=lambda p: p.cap or 0.0)
        xs = [100 * (p.cap or 0.0) for p in ordered]
        at = mermaid.positions(xs[0], xs[-1])
        ys = mermaid.step_down(xs, [p.objective for p in ordered], at)
        return mermaid.line_chart(
            "Objective as every exposure cap tightens",
            "exposure cap (% of spend)",
            (xs[0], xs[-1]),
            labelled(word, unit),
            ys,
        )
    xs = [p.scale or 0.0 for p in f.points]
    top = max(xs[-1], f.span[1]) if f.span else xs[-1]
    at = mermaid.positions(xs[0], top)
    chart = mermaid.line_chart(
        "Objective as the budget scales (red bar: the current budget)",
        "budget scale (1 = the caps as written)",
        (xs[0], top),
        labelled(word, unit),
        mermaid.step_after(xs, [p.objective for p in f.points], at),
        marker=1.0,
    )
    per_money = [value_per_money(p.metrics) or 0.0 for p in f.points]
    chart += "\n" + mermaid.line_chart(
        f"Value for money: expected {unit} per {sc.units}",
        "budget scale (1 = the caps as written)",
        (xs[0], top),
        f"{unit} per {sc.units}",
        mermaid.step_after(xs, per_money, at),
        decimals=4,
    )
    return chart


def _tick(f: Frontier, x: float) -> str:
    return share(x) if f.axis == "exposure" else f"{x:.3f}" if f.axis in ("budget", "hull") else value(x)


def frontier_json(f: Frontier) -> dict[str, Any]:
    """Return the JSON object of `niches frontier`."""
    sc = f.scenario

    def point(p: FrontierPoint) -> dict[str, Any]:
        m = p.metrics
        data: dict[str, Any] = {
            "expected_value": clean(m.expected_value),
            "cvar": clean(m.cvar),
            "worst_case": clean(m.worst_case),
            "cost": clean(m.cost),
            "objective": clean(p.objective),
        }
        if f.axis in ("budget", "hull"):
            ratio = value_per_money(m)
            data["value_per_money"] = None if ratio is None else clean(ratio)
        if f.axis in ("budget", "hull"):
            data["scale"] = clean(p.scale or 0.0)
        if f.axis == "exposure":
            data["cap"] = clean(p.cap or 0.0)
            data["largest_exposure"] = clean(max(m.exposure.values()))
        data["marked"] = p.marked
        data["portfolio"] = _portfolio_json(sc, p.portfolio)
        return data

    out: dict[str, Any] = {
        "scenario": sc.name,
        "units": units_json(sc),
        "axis": f.axis,
        "objective": f.objective_kind,
        "points": [point(p) for p in f.points],
        "solves": f.solves,
    }
    if f.axis == "risk":
        out["recommended"] = None if f.recommended is None else point(f.recommended)
    return out


# --------------------------------------------------------------------------- sensitivity


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
            f"+{value(p.drop_gain)}",
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
                "drop_gain": clean(p.drop_gain),
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
    }


# --------------------------------------------------------------------------- infeasibility


def conflict_section(explanation: Explanation) -> Section:
    rows = tuple((c.rule, c.location or "-", c.relaxation) for c in explanation.conflict)
    footer = () if explanation.combined_text is None else (combined_line(explanation),)
    return Section(
        "No portfolio keeps every rule. These rules conflict (drop or relax any one of them):",
        ("rule", "where", "smallest relaxation that alone restores feasibility"),
        rows,
        footer=footer,
    )


def combined_line(explanation: Explanation) -> str:
    """Return the line under the conflict that gives the smallest combined relaxation."""
    if not explanation.combined:
        return f"No single relaxation suffices, and {explanation.combined_text}."
    return f"No single relaxation suffices; together: {explanation.combined_text}."


def conflict_json(explanation: Explanation) -> list[dict[str, Any]]:
    """Return the `conflict` array: rule, location, relaxation."""
    return [
        {"rule": c.rule, "location": c.location, "relaxation": c.relaxation, "restores": c.restores}
        for c in explanation.conflict
    ]


def combined_json(explanation: Explanation) -> list[dict[str, Any]] | None:
    """Return the `combined_relaxation` array: rule, location, limit, relaxed_limit, by (signed), relaxation.

    None when it was not needed (a single relaxation restores feasibility, or
    the scenario is feasible); empty when relaxing the conflict's limits
    together does not restore feasibility either.
    """
    if explanation.combined_text is None:
        return None
    return [
        {
            "rule": r.rule,
            "location": r.location,
            "limit": clean(r.limit),
            "relaxed_limit": clean(r.relaxed),
            "by": clean(r.relaxed - r.limit),
            "relaxation": r.text,
        }
        for r in explanation.combined
    ]


# --------------------------------------------------------------------------- worlds and robustness


def _row_columns(report: WorldsReport) -> tuple[str, ...]:
    return tuple(f"P{i + 1}" for i in range(len(report.rows)))


def _later_rows_first(report: WorldsReport, first: int) -> tuple[tuple[int, ...], ...]:
    """Return the optional column groups of a table with a column per row from `first` on: P2 on,
    the last first (P1, the recommendation's row, always shows)."""
    return tuple((first + i,) for i in range(len(report.rows) - 1, 0, -1))


def worlds_section(report: WorldsReport) -> Section:
    """Return the value table: a row per world, a column per portfolio (P1, P2, ...), then its figures."""
    sc = report.scenario
    rows: list[tuple[str, ...]] = [
        (
            w.id,
            *(value(row.metrics.value_by_world[w.id]) for row in report.rows),
            value(report.best_by_world[w.id]),
        )
        for w in sc.worlds
    ]
    figures = [
        ("expected value", [row.metrics.expected_value for row in report.rows]),
        ("worst case", [row.metrics.worst_case for row in report.rows]),
        ("CVaR", [row.metrics.cvar for row in report.rows]),
        ("max regret", [row.max_regret for row in report.rows]),
    ]
    strong = frozenset(range(len(rows), len(rows) + len(figures)))
    rows += [(label, *(value(x) for x in xs), "") for label, xs in figures]
    return Section(
        f"Value in each world ({sc.value_unit})",
        ("world", *_row_columns(report), "best alone"),
        tuple(rows),
        frozenset(range(1, len(report.rows) + 2)),
        strong,
        footer=(
            "P1, P2, ...: the portfolios below; best alone: the best value reachable in that world alone",
        ),
        optional=((len(report.rows) + 1,), *_later_rows_first(report, 1)),
    )


def regret_section(report: WorldsReport) -> Section:
    """Return the regret table: a row per world, a column per portfolio (best alone less its value)."""
    sc = report.scenario
    rows = [(w.id, *(value(row.regret[w.id]) for row in report.rows)) for w in sc.worlds]
    rows.append(("max regret", *(value(row.max_regret) for row in report.rows)))
    return Section(
        f"Regret in each world ({sc.value_unit})",
        ("world", *_row_columns(report)),
        tuple(rows),
        frozenset(range(1, len(report.rows) + 1)),
        frozenset({len(rows) - 1}),
        footer=("regret: the best value reachable in that world alone less the portfolio's",),
        optional=_later_rows_first(report, 1),
    )


def _picked_by(picks: tuple[str, ...]) -> str:
    """Return who picks a portfolio in short words: `best in: blocs; rules: expected, regret`."""
    worlds = [p.removeprefix("best in ") for p in picks if p.startswith("best in ")]
    rules = [p.removesuffix(" rule") for p in picks if p.endswith(" rule")]
    parts = ([f"best in: {', '.join(worlds)}"] if worlds else []) + (
        [f"rules: {', '.join(rules)}"] if rules else []
    )
    return "; ".join(parts)


def worlds_portfolios_section(report: WorldsReport) -> Section:
    """Return what each column of the world tables holds, and what picks it."""
    sc = report.scenario
    return Section(
        "The portfolios (a rule picks the portfolio its objective would choose)",
        ("", "picked by", "portfolio"),
        tuple(
            (f"P{i + 1}", _picked_by(row.picked_by), portfolio_text(sc, row.portfolio))
            for i, row in enumerate(report.rows)
        ),
    )


def worlds_json(report: WorldsReport) -> dict[str, Any]:
    """Return the JSON object of `niches worlds`."""
    sc = report.scenario

    def summary(row: WorldRow) -> dict[str, Any]:
        return {
            "portfolio": _portfolio_json(sc, row.portfolio),
            "expected_value": clean(row.metrics.expected_value),
            "worst_case": clean(row.metrics.worst_case),
            "cvar": clean(row.metrics.cvar),
            "max_regret": clean(row.max_regret),
        }

    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "best_by_world": {k: clean(v) for k, v in report.best_by_world.items()},
        "table": [
            {
                "label": row.label,
                "picked_by": list(row.picked_by),
                **summary(row),
                "value_by_world": {k: clean(v) for k, v in row.metrics.value_by_world.items()},
                "regret_by_world": {k: clean(v) for k, v in row.regret.items()},
            }
            for row in report.rows
        ],
        "rules": {kind: summary(report.rows[i]) for kind, i in report.picks.items()},
    }


def _stats_text(stats: Stats) -> tuple[str, str, str, str]:
    if stats.count == 0:
        return ("-", "-", "-", "-")
    return (value(stats.mean), value(stats.p5), value(stats.p50), value(stats.p95))


LEVEL_UNCERTAIN = "level uncertain"


def core_section(report: RobustReport) -> Section:
    """Return the core index table: each niche's share of samples, its class and its split by level.

    Shared by `niches robust` (terminal and markdown) and `niches report`.
    """
    sc = report.scenario
    rec = report.recommended
    rows = []
    for niche in sc.niches:
        split = report.level_split.get(niche.id, {})
        levels = " · ".join(f"{level} {share(x)}" for level, x in split.items()) or "-"
        index = report.core_index[niche.id]
        flag = LEVEL_UNCERTAIN if niche.id in report.level_uncertain else ""
        rows.append((niche.id, share(index), classify(index), rec.get(niche.id, "-"), levels, flag))
    settled, out_of = SETTLED
    return Section(
        "Core index: share of samples whose optimum contains the niche (core >= 90%, exterior <= 10%)",
        ("niche", "core index", "class", "recommended", "levels", "flag"),
        tuple(rows),
        frozenset({1}),
        footer=(
            "levels: share of samples at each level ever chosen (they add up to the core index)",
            f"{LEVEL_UNCERTAIN}: in the optimum of more than half the samples, "
            f"yet no level holds {settled}/{out_of} of the samples that choose the niche",
        ),
        optional=((3,), (2,)),
    )


def robust_sections(report: RobustReport) -> list[Section]:
    """Return the sections of `niches robust`."""
    sc = report.scenario
    rec = report.recommended
    core = core_section(report)
    figures = Section(
        "The recommendation across samples",
        ("figure", "mean", "p5", "p50", "p95"),
        (
            (OBJECTIVE_WORDS[report.objective_kind], *_stats_text(report.objective)),
            ("regret against each sample's optimum", *_stats_text(report.regret)),
        ),
        frozenset({1, 2, 3, 4}),
        footer=(
            f"optimal in {share(report.optimal_share)} of samples",
            f"breaks a rule in {share(report.broken_share)}",
            f"no portfolio keeps the rules in {share(report.infeasible_share)}",
        ),
    )
    top = Section(
        "Most frequent optimal portfolios",
        ("share", "portfolio", "vs recommended"),
        tuple((share(s), portfolio_text(sc, p), change_text(sc, rec, p)) for p, s in report.top),
        frozenset({0}),
    )
    return [core, figures, top]


def robust_heading(report: RobustReport) -> str:
    state = "partial: interrupted after " if report.partial else ""
    return (
        f"{report.scenario.name}: Monte Carlo, {state}{report.done} of {plural(report.samples, 'sample')} "
        f"(seed {report.seed}, varying {', '.join(report.vary) or 'nothing'})"
    )


def robust_json(report: RobustReport) -> dict[str, Any]:
    """Return the JSON object of `niches robust`."""
    sc = report.scenario

    def stats(s: Stats) -> dict[str, float | None]:
        if s.count == 0:
            return {"mean": None, "p5": None, "p50": None, "p95": None}
        return {"mean": clean(s.mean), "p5": clean(s.p5), "p50": clean(s.p50), "p95": clean(s.p95)}

    return {
        "scenario": sc.name,
        "units": units_json(sc),
        "samples": report.samples,
        "done": report.done,
        "partial": report.partial,
        "seed": report.seed,
        "vary": list(report.vary),
        "concentration": clean(report.concentration),
        "objective": report.objective_kind,
        "core_index": {k: clean(v) for k, v in report.core_index.items()},
        "level_index": {k: clean(v) for k, v in report.level_index.items()},
        "level_split": {
            niche: {level: clean(x) for level, x in split.items()}
            for niche, split in report.level_split.items()
        },
        "level_uncertain": list(report.level_uncertain),
        "recommended": {
            "portfolio": _portfolio_json(sc, report.recommended),
            "optimal_share": clean(report.optimal_share),
            "objective": stats(report.objective),
            "regret": stats(report.regret),
            "broken_share": clean(report.broken_share),
        },
        "infeasible_share": clean(report.infeasible_share),
        "top_portfolios": [{"portfolio": _portfolio_json(sc, p), "share": clean(s)} for p, s in report.top],
        "engine": report.engine,
    }


# --------------------------------------------------------------------------- diff


def _level(level: str | None) -> str:
    return level if level is not None else "out"


def _figure(label: str, x: float | None) -> str:
    if x is None:
        return "-"
    return share(x) if label.startswith("exposure") else money(x) if label == "cost" else value(x)


def _delta(label: str, a: float | None, b: float | None) -> str:
    """Return the change of a figure as shown (shares in percentage points, money and values signed)."""
    if a is None or b is None:
        return "-"
    if label.startswith("exposure"):
        return share_change(a, b)
    if label == "cost":
        return signed(money(clean(b, 1) - clean(a, 1)))
    return signed(value(clean(b, 2) - clean(a, 2)))


def _comparable(label: str, d: Diff) -> bool:
    """Return whether a figure is in the same unit on both sides (money or value units may differ)."""
    if label == "cost":
        return d.old.units == d.new.units
    if label.startswith("exposure"):
        return True
    return d.old.value_unit == d.new.value_unit


def _figure_label(label: str, sc: Scenario) -> str:
    if label.startswith("exposure"):
        return labelled(label, "share of spend")
    return labelled(label, sc.units if label == "cost" else sc.value_unit)


def diff_sections(d: Diff) -> list[Section]:
    """Return the sections of `niches diff`: assumptions, recommendation, figures, causes."""
    assumptions = Section(
        "Assumptions changed",
        ("change",),
        tuple((u.description,) for u in d.units) or (("no change of assumptions",),),
    )
    order = [n.id for n in d.new.niches] + [
        n.id for n in d.old.niches if n.id not in {m.id for m in d.new.niches}
    ]
    rows = []
    for nid in order:
        was, now = d.before.portfolio.get(nid), d.after.portfolio.get(nid)
        if was is None and now is None:
            continue
        verdict = (
            "same"
            if was == now
            else "enters"
            if was is None
            else "leaves"
            if now is None
            else "changes level"
        )
        rows.append((nid, _level(was), _level(now), verdict))
    deal_order = [x.id for x in d.new.deals] + [
        x.id for x in d.old.deals if x.id not in {y.id for y in d.new.deals}
    ]
    for did in deal_order:
        was_taken, now_taken = did in d.before.portfolio, did in d.after.portfolio
        if was_taken or now_taken:
            verdict = "same" if was_taken == now_taken else ("taken" if now_taken else "refused")
            shown = ("taken" if was_taken else "not taken", "taken" if now_taken else "not taken")
            rows.append((f"deal {did}", *shown, verdict))
    recommendation = Section(
        f"Recommendation ({d.before.status} -> {d.after.status})",
        ("niche", "before", "after", "verdict"),
        tuple(rows),
        strong=frozenset(i for i, r in enumerate(rows) if r[3] != "same"),
    )
    figures = Section(
        "Figures",
        ("figure", "before", "after", "change"),
        tuple(
            (
                _figure_label(label, d.new)
                if _comparable(label, d)
                else f"{label} ({d.old.units} -> {d.new.units})",
                _figure(label, a),
                _figure(label, b),
                _delta(label, a, b) if _comparable(label, d) else "not comparable",
            )
            for label, a, b in metric_deltas(d.before.metrics, d.after.metrics)
        ),
        frozenset({1, 2, 3}),
    )
    cause_rows = []
    for c in d.causes:
        what = f"{c.niche}: {_level(c.before)} -> {_level(c.after)}"
        if not c.units:
            why = "only the changes together"
        elif c.alone:
            why = " or ".join(c.units) + (" (alone)" if len(c.units) == 1 else " (each alone)")
        else:
            why = " + ".join(c.units) + " (together)"
        cause_rows.append((what, why))
    causes = Section("Why the recommendation changed", ("change", "caused by"), tuple(cause_rows))
    sections = [assumptions, recommendation, figures]
    if cause_rows:
        sections.append(causes)
    return sections


def diff_json(d: Diff) -> dict[str, Any]:
    """Return the JSON object of `niches diff`."""
    return {
        "scenario": d.new.name,
        "old": d.old_name,
        "new": d.new_name,
        "units": units_json(d.new),
        **({} if units_json(d.old) == units_json(d.new) else {"units_before": units_json(d.old)}),
        "assumptions": [
            {
                "change": u.label,
                "path": list(u.path),
                "before": u.before,
                "after": u.after,
                "description": u.description,
            }
            for u in d.units
        ],
        "recommendation": {
            "before": {"status": d.before.status, "portfolio": _portfolio_json(d.old, d.before.portfolio)},
            "after": {"status": d.after.status, "portfolio": _portfolio_json(d.new, d.after.portfolio)},
            "changes": [{"niche": c.niche, "before": c.before, "after": c.after} for c in d.causes],
            "metrics": {
                label: {
                    "before": None if a is None else clean(a),
                    "after": None if b is None else clean(b),
                    "delta": None if a is None or b is None or not _comparable(label, d) else clean(b - a),
                }
                for label, a, b in metric_deltas(d.before.metrics, d.after.metrics)
            },
        },
        "causes": [
            {
                "niche": c.niche,
                "before": c.before,
                "after": c.after,
                "caused_by": list(c.units),
                "alone": c.alone,
            }
            for c in d.causes
        ],
        "solves": d.solves,
    }


# --------------------------------------------------------------------------- price


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
                        f"+{value(r.committed)}",
                        "-" if r.free is None else f"+{value(r.free)}",
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
                "gain_if_dropped": clean(r.committed),
                "gain_if_dropped_free": None if r.free is None else clean(r.free),
            }
            for r in price.expensive
        ],
    }


# --------------------------------------------------------------------------- judges


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


# --------------------------------------------------------------------------- coalition


def coalition_sections(report: CoalitionReport) -> list[Section]:
    """Return the sections of `niches coalition`: members, the joint plan, sub-coalitions."""
    c = report.coalition
    rows = tuple(
        (
            m.name,
            value(m.alone),
            value(m.own),
            value(m.transfer),
            value(m.joint),
            value(m.gain),
            value(m.shapley),
            "yes" if m.gain >= -RELATIVE_TIE * max(1.0, abs(m.alone)) else "no",
        )
        for m in report.members
    )
    members = Section(
        f"Members (objective values; split: {c.split})",
        ("member", "alone", "own in joint plan", "side payment", "payoff", "gain", "Shapley", "no worse"),
        rows,
        frozenset(range(1, 7)),
        optional=((6,), (2,), (3,)),
        footer=(
            "payoff: what the member gets in the coalition (its own value in the joint plan, plus the side "
            "payment that shares the total by Shapley value when split is shapley)",
            *_objectives_note(c),
        ),
    )
    plan_rows = tuple(
        (m, portfolio_text(c.members[m], report.grand.portfolios[m])) for m in report.grand.members
    )
    sections = [members, Section("The joint plan", ("member", "portfolio"), plan_rows)]
    share_rows = _share_rows(report)
    if share_rows:
        sections.append(
            Section(
                "Shared niches: who pays what share",
                ("niche", "level", "member", "share"),
                share_rows,
                frozenset({3}),
            )
        )
    sub_rows = []
    blocking = set(report.blocking)
    names = list(c.members)
    apart = False
    for key in _groups_in_order(report):
        ordered = tuple(sorted(key, key=names.index))
        together = report.values[key] is not None
        apart = apart or not together
        sub_rows.append(
            (
                " + ".join(ordered),
                value(report.worth[key]) + ("" if together else " (apart)"),
                value(math.fsum(_payoff(report, m) for m in ordered)),
                "yes" if ordered in blocking else "",
            )
        )
    sections.append(
        Section(
            "Sub-coalitions: what each could do on its own",
            ("members", "best on their own", "their payoffs", "blocks"),
            tuple(sub_rows),
            frozenset({1, 2}),
            footer=(
                "stable: yes (no sub-coalition does better on its own)"
                if report.stable
                else "stable: no (the sub-coalitions marked block: they do better on their own)",
                *(
                    [
                        "(apart): its members cannot plan together (a shared niche is built by all or none), "
                        "so it is worth the best split into smaller groups"
                    ]
                    if apart
                    else []
                ),
            ),
        )
    )
    return sections


def _objectives_note(c: Coalition) -> tuple[str, ...]:
    """Say so when the members optimise different objectives (their figures are then unlike)."""
    kinds = {m: s.objective for m, s in c.members.items()}
    if len(set(kinds.values())) < 2:
        return ()
    each = ", ".join(f"{m} {OBJECTIVE_WORDS[k]}" for m, k in kinds.items())
    return (
        f"the members optimise different objectives ({each}): each figure is the member's own objective, "
        "and totals add unlike figures",
    )


def _share_rows(report: CoalitionReport) -> tuple[tuple[str, ...], ...]:
    """Return (niche, level, member, share) rows; one row for all levels when a member's share is alike."""
    rows: list[tuple[str, ...]] = []
    ordered = sorted(report.shares.items(), key=_share_key(report.coalition))
    for (member, nid), items in itertools.groupby(ordered, key=lambda kv: (kv[0][0], kv[0][1])):
        parts = list(items)
        if len({round(part, 12) for _, part in parts}) == 1:
            rows.append((nid, "every level", member, share(parts[0][1])))
        else:
            rows.extend((nid, lid, member, share(part)) for (_, _, lid), part in parts)
    return tuple(rows)


def _groups_in_order(report: CoalitionReport) -> list[tuple[str, ...]]:
    """Return every sub-coalition, smaller first, then in the members' order."""
    names = list(report.coalition.members)
    return sorted(report.values, key=lambda k: (len(k), sorted(map(names.index, k))))


def _payoff(report: CoalitionReport, member: str) -> float:
    return next(m.joint for m in report.members if m.name == member)


def _share_key(c: Coalition) -> Callable[[tuple[tuple[str, str, str], float]], tuple[int, int, str]]:
    names = list(c.members)

    def key(item: tuple[tuple[str, str, str], float]) -> tuple[int, int, str]:
        (member, nid, lid), _ = item
        return (list(c.shared).index(nid), names.index(member), lid)

    return key


def coalition_json(report: CoalitionReport) -> dict[str, Any]:
    """Return the JSON object of `niches coalition`."""
    c = report.coalition
    names = list(c.members)
    first = next(iter(c.members.values()))
    return {
        "coalition": c.name,
        "scenario": c.name,
        "units": units_json(first),
        "objectives": {m: s.objective for m, s in c.members.items()},
        "split": c.split,
        "members": [
            {
                "name": m.name,
                "alone": clean(m.alone),
                "joint": clean(m.joint),
                "gain": clean(m.gain),
                "shapley": clean(m.shapley),
                "own": clean(m.own),
                "transfer": clean(m.transfer),
                "objective": c.members[m.name].objective,
                "portfolio": _portfolio_json(c.members[m.name], report.grand.portfolios[m.name]),
            }
            for m in report.members
        ],
        "shared": [
            {
                "niche": nid,
                "members": list(c.holders[nid]),
                "shares": [
                    {"member": member, "level": lid, "share": clean(part)}
                    for (member, n, lid), part in sorted(report.shares.items(), key=_share_key(c))
                    if n == nid
                ],
            }
            for nid in c.shared
        ],
        "stable": report.stable,
        "blocking": [list(k) for k in report.blocking],
        "coalitions": [
            {
                "members": sorted(k, key=names.index),
                "value": clean(report.worth[k]),
                "together": report.values[k] is not None,
            }
            for k in _groups_in_order(report)
        ],
    }
