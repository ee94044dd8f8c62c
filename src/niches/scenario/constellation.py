"""Constellation files: rival middle powers and how much a niche loses when several of them occupy it.

A constellation file names member scenarios and, for each crowded niche, the
multiplier on an occupant's value when k members occupy it:

    constellation:
      name: The seed's middle powers
      members: [../kazakhstan.yaml, ../canada.yaml, ../turkey.yaml]   # relative to this file
      crowding:              # niche id -> {k: m(k)}
        mediation: {2: 0.85, 3: 0.7}
        education: {2: 0.9}

A member occupies a niche when its portfolio holds it at any level. With k
occupants each one's value from the niche (the value of its chosen level in
every world) is multiplied by m(k); m(1) = 1, and a k the file leaves out
takes the multiplier of the largest k given below it. The game the members
play (best responses, the coordinated plan) is `niches.analysis.rivals`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from niches.scenario.checks import _describe, _hint
from niches.scenario.inputs import InputError, named_path
from niches.scenario.reader import load_scenario, read_source
from niches.scenario.types import Scenario, ScenarioError
from niches.scenario.yamlsource import Location, Problem, YNode, parse_yaml

CONSTELLATION_KEYS = ("name", "members", "crowding")
MIN_MEMBERS, MAX_MEMBERS = 2, 12
"""Members a constellation may have: every round of best responses re-solves each member once."""


@dataclass(frozen=True)
class Constellation:
    """A validated constellation.

    `members` maps member name (its file's stem) -> scenario, in file order;
    `crowding` maps each crowded niche -> {k: m(k)} as the file gives it (k >= 2
    occupants, m(k) in (0, 1], non-increasing in k); `declared_by` maps each
    crowded niche -> the members whose scenarios declare it (file order);
    `paths` maps member -> the path its scenario was read from; `warnings` are
    located lines (`FILE:LINE:COL: warning: ...`).
    """

    name: str
    members: Mapping[str, Scenario]
    crowding: Mapping[str, Mapping[int, float]]
    declared_by: Mapping[str, tuple[str, ...]]
    source: str = "<memory>"
    paths: Mapping[str, Path] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def multiplier(self, niche: str, occupants: int) -> float:
        """Return m(k), the multiplier on each occupant's value from `niche` when `occupants` hold it.

        1 for a niche that is not crowded and for one occupant; a k the file
        leaves out takes the multiplier of the largest k given below it.
        """
        given = self.crowding.get(niche, {})
        below = [k for k in given if k <= occupants]
        return given[max(below)] if below else 1.0

    def member_of(self, path: str | Path) -> str | None:
        """Return the member whose scenario is the file at `path` (None: no member's)."""
        try:
            target = Path(path).resolve()
        except OSError:
            return None
        for name, where in self.paths.items():
            if where.resolve() == target:
                return name
        return None


def is_constellation(path: str | Path) -> bool:
    """Return whether the file at `path` is a constellation file (a top-level `constellation:` key)."""
    try:
        text = read_source(path)
    except ScenarioError:
        return False
    return re.search(r"^constellation\s*:", text, flags=re.MULTILINE) is not None


class _Reading:
    """The problems and warnings of one constellation file, as they are found."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def warn(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message, "warning"))


def load_constellation(path: str | Path) -> Constellation:
    """Read a constellation file and its member scenarios; raise ScenarioError with located problems."""
    file = str(path)
    text = read_source(path)
    parsed = parse_yaml(text, file)
    if parsed.root is None or parsed.problems:
        raise ScenarioError(parsed.problems or [Problem(Location(file, 1, 1), "the file is empty")])
    r = _Reading(file)
    top = parsed.root.value if isinstance(parsed.root.value, dict) else None
    if top is None or "constellation" not in top or not isinstance(top["constellation"].value, dict):
        raise ScenarioError(
            [
                Problem(
                    parsed.root.loc,
                    "a constellation file must hold 'constellation:' with members and crowding",
                )
            ]
        )
    for key, child in top.items():
        if key != "constellation":
            r.error(child.at_key, f"unknown key '{key}' in the constellation file; expected constellation")
    head = top["constellation"]
    body: dict[str, YNode] = head.value  # type: ignore[assignment]
    for key, child in body.items():
        if key not in CONSTELLATION_KEYS:
            r.error(child.at_key, f"unknown key '{key}' in constellation{_hint(key, CONSTELLATION_KEYS)}")
    name = Path(file).stem
    if "name" in body:
        if body["name"].is_scalar() and body["name"].text:
            name = body["name"].text
        else:
            r.error(body["name"].loc, "constellation 'name' must be text")
    members, paths, complete = _members(r, body.get("members"), head)
    crowding, declared_by = _crowding(r, body.get("crowding"), head, members, complete)
    for m, s in members.items():
        if s.objective == "regret":
            r.error(
                Location(s.source, 1, 1),
                f"member '{m}' optimises regret, which does not add up across members; "
                "give it objective expected, worst_case or cvar",
            )
    order = sorted(r.problems, key=lambda p: (p.loc.file != file, p.loc.file, p.loc.line, p.loc.column))
    errors = [p for p in order if p.severity == "error"]
    if errors:
        raise ScenarioError(errors)
    warnings = tuple(str(p) for p in order)
    return Constellation(name, members, crowding, declared_by, file, paths, warnings)


def _members(
    r: _Reading, node: YNode | None, head: YNode
) -> tuple[dict[str, Scenario], dict[str, Path], bool]:
    """Read `members`; return member -> scenario, member -> path, and whether every listed one loaded."""
    members: dict[str, Scenario] = {}
    paths: dict[str, Path] = {}
    if node is None or not isinstance(node.value, list):
        where = node.loc if node is not None else head.at_key
        r.error(where, f"constellation 'members' must list {MIN_MEMBERS} to {MAX_MEMBERS} scenario files")
        return members, paths, False
    items: list[YNode] = node.value
    if not MIN_MEMBERS <= len(items) <= MAX_MEMBERS:
        r.error(
            node.loc,
            f"a constellation has {MIN_MEMBERS} to {MAX_MEMBERS} members (every round re-solves each "
            f"against the others); this one lists {len(items)}",
        )
    complete = True
    for item in items:
        if not item.is_scalar() or not item.text:
            r.error(item.loc, "constellation 'members' must list scenario file paths (text)")
            complete = False
            continue
        try:
            target = named_path(item.text, r.file)
        except InputError as exc:
            r.error(item.loc, f"member scenario '{item.text}' {exc.message}")
            complete = False
            continue
        stem = Path(item.text).stem
        if stem in members or stem in paths:
            r.error(
                item.loc,
                f"member '{stem}' is listed twice (a member is named by its file's name); "
                "list each scenario once",
            )
            continue
        if not target.exists():
            r.error(
                item.loc,
                f"member scenario '{item.text}' not found (paths are relative to the constellation file)",
            )
            complete = False
            continue
        paths[stem] = target
        try:
            members[stem] = load_scenario(target)
        except ScenarioError as exc:
            r.problems.extend(exc.problems)
            complete = False
    return members, paths, complete


def _crowding(
    r: _Reading, node: YNode | None, head: YNode, members: Mapping[str, Scenario], complete: bool
) -> tuple[dict[str, dict[int, float]], dict[str, tuple[str, ...]]]:
    """Read `crowding`; return niche -> {k: m(k)} and niche -> the members that declare it."""
    crowding: dict[str, dict[int, float]] = {}
    declared_by: dict[str, tuple[str, ...]] = {}
    if node is None or not isinstance(node.value, dict) or not node.value:
        where = node.loc if node is not None else head.at_key
        r.error(where, "constellation 'crowding' must map at least one niche id to {k: m(k)}, like 2: 0.85")
        return crowding, declared_by
    known = list(dict.fromkeys(n.id for s in members.values() for n in s.niches))
    entries: dict[str, YNode] = node.value
    for nid, entry in entries.items():
        multipliers = _multipliers(r, nid, entry)
        having = tuple(m for m, s in members.items() if nid in {n.id for n in s.niches})
        if complete and not having:
            r.error(entry.at_key, f"crowded niche '{nid}' is declared by no member{_hint(nid, known)}")
            continue
        if complete and len(having) == 1:
            r.warn(
                entry.at_key,
                f"crowded niche '{nid}' is declared by {having[0]} only, so it is never crowded; "
                "add the members that build it, or drop it",
            )
        if multipliers is not None:
            crowding[nid] = multipliers
            declared_by[nid] = having
    return crowding, declared_by


def _multipliers(r: _Reading, nid: str, entry: YNode) -> dict[int, float] | None:
    """Read one niche's {k: m(k)}; None when it is not a mapping."""
    if not isinstance(entry.value, dict) or not entry.value:
        r.error(
            entry.loc,
            f"crowding of '{nid}' must map a number of occupants to a multiplier, like {{2: 0.85, 3: 0.7}}",
        )
        return None
    found: dict[int, float] = {}
    at: dict[int, YNode] = {}
    items: dict[str, YNode] = entry.value
    for key, child in items.items():
        try:
            k = int(key.strip())
        except ValueError:
            r.error(
                child.at_key,
                f"crowding of '{nid}': the number of occupants must be a whole number, got '{key}'",
            )
            continue
        if k < 2:
            r.error(
                child.at_key,
                f"crowding of '{nid}': the number of occupants must be at least 2, got {k} "
                "(one occupant keeps the whole value)",
            )
            continue
        value = child.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            r.error(
                child.loc,
                f"crowding of '{nid}' at {k} occupants must be a number in (0, 1], got {_describe(child, 1)}",
            )
            continue
        if not 0.0 < value <= 1.0:
            r.error(child.loc, f"crowding of '{nid}' at {k} occupants must be in (0, 1], got {value:g}")
            continue
        if k in found:
            r.error(child.at_key, f"crowding of '{nid}' gives {k} occupants twice; give each number once")
            continue
        found[k], at[k] = float(value), child
    ordered = sorted(found)
    for fewer, more in itertools.pairwise(ordered):
        if found[more] > found[fewer]:
            r.error(
                at[more].loc,
                f"crowding of '{nid}' rises from {found[fewer]:g} at {fewer} occupants to {found[more]:g} "
                f"at {more}; more occupants may not leave each one more of the value",
            )
    return {k: found[k] for k in ordered}
