"""The value of learning held to a direct computation: every portfolio that keeps the rules enumerated and
evaluated (by `evaluate`, on the scenario with the judgement set) at every point of the judgement's
distribution; EVPI = E[max] - max E over robust's draws."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from niches.analysis.judgements import Judgement, grid, quantile, uncertain_judgements
from niches.analysis.learn import learn
from niches.analysis.sampling import Sampler
from niches.optimize.evaluate import evaluate, feasible_portfolios, objective_value
from niches.scenario import Criterion, Scenario, Score, World
from niches.study import Study

from .conftest import run_cli
from .strategies import scenario_dict, to_scenario

SETTINGS = settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
VARY = ("scores", "weights", "probabilities")


def _uncertain(data: dict[str, Any]) -> dict[str, Any]:
    """Make sure a drawn scenario declares something uncertain: a weight range and two worlds."""
    data["criteria"]["relevance"] = {"weight": [1, 3]}
    if len(data.get("worlds", {})) < 2:
        data["worlds"] = {"calm": 0.5, "storm": 0.5}
        for niche in data["niches"].values():
            niche.pop("outlook", None)
    return data


@st.composite
def contested_dict(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a scenario where learning can pay: close alternatives under a binding budget, wide ranges
    and triangles, a contested weight, worlds whose outlooks differ."""
    worlds = ["calm", "blocs", "storm"][: draw(st.integers(2, 3))]
    niches: dict[str, Any] = {}
    for i in range(draw(st.integers(2, 4))):
        levels = {}
        for j in range(draw(st.integers(1, 2))):
            low = draw(st.integers(0, 5))
            spread = draw(st.integers(1, 6))
            score: Any = [low, low + spread]
            if draw(st.booleans()):
                score = {"low": low, "mode": low + draw(st.integers(0, spread)), "high": low + spread}
            levels[f"l{j}"] = {
                "cost": draw(st.integers(2, 6)),
                "scores": {"relevance": score, "economic": low},
            }
        niches[f"n{i}"] = {
            "levels": levels,
            "outlook": {w: draw(st.sampled_from([0.5, 1.0, 2.0])) for w in worlds},
        }
    rules: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        rules["min_cvar"] = draw(st.integers(0, 6))
    return {
        "name": "contested",
        "budget": draw(st.integers(5, 12)),
        "criteria": {"relevance": 1, "economic": {"weight": [0, 2]}},
        "worlds": {w: 1 / len(worlds) for w in worlds},
        "niches": niches,
        **({"rules": rules} if rules else {}),
        "objective": "expected",
    }


small = st.one_of(
    contested_dict().map(to_scenario),
    contested_dict().map(to_scenario),
    scenario_dict(max_niches=4).map(_uncertain).map(to_scenario),
    scenario_dict(max_niches=3, timed=True).map(_uncertain).map(to_scenario),
)
"""Half built for learning to pay, half the general scenarios (every key, starts)."""


def _set(s: Scenario, judgement: Judgement, u: float, source: Scenario | None = None) -> Scenario:
    """Return `s` with the judgement at cumulative probability `u` (of its distribution in `source`,
    default `s`) and everything else as in `s`."""
    if judgement.what == "score":
        niches = []
        for niche in s.niches:
            levels = []
            for level in niche.levels:
                if niche.id == judgement.niche and level.base == judgement.level:
                    declared = (source or s).niche(niche.id).level(level.id)
                    score = declared.scores[judgement.criterion or ""]
                    scores = {**level.scores, judgement.criterion or "": Score.point(quantile(score, u))}
                    level = dataclasses.replace(level, scores=scores)
                levels.append(level)
            niches.append(dataclasses.replace(niche, levels=tuple(levels)))
        return dataclasses.replace(s, niches=tuple(niches))
    assert judgement.what == "weight" and judgement.distribution is not None
    raw = {c.id: c.raw_weight.mean for c in s.criteria}
    raw[judgement.criterion or ""] = quantile(judgement.distribution, u)
    total = sum(raw.values())
    criteria = tuple(
        Criterion(c.id, raw[c.id] / total if total > 0 else c.weight, c.raw_weight, c.description)
        for c in s.criteria
    )
    return dataclasses.replace(s, criteria=criteria)


def _with_odds(s: Scenario, odds: np.ndarray) -> Scenario:
    return dataclasses.replace(
        s, worlds=tuple(World(w.id, float(p), w.description) for w, p in zip(s.worlds, odds, strict=True))
    )


def _evppi(figures: np.ndarray) -> float:
    """Return the mean best less the best mean of (points, portfolios)."""
    return float(figures.max(axis=1).mean() - figures.mean(axis=0).max())


def direct(s: Scenario, judgement: Judgement, points: int, samples: int, seed: int = 0) -> float:
    """Return EVPPI of the expected objective by evaluating every feasible portfolio at every point."""
    portfolios = [p for p, _ in feasible_portfolios(s)]
    if judgement.what == "probabilities":
        sampler = Sampler(s, ("probabilities",), 50.0)
        variants = [_with_odds(s, sampler.draw(seed, i)[2]) for i in range(samples)]
    else:
        variants = [_set(s, judgement, u) for u in grid(points)]
    figures = np.array([[evaluate(v, p).expected_value for p in portfolios] for v in variants])
    return _evppi(figures)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-7 * max(1.0, abs(a), abs(b))


@given(small)
@settings(SETTINGS, max_examples=40)
def test_evppi_of_the_expected_objective_matches_a_direct_computation(scenario: Scenario) -> None:
    study = Study(scenario, "expected", engine="enumeration")
    assume(study.solution().metrics is not None)
    s = study.scenario
    report = learn(study, points=9, samples=12)
    assert report.evpi >= 0
    event("learning pays" if any(j.evppi > 0 for j in report.judgements) else "nothing worth learning")
    for learned in report.judgements:
        assert learned.evppi >= 0
        expected = direct(s, learned.judgement, 9, 12)
        assert _close(learned.evppi, expected), (learned.judgement.label, learned.evppi, expected)
        assert (learned.changes_to is None) == (learned.evppi <= 1e-6 * max(1.0, abs(report.expected_value)))


@given(small)
@settings(SETTINGS, max_examples=10)
def test_a_score_converges_to_the_fine_grid_within_its_lipschitz_bound(scenario: Scenario) -> None:
    """33 points against 201: the gain over the decision is Lipschitz in the score, with a constant of
    at most twice the largest value a unit of score moves, so the grids differ by at most that times the
    range over 33."""
    study = Study(scenario, "expected", engine="enumeration")
    assume(study.solution().metrics is not None)
    s = study.scenario
    scores = [j for j in uncertain_judgements(s) if j.what == "score"]
    assume(scores)
    report = {j.judgement: j for j in learn(study, points=33, samples=2).judgements}
    for judgement in scores:
        niche = s.niche(judgement.niche or "")
        weight = s.weights[judgement.criterion or ""]
        reach = weight * sum(w.probability * niche.outlook.get(w.id, 1.0) for w in s.worlds)
        assert judgement.distribution is not None
        span = judgement.distribution.high - judgement.distribution.low
        fine = direct(s, judgement, 201, 1)  # itself within 2 reach span / 201 of the integral
        assert abs(report[judgement].evppi - fine) <= 2 * abs(reach) * span * (1 / 33 + 1 / 201) + 1e-9


@given(small)
@settings(SETTINGS, max_examples=25)
def test_evpi_is_the_expected_best_less_the_best_expected_over_robust_draws(scenario: Scenario) -> None:
    study = Study(scenario, "expected", engine="enumeration")
    assume(study.solution().metrics is not None)
    s = study.scenario
    report = learn(study, points=3, samples=15, seed=7)
    sampler = Sampler(s, VARY, 50.0)
    portfolios = [p for p, _ in feasible_portfolios(s)]
    figures = np.array(
        [
            [evaluate(sampler.scenario_for(*sampler.draw(7, j)), p).expected_value for p in portfolios]
            for j in range(15)
        ]
    )
    assert _close(report.evpi, _evppi(figures))


@pytest.mark.parametrize("kind", ["worst_case", "cvar", "regret"])
def test_nested_monte_carlo_matches_a_direct_computation(kind: str) -> None:
    """Every other judgement drawn as robust draws it (the same draws at every point), the judgement set
    at each quantile point, every feasible portfolio evaluated."""
    from niches.scenario import load_scenario

    study = Study(load_scenario("tests/data/learn/small.yaml"), kind, engine="enumeration")
    s = study.scenario
    points, samples = 4, 10
    report = learn(study, points=points, samples=samples)
    portfolios = [p for p, _ in feasible_portfolios(s)]
    sampler = Sampler(s, VARY, 50.0)
    draws = [sampler.draw(0, j) for j in range(samples)]
    outer_odds = [sampler.draw(0, samples + i)[2] for i in range(points)]
    criteria = [c.id for c in s.criteria]
    for learned in report.judgements:
        judgement = learned.judgement
        means = []
        for i, u in enumerate(grid(points)):
            figures = []
            for j, (scores, weights, odds) in enumerate(draws):
                variant = sampler.scenario_for(scores, weights, odds)
                if judgement.what == "score":
                    variant = _set(variant, judgement, u, s)
                elif judgement.what == "weight":
                    raw = _raw(sampler, j)
                    raw[criteria.index(judgement.criterion or "")] = quantile(judgement.distribution, u)  # type: ignore[arg-type]
                    variant = sampler.scenario_for(scores, raw / raw.sum(), odds)
                else:
                    variant = _with_odds(variant, outer_odds[i])
                figures.append([_objective(variant, p, kind, portfolios) for p in portfolios])
            means.append(np.mean(figures, axis=0))
        expected = _evppi(np.array(means))
        assert _close(learned.evppi, expected), (judgement.label, learned.evppi, expected)
        assert learned.stderr is not None and learned.stderr >= 0


def _raw(sampler: Sampler, index: int) -> np.ndarray:
    from niches.analysis.sampling import _draw_one, _stream

    u = _stream(0, index, "weights").random(len(sampler.w_kind))
    return np.array(
        [
            _draw_one(k, lo, mo, hi, x)
            for k, lo, mo, hi, x in zip(
                sampler.w_kind, sampler.w_low, sampler.w_mode, sampler.w_high, u, strict=True
            )
        ]
    )


def _objective(s: Scenario, portfolio: dict[str, str], kind: str, portfolios: list[dict[str, str]]) -> float:
    stars = None
    if kind == "regret":
        stars = {w.id: max(evaluate(s, p).value_by_world[w.id] for p in portfolios) for w in s.worlds}
    figure = objective_value(kind, evaluate(s, portfolio), stars)
    return -figure if kind == "regret" else figure


@given(small)
@settings(SETTINGS, max_examples=20)
def test_milp_and_enumeration_agree(scenario: Scenario) -> None:
    table = Study(scenario, "expected", engine="enumeration")
    assume(table.solution().metrics is not None)
    milp = Study(scenario, "expected", engine="milp")
    a, b = learn(table, points=7, samples=6), learn(milp, points=7, samples=6)
    assert _close(a.evpi, b.evpi)
    assert [round(j.evppi, 7) for j in a.judgements] == [round(j.evppi, 7) for j in b.judgements]
    assert [j.judgement for j in a.judgements] == [j.judgement for j in b.judgements]


def test_cbc_gives_the_same_figures() -> None:
    outputs = [
        run_cli(
            "learn", "tests/data/learn/small.yaml", "--format", "json", "--solver", solver, "--samples", "20"
        )
        for solver in ("highs", "cbc")
    ]
    assert all(o.returncode == 0 for o in outputs), [o.stderr for o in outputs]
    assert outputs[0].stdout == outputs[1].stdout


def test_json_contract_on_the_default() -> None:
    result = run_cli("learn", "options/kazakhstan.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"scenario", "units", "evpi", "judgements"} <= set(data)
    first = data["judgements"][0]
    assert {"what", "niche", "criterion", "evppi", "share_of_value", "stderr", "changes_to"} <= set(first)
    assert [j["evppi"] for j in data["judgements"]] == sorted(
        (j["evppi"] for j in data["judgements"]), reverse=True
    )
    whats = {j["what"] for j in data["judgements"]}
    assert whats == {"score", "weight", "probabilities"}
    assert any(j["source"] == "judges" for j in data["judgements"])
    assert data["evpi"] >= data["judgements"][0]["evppi"] > 0
    assert math.isclose(
        data["judgements"][0]["share_of_value"],
        data["judgements"][0]["evppi"] / data["expected_value"],
        abs_tol=1e-6,
    )


def test_a_big_scenario_with_another_objective_is_refused() -> None:
    result = run_cli("learn", "tests/data/synthetic30.yaml", "--objective", "cvar")
    assert result.returncode == 2
    assert result.stderr == (
        "niches: error: niches learn with the cvar objective enumerates every portfolio, and this scenario "
        "has too many (more than 1,000,000); use --objective expected, which it solves as MILPs\n"
    )


def test_the_readme_shows_learn_as_it_prints() -> None:
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("$ niches learn\n") + len("$ niches learn\n")
    result = run_cli("learn", columns=100)
    assert result.returncode == 0, result.stderr
    assert result.stdout == readme[start : readme.index("```", start)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--points", "0"],
            "niches: error: --points '0': expected a whole number from 1 to 1,000; see niches learn --help",
        ),
        (
            ["--seed", "-1"],
            "niches: error: --seed '-1': expected a whole number from 0 to 2^63-1; see niches learn --help",
        ),
    ],
)
def test_numeric_options_out_of_range_exit_2_before_any_work(args: list[str], message: str) -> None:
    result = run_cli("learn", *args)
    assert (result.returncode, result.stderr) == (2, message + "\n")
