"""Coalition files: the member scenarios, the niches they build together, how a shared niche's cost is split.

A coalition file names member scenarios, the niches they build together and
how a shared niche's cost is split:

    coalition:
      name: Middle Corridor
      members: [kazakhstan.yaml, turkey.yaml, azerbaijan.yaml]   # relative to this file
      shared: [logistics]
      split: shapley            # shapley | equal | proportional

The game the coalition plays (each member's gain, the split, its stability)
is `niches.analysis.coalition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from niches.scenario.inputs import InputError, named_path
from niches.scenario.reader import load_scenario, read_source
from niches.scenario.types import Scenario, ScenarioError
from niches.scenario.yamlsource import Location, Problem, YNode, parse_yaml

SPLITS = ("shapley", "equal", "proportional")
MAX_MEMBERS = 8
"""Most members a coalition may have: the core test and Shapley values solve all 2^n sub-coalitions."""
COALITION_KEYS = ("name", "members", "shared", "split")


@dataclass(frozen=True)
class Coalition:
    """A validated coalition: member name (the file's stem) -> scenario, shared niches, the split rule.

    `holders` maps each shared niche -> the members whose scenarios declare it.
    """

    name: str
    members: Mapping[str, Scenario]
    shared: tuple[str, ...]
    split: str
    holders: Mapping[str, tuple[str, ...]]
    source: str = "<memory>"


def is_coalition(path: str | Path) -> bool:
    """Return whether the file at `path` is a coalition file (a top-level `coalition:` key)."""
    import re

    try:
        text = read_source(path)
    except ScenarioError:
        return False
    return re.search(r"^coalition\s*:", text, flags=re.MULTILINE) is not None


def load_coalition(path: str | Path) -> Coalition:
    """Read a coalition file and its member scenarios; raise ScenarioError with located problems."""
    file = str(path)
    text = read_source(path)
    parsed = parse_yaml(text, file)
    problems = list(parsed.problems)
    if parsed.root is None or problems:
        raise ScenarioError(problems or [Problem(Location(file, 1, 1), "the file is empty")])
    problems = []

    def error(node: YNode, message: str) -> None:
        problems.append(Problem(node.loc, message))

    top = parsed.root.value if isinstance(parsed.root.value, dict) else None
    if top is None or "coalition" not in top or not isinstance(top["coalition"].value, dict):
        raise ScenarioError(
            [
                Problem(
                    parsed.root.loc, "a coalition file must hold 'coalition:' with members, shared and split"
                )
            ]
        )
    for key, child in top.items():
        if key != "coalition":
            problems.append(
                Problem(child.at_key, f"unknown key '{key}' in the coalition file; expected coalition")
            )
    body: dict[str, YNode] = top["coalition"].value
    for key, child in body.items():
        if key not in COALITION_KEYS:
            problems.append(
                Problem(
                    child.at_key,
                    f"unknown key '{key}' in coalition; expected one of: {', '.join(COALITION_KEYS)}",
                )
            )
    name = body["name"].text if "name" in body else Path(file).stem
    split = "shapley"
    if "split" in body:
        split = body["split"].text if body["split"].is_scalar() else "(not text)"
        if split not in SPLITS:
            error(body["split"], f"unknown split '{split}'; expected one of: {', '.join(SPLITS)}")
    members: dict[str, Scenario] = {}
    member_nodes = body.get("members")
    if member_nodes is None or not isinstance(member_nodes.value, list) or len(member_nodes.value) < 2:
        where = member_nodes or top["coalition"]
        error(where, "coalition 'members' must list at least two scenario files")
    else:
        if len(member_nodes.value) > MAX_MEMBERS:
            error(
                member_nodes,
                f"a coalition has at most {MAX_MEMBERS} members (the core test and Shapley values solve "
                f"every sub-coalition); this one lists {len(member_nodes.value)}",
            )
        for item in member_nodes.value:
            if not item.is_scalar() or not item.text:
                error(item, "coalition 'members' must list scenario file paths (text)")
                continue
            try:
                target = named_path(item.text, file)
            except InputError as exc:
                error(item, f"member scenario '{item.text}' {exc.message}")
                continue
            stem = Path(item.text).stem
            if stem in members:
                error(item, f"member '{stem}' is listed twice; list each scenario once")
                continue
            if not target.exists():
                error(
                    item,
                    f"member scenario '{item.text}' not found (paths are relative to the coalition file)",
                )
                continue
            try:
                members[stem] = load_scenario(target)
            except ScenarioError as exc:
                problems.extend(exc.problems)
    listed = (
        len(member_nodes.value) if member_nodes is not None and isinstance(member_nodes.value, list) else 0
    )
    shared: list[str] = []
    holders: dict[str, tuple[str, ...]] = {}
    shared_node = body.get("shared")
    items = (
        []
        if shared_node is None
        else (shared_node.value if isinstance(shared_node.value, list) else [shared_node])
    )
    for item in items:
        if not item.is_scalar() or not item.text:
            error(item, "coalition 'shared' must list niche ids")
            continue
        nid = item.text
        having = tuple(m for m, s in members.items() if nid in {n.id for n in s.niches})
        if len(having) < 2 and len(members) == listed:
            error(
                item,
                f"shared niche '{nid}' is declared by {len(having)} member(s); share it among two or more",
            )
            continue
        levels = {m: [lv.id for lv in members[m].niche(nid).levels] for m in having}
        first = having[0] if having else ""
        for m in having[1:]:
            if levels[m] != levels[first]:
                error(
                    item,
                    f"shared niche '{nid}' has levels {', '.join(levels[first])} in {first} but "
                    f"{', '.join(levels[m])} in {m}; give it the same levels in every member",
                )
        shared.append(nid)
        holders[nid] = having
    for m, s in members.items():
        if s.objective == "regret":
            problems.append(
                Problem(
                    Location(s.source, 1, 1),
                    f"member '{m}' optimises regret, which does not add up across members; "
                    "give it objective expected, worst_case or cvar",
                )
            )
    units = {s.units for s in members.values()}
    if len(units) > 1:
        error(
            member_nodes or top["coalition"],
            f"members count money in different units ({', '.join(sorted(units))}); use one",
        )
    if problems:
        raise ScenarioError(
            sorted(problems, key=lambda p: (p.loc.file != file, p.loc.file, p.loc.line, p.loc.column))
        )
    return Coalition(name, members, tuple(shared), split, holders, file)
