"""Rivals crowding the same niches: best responses and the coordinated plan held to brute force; the CLI."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niches.analysis.rivals import RivalsReport, Standing, study_rivals
from niches.numbers import clean
from niches.optimize.evaluate import (
    RELATIVE_TIE,
    Metrics,
    all_portfolios,
    best_of,
    brute_force,
    close,
    evaluate,
    floors_by_enumeration,
    numeric_limits,
    objective_value,
    past_limits,
    violated_rules,
)
from niches.optimize.model import solve
from niches.optimize.relaxation import weighted_relaxation
from niches.provenance import recorded
from niches.render.terminal import plain_text
from niches.scenario import Scenario, ScenarioError, load_scenario
from niches.scenario.constellation import Constellation, load_constellation

from .conftest import ROOT, run_cli
from .strategies import deal_scenario_dict, scenario_dict, to_scenario
from .test_cli import check_golden
from .test_widths import WIDTHS, _drawn

DATA = Path(__file__).parent / "data" / "rivals"
SEED = "tests/data/rivals/seed.yaml"
CYCLE = "tests/data/rivals/cycle.yaml"
CORRIDOR = "tests/data/rivals/corridor.yaml"
FLOOR = "tests/data/rivals/floor.yaml"

Portfolio = dict[str, str]
State = dict[str, Portfolio]


# --------------------------------------------------------------------------- the oracle


def _crowd(scenario: Scenario, factors: Mapping[str, float]) -> Scenario:
    """The member's scenario with each niche in `factors` worth that share of its value in every world."""
    worlds = [w.id for w in scenario.worlds]
    niches = []
    for niche in scenario.niches:
        if niche.id in factors:
            outlook = {w: niche.outlook.get(w, 1.0) * factors[niche.id] for w in worlds}
            niche = dataclasses.replace(niche, outlook=outlook)
        niches.append(niche)
    return dataclasses.replace(scenario, niches=tuple(niches))


def _multiplier(crowding: Mapping[int, float], holders: int) -> float:
    """m(k): the multiplier given for the largest k not above `holders` (1 below every k given)."""
    given = [k for k in crowding if k <= holders]
    return crowding[max(given)] if given else 1.0


FLOORS = frozenset({"min_worst_case", "min_cvar"})
"""The value floors: the rules crowding can break, held where they can be."""


class Oracle:
    """Each member's portfolios scored by enumeration under every crowding it can face.

    A member's candidates are its portfolios that keep every rule but its value floors (crowding
    changes values, not costs, so they are the same under any crowding); a floor declared as a share
    is fixed from the member alone. Under a crowding, a candidate scores its shortfall below the floors
    (each as a share of the floor's size, 1 for a floor of 0, added up; 0 when they hold) and its
    objective: a best response is the least shortfall (exactly 0 when some candidate keeps the floors,
    else within the tie tolerance of the least), then the objective with `solve`'s tie-breaks.
    """

    def __init__(self, c: Constellation) -> None:
        self.c = c
        self.names = list(c.members)
        self.members = {m: floors_by_enumeration(s) for m, s in c.members.items()}
        self.portfolios = {
            m: [p for p in all_portfolios(s) if not violated_rules(s, p, ignore=FLOORS)]
            for m, s in self.members.items()
        }
        self.variants: dict[tuple[str, tuple[tuple[str, float], ...]], Scenario] = {}
        self.scores: dict[tuple[str, tuple[tuple[str, float], ...], tuple[tuple[str, str], ...]], Any] = {}

    def factors(self, member: str, state: Mapping[str, Portfolio]) -> tuple[tuple[str, float], ...]:
        """The multiplier on `member`'s value from each crowded niche it declares, against `state`."""
        mine = {n.id for n in self.c.members[member].niches}
        found = []
        for niche, crowding in self.c.crowding.items():
            if niche not in mine:
                continue
            others = sum(
                1
                for o in self.names
                if o != member and niche in state[o] and niche in {n.id for n in self.c.members[o].niches}
            )
            factor = _multiplier(crowding, 1 + others)
            if factor != 1.0:
                found.append((niche, factor))
        return tuple(found)

    def variant(self, member: str, factors: tuple[tuple[str, float], ...]) -> Scenario:
        key = (member, factors)
        if key not in self.variants:
            self.variants[key] = _crowd(self.members[member], dict(factors))
        return self.variants[key]

    def score(
        self, member: str, factors: tuple[tuple[str, float], ...], p: Portfolio
    ) -> tuple[float, float, Metrics]:
        """The member's shortfall below its floors, its objective and metrics with `p` under `factors`."""
        key = (member, factors, tuple(sorted(p.items())))
        if key not in self.scores:
            s = self.variant(member, factors)
            metrics: Metrics = evaluate(s, p)
            short = weighted_relaxation(s, p, sorted(FLOORS & set(numeric_limits(s))))
            self.scores[key] = (short, objective_value(s.objective, metrics), metrics)
        found: tuple[float, float, Metrics] = self.scores[key]
        return found

    def best_response(self, member: str, state: Mapping[str, Portfolio]) -> Portfolio:
        """The member's best response to `state` (the least shortfall, then `solve`'s tie-breaks)."""
        factors = self.factors(member, state)
        scored = [(p, *self.score(member, factors, p)) for p in self.portfolios[member]]
        least = _least([short for _, short, _, _ in scored])
        tied = [(p, metrics) for p, short, _, metrics in scored if _within(short, least)]
        return dict(best_of(self.variant(member, factors), self.members[member].objective, tied)[0])

    def dynamics(self, start: State) -> tuple[list[State], bool, int | None]:
        """Replay the documented dynamics: the states after each round, converged, the repeated state."""
        state = {m: dict(p) for m, p in start.items()}
        states = [state]
        keys = [self._key(state)]
        for _ in range(200):
            changed = False
            for m in self.names:
                best = self.best_response(m, state)
                if best != state[m]:
                    state = {**state, m: best}
                    changed = True
            states.append(state)
            if not changed:
                return states, True, None
            key = self._key(state)
            if key in keys:
                return states, False, keys.index(key)
            keys.append(key)
        raise AssertionError("the reference did not settle")

    def _key(self, state: State) -> tuple[tuple[tuple[str, str], ...], ...]:
        return tuple(tuple(sorted(state[m].items())) for m in self.names)

    def each(self, state: Mapping[str, Portfolio]) -> dict[str, tuple[float, float]]:
        """Each member's shortfall below its floors and its objective under the crowding of `state`."""
        scores = {m: self.score(m, self.factors(m, state), dict(state[m])) for m in self.names}
        return {m: (short, objective) for m, (short, objective, _) in scores.items()}

    def measured(self, state: Mapping[str, Portfolio]) -> tuple[float, float]:
        """The members' shortfalls and objectives under the crowding of `state`, each added up."""
        scores = self.each(state).values()
        return math.fsum(short for short, _ in scores), math.fsum(objective for _, objective in scores)

    def coordinated(self, held: Mapping[str, float] | None) -> tuple[float, set[Any]]:
        """The coordinated optimum over every combination of the members' candidates: its total of
        objectives, and the combinations (as keys) that reach it.

        Against an equilibrium whose members fall `held` short of their floors: the best total among the
        combinations where no member falls further short than there (exactly 0 for a member whose floors
        hold there, else within the tie tolerance). With no equilibrium (`held` None): the best total
        among the combinations whose total shortfall ties with the least."""
        scored = []  # each combination: its key, each member's shortfall, the total objective
        for combo in itertools.product(*(self.portfolios[m] for m in self.names)):
            state = dict(zip(self.names, combo, strict=True))
            each = self.each(state)
            shares = {m: short for m, (short, _) in each.items()}
            scored.append((self._key(state), shares, math.fsum(objective for _, objective in each.values())))
        if held is None:
            least = _least([math.fsum(shares.values()) for _, shares, _ in scored])
            allowed = [
                (key, total) for key, shares, total in scored if _within(math.fsum(shares.values()), least)
            ]
        else:
            allowed = [
                (key, total)
                for key, shares, total in scored
                if all(_within(shares[m], held[m]) for m in self.names)
            ]
        best = max(total for _, total in allowed)
        return best, {key for key, total in allowed if close(total, best)}


def _least(shortfalls: list[float]) -> float:
    return min(shortfalls)


def _within(short: float, least: float) -> bool:
    """Whether a shortfall ties with the least: exactly 0 when the least is (the floors hold), else
    within the tie tolerance."""
    return short == 0.0 if least == 0.0 else short <= least + _tie(least)


def _tie(value: float) -> float:
    return RELATIVE_TIE * max(1.0, abs(value))


def _held_to_brute_force(c: Constellation, solver: str) -> tuple[str, bool]:
    """Check one constellation against enumeration; return how its dynamics ended, and whether a
    member falls short of a floor at equilibrium or in the coordinated plan."""
    oracle = Oracle(c)
    alone = {m: brute_force(s).portfolio for m, s in c.members.items()}
    if any(p is None for p in alone.values()):
        with pytest.raises(Exception, match="alone"):
            study_rivals(c, solver)
        return "alone infeasible", False
    report: RivalsReport = study_rivals(c, solver)
    assert {m: dict(p) for m, p in report.alone.portfolios.items()} == alone
    assert all(not short for short in report.alone.shortfalls.values())
    states, converged, repeats = oracle.dynamics({m: dict(p or {}) for m, p in alone.items()})
    d = report.dynamics
    assert [dict(s) for s in d.states] == states
    assert (d.converged, d.repeats, d.rounds) == (converged, repeats, len(states) - 1)
    held = {m: short for m, (short, _) in oracle.each(states[-1]).items()} if converged else None
    best, reaching = oracle.coordinated(held)
    co = report.coordinated
    assert close(co.total, best), (co.total, best)
    assert oracle._key({m: dict(p) for m, p in co.portfolios.items()}) in reaching
    short_total, total = oracle.measured(co.portfolios)
    assert close(short_total, co.shortfall) and close(total, co.total)
    _shortfalls_are_the_evaluators(oracle, co)
    short = co.shortfall > 0
    if not converged:
        assert report.equilibrium is None and report.price_of_anarchy is None
        return ("cycle" if repeats is not None else "unsettled"), short
    eq = report.equilibrium
    assert eq is not None
    _shortfalls_are_the_evaluators(oracle, eq)
    final = states[-1]
    for m in oracle.names:  # no member does better by changing its plan alone, under the rule
        factors = oracle.factors(m, final)
        mine, objective, _ = oracle.score(m, factors, final[m])
        assert close(objective, eq.objectives[m]) and close(mine, eq.shares[m])
        shortfalls = [oracle.score(m, factors, p) for p in oracle.portfolios[m]]
        least_m = _least([s for s, _, _ in shortfalls])
        assert _within(mine, least_m), (m, mine, least_m)
        for other, value, _ in shortfalls:
            assert not _within(other, least_m) or value <= objective + _tie(objective), (m, value, objective)
    short = short or eq.shortfall > 0
    assert held is not None
    for m in oracle.names:  # no member further short of its floors than at equilibrium
        assert _within(co.shares[m], held[m]), (m, co.shares[m], held[m])
    assert co.total >= eq.total - _tie(eq.total)  # the coordinated plan may always copy the equilibrium
    if report.price_of_anarchy is not None:
        assert eq.total > 0
        assert report.price_of_anarchy >= 1 - RELATIVE_TIE, report.price_of_anarchy
    if co.total > eq.total + _tie(eq.total):
        return "anarchy costs", short  # the coordinated plan beats the equilibrium
    return ("moved" if d.moves else "converged"), short


def _shortfalls_are_the_evaluators(oracle: Oracle, standing: Standing) -> None:
    """Each member's shortfalls in `standing`: the floors its portfolio falls short of under the crowding
    it faces there, by how much (value units), and their sum as shares of the floors."""
    for m in oracle.names:
        s = oracle.variant(m, oracle.factors(m, standing.portfolios))
        amounts = past_limits(s, standing.portfolios[m], sorted(FLOORS & set(numeric_limits(s))))
        assert dict(standing.shortfalls[m]) == {g: a for g, a in amounts.items() if a > 0}
        share = oracle.score(m, oracle.factors(m, standing.portfolios), standing.portfolios[m])[0]
        assert close(standing.shares[m], share)


@st.composite
def constellations(draw: st.DrawFn) -> Constellation:
    """Draw 2-3 small members (niche ids n0, n1, ... shared; n0 worth having for each) and 1-3 crowded
    niches, n0 among them, with multipliers harsh enough to make members move."""
    size = draw(st.integers(2, 3))
    members: dict[str, Scenario] = {}
    for i in range(size):
        most = 3 if size == 2 else 2
        deals = i == 0 and draw(st.integers(0, 3)) == 0
        data = draw(deal_scenario_dict(max_niches=most) if deals else scenario_dict(max_niches=most))
        data["objective"] = draw(st.sampled_from(["expected", "worst_case", "cvar"]))
        rules = data.setdefault("rules", {})
        for rule in ("must_include", "min_niches", "max_share"):
            rules.pop(rule, None)  # keep most members able to plan alone
        floors = draw(st.integers(0, 3))
        if floors < 2:  # half the members without a value floor
            for rule in ("min_worst_case", "min_cvar"):
                rules.pop(rule, None)
        elif floors == 3:  # a quarter with a floor near their best alone, which crowding may break
            rule = draw(st.sampled_from(["min_worst_case", "min_cvar"]))
            rules[rule] = {"share": draw(st.sampled_from([0.9, 1.0]))}
        first = data["niches"]["n0"]
        for level in first["levels"].values() if "levels" in first else [first]:
            level["scores"] = {"relevance": draw(st.integers(3, 9))}
        members[f"m{i}"] = to_scenario(data)
    ids = sorted({n.id for s in members.values() for n in s.niches} - {"n0"})
    others = draw(st.lists(st.sampled_from(ids), max_size=min(2, len(ids)), unique=True)) if ids else []
    crowding: dict[str, dict[int, float]] = {}
    for niche in ["n0", *others]:
        factors = sorted(
            draw(st.lists(st.integers(1, 9), min_size=size - 1, max_size=size - 1)), reverse=True
        )
        ks = [k for k in range(2, size + 1) if k == 2 or draw(st.booleans())]
        crowding[niche] = {k: factors[i] / 10 for i, k in enumerate(ks)}
    declared = {n: tuple(m for m, s in members.items() if n in {x.id for x in s.niches}) for n in crowding}
    return Constellation("random", members, crowding, declared)


SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=True
)


@pytest.mark.parametrize(("solver", "examples", "broken"), [("highs", 50, 5), ("cbc", 10, 0)])
def test_rivals_match_brute_force(solver: str, examples: int, broken: int) -> None:
    """`broken`: the least number of examples where a member falls short of a floor (on CBC, the
    hand-made broken floor below)."""
    seen = {"alone infeasible": 0, "converged": 0, "moved": 0, "anarchy costs": 0, "cycle": 0, "unsettled": 0}
    short = 0

    @given(constellations())
    @settings(SETTINGS, max_examples=examples)
    def check(c: Constellation) -> None:
        nonlocal short
        outcome, fell_short = _held_to_brute_force(c, solver)
        seen[outcome] += 1
        short += fell_short

    check()
    assert seen["moved"] + seen["anarchy costs"] >= examples // 6, seen  # members that interact
    assert short >= broken, (short, seen)  # floors that crowding breaks


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_hand_made_chase_cycles_and_a_broken_floor_holds_where_it_can(solver: str) -> None:
    assert _held_to_brute_force(load_constellation(DATA / "cycle.yaml"), solver) == ("cycle", False)
    assert _held_to_brute_force(load_constellation(DATA / "floor.yaml"), solver) == ("converged", True)


def test_the_joint_model_names_occupants_and_crowded_values_in_domain_words() -> None:
    from niches.optimize.formulation import Formulation, joint
    from niches.optimize.formulation_crowding import add_crowding, bands

    assert bands({2: 0.85, 3: 0.7}, 3) == [[1], [2], [3]]
    assert bands({2: 0.9, 3: 0.9, 4: 0.9}, 4) == [[1], [2, 3, 4]]
    assert bands({2: 0.9}, 4) == [[1], [2], [3, 4]]  # a count left out counts 1
    c = load_constellation(DATA / "cycle.yaml")
    model = joint([(m, Formulation(s)) for m, s in c.members.items()], {})
    add_crowding(model, {"x": {2: 0.5}, "y": {2: 0.2}}, c.declared_by)
    for name in (
        "occupants[x=0]",
        "occupants[x=2]",
        "crowded[cycle_a/x.invest@2]",
        "crowded[cycle_b/y.invest@1]",
    ):
        assert name in model.col_name, name
    assert "holds[cycle_a/x]" in model.col_name
    for name in (
        "occupants[x]",
        "one_count[x]",
        "occupants[x@2]",
        "counted[cycle_a/x.invest]",
        "holds_of[cycle_a/x]",
        "others[cycle_a/x@1: cycle_b]",  # cycle_a alone in x: cycle_b is not there
    ):
        assert name in model.row_name, name
    row = model.row_name.index("cycle_a/value_of[baseline]")
    z = model.col_name.index("crowded[cycle_a/x.invest@2]")
    assert model.row_coef[row][z] == pytest.approx(-(0.5 - 1) * 10)  # -(m(2) - 1) v


# --------------------------------------------------------------------------- the CLI


def test_a_chase_exits_1_with_the_states_of_its_cycle() -> None:
    result = run_cli("rivals", CYCLE, "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert (data["rounds"], data["converged"]) == (3, False)
    x, y, z = ({"niche": n, "level": "invest"} for n in "xyz")
    assert data["cycle"] == [{"cycle_a": [x, y], "cycle_b": [x]}, {"cycle_a": [z], "cycle_b": [y]}]
    assert data["price_of_anarchy"] is None
    assert data["price_of_anarchy_note"] == "the best responses cycle, so there is no equilibrium to compare"
    assert [m["equilibrium"] for m in data["members"]] == [None, None]
    assert [m["coordinated"] for m in data["members"]] == [10.0, 12.0]  # a keeps x, b takes y
    on_cbc = run_cli("rivals", CYCLE, "--format", "json", "--solver", "cbc")
    assert (on_cbc.returncode, json.loads(on_cbc.stdout)) == (1, {**data, "solver": "cbc"})


def test_the_json_contract_on_three_library_scenarios() -> None:
    result = run_cli("rivals", SEED, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    keys = {"constellation", "members", "niches", "rounds", "converged", "cycle", "price_of_anarchy"}
    assert keys | {"units", "scenario"} <= set(data)
    member_keys = {"name", "alone", "equilibrium", "coordinated"}
    member_keys |= {"portfolio_alone", "portfolio_equilibrium", "portfolio_coordinated"}
    assert all(member_keys <= set(m) for m in data["members"])
    assert all({"niche", "alone", "equilibrium", "coordinated"} <= set(n) for n in data["niches"])
    assert data["constellation"] == "Three middle powers"
    assert [m["name"] for m in data["members"]] == ["kazakhstan", "canada", "turkey"]
    assert [n["niche"] for n in data["niches"]] == ["mediation", "education", "logistics", "ai"]
    assert (data["rounds"], data["converged"], data["cycle"]) == (2, True, None)
    assert data["price_of_anarchy"] == 1.0
    for member in data["members"]:  # alone: the member's own solve
        alone = solve(load_scenario(ROOT / "options" / f"{member['name']}.yaml"))
        assert member["alone"] == clean(alone.objective or 0.0)
        assert member["portfolio_alone"] == [{"niche": n, "level": lv} for n, lv in alone.portfolio.items()]
    assert data["niches"][0]["equilibrium"] == ["kazakhstan", "canada", "turkey"]
    assert data["members"][1]["portfolio_equilibrium"][2] == {"niche": "arctic", "level": "presence"}


def test_a_member_whose_floor_crowding_breaks_keeps_as_much_of_it_as_it_can() -> None:
    result = run_cli("rivals", FLOOR)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert (
        "floor_a cannot keep min_worst_case 8.00 against its rivals' plans: its worst case at equilibrium "
        "is 5.00 (short by 3.00) · no value floor: floor_b"
    ) in text
    assert (
        "price of anarchy 1.0000: the coordinated total over the equilibrium total; the coordinated plan "
        "falls less short of the members' value floors (0.0% against 37.5% at equilibrium: each shortfall "
        "as a share of its floor, added up)"
    ) in text
    data = json.loads(run_cli("rivals", FLOOR, "--format", "json").stdout)
    assert [
        (m["floors"], m["shortfall_equilibrium"], m["shortfall_coordinated"]) for m in data["members"]
    ] == [({"min_worst_case": 8.0}, {"min_worst_case": 3.0}, {}), ({}, {}, {})]
    assert "stuck" not in data
    assert (data["converged"], data["totals"], data["price_of_anarchy"]) == (
        True,
        {"alone": 20.0, "equilibrium": 10.0, "coordinated": 10.0},
        1.0,
    )


def test_the_markdown_of_two_library_scenarios() -> None:
    result = run_cli("rivals", CORRIDOR, "--format", "markdown")
    assert result.returncode == 0, result.stderr
    check_golden("rivals.corridor.md", result.stdout)


def test_the_terminal_tables_at_60_80_and_120_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    shown, listed = _drawn(["rivals", CORRIDOR], monkeypatch)
    assert listed == []  # every table reads as a table, none as `label: value` lines
    for width in WIDTHS:
        text = "".join(plain_text(r, width) for r in shown)
        assert all(len(line) <= width and line == line.rstrip() for line in text.splitlines()), width
        assert "…" not in text
        assert "price of anarchy 1.0095" in " ".join(text.split())


def test_the_readme_shows_the_two_corridors_as_they_are() -> None:
    readme = (ROOT / "README.md").read_text()
    command = f"$ niches rivals {CORRIDOR}\n"
    start = readme.index(command) + len(command)
    result = run_cli("rivals", CORRIDOR, columns=100)
    assert result.returncode == 0, result.stderr
    assert result.stdout == readme[start : readme.index("```", start)]


def test_a_member_optimising_regret_is_refused_where_its_objective_is(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text((DATA / "cycle_a.yaml").read_text() + "objective: regret\n")
    (tmp_path / "b.yaml").write_text((DATA / "cycle_b.yaml").read_text())
    path = tmp_path / "c.yaml"
    path.write_text("constellation:\n  members: [a.yaml, b.yaml]\n  crowding: {x: {2: 0.5}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_constellation(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'a.yaml'}:1:1: member 'a' optimises regret, which does not add up across members; "
        "give it objective expected, worst_case or cvar"
    ]


def test_thirteen_members_are_too_many(tmp_path: Path) -> None:
    for i in range(13):
        (tmp_path / f"m{i}.yaml").write_text((DATA / "cycle_b.yaml").read_text())
    path = tmp_path / "c.yaml"
    listed = ", ".join(f"m{i}.yaml" for i in range(13))
    path.write_text(f"constellation:\n  members: [{listed}]\n  crowding: {{x: {{2: 0.5}}}}\n")
    result = run_cli("rivals", str(path))
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [
            f"{path}:2:12: a constellation has 2 to 12 members (every round re-solves each against the "
            "others); this one lists 13",
            "1 problem found; nothing was solved",
        ],
    )


def test_a_niche_crowded_by_one_member_only_is_a_warning() -> None:
    result = run_cli("validate", "tests/data/rivals/lonely.yaml")
    assert (result.returncode, result.stdout) == (0, "tests/data/rivals/lonely.yaml: ok\n")
    assert result.stderr.splitlines() == [
        "tests/data/rivals/lonely.yaml:6:5: warning: crowded niche 'z' is declared by cycle_a only, so it "
        "is never crowded; add the members that build it, or drop it"
    ]


# --------------------------------------------------------------------------- the report


def test_the_report_of_a_member_has_a_section_rivals_and_check_regenerates_it(tmp_path: Path) -> None:
    out = tmp_path / "turkey.md"
    made = run_cli("report", "options/turkey.yaml", "--constellation", CORRIDOR, "-n", "20", "-o", str(out))
    assert made.returncode == 0, made.stderr
    text = out.read_text()
    section = text[text.index("## Rivals\n") : text.index("## Assumptions\n")]
    assert "| logistics | 2:0.60 | expand | corridor@2027 | azerbaijan | 0.60 |" in section
    assert "turkey among 1 rival (azerbaijan) of Two corridors (`tests/data/rivals/corridor.yaml`)" in section
    assert f"| constellation | {CORRIDOR} |" in text
    assert recorded(text).constellation == CORRIDOR
    checked = run_cli("report", "--check", str(out))  # the constellation read back from the provenance
    assert (checked.returncode, checked.stdout) == (0, f"{out} is up to date\n"), checked.stderr
    out.write_text(text.replace("| 0.60 |", "| 0.61 |"))
    stale = run_cli("report", "--check", str(out))
    assert (stale.returncode, stale.stderr) == (
        1,
        f"{out} is stale: regenerate it with `niches report options/turkey.yaml -o {out} --samples 20 "
        f"--constellation {CORRIDOR}`\n",
    )


def test_the_report_refuses_a_scenario_that_is_not_a_member() -> None:
    result = run_cli("report", "options/canada.yaml", "--constellation", CORRIDOR)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"niches: error: options/canada.yaml: not a member of {CORRIDOR} (turkey, azerbaijan); give the "
        "scenario of one of its members\n"
    )
