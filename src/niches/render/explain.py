"""Sections and JSON of an infeasibility: the rules that conflict (`niches explain`, `niches solve`)."""

from __future__ import annotations

from typing import Any

from niches.analysis.explain import Explanation
from niches.numbers import clean
from niches.render.sections import Section


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
