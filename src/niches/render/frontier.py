"""Sections, charts and JSON of a frontier: `niches frontier` and the report's frontiers."""

from __future__ import annotations

import dataclasses
from typing import Any

from niches.analysis.frontier import Frontier, FrontierPoint
from niches.numbers import clean, labelled, money, plural, share, value
from niches.optimize.evaluate import Metrics
from niches.render import mermaid
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json, change_text, portfolio_text
from niches.render.sections import OBJECTIVE_WORDS, Section


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
    if f.tail is not None:  # cut short: drawn up to where it stopped, not flat to the end of the range
        top = max(xs[-1], f.tail[0])
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
    if f.tail is not None:
        first, last, low, high = f.tail
        out["tail_bounds"] = {"from": clean(first), "to": clean(last), "objective": [clean(low), clean(high)]}
    return out
