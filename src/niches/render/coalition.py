"""Sections and JSON of `niches coalition`: the members' joint and separate plans."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from niches.analysis.coalition import CoalitionReport
from niches.numbers import clean, plural, share, value
from niches.optimize.evaluate import RELATIVE_TIE
from niches.render.json import units_json
from niches.render.portfolio import _portfolio_json, portfolio_text
from niches.render.sections import OBJECTIVE_WORDS, Section
from niches.scenario.coalition import Coalition


def coalition_sections(report: CoalitionReport) -> list[Section]:
    """Return the sections of `niches coalition`: members, the joint plan, sub-coalitions."""
    c = report.coalition
    rows = tuple(
        (
            m.name,
            value(m.alone),
            value(m.own),
            value(m.transfer),
            value(m.joint),
            value(m.gain),
            value(m.shapley),
            "yes" if m.gain >= -RELATIVE_TIE * max(1.0, abs(m.alone)) else "no",
        )
        for m in report.members
    )
    members = Section(
        f"Members (objective values; split: {c.split})",
        ("member", "alone", "own in joint plan", "side payment", "payoff", "gain", "Shapley", "no worse"),
        rows,
        frozenset(range(1, 7)),
        optional=((6,), (2,), (3,)),
        footer=(
            "payoff: what the member gets in the coalition (its own value in the joint plan, plus the side "
            "payment that shares the total by Shapley value when split is shapley)",
            *_objectives_note(c),
        ),
    )
    plan_rows = tuple(
        (m, portfolio_text(c.members[m], report.grand.portfolios[m])) for m in report.grand.members
    )
    sections = [members, Section("The joint plan", ("member", "portfolio"), plan_rows)]
    share_rows = _share_rows(report)
    if share_rows:
        sections.append(
            Section(
                "Shared niches: who pays what share",
                ("niche", "level", "member", "share"),
                share_rows,
                frozenset({3}),
            )
        )
    sub_rows = []
    blocking = set(report.blocking)
    names = list(c.members)
    apart = False
    for key in _groups_in_order(report):
        ordered = tuple(sorted(key, key=names.index))
        together = report.values[key] is not None
        apart = apart or not together
        sub_rows.append(
            (
                " + ".join(ordered),
                value(report.worth[key]) + ("" if together else " (apart)"),
                value(math.fsum(_payoff(report, m) for m in ordered)),
                "yes" if ordered in blocking else "",
            )
        )
    sections.append(
        Section(
            "Sub-coalitions: what each could do on its own",
            ("members", "best on their own", "their payoffs", "blocks"),
            tuple(sub_rows),
            frozenset({1, 2}),
            footer=(
                verdict(report),
                *(
                    [
                        "(apart): its members cannot plan together (a shared niche is built by all or none), "
                        "so it is worth the best split into smaller groups"
                    ]
                    if apart
                    else []
                ),
            ),
        )
    )
    sections.append(closest_section(report))
    return sections


def verdict(report: CoalitionReport) -> str:
    """Return the one line that says whether the split is stable and, when not, what the least core asks."""
    if report.stable:
        return "stable: yes (no sub-coalition does better on its own)"
    core = report.least_core
    unit = _value_unit(report)
    split = ", ".join(f"{m} {value(x)}" for m, x in core.payoffs.items())
    if clean(core.epsilon, 2) > 0:
        asks = (
            f"no split is stable: the least core asks every group to give up at most {value(core.epsilon)} "
            f"{unit} of what it can get on its own"
        )
    elif clean(core.epsilon, 2) < 0:
        asks = (
            f"a stable split exists: the least core gives every group at least {value(-core.epsilon)} "
            f"{unit} more than it can get on its own"
        )
    else:
        asks = "a stable split exists: the least core gives every group at least what it can get on its own"
    return (
        f"stable: no (the sub-coalitions marked block: they do better on their own); {asks} (split: {split})"
    )


def closest_section(report: CoalitionReport) -> Section:
    """Return the splits side by side (in use, Shapley, least core, nucleolus), each one's largest
    complaint, and the best coalition structure."""
    names = list(report.coalition.members)
    shapley = {m.name: m.shapley for m in report.members}
    in_use = {m.name: m.joint for m in report.members}
    splits = (in_use, shapley, report.least_core.payoffs, report.nucleolus.payoffs)
    rows = [(m, *(value(split[m]) for split in splits)) for m in names]
    c = report.complaints
    rows.append(
        ("largest complaint", *(value(c[k]) for k in ("split", "shapley", "least_core", "nucleolus")))
    )
    unit = _value_unit(report)
    epsilon = value(report.least_core.epsilon)
    return Section(
        "Closest to stable: the least core and the nucleolus",
        ("member", "split in use", "Shapley", "least core", "nucleolus"),
        tuple(rows),
        frozenset(range(1, 5)),
        strong=frozenset({len(rows) - 1}),
        footer=(
            "largest complaint: the most a group of members gains by leaving (its best on its own minus its "
            "payoffs; 0 or less: no group gains)",
            f"least core: the splits whose largest complaint is least (epsilon {epsilon} {unit}), the one "
            "nearest the Shapley value shown; nucleolus: among them, the one whose next largest complaint is "
            "least, and so on",
            structure_line(report),
        ),
    )


def structure_line(report: CoalitionReport) -> str:
    """Return the line on the best coalition structure: its groups, its value, whether its split is stable."""
    s = report.structure
    groups = " / ".join(" + ".join(g) for g in s.groups)
    stable = (
        "stable: yes (no group of members does better than its payoffs in it)"
        if s.stable
        else f"stable: no ({plural(len(s.blocking), 'group')} of members would do better on their own)"
    )
    return (
        f"best structure: {groups} ({plural(len(s.groups), 'group')}, {value(s.value)} {_value_unit(report)} "
        f"in all); {stable}"
    )


def _value_unit(report: CoalitionReport) -> str:
    return next(iter(report.coalition.members.values())).value_unit


def _objectives_note(c: Coalition) -> tuple[str, ...]:
    """Say so when the members optimise different objectives (their figures are then unlike)."""
    kinds = {m: s.objective for m, s in c.members.items()}
    if len(set(kinds.values())) < 2:
        return ()
    each = ", ".join(f"{m} {OBJECTIVE_WORDS[k]}" for m, k in kinds.items())
    return (
        f"the members optimise different objectives ({each}): each figure is the member's own objective, "
        "and totals add unlike figures",
    )


def _share_rows(report: CoalitionReport) -> tuple[tuple[str, ...], ...]:
    """Return (niche, level, member, share) rows; one row for all levels when a member's share is alike."""
    rows: list[tuple[str, ...]] = []
    ordered = sorted(report.shares.items(), key=_share_key(report.coalition))
    for (member, nid), items in itertools.groupby(ordered, key=lambda kv: (kv[0][0], kv[0][1])):
        parts = list(items)
        if len({round(part, 12) for _, part in parts}) == 1:
            rows.append((nid, "every level", member, share(parts[0][1])))
        else:
            rows.extend((nid, lid, member, share(part)) for (_, _, lid), part in parts)
    return tuple(rows)


def _groups_in_order(report: CoalitionReport) -> list[tuple[str, ...]]:
    """Return every sub-coalition, smaller first, then in the members' order."""
    names = list(report.coalition.members)
    return sorted(report.values, key=lambda k: (len(k), sorted(map(names.index, k))))


def _payoff(report: CoalitionReport, member: str) -> float:
    return next(m.joint for m in report.members if m.name == member)


def _share_key(c: Coalition) -> Callable[[tuple[tuple[str, str, str], float]], tuple[int, int, str]]:
    names = list(c.members)

    def key(item: tuple[tuple[str, str, str], float]) -> tuple[int, int, str]:
        (member, nid, lid), _ = item
        return (list(c.shared).index(nid), names.index(member), lid)

    return key


def coalition_json(report: CoalitionReport) -> dict[str, Any]:
    """Return the JSON object of `niches coalition`."""
    c = report.coalition
    names = list(c.members)
    first = next(iter(c.members.values()))
    return {
        "coalition": c.name,
        "scenario": c.name,
        "units": units_json(first),
        "objectives": {m: s.objective for m, s in c.members.items()},
        "split": c.split,
        "members": [
            {
                "name": m.name,
                "alone": clean(m.alone),
                "joint": clean(m.joint),
                "gain": clean(m.gain),
                "shapley": clean(m.shapley),
                "own": clean(m.own),
                "transfer": clean(m.transfer),
                "objective": c.members[m.name].objective,
                "portfolio": _portfolio_json(c.members[m.name], report.grand.portfolios[m.name]),
            }
            for m in report.members
        ],
        "shared": [
            {
                "niche": nid,
                "members": list(c.holders[nid]),
                "shares": [
                    {"member": member, "level": lid, "share": clean(part)}
                    for (member, n, lid), part in sorted(report.shares.items(), key=_share_key(c))
                    if n == nid
                ],
            }
            for nid in c.shared
        ],
        "stable": report.stable,
        "blocking": [list(k) for k in report.blocking],
        "least_core": {
            "epsilon": clean(report.least_core.epsilon),
            "payoffs": {m: clean(x) for m, x in report.least_core.payoffs.items()},
        },
        "nucleolus": {m: clean(x) for m, x in report.nucleolus.payoffs.items()},
        "complaints": {k: clean(x) for k, x in report.complaints.items()},
        "best_structure": {
            "groups": [list(g) for g in report.structure.groups],
            "value": clean(report.structure.value),
            "stable": report.structure.stable,
            "payoffs": {m: clean(report.structure.payoffs[m]) for m in names},
            "blocking": [list(g) for g in report.structure.blocking],
        },
        "coalitions": [
            {
                "members": sorted(k, key=names.index),
                "value": clean(report.worth[k]),
                "together": report.values[k] is not None,
            }
            for k in _groups_in_order(report)
        ],
    }
