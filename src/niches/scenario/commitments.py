"""Commitments given on the command line (`--pin`, `--include`, `--exclude`), added to a scenario as rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from niches.scenario.checks import _hint
from niches.scenario.types import Niche, Scenario
from niches.scenario.yamlsource import Location

COMMAND_LINE = Location("command line", 0, 0)
"""Where a rule given on the command line (`--pin`, `--include`, `--exclude`) is declared."""


class CommitmentError(ValueError):
    """A commitment names a niche, level or period the scenario does not have."""


@dataclass(frozen=True)
class Commitment:
    """A political commitment: `niche` at `level` from `start`, at any level, or left out.

    `level` None means any level; `start` None any start period the level allows.
    """

    niche: str
    level: str | None = None
    start: str | None = None
    excluded: bool = False

    def __str__(self) -> str:
        if self.excluded:
            return f"-{self.niche}"
        if self.level is None:
            return self.niche
        return f"{self.niche}={self.level}" + (f"@{self.start}" if self.start else "")

    @staticmethod
    def parse(text: str) -> Commitment:
        """Read `NICHE=LEVEL[@PERIOD]`, `NICHE` (any level) or `-NICHE` (left out)."""
        text = text.strip()
        if text.startswith("-"):
            return Commitment(text[1:], excluded=True)
        niche, sep, level = text.partition("=")
        if not sep:
            return Commitment(niche)
        return Commitment(niche, level)


def commit(scenario: Scenario, commitments: Sequence[Commitment]) -> Scenario:
    """Return `scenario` with `commitments` added as rules declared on the command line.

    A pin becomes the rule group `pin[niche]` (the niche takes one of the
    allowed levels); `NICHE` adds `must_include[niche]`, `-NICHE`
    `must_exclude[niche]`; a deal is committed the same way (`DEAL` taken,
    `-DEAL` refused). Raise CommitmentError naming what is unknown.
    """
    if not commitments:
        return scenario
    r = scenario.rules
    include, exclude = list(r.must_include), list(r.must_exclude)
    pins = dict(r.pins)
    locations = dict(scenario.locations)
    ids = [n.id for n in scenario.niches]
    deal_ids = [d.id for d in scenario.deals]
    first: dict[str, Commitment] = {}
    for c in commitments:
        earlier = first.setdefault(c.niche, c)
        if earlier != c:
            raise CommitmentError(f"{earlier} and {c} both commit '{c.niche}'; keep one")
        if c.niche in deal_ids and c.level is not None:
            raise CommitmentError(f"{c}: '{c.niche}' is a deal, taken or not: write {c.niche} or -{c.niche}")
        if c.niche not in ids + deal_ids:
            known = ids + deal_ids
            kind = "niche or deal" if deal_ids else "niche"
            raise CommitmentError(f"{c}: unknown {kind} '{c.niche}'{_hint(c.niche, known)}")
        if c.excluded:
            if c.niche not in exclude:
                exclude.append(c.niche)
                locations[f"must_exclude[{c.niche}]"] = COMMAND_LINE
            continue
        if c.level is None:
            if c.niche not in include:
                include.append(c.niche)
                locations[f"must_include[{c.niche}]"] = COMMAND_LINE
            continue
        pins[c.niche] = _pinned_levels(scenario.niche(c.niche), c)
        locations[f"pin[{c.niche}]"] = COMMAND_LINE
    rules = dataclasses.replace(r, must_include=tuple(include), must_exclude=tuple(exclude), pins=pins)
    return dataclasses.replace(scenario, rules=rules, locations=locations)


def _pinned_levels(niche: Niche, c: Commitment) -> tuple[str, ...]:
    """Return the level ids (with their starts) commitment `c` allows niche `niche` to take."""
    assert c.level is not None
    exact = [lv.id for lv in niche.levels if lv.id == c.level and "@" in c.level]
    if exact:  # a declared id with an '@' in it (its niche cannot start later)
        return tuple(exact)
    level, at, start = c.level.rpartition("@") if "@" in c.level else (c.level, "", "")
    if not at and c.start is not None:  # a Commitment built with its start apart
        at, start = "@", c.start
    declared = list(dict.fromkeys(lv.base for lv in niche.levels))
    if level not in declared:
        raise CommitmentError(f"{c}: niche '{niche.id}' has no level '{level}'{_hint(level, declared)}")
    allowed = [lv for lv in niche.levels if lv.base == level]
    if at:
        allowed = [lv for lv in allowed if lv.start == start]
        if not allowed:
            periods = [lv.start or "" for lv in niche.levels if lv.base == level]
            raise CommitmentError(
                f"{c}: level '{level}' of niche '{niche.id}' cannot start in '{start}'; "
                f"it may start in {', '.join(periods)} (its 'start' in the scenario)"
            )
    return tuple(lv.id for lv in allowed)
