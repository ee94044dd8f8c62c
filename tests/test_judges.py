"""Judges: group values by hand, judgement-file errors located in the file, disagreements vs brute force."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niches.optimize.evaluate import brute_force, close, evaluate, objective_value, violated_rules
from niches.scenario import Scenario, ScenarioError, Score, load_scenario
from niches.study import Study

from .conftest import run_cli
from .strategies import CRITERIA, scenario_dict

SCENARIO = """
name: panel
budget: 10
criteria:
  relevance: 0.5
  economic: 0.5
worlds: {calm: 0.5, storm: 0.5}
niches:
  a: {cost: 6, scores: {relevance: 8, economic: 2}}
  b: {cost: 5, scores: {relevance: 3, economic: 7}}
  c:
    levels:
      small: {cost: 4, scores: {relevance: 4, economic: 4}}
      big: {cost: 8, scores: {relevance: 6, economic: 9}}
judges: [panel/*.yaml]
"""
MINISTRY = """judge: ministry
weights:
  pairwise:
    - [relevance, economic, 3]
probabilities: {calm: 0.7}
scores:
  a: {relevance: 9}
"""
TREASURY = """judge: treasury
weights: {relevance: 1, economic: 3}
scores:
  a: {relevance: 6}
  c.big: {economic: [6, 8]}
"""


def _write(folder: Path, scenario: str, **judges: str) -> Path:
    (folder / "panel").mkdir(exist_ok=True)
    for name, text in judges.items():
        (folder / "panel" / f"{name}.yaml").write_text(text)
    path = folder / "s.yaml"
    path.write_text(scenario)
    return path


@pytest.mark.parametrize(
    ("how", "relevance", "a_relevance"),
    [("mean", 0.5, 7.5), ("median", 0.5, 7.5), ("geometric", 0.5, math.sqrt(54.0))],
)
def test_group_values_by_hand(tmp_path: Path, how: str, relevance: float, a_relevance: float) -> None:
    path = _write(tmp_path, SCENARIO + f"aggregate: {how}\n", ministry=MINISTRY, treasury=TREASURY)
    s = load_scenario(path)
    weights = {c.id: c.weight for c in s.criteria}
    # ministry 3:1 -> 0.75/0.25, treasury 1:3 -> 0.25/0.75: mean, median and geometric mean renormalised
    assert weights["relevance"] == pytest.approx(relevance)
    assert s.criteria[0].raw_weight == Score(0.25, 0.75, 0.5, "triangular", pytest.approx(relevance))
    a = s.niche("a").levels[0].scores["relevance"]
    assert a.mean == pytest.approx(a_relevance) and (a.low, a.mode, a.high, a.kind) == (
        6.0,
        7.5,
        9.0,
        "triangular",
    )
    assert s.niche("c").level("big").scores["economic"] == Score.point(7.0)  # one judge: no spread
    # the ministry states calm 0.7: its whole view leaves storm the 0.3 it does not give to calm
    assert {w.id: w.probability for w in s.worlds} == pytest.approx({"calm": 0.7, "storm": 0.3})
    judged = {j.what: (j.declared, dict(j.judges), j.group) for j in s.judged}
    assert judged["probability of calm"] == (0.5, {"ministry": 0.7}, pytest.approx(0.7))
    assert judged["probability of storm"] == (0.5, {"ministry": pytest.approx(0.3)}, pytest.approx(0.3))


WORLD_IDS = ["calm", "blocs", "storm", "war"]


@st.composite
def _panel(draw: st.DrawFn) -> tuple[dict[str, float], list[dict[str, float]], str]:
    """Draw the scenario's probabilities and 1-4 judges, each stating some worlds (a partial view)."""
    worlds = WORLD_IDS[: draw(st.integers(2, 4))]
    raw = [draw(st.integers(1, 9)) for _ in worlds]
    declared = {w: r / sum(raw) for w, r in zip(worlds, raw, strict=True)}
    views = []
    for _ in range(draw(st.integers(1, 4))):
        stated = draw(st.lists(st.sampled_from(worlds), min_size=1, max_size=len(worlds), unique=True))
        budget = 1.0 if len(stated) == len(worlds) else draw(st.sampled_from([0.4, 0.7, 0.9, 1.0]))
        weights = [draw(st.integers(1, 9)) for _ in stated]
        views.append({w: budget * x / sum(weights) for w, x in zip(stated, weights, strict=True)})
    return declared, views, draw(st.sampled_from(["mean", "median", "geometric"]))


@given(_panel())
@settings(max_examples=300, deadline=None, derandomize=True)
def test_group_probabilities_lie_within_the_judges_views_and_sum_to_one(
    panel: tuple[dict[str, float], list[dict[str, float]], str],
) -> None:
    from niches.scenario.judges import completed, group_probabilities

    declared, stated, how = panel
    views = [completed(v, declared) for v in stated]
    for view, said in zip(views, stated, strict=True):
        assert math.isclose(math.fsum(view.values()), 1.0, abs_tol=1e-12)
        assert all(view[w] == p for w, p in said.items())
    group = group_probabilities(views, how)
    assert math.isclose(math.fsum(group.values()), 1.0, abs_tol=1e-12)
    for world in declared:
        low, high = min(v[world] for v in views), max(v[world] for v in views)
        assert low - 1e-12 <= group[world] <= high + 1e-12, (world, group, views)


@given(_panel())
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_loaded_scenario_keeps_the_group_within_the_judges_views(
    tmp_path_factory: pytest.TempPathFactory, panel: tuple[dict[str, float], list[dict[str, float]], str]
) -> None:
    from niches.scenario.judges import completed

    declared, stated, how = panel
    folder = tmp_path_factory.mktemp("panel")
    worlds = "{" + ", ".join(f"{w}: {p!r}" for w, p in declared.items()) + "}"
    text = SCENARIO.replace("worlds: {calm: 0.5, storm: 0.5}", f"worlds: {worlds}") + f"aggregate: {how}\n"
    judges = {f"j{i}": f"judge: j{i}\nprobabilities: {json.dumps(v)}\n" for i, v in enumerate(stated)}
    s = load_scenario(_write(folder, text, **judges))
    views = [completed(v, declared) for v in stated]
    assert math.isclose(math.fsum(w.probability for w in s.worlds), 1.0, abs_tol=1e-9)
    for w in s.worlds:
        low, high = min(v[w.id] for v in views), max(v[w.id] for v in views)
        assert low - 1e-9 <= w.probability <= high + 1e-9


def test_pairwise_judges_combine_by_geometric_mean_of_judgements(tmp_path: Path) -> None:
    other = (
        MINISTRY.replace("ministry", "security")
        .replace("3]", "1/5]")
        .replace("probabilities: {calm: 0.7}\n", "")
    )
    path = _write(tmp_path, SCENARIO, ministry=MINISTRY, security=other)
    s = load_scenario(path)
    group = math.sqrt(3 * (1 / 5))  # AIJ: relevance vs economic
    assert s.criteria[0].weight == pytest.approx(group / (1 + group))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "weights: {relevance: 1}\n",
            "judgement file {p} is missing required key 'judge' (who gives these judgements)",
        ),
        (
            "judge: x\nweights: {relevance: 1}\n",
            "judge 'x' gives no weight for economic; give every criterion a weight (0 is allowed) or none",
        ),
        ("judge: x\nscore: {}\n", "unknown key 'score' in a judgement file; did you mean 'scores'?"),
        (
            "judge: x\nscores: {c: {economic: 3}}\n",
            "niche 'c' has 2 levels (small, big); name one, as c.small",
        ),
        (
            "judge: x\nscores: {c.huge: {economic: 3}}\n",
            "unknown level 'huge' of niche 'c' in scores of judge 'x'; expected one of: small, big",
        ),
        (
            "judge: x\nweights:\n  pairwise: [[relevance, economic, 10]]\n",
            "pairwise comparisons of judge 'x': relevance vs economic must be on Saaty's scale, "
            "1/9 to 9, got 10",
        ),
        (
            "judge: x\nprobabilities: {calme: 0.2}\n",
            "unknown world 'calme' in probabilities of judge 'x'; did you mean 'calm'?",
        ),
    ],
)
def test_judgement_file_errors_point_into_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, SCENARIO, x=text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    shown = str(tmp_path / "panel" / "x.yaml")
    lines = [str(p) for p in caught.value.problems]
    assert len(lines) == 1 and lines[0].startswith(shown + ":")
    assert lines[0].split(": ", 1)[1] == message.format(p=shown)


def test_scenario_level_judges_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, SCENARIO.replace("panel/*.yaml", "jury/*.yaml") + "aggregate: modal\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [p.message for p in caught.value.problems] == [
        "judges: 'jury/*.yaml' matches no file (paths are relative to the scenario)",
        "unknown aggregate 'modal'; expected one of: mean, median, geometric",
    ]
    twice = _write(tmp_path, SCENARIO, ministry=MINISTRY, again=MINISTRY)
    with pytest.raises(ScenarioError, match="judge 'ministry' is named in both"):
        load_scenario(twice)


def test_judges_command_json_contract(tmp_path: Path) -> None:
    path = _write(tmp_path, SCENARIO, ministry=MINISTRY, treasury=TREASURY)
    result = run_cli("judges", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [j["judge"] for j in data["judges"]] == ["ministry", "treasury"]
    assert data["judges"][0]["cr"] == 0.0 and data["judges"][1]["cr"] is None
    assert data["group"]["portfolio"] == [{"niche": "b", "level": "invest"}, {"niche": "c", "level": "small"}]
    assert data["judges"][0]["portfolio"] == [
        {"niche": "a", "level": "invest"},
        {"niche": "c", "level": "small"},
    ]
    first = data["disagreements"][0]
    assert set(first) == {"judgement", "values", "changes_recommendation", "regret"}
    assert first["changes_recommendation"] is True
    none = run_cli("judges", "-", stdin=SCENARIO.replace("judges: [panel/*.yaml]\n", ""))
    assert (none.returncode, none.stderr) == (
        2,
        "niches: error: <stdin>: declares no judges; list judgement files under 'judges:'\n",
    )


# --------------------------------------------------------------------------- the oracle


@st.composite
def judged(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Draw a small scenario (with worlds) and 2-4 judges who give some of its judgements."""
    data = draw(scenario_dict(max_niches=3))
    data.setdefault("worlds", {"calm": 0.5, "storm": 0.5})
    worlds = list(data["worlds"])
    files = []
    for k in range(draw(st.integers(2, 4))):
        judge: dict[str, Any] = {"judge": f"j{k}"}
        if draw(st.booleans()):
            judge["weights"] = {c: draw(st.integers(0, 4)) for c in CRITERIA}
            if sum(judge["weights"].values()) == 0:
                judge["weights"][CRITERIA[0]] = 1
        if draw(st.booleans()):
            judge["probabilities"] = {w: draw(st.integers(1, 9)) / 10 for w in worlds if draw(st.booleans())}
        scores: dict[str, Any] = {}
        for nid, niche in data["niches"].items():
            levels = list(niche["levels"]) if "levels" in niche else [None]
            for lid in levels:
                if draw(st.booleans()):
                    key = nid if lid is None else f"{nid}.{lid}"
                    scores[key] = {draw(st.sampled_from(CRITERIA)): draw(st.integers(-2, 9))}
        if scores:
            judge["scores"] = scores
        files.append(judge)
    return data, files


def _oracle_variant(scenario: Scenario, judgement: tuple[str, ...], value: float) -> Scenario:
    """The scenario with one judgement at a judge's value, built here from the definitions in the docs."""
    if judgement[0] == "weight":
        rest = {c.id: c.weight for c in scenario.criteria if c.id != judgement[1]}
        scale = (1 - value) / sum(rest.values()) if sum(rest.values()) > 0 else None
        criteria = tuple(
            dataclasses.replace(
                c,
                weight=value
                if c.id == judgement[1]
                else (rest[c.id] * scale if scale is not None else (1 - value) / len(rest)),
            )
            for c in scenario.criteria
        )
        return dataclasses.replace(scenario, criteria=criteria)
    if judgement[0] == "probability":
        raw = {w.id: value if w.id == judgement[1] else w.probability for w in scenario.worlds}
        worlds = tuple(
            dataclasses.replace(w, probability=raw[w.id] / sum(raw.values())) for w in scenario.worlds
        )
        return dataclasses.replace(scenario, worlds=worlds)
    _, nid, lid, crit = judgement
    niches = tuple(
        dataclasses.replace(
            n,
            levels=tuple(
                dataclasses.replace(lv, scores={**lv.scores, crit: Score.point(value * lv.share)})
                if n.id == nid and lv.base == lid
                else lv
                for lv in n.levels
            ),
        )
        for n in scenario.niches
    )
    return dataclasses.replace(scenario, niches=niches)


@pytest.mark.slow
def test_disagreement_ranking_matches_brute_force() -> None:
    compared: list[int] = []

    @given(judged())
    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(drawn: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        compared.append(_compare(drawn))

    check()
    assert sum(compared) >= 20, sum(compared)  # judge values held to brute force (not skipped)


def _compare(drawn: tuple[dict[str, Any], list[dict[str, Any]]]) -> int:
    """Hold every disagreement of one drawn panel to brute force; return how many values were compared."""
    import tempfile

    from niches.analysis.judges import judges_report

    data, files = drawn
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "panel").mkdir()
        for judge in files:
            (root / "panel" / f"{judge['judge']}.yaml").write_text(yaml.safe_dump(judge))
        data = {**data, "judges": ["panel/*.yaml"]}
        (root / "s.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        try:
            scenario = load_scenario(root / "s.yaml")
        except ScenarioError:
            return 0  # a drawn judge may give, say, weights the loader refuses: nothing to compare
    study = Study(scenario)
    group = brute_force(scenario)
    if group.portfolio is None:
        return 0
    report = judges_report(study)
    assert report.portfolio == group.portfolio
    kind = scenario.objective
    ranked = []
    done = 0
    for d in report.disagreements:
        for judge, value in d.values.items():
            variant = _oracle_variant(scenario, d.judgement, value)
            best = brute_force(variant, kind)
            assert best.portfolio is not None and best.objective is not None
            assert d.changes[judge] == (best.portfolio != group.portfolio), (d.judgement, judge)
            done += 1
            if violated_rules(variant, group.portfolio):
                assert d.regret[judge] is None
                continue
            mine = objective_value(kind, evaluate(variant, group.portfolio), best.best_by_world)
            expected = mine - best.objective if kind == "regret" else best.objective - mine
            found = d.regret[judge]
            assert found is not None and close(found, max(0.0, expected)), (d.judgement, judge)
        ranked.append(d.largest)
    assert ranked == sorted(ranked, reverse=True)
    return done


THREE = """
name: three
budget: 10
criteria: {relevance: 1, economic: 1, autonomy: 1}
niches:
  a: {cost: 6, scores: {relevance: 8, economic: 2}}
  b: {cost: 5, scores: {relevance: 3, economic: 7}}
"""


def test_elicit_through_a_pipe_revisits_an_inconsistent_set(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(THREE)
    out = tmp_path / "ana.yaml"
    # relevance 5x economic, 1/5 of autonomy, economic 9x autonomy: CR far above 0.1. The session
    # names relevance vs economic; the judge gives 1/2, then keeps the set; then scores b
    answers = "ana\n5\n1/5\n9\n1/2\n\nb\n4\n\n6\n"
    result = run_cli("elicit", str(scenario), "-o", str(out), stdin=answers)
    assert result.returncode == 0, result.stderr
    assert "consistency ratio of the first 3 criteria: 3.66" in result.stdout
    assert "CR above 0.10: revisit relevance vs economic (given 5); 0.82 agrees with the rest (CR 1.41)" in (
        result.stdout.replace("\n", " ").replace("  ", " ")
    )
    assert out.read_text() == (
        'judge: "ana"\nweights:\n  pairwise:\n    - [relevance, economic, 1/2]\n'
        "    - [relevance, autonomy, 1/5]\n    - [economic, autonomy, 9]\n"
        "scores:\n  b: {relevance: 4, autonomy: 6}\n"
    )
    (tmp_path / "panel").mkdir(exist_ok=True)
    (tmp_path / "s2.yaml").write_text(THREE + "judges: [ana.yaml]\n")
    judged = load_scenario(tmp_path / "s2.yaml")  # the file is a valid judgement file
    assert [j.name for j in judged.judges] == ["ana"]
    assert judged.judges[0].scores == {("b", "invest", "relevance"): 4.0, ("b", "invest", "autonomy"): 6.0}


def test_elicit_resumes_from_a_file_and_refuses_a_short_input(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(THREE)
    first = tmp_path / "first.yaml"
    first.write_text(
        "judge: ana\nweights:\n  pairwise:\n"
        "    - [relevance, economic, 3]\n    - [relevance, autonomy, 1/2]\n"
    )
    out = tmp_path / "again.yaml"
    result = run_cli("elicit", str(scenario), "--from", str(first), "-o", str(out), stdin="\n\n\n1/6\n\n")
    assert result.returncode == 0, result.stderr
    assert "relevance vs economic [3]: " in result.stdout
    assert out.read_text().startswith('judge: "ana"\nweights:\n  pairwise:\n    - [relevance, economic, 3]\n')
    short = run_cli("elicit", str(scenario), "-o", str(tmp_path / "none.yaml"), stdin="ana\n3\n")
    assert (short.returncode, short.stderr.splitlines()[-1]) == (
        2,
        f"niches: error: input ended before the session did; nothing written to {tmp_path / 'none.yaml'}",
    )
    assert not (tmp_path / "none.yaml").exists()


def test_the_readme_shows_the_default_judges_as_they_are() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index("$ niches judges\n") + len("$ niches judges\n")
    result = run_cli("judges", columns=100)
    assert result.returncode == 0
    assert result.stdout == readme[start : readme.index("```", start)]


def test_validate_and_check_read_a_judgement_file_with_the_scenario_that_lists_it(tmp_path: Path) -> None:
    result = run_cli("validate", "options/kazakhstan/ministry.yaml", "options/kazakhstan/economy.yaml")
    assert (result.returncode, result.stdout) == (
        0,
        "options/kazakhstan/ministry.yaml: ok\noptions/kazakhstan/economy.yaml: ok\n",
    )
    result = run_cli("check", "options/kazakhstan/security.yaml")
    assert (result.returncode, result.stdout) == (
        0,
        "options/kazakhstan/security.yaml: a judgement file, valid with options/kazakhstan.yaml "
        "(check that scenario)\n",
    )
    _write(tmp_path, SCENARIO, ministry=MINISTRY.replace("relevance: 9", "relevanse: 9"))
    result = run_cli("validate", "panel/ministry.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("panel/ministry.yaml:")
    (tmp_path / "alone.yaml").write_text("judge: nobody\n")
    result = run_cli("validate", "alone.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "alone.yaml:1:1: a judgement file that no scenario in its folder or the one above lists under "
        "judges:; list it there, or validate the scenario that does\n1 of 1 file invalid\n",
    )
