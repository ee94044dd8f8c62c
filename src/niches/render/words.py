"""Rules in plain words, for prose (`budget[2026]` -> the budget for 2026)."""

from __future__ import annotations

FAMILIES = {
    "budget": "the budget caps",
    "capacity": "the capacity limits",
    "max_exposure": "the caps on exposure",
    "must_include": "the commitments to include niches",
    "must_exclude": "the commitments to leave niches out",
    "pin": "the pinned levels",
    "requires": "the requirements between niches",
    "excludes": "the exclusions between niches",
}
"""A rule family (every `budget[...]`), in words, for a family that binds only as a whole."""

SINGLE = {
    "min_niches": "the least number of niches",
    "max_niches": "the most niches allowed",
    "max_share": "the cap on one niche's share of spend",
    "max_imbalance": "the cap on the imbalance between powers",
    "min_cvar": "the floor on CVaR",
    "min_worst_case": "the floor on the worst case",
}
"""A rule without an argument, in words."""


def rule_words(rule: str) -> str:
    """Return a rule group's id (`budget[2026]`, `max_exposure[China]`, `min_cvar`) in plain words.

    An id this does not know is returned in code style (`` `x` ``), never guessed at.
    """
    if rule in SINGLE:
        return SINGLE[rule]
    family, bracket, rest = rule.partition("[")
    if not bracket or not rest.endswith("]"):
        return f"`{rule}`"
    argument = rest[:-1]
    if argument == "*":
        return f"{FAMILIES[family]} together" if family in FAMILIES else f"`{rule}`"
    if family == "budget":
        return "the total budget" if argument == "total" else f"the budget for {argument}"
    if family == "capacity":
        return f"the {argument} available"
    if family == "max_exposure":
        return f"the cap on exposure to {argument}"
    if family == "must_include":
        return f"the commitment to fund {argument}"
    if family == "must_exclude":
        return f"the commitment to leave out {argument}"
    if family == "pin":
        return f"the level pinned for {argument}"
    if family == "requires" and " -> " in argument:
        first, needed = argument.split(" -> ", 1)
        return f"the requirement that {first} needs {needed}"
    if family == "excludes" and ", " in argument:
        first, other = argument.split(", ", 1)
        return f"the rule that {first} and {other} exclude each other"
    return f"`{rule}`"
