"""Sections and JSON of `niches diff`: two scenarios' recommendations side by side."""

from __future__ import annotations

from typing import Any

from niches.analysis.diff import Diff, metric_deltas
from niches.numbers import clean, labelled, money, share, share_change, signed, value
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json
from niches.render.sections import Section
from niches.scenario import Scenario


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
