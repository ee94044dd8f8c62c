"""The goals a model optimises: which are better when lower, and the tie-break chain of each objective."""

from __future__ import annotations

MINIMISED = (
    "max_regret",
    "total_spend",
    "start_rank",
    "tie_rank",
    "budget_scale",
    "spend[",
    "uses[",
    "relaxation",
)
"""Goals (expressions) that are better when lower; every other goal is maximised."""


KIND_GOAL = {"expected": "expected_value", "worst_case": "worst_case", "cvar": "cvar", "regret": "max_regret"}
"""The goal each objective kind optimises."""


def minimised(goal: str) -> bool:
    """Return whether `goal` is better when lower."""
    return goal.startswith(MINIMISED)


def tie_break_goals(kind: str, timed: bool = False) -> list[str]:
    """Return the goals solved in order for objective `kind`.

    It, expected value, spend, then (when levels may start later, `timed`)
    the earlier start, then declaration order.
    """
    primary = KIND_GOAL[kind]
    goals = [primary]
    if primary != "expected_value":
        goals.append("expected_value")
    return [*goals, "total_spend", *(["start_rank"] if timed else []), "tie_rank"]
