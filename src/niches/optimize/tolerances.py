"""The tolerances of every exact comparison: when objectives tie, how much slack a rule is allowed."""

from __future__ import annotations

RELATIVE_TIE = 1e-6
"""Portfolios whose objectives differ by less than this (relative) are tied."""


FEASIBILITY_TOLERANCE = 1e-7
"""Slack allowed when checking a rule (relative to the size of its terms)."""


def close(a: float, b: float) -> bool:
    """Return whether `a` and `b` tie within RELATIVE_TIE."""
    return abs(a - b) <= RELATIVE_TIE * max(1.0, abs(a), abs(b))
