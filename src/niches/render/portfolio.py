"""A portfolio and a change of portfolio in words and JSON, shared by the analyses' views."""

from __future__ import annotations

from collections.abc import Mapping

from niches.scenario import Scenario


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
