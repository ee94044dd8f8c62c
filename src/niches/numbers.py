"""Fixed number formats shared by every renderer, so output is stable across machines."""

from __future__ import annotations

import math

DIGITS = 6
"""Decimal places kept in JSON."""


def clean(x: float, digits: int = DIGITS) -> float:
    """Round `x` for JSON: fixed decimals, no negative zero."""
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x!r}")
    rounded = round(x, digits)
    return 0.0 if rounded == 0 else rounded


def money(x: float) -> str:
    """Format an amount of money: thousands separated, one decimal unless whole."""
    x = clean(x, 1)
    return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"


def value(x: float) -> str:
    """Format a value in value units: two decimals."""
    return f"{clean(x, 2):.2f}"


def gain(low: float, high: float) -> str:
    """Format what dropping a rule gains: `+1.17`, or `+0.91 to 1.34` when only its bounds are known."""
    first, last = value(low), value(high)
    return f"+{first}" if first == last else f"+{first} to {last}"


def share(x: float) -> str:
    """Format a share in [0, 1] as a percentage with one decimal."""
    return f"{clean(x * 100, 1):.1f}%"


def amount(x: float) -> str:
    """Format a count or capacity: no decimals when whole."""
    x = clean(x, 3)
    return f"{x:,.0f}" if x == int(x) else f"{x:,.3g}"


def measured(x: float, unit: str, units: str) -> str:
    """Format a rule's measurement in its own unit."""
    if unit == "share":
        return share(x)
    if unit == "value":
        return value(x)
    if unit == units:
        return money(x)
    return amount(x)


def points(x: float) -> str:
    """Format a change of share (a difference of fractions) in percentage points, signed."""
    return f"{clean(x * 100, 1):+.1f} pp"


def share_change(before: float, after: float) -> str:
    """Format the change between two shares as the difference of the percentages shown, so a row adds up."""
    return points((clean(after * 100, 1) - clean(before * 100, 1)) / 100)


def signed(text: str) -> str:
    """Return a formatted number with a leading + unless it is negative."""
    return text if text.startswith("-") else f"+{text}"


def labelled(label: str, unit: str) -> str:
    """Return a column label with its unit: `cost (USD million)`."""
    return f"{label} ({unit})"


IRREGULAR = {
    "analysis": "analyses",
    "child": "children",
    "criterion": "criteria",
    "optimum": "optima",
    "person": "people",
}
"""Nouns whose plural no rule gives."""


def plural_of(noun: str) -> str:
    """Return the plural of `noun` (its last word inflected): criterion -> criteria, capacity ->
    capacities, batch -> batches, Monte Carlo sample -> Monte Carlo samples."""
    head, space, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in IRREGULAR:
        many = IRREGULAR[lower]
        many = many.capitalize() if last[:1].isupper() else many
    elif lower.endswith("y") and lower[-2:-1] not in ("", *"aeiou"):
        many = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        many = last + "es"
    else:
        many = last + "s"
    return head + space + many


def plural(n: int, noun: str) -> str:
    """Return the count and the noun that agrees with it: 1 solve, 0 solves, 2 criteria."""
    return f"{n} {noun if n == 1 else plural_of(noun)}"
