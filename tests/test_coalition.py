"""Coalitions: the joint model, Shapley values and the core test against brute force."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niches.analysis.coalition import (
    CoalitionError,
    CoalitionReport,
    cost_shares,
    member_scenario,
    study_coalition,
)
from niches.optimize.evaluate import close, feasible_portfolios, floors_by_enumeration, objective_value
from niches.scenario import Scenario, ScenarioError, parse_scenario
from niches.scenario.coalition import Coalition, load_coalition

from .conftest import ROOT, run_cli
from .strategies import scenario_dict, to_scenario

LIBRARY = ROOT / "options" / "coalitions" / "middle_corridor.yaml"


# --------------------------------------------------------------------------- the oracle


def _game_by_enumeration(coalition: Coalition) -> dict[tuple[str, ...], float | None]:
    """Return v(S) for every sub-coalition by enumerating each member's portfolios.

    Members plan apart once the shared niches' levels are fixed, so v(S) is the
    best, over every common choice of the niches S shares, of the members'
    best objectives under that choice.
    """
    names = list(coalition.members)
    game: dict[tuple[str, ...], float | None] = {}
    for size in range(1, len(names) + 1):
        for group in itertools.combinations(names, size):
            shares = cost_shares(coalition, group)
            linked = [n for n in coalition.shared if sum(m in group for m in coalition.holders[n]) >= 2]
            best: dict[str, dict[tuple[str | None, ...], float]] = {}
            for m in group:
                scenario = floors_by_enumeration(member_scenario(coalition, m, shares))
                found: dict[tuple[str | None, ...], float] = {}
                for portfolio, metrics in feasible_portfolios(scenario):
                    key = tuple(portfolio.get(n) if m in coalition.holders[n] else "-" for n in linked)
                    mine = objective_value(scenario.objective, metrics)
                    found[key] = max(found.get(key, -math.inf), mine)
                best[m] = found
            choices = [
                [None, *[lv.id for lv in coalition.members[coalition.holders[n][0]].niche(n).levels]]
                for n in linked
            ]
            top: float | None = None
            for choice in itertools.product(*choices):
                total = 0.0
                for m in group:
                    key = tuple(
                        c if m in coalition.holders[n] else "-" for c, n in zip(choice, linked, strict=True)
                    )
                    if key not in best[m]:
                        break
                    total += best[m][key]
                else:
                    top = total if top is None else max(top, total)
            game[tuple(sorted(group))] = top
    return game


def _shapley_by_orders(names: list[str], game: dict[tuple[str, ...], float | None]) -> dict[str, float]:
    """Return Shapley values as the average marginal contribution over every order of arrival."""
    totals = dict.fromkeys(names, 0.0)
    orders = list(itertools.permutations(names))
    for order in orders:
        before = 0.0
        for i, player in enumerate(order):
            now = game[tuple(sorted(order[: i + 1]))]
            assert now is not None
            totals[player] += now - before
            before = now
    return {p: t / len(orders) for p, t in totals.items()}


@st.composite
def coalitions(draw: st.DrawFn) -> Coalition:
    """Draw 2-4 small members sharing niche n0 (the same levels everywhere) and a split rule."""
    size = draw(st.integers(2, 4))
    datas: list[dict[str, Any]] = []
    for _ in range(size):
        data = draw(scenario_dict(max_niches=2 if size == 4 else 3))
        data["objective"] = draw(st.sampled_from(["expected", "worst_case", "cvar"]))
        for rule in ("min_worst_case", "min_cvar", "must_include", "must_exclude", "min_niches", "max_share"):
            data.get("rules", {}).pop(rule, None)  # keep most members able to plan alone
        data["budget"] = draw(st.integers(4, 16))  # tight enough that sharing a cost can pay
        if draw(st.integers(0, 4)) == 0:  # a member that insists on the shared niche
            data.setdefault("rules", {})["must_include"] = ["n0"]
        datas.append(data)
    shared = datas[0]["niches"]["n0"]
    for key in ("requires", "excludes", "synergy", "exposure", "outlook", "start"):
        shared.pop(key, None)  # they may name powers, worlds or niches another member lacks
    for level in shared.get("levels", {"invest": shared}).values():
        level.pop("uses", None)
        level.pop("start", None)
        # periods differ between members: one amount per period; worth having, dear alone
        level["cost"] = draw(st.integers(4, 14))
        level["scores"] = {"relevance": draw(st.integers(3, 9)), "autonomy": draw(st.integers(0, 5))}
    for data in datas[1:]:
        data["niches"]["n0"] = yaml.safe_load(yaml.safe_dump(shared))
    members = {f"m{i}": to_scenario(d) for i, d in enumerate(datas)}
    split = draw(st.sampled_from(["shapley", "equal", "proportional"]))
    return Coalition("random", members, ("n0",), split, {"n0": tuple(members)})


SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=True
)


def _partitions(items: tuple[str, ...]) -> list[list[tuple[str, ...]]]:
    """Return every partition of `items` into non-empty blocks."""
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    found = []
    for partition in _partitions(rest):
        found.append([(first,), *partition])
        for i, block in enumerate(partition):
            found.append([*partition[:i], (first, *block), *partition[i + 1 :]])
    return found


def _worth(game: dict[tuple[str, ...], float | None], key: tuple[str, ...]) -> float:
    """v(S): the joint optimum, or (members who cannot plan together) the best partition into groups."""
    together = game[key]
    if together is not None:
        return together
    totals = [
        math.fsum(game[tuple(sorted(b))] for b in p)  # type: ignore[misc]
        for p in _partitions(key)
        if all(game[tuple(sorted(b))] is not None for b in p)
    ]
    return max(totals)


def _held_to_brute_force(coalition: Coalition, solver: str) -> str:
    """Check one coalition against enumeration; return "alone infeasible", "apart", "gain" or "no gain"."""
    game = _game_by_enumeration(coalition)
    names = list(coalition.members)
    if any(game[(m,)] is None for m in names):
        with pytest.raises(CoalitionError, match="alone"):
            study_coalition(coalition, solver)
        return "alone infeasible"
    if game[tuple(sorted(names))] is None:
        with pytest.raises(CoalitionError, match="no joint plan"):
            study_coalition(coalition, solver)
        return "apart"
    report = study_coalition(coalition, solver)
    for key, v in game.items():
        got = report.values[key]
        assert (got is None) == (v is None), key
        if v is not None and got is not None:
            assert close(got, v), (key, got, v)
    worth = {key: _worth(game, key) for key in game}
    for key, v in worth.items():
        assert close(report.worth[key], v), key
    shapley = _shapley_by_orders(names, worth)
    grand = worth[tuple(sorted(names))]
    assert close(math.fsum(shapley.values()), grand)  # efficiency
    for member in report.members:
        assert close(member.alone, worth[(member.name,)])
        assert close(member.shapley, shapley[member.name]), member
        if coalition.split == "shapley":
            assert close(member.joint, shapley[member.name])
        assert close(member.gain, member.joint - member.alone)
    assert close(math.fsum(m.joint for m in report.members), grand)
    payoff = {m.name: m.joint for m in report.members}
    blocking = {
        key
        for key, v in worth.items()
        if len(key) < len(names) and v > math.fsum(payoff[m] for m in key) + 1e-6 * max(1.0, abs(v))
    }
    assert {tuple(sorted(k)) for k in report.blocking} == blocking
    assert report.stable == (not blocking)
    _closest_held_to_brute_force(coalition, game, worth, report)
    return "gain" if grand > math.fsum(worth[(m,)] for m in names) + 1e-6 else "no gain"


def _closest_held_to_brute_force(
    coalition: Coalition,
    game: dict[tuple[str, ...], float | None],
    worth: dict[tuple[str, ...], float],
    report: CoalitionReport,
) -> None:
    """The least core, the nucleolus and the best structure of a coalition, on the enumerated game."""
    names = list(coalition.members)
    tol = 1e-6 * max(1.0, *(abs(v) for v in worth.values()))

    def largest(payoffs: Mapping[str, float]) -> float:
        return max(v - math.fsum(payoffs[m] for m in k) for k, v in worth.items() if len(k) < len(names))

    assert abs(largest(report.least_core.payoffs) - report.least_core.epsilon) <= tol
    assert abs(largest(report.nucleolus.payoffs) - report.least_core.epsilon) <= tol
    payoff = {m.name: m.joint for m in report.members}
    assert abs(report.complaints["split"] - largest(payoff)) <= tol
    if report.stable:
        assert report.least_core.epsilon <= tol  # a stable split exists
    totals = [
        math.fsum(game[tuple(sorted(b))] or 0.0 for b in p)
        for p in _partitions(tuple(names))
        if all(game[tuple(sorted(b))] is not None for b in p)
    ]
    structure = report.structure
    assert abs(structure.value - max(totals)) <= tol
    for group in structure.groups:
        given = math.fsum(structure.payoffs[m] for m in group)
        assert abs(given - (game[tuple(sorted(group))] or 0.0)) <= tol  # each group shares its own total
        if coalition.split == "shapley":
            shapley = _shapley_by_orders(list(group), {k: worth[k] for k in worth if set(k) <= set(group)})
            assert all(abs(structure.payoffs[m] - shapley[m]) <= tol for m in group)
    blocking = {
        k
        for k, v in worth.items()
        if v > math.fsum(structure.payoffs[m] for m in k) + 1e-6 * max(1.0, abs(v))
    }
    assert {tuple(sorted(k)) for k in structure.blocking} == blocking


@pytest.mark.slow
@pytest.mark.parametrize(("solver", "examples"), [("highs", 100), ("cbc", 25)])
def test_coalition_game_matches_brute_force(solver: str, examples: int) -> None:
    seen = {"alone infeasible": 0, "apart": 0, "gain": 0, "no gain": 0}

    @given(coalitions())
    @settings(SETTINGS, max_examples=examples)
    def check(coalition: Coalition) -> None:
        seen[_held_to_brute_force(coalition, solver)] += 1

    check()
    assert seen["gain"] >= examples // 5, seen  # joint plans that beat planning apart were compared


def test_shapley_values_of_a_textbook_game() -> None:
    from niches.analysis.coalition_solutions import shapley_values

    # the glove game: one left glove (a), two right gloves (b, c); a pair is worth 1
    game = {("a",): 0.0, ("b",): 0.0, ("c",): 0.0, ("a", "b"): 1.0, ("a", "c"): 1.0, ("b", "c"): 0.0}
    game[("a", "b", "c")] = 1.0
    values = shapley_values(["a", "b", "c"], game)
    assert values == pytest.approx({"a": 2 / 3, "b": 1 / 6, "c": 1 / 6})


# --------------------------------------------------------------------------- the library and the CLI


def test_the_middle_corridor_coalition_from_the_library() -> None:
    coalition = load_coalition(LIBRARY)
    assert list(coalition.members) == ["kazakhstan", "azerbaijan", "turkey"]
    assert coalition.holders == {"logistics": ("kazakhstan", "azerbaijan", "turkey")}
    result = run_cli("coalition", str(LIBRARY), "--format", "json")
    data = json.loads(result.stdout)
    assert result.returncode == (0 if data["stable"] else 1), result.stderr
    assert [m["name"] for m in data["members"]] == ["kazakhstan", "azerbaijan", "turkey"]
    for member in data["members"]:
        assert set(member) >= {"name", "alone", "joint", "gain", "shapley"}
        assert (
            member["alone"]
            == json.loads(run_cli("solve", f"options/{member['name']}.yaml", "--format", "json").stdout)[
                "objective"
            ]["value"]
        )
    assert data["shared"][0]["niche"] == "logistics"
    assert all(isinstance(group, list) for group in data["blocking"])


MIDDLE_CORRIDOR_SPLIT = {"kazakhstan": 51.229687, "azerbaijan": 25.700988, "turkey": 31.747488}
"""The least core of the Middle Corridor is one split: each pair's three constraints hold with
equality at epsilon = (77.305366 + 83.351866 + 57.823168 - 2 x 108.678163) / 3 = 0.374691, so
x_kazakhstan = 108.678163 - 57.823168 + 0.374691, and so on; the nucleolus is that split too."""


def test_the_middle_corridor_least_core_nucleolus_and_best_structure() -> None:
    result = run_cli("coalition", str(LIBRARY), "--format", "json")
    assert result.returncode == 1, result.stderr  # not stable
    data = json.loads(result.stdout)
    assert data["least_core"] == {"epsilon": 0.374691, "payoffs": MIDDLE_CORRIDOR_SPLIT}
    assert data["nucleolus"] == MIDDLE_CORRIDOR_SPLIT
    assert data["complaints"] == {
        "split": 0.580362,
        "shapley": 0.580362,
        "least_core": 0.374691,
        "nucleolus": 0.374691,
    }
    pairs = [["kazakhstan", "azerbaijan"], ["kazakhstan", "turkey"], ["azerbaijan", "turkey"]]
    assert data["best_structure"] == {
        "groups": [["kazakhstan", "azerbaijan", "turkey"]],
        "value": 108.678163,
        "stable": False,
        "payoffs": {m["name"]: m["joint"] for m in data["members"]},
        "blocking": pairs,
    }
    assert data["blocking"] == pairs  # in the members' order
    line = (
        "stable: no (the sub-coalitions marked block: they do better on their own); no split is stable: "
        "the least core asks every group to give up at most 0.37 points of what it can get on its own "
        "(split: kazakhstan 51.23, azerbaijan 25.70, turkey 31.75)"
    )
    markdown = run_cli("coalition", str(LIBRARY), "--format", "markdown")  # footers unwrapped
    assert (markdown.returncode, markdown.stderr) == (1, "")
    lines = markdown.stdout.splitlines()
    assert line in lines
    assert "| **largest complaint** | **0.58** | **0.58** | **0.37** | **0.37** |" in lines


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(body)
    return path


def test_coalition_file_problems_are_located(tmp_path: Path) -> None:
    for name in ("kazakhstan.yaml", "turkey.yaml"):
        (tmp_path / name).write_text((ROOT / "options" / name).read_text())
    (tmp_path / "kazakhstan").mkdir()
    for judge in (ROOT / "options" / "kazakhstan").glob("*.yaml"):
        (tmp_path / "kazakhstan" / judge.name).write_text(judge.read_text())
    path = _write(
        tmp_path,
        "coalition:\n  members: [kazakhstan.yaml, turkey.yaml, nowhere.yaml]\n"
        "  shared: [logistics, ai]\n  split: fair\n  extra: 1\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_coalition(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:43: member scenario 'nowhere.yaml' not found (paths are relative to the coalition file)",
        f"{path}:4:10: unknown split 'fair'; expected one of: shapley, equal, proportional",
        f"{path}:5:3: unknown key 'extra' in coalition; expected one of: name, members, shared, split",
    ]
    result = run_cli("coalition", str(path))
    assert result.returncode == 2
    assert result.stderr.endswith("3 problems found; nothing was solved\n")


def test_a_shared_niche_needs_two_members_with_the_same_levels(tmp_path: Path) -> None:
    for name in ("canada.yaml", "turkey.yaml"):
        (tmp_path / name).write_text((ROOT / "options" / name).read_text())
    path = _write(
        tmp_path, "coalition:\n  members: [canada.yaml, turkey.yaml]\n  shared: [logistics, mediation]\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_coalition(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:12: members count money in different units (CAD million, USD million); use one",
        f"{path}:3:12: shared niche 'logistics' is declared by 1 member(s); share it among two or more",
        f"{path}:3:23: shared niche 'mediation' has levels support, platform in canada but host, broker "
        "in turkey; give it the same levels in every member",
    ]


def test_member_scenario_pays_its_share(tmp_path: Path) -> None:
    coalition = load_coalition(LIBRARY)
    shares = cost_shares(coalition, ["kazakhstan", "turkey"])
    assert shares["kazakhstan", "logistics", "expand"] == pytest.approx(0.5)
    scenario: Scenario = member_scenario(coalition, "turkey", shares)
    level = scenario.niche("logistics").level("expand")
    assert level.total_cost == pytest.approx(
        0.5 * coalition.members["turkey"].niche("logistics").level("expand").total_cost
    )


def test_the_readme_shows_the_middle_corridor_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    command = "$ niches coalition options/coalitions/middle_corridor.yaml\n"
    start = readme.index(command) + len(command)
    result = run_cli("coalition", "options/coalitions/middle_corridor.yaml", columns=100)
    assert result.returncode == 1  # the three-way split is not stable: pairs block
    assert result.stdout == readme[start : readme.index("```", start)]


def test_malformed_coalition_entries_are_located(tmp_path: Path) -> None:
    path = _write(tmp_path, "coalition:\n  members: [{a: 1}, [2]]\n  shared: {x: 1}\n  split: [shapley]\n")
    result = run_cli("coalition", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:2:13: coalition 'members' must list scenario file paths (text)",
        f"{path}:2:21: coalition 'members' must list scenario file paths (text)",
        f"{path}:3:11: coalition 'shared' must list niche ids",
        f"{path}:4:10: unknown split '(not text)'; expected one of: shapley, equal, proportional",
        "4 problems found; nothing was solved",
    ]
    for data, message in [
        (b"coalition: [1]\n", "a coalition file must hold 'coalition:' with members, shared and split"),
        (bytes([0xFF]), "is not UTF-8 text (byte 0); save it as UTF-8"),
    ]:
        path.write_bytes(data)
        result = run_cli("coalition", str(path))
        assert (result.returncode, result.stderr.splitlines()[0]) == (2, f"{path}:1:1: {message}")


def test_validate_reads_a_coalition_file_with_its_members() -> None:
    result = run_cli("validate", "options/coalitions/middle_corridor.yaml", "options/azerbaijan.yaml")
    assert (result.returncode, result.stdout) == (
        0,
        "options/coalitions/middle_corridor.yaml: ok\noptions/azerbaijan.yaml: ok\n",
    )


def _member(budget: int, must: bool) -> Scenario:
    rules = "rules: {must_include: [n0]}\n" if must else ""
    text = (
        f"name: m\nbudget: {budget}\ncriteria: {{a: 1}}\n"
        "niches:\n  n0: {cost: 10, scores: {a: 5}}\n  x: {cost: 2, scores: {a: 1}}\n" + rules
    )
    return parse_scenario(text, "m.yaml")


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_members_who_cannot_plan_together_are_worth_their_best_split(solver: str) -> None:
    # a insists on n0; b cannot pay half of it (5 > 4) but can pay a third (3.33)
    members = {"a": _member(10, True), "b": _member(4, False), "c": _member(10, False)}
    coalition = Coalition("split", members, ("n0",), "shapley", {"n0": ("a", "b", "c")})
    assert _held_to_brute_force(coalition, solver) == "gain"
    report = study_coalition(coalition, solver)
    assert report.values["a", "b"] is None
    assert report.worth["a", "b"] == pytest.approx(report.worth[("a",)] + report.worth[("b",)])
    from niches.render.coalition import coalition_sections

    table = next(t for t in coalition_sections(report) if t.title.startswith("Sub-coalitions"))
    assert ("a + b", "6.00 (apart)", table.rows[3][2], "") == table.rows[3]
