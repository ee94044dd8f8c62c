"""Commitments (--pin, --include, --exclude, niches price) and share floors, against brute force."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niches.analysis.price import MEASURES, price
from niches.optimize.evaluate import brute_force, close, floors_by_enumeration
from niches.scenario import Commitment, Scenario, commit
from niches.study import Study

from .conftest import run_cli
from .strategies import scenario_dict, to_scenario
from .test_oracle import _check

TWO_NICHES = (
    "name: s\nbudget: 10\ncriteria: {x: 1}\n"
    "niches:\n  a: {cost: 8, scores: {x: 10}}\n  b: {cost: 4, scores: {x: 3}}\n"
)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
EXAMPLES = {"highs": 40, "cbc": 20}
"""CBC runs in a subprocess per solve: fewer examples keep CI's time down (HiGHS covers the rest)."""


@st.composite
def committed_scenarios(draw: st.DrawFn) -> tuple[Scenario, tuple[Commitment, ...]]:
    """Draw a scenario (timed or not) and one or two commitments on its niches."""
    scenario = to_scenario(draw(scenario_dict(max_niches=4, timed=draw(st.booleans()))))
    picked = draw(
        st.lists(st.sampled_from(scenario.niches), min_size=1, max_size=2, unique_by=lambda n: n.id)
    )
    commitments = []
    for niche in picked:
        form = draw(st.sampled_from(["pin", "level", "include", "exclude"]))
        level = draw(st.sampled_from(niche.levels))
        if form == "pin":
            commitments.append(Commitment(niche.id, level.base, level.start))
        elif form == "level":
            commitments.append(Commitment(niche.id, level.base))
        else:
            commitments.append(Commitment(niche.id, excluded=form == "exclude"))
    return scenario, tuple(commitments)


def _solved(scenario: Scenario, kind: str) -> dict[str, float] | None:
    best = brute_force(scenario, kind)
    if best.metrics is None or best.objective is None:
        return None
    m = best.metrics
    return {
        "objective": best.objective,
        "expected_value": m.expected_value,
        "worst_case": m.worst_case,
        "cvar": m.cvar,
        "cost": m.cost,
    }


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_price_deltas_equal_two_brute_force_optima(solver: str) -> None:
    @given(committed_scenarios())
    @settings(SETTINGS, max_examples=EXAMPLES[solver])
    def check(drawn: tuple[Scenario, tuple[Commitment, ...]]) -> None:
        scenario, commitments = drawn
        kept = commit(scenario, commitments)
        for engine in ("enumeration", "milp"):
            free, committed = _solved(scenario, scenario.objective), _solved(kept, scenario.objective)
            if free is None:
                continue
            result = price(
                Study(scenario, solver=solver, engine=engine),
                Study(kept, solver=solver, engine=engine),
                commitments,
            )
            if committed is None:
                assert result.committed is None
                continue
            assert result.committed is not None
            for key in MEASURES:
                assert close(result.delta[key], committed[key] - free[key]), (key, engine)
            before = result.free.solution.portfolio
            after = result.committed.solution.portfolio
            assert {m.niche for m in result.displaced} == {n for n in before if after.get(n) != before[n]}

    check()


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_solvers_keep_commitments_like_enumeration(solver: str) -> None:
    @given(committed_scenarios())
    @settings(SETTINGS, max_examples=EXAMPLES[solver])
    def check(drawn: tuple[Scenario, tuple[Commitment, ...]]) -> None:
        scenario, commitments = drawn
        _check(commit(scenario, commitments), solver)

    check()


@st.composite
def floor_scenarios(draw: st.DrawFn) -> Scenario:
    """Draw a scenario whose min_cvar or min_worst_case (or both) is a share of the best."""
    data: dict[str, Any] = draw(scenario_dict(max_niches=4, timed=draw(st.booleans())))
    rules = data.setdefault("rules", {})
    for key in draw(st.sampled_from([["min_cvar"], ["min_worst_case"], ["min_cvar", "min_worst_case"]])):
        rules[key] = {"share": draw(st.sampled_from([0.25, 0.5, 0.9, 1.0]))}
    return to_scenario(data)


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_floors_as_shares_match_enumeration(solver: str) -> None:
    @given(floor_scenarios())
    @settings(SETTINGS, max_examples=EXAMPLES[solver])
    def check(scenario: Scenario) -> None:
        expected = floors_by_enumeration(scenario).rules
        study = Study(scenario, solver=solver)
        found = study.scenario.rules
        for rule in scenario.rules.floor_shares:
            assert close(found.floor_bests[rule], expected.floor_bests[rule]) or (
                found.floor_bests[rule] != found.floor_bests[rule]  # NaN: no portfolio keeps the other rules
                and expected.floor_bests[rule] != expected.floor_bests[rule]
            )
        _check(scenario, solver)

    check()


def test_a_share_floor_becomes_its_figure() -> None:
    text = """
name: f
budget: 10
criteria: {x: 1}
worlds: {a: 0.5, b: 0.5}
niches:
  p: {cost: 5, scores: {x: 10}, outlook: {a: 2, b: 0.1}}
  q: {cost: 5, scores: {x: 4}}
  r: {cost: 5, scores: {x: 6}, outlook: {a: 0.2}}
rules:
  min_worst_case: {share: 0.9}
"""
    from niches.scenario import parse_scenario

    study = Study(parse_scenario(text, "f.yaml"))
    rules = study.scenario.rules
    assert rules.floor_bests == {"min_worst_case": 7.0}  # p and r: 10 * 0.1 + 6 in world b
    assert rules.min_worst_case == pytest.approx(6.3)
    assert study.solution().portfolio == {"p": "invest", "r": "invest"}


def test_price_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        """
name: s
periods: [a, b]
budget: 10
criteria: {x: 1}
niches:
  big: {cost: 8, scores: {x: 10}}
  small: {cost: 4, scores: {x: 3}, start: any}
  other: {cost: 4, scores: {x: 2}}
"""
    )
    result = run_cli("price", str(path), "small=invest@b", "-f", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["commitments"] == ["small=invest@b"]
    assert data["delta"] == {
        "objective": -6.5,
        "expected_value": -6.5,
        "worst_case": -6.5,
        "cvar": -6.5,
        "cost": -4.0,
    }
    assert data["displaced"] == [{"niche": "big", "from": "invest", "to": None}]
    assert data["entering"] == [
        {"niche": "small", "level": "invest@b"},
        {"niche": "other", "level": "invest"},
    ]
    assert [p["level"] for p in data["committed"]["portfolio"]] == ["invest@b", "invest"]
    out = run_cli("price", str(path), "-big")
    assert out.returncode == 0
    assert " big   │ invest │ -         │ leaves\n" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["small=large"],
            "niches: error: small=large: niche 'small' has no level 'large'; expected one of: invest",
        ),
        (["smal"], "niches: error: smal: unknown niche 'smal'; did you mean 'small'?"),
        (
            ["other=invest@b"],
            "niches: error: other=invest@b: level 'invest' of niche 'other' cannot start in 'b'; "
            "it may start in a (its 'start' in the scenario)",
        ),
        ([], "niches: error: give at least one commitment (NICHE=LEVEL[@PERIOD], NICHE or -NICHE)"),
    ],
)
def test_price_refuses_unknown_commitments(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nperiods: [a, b]\nbudget: 10\ncriteria: {x: 1}\n"
        "niches:\n  small: {cost: 4, scores: {x: 3}, start: any}\n  other: {cost: 4, scores: {x: 2}}\n"
    )
    result = run_cli("price", str(path), *args)
    assert (result.returncode, result.stderr.splitlines()[-1]) == (2, message)


def test_pins_are_rules_declared_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_NICHES)
    result = run_cli("solve", str(path), "--include", "b", "-f", "json")
    data = json.loads(result.stdout)
    assert [p["niche"] for p in data["portfolio"]] == ["b"]
    assert data["binding"][1:] == [
        {
            "rule": "must_include[b]",
            "gain_if_dropped": 7.0,
            "gain_bounds": [7.0, 7.0],
            "exact": True,
            "location": "command line",
        }
    ]
    bad = run_cli("solve", str(path), "--pin", "b")
    assert (bad.returncode, bad.stderr.splitlines()[-1]) == (
        2,
        "niches: error: --pin b: write NICHE=LEVEL or NICHE=LEVEL@PERIOD",
    )
    infeasible = run_cli("solve", str(path), "--include", "a", "--include", "b")
    assert infeasible.returncode == 1
    assert "command line" in infeasible.stdout


def test_a_commitment_no_portfolio_keeps_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_NICHES)
    result = run_cli("price", str(path), "a", "b")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "no portfolio keeps the scenario's rules with a, b"
    assert "must_include[a]" in result.stdout and "command line" in result.stdout


def test_commit_leaves_the_scenario_alone_without_commitments() -> None:
    from niches.scenario import load_scenario

    scenario = load_scenario("options/kazakhstan.yaml")
    assert commit(scenario, ()) is scenario
    pinned = commit(scenario, (Commitment("ai", "lead"),))
    assert pinned.rules.pins == {"ai": ("lead",)}
    assert dataclasses.replace(pinned.rules, pins={}) == scenario.rules


@pytest.mark.parametrize("commitment", ["logistics=corridor@2026", "logistics=corridor"])
def test_the_readme_shows_the_price_of_the_corridor_as_it_is(commitment: str) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index(f"$ niches price {commitment}\n") + len(f"$ niches price {commitment}\n")
    shown = readme[start : readme.index("```", start)]
    result = run_cli("price", commitment, columns=100)
    assert result.returncode == 0
    assert result.stdout == shown


def test_a_report_records_its_commitments_and_checks_with_them(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(TWO_NICHES)
    made = run_cli("report", str(scenario), "-n", "20", "--include", "b", "-o", str(tmp_path / "r.md"))
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "r.md").read_text()
    assert "| commitments | --include b |" in text
    assert "| must_include[b] | command line | +7.00 |" in text  # the rule's price, where it was declared
    assert (
        run_cli("report", "--check", str(tmp_path / "r.md")).stdout == f"{tmp_path / 'r.md'} is up to date\n"
    )
    stale = run_cli("report", "--check", str(tmp_path / "r.md"), "--exclude", "a")
    assert (stale.returncode, stale.stderr) == (
        1,
        f"{tmp_path / 'r.md'} is stale: regenerate it with "
        f"`niches report {scenario} -o {tmp_path / 'r.md'} --samples 20 --exclude a`\n",
    )


def test_a_stale_start_reported_by_highs_is_not_taken_for_the_optimum() -> None:
    """HiGHS can report the optimum's objective with the start's values: the spend tie-break still holds."""
    from niches.optimize.model import solve
    from niches.scenario import parse_scenario

    text = """
name: stale
periods: [2026, 2027]
budget: 1
criteria: {relevance: 1, autonomy: 0}
powers: [USA]
worlds: {calm: 0.3333333333333333, blocs: 0.3333333333333333, storm: 0.33333333333333337}
niches:
  n0: {levels: {l0: {cost: 0}}, requires: [n1]}
  n1: {cost: 0, requires: [n2], excludes: [n2]}
  n2: {cost: 0, requires: [n3], excludes: [n3]}
  n3: {cost: 1, start: any}
rules: {cvar_tail: 0.5}
"""
    scenario = commit(parse_scenario(text, "stale.yaml"), (Commitment("n3", "invest"),))
    for solver in ("highs", "cbc"):
        assert solve(scenario, "cvar", solver).portfolio == {"n3": "invest@2027"}, solver
