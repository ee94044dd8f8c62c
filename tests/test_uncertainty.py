"""Worlds and Monte Carlo against brute-force enumeration; determinism; the Dask path."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from niches.analysis.robust import Sampler, robust_of
from niches.analysis.worlds import worlds_of
from niches.limits import SAMPLES
from niches.optimize.evaluate import brute_force, close, feasible_portfolios
from niches.scenario import Scenario, load_scenario
from niches.study import Study

from .conftest import ROOT, run_cli
from .strategies import scenario_dict, to_scenario

FEW = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
small = scenario_dict(max_niches=4).map(to_scenario)
DEFAULT = ROOT / "options" / "kazakhstan.yaml"


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "solver"), [("enumeration", "highs"), ("milp", "highs"), ("milp", "cbc")])
def test_best_by_world_matches_enumeration(engine: str, solver: str) -> None:
    @given(small)
    @settings(FEW, max_examples=8 if solver == "cbc" else 30)
    def check(scenario: Scenario) -> None:
        _best_by_world_matches(Study(scenario, solver=solver, engine=engine))

    check()


def _best_by_world_matches(study: Study) -> None:
    scenario = study.scenario
    report = worlds_of(study)
    feasible = feasible_portfolios(scenario)
    if not feasible:
        assert report is None
        return
    assert report is not None
    for world in scenario.worlds:
        assert close(report.best_by_world[world.id], max(m.value_by_world[world.id] for _, m in feasible))
    for kind, index in report.picks.items():
        oracle = brute_force(scenario, kind)
        assert oracle.metrics is not None
        assert close(report.rows[index].metrics.expected_value, oracle.metrics.expected_value), kind


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["enumeration", "milp"])
def test_core_index_and_regret_match_enumeration(engine: str) -> None:
    @given(small)
    @FEW
    def check(scenario: Scenario) -> None:
        _core_index_and_regret_match(scenario, engine)

    check()


def _core_index_and_regret_match(scenario: Scenario, engine: str) -> None:
    if brute_force(scenario).portfolio is None:
        return
    samples, seed = 12, 3
    report = robust_of(Study(scenario, engine=engine), samples, seed)
    sampler = Sampler(scenario, ("scores", "weights", "probabilities"), 50.0)
    kind = scenario.objective
    inside: Counter[str] = Counter()
    regrets = []
    optimal = 0
    for i in range(samples):
        variant = sampler.scenario_for(*sampler.draw(seed, i))
        oracle = brute_force(variant, kind)
        if oracle.portfolio is None:
            continue
        inside.update(list(oracle.portfolio))
        optimal += oracle.portfolio == report.recommended
        from niches.optimize.evaluate import evaluate, objective_value, violated_rules

        if not violated_rules(variant, report.recommended):
            mine = objective_value(kind, evaluate(variant, report.recommended), oracle.best_by_world)
            assert oracle.objective is not None
            regrets.append(mine - oracle.objective if kind == "regret" else oracle.objective - mine)
    for niche in scenario.niches:
        assert report.core_index[niche.id] == pytest.approx(inside[niche.id] / samples)
    assert report.optimal_share == pytest.approx(optimal / samples)
    if regrets:
        assert report.regret.mean == pytest.approx(sum(regrets) / len(regrets), abs=1e-6)


def test_same_seed_same_answer_whatever_the_workers() -> None:
    scenario = load_scenario(DEFAULT)
    one = robust_of(Study(scenario), 200, 11, workers=1)
    two = robust_of(Study(scenario), 200, 11, workers=2)
    for field in ("core_index", "level_index", "optimal_share", "objective", "regret", "top"):
        assert getattr(one, field) == getattr(two, field), field
    other = robust_of(Study(scenario), 200, 12)
    assert other.core_index != one.core_index or other.top != one.top


def test_milp_samples_on_threads_give_the_same_answer() -> None:
    """On the MILP engine --workers shares samples among threads, each with its own model."""
    scenario = load_scenario(DEFAULT)
    one = robust_of(Study(scenario, engine="milp"), 24, 3, workers=1)
    three = robust_of(Study(scenario, engine="milp"), 24, 3, workers=3)
    for field in ("core_index", "level_index", "optimal_share", "objective", "regret", "top"):
        assert getattr(one, field) == getattr(three, field), field


def test_half_width_is_the_wilson_interval() -> None:
    from niches.analysis.core_index import half_width

    # 95% Wilson interval of 50 of 100: [0.4038, 0.5962] (Wilson 1927; e.g. Agresti & Coull 1998, table 1)
    assert half_width(0.5, 100) == pytest.approx(0.0962, abs=1e-4)
    assert half_width(0.0, 200) == pytest.approx(0.00942, abs=1e-5)  # never 0, unlike the Wald interval
    assert half_width(0.5, 1600) < 0.025 < half_width(0.5, 1500)  # the most samples auto may need


@pytest.mark.slow
def test_auto_samples_stop_at_the_precision_the_same_for_any_workers() -> None:
    """--samples auto stops at the first round (200, then every 100) where every core index's 95% interval
    is within 2.5 points, the same count and figures for a seed however the samples are shared."""
    from niches.analysis.core_index import half_width
    from niches.limits import AUTO_FIRST, AUTO_HALF_WIDTH, AUTO_SAMPLES, AUTO_STEP

    scenario = load_scenario(DEFAULT)
    auto = robust_of(Study(scenario), AUTO_SAMPLES, 7)
    fixed = robust_of(Study(scenario), auto.done, 7)  # the same samples, asked for by count
    assert auto.auto and auto.done >= AUTO_FIRST and (auto.done - AUTO_FIRST) % AUTO_STEP == 0
    assert auto.core_index == fixed.core_index and auto.top == fixed.top
    widest = max(half_width(share, auto.done) for share in auto.core_index.values())
    assert auto.half_width == pytest.approx(widest) and widest <= AUTO_HALF_WIDTH
    if auto.done > AUTO_FIRST:  # one round fewer was not precise enough
        fewer = robust_of(Study(scenario), auto.done - AUTO_STEP, 7)
        assert max(half_width(share, fewer.done) for share in fewer.core_index.values()) > AUTO_HALF_WIDTH
    assert robust_of(Study(scenario), AUTO_SAMPLES, 7, workers=2).core_index == auto.core_index


def test_auto_samples_through_the_command_line() -> None:
    result = run_cli("robust", "--samples", "auto", "--seed", "4", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["auto"] is True and data["done"] == data["samples"] >= 200
    assert data["half_width"] <= 0.025
    bad = run_cli("robust", "--samples", "many")
    assert (bad.returncode, bad.stderr) == (
        2,
        "niches: error: --samples 'many': expected a whole number from 1 to 1,000,000, or auto; "
        "see niches robust --help\n",
    )


def test_robust_without_samples_draws_the_default_count() -> None:
    result = run_cli("robust", "--format", "json")  # the default passes through the option's parser
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["samples"], data["done"], data["auto"]) == (SAMPLES, SAMPLES, False)


def test_milp_path_agrees_with_enumeration() -> None:
    scenario = load_scenario(DEFAULT)
    by_table = robust_of(Study(scenario), 6, 5)
    by_milp = robust_of(Study(scenario, engine="milp"), 6, 5)
    assert (by_table.engine, by_milp.engine) == ("enumeration", "milp")
    assert by_milp.core_index == by_table.core_index
    assert by_milp.level_index == by_table.level_index
    assert math.isclose(by_milp.regret.mean, by_table.regret.mean, abs_tol=1e-6)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_answer() -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is part of the test extras")
    scenario = load_scenario(DEFAULT)
    local = robust_of(Study(scenario), 60, 2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        remote = robust_of(Study(scenario), 60, 2, workers=2, scheduler=cluster.scheduler_address)
    assert remote.core_index == local.core_index
    assert remote.top == local.top
    assert remote.regret == local.regret


def test_robust_json_contract() -> None:
    result = run_cli("robust", "--samples", "50", "--seed", "4", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"samples", "seed", "core_index", "level_index", "recommended", "top_portfolios"} <= set(data)
    assert (data["samples"], data["seed"], data["partial"]) == (50, 4, False)
    assert {"portfolio", "optimal_share", "regret"} <= set(data["recommended"])
    assert set(data["recommended"]["regret"]) == {"mean", "p5", "p50", "p95"}
    assert run_cli("robust", "--samples", "50", "--seed", "4", "--format", "json").stdout == result.stdout


def test_worlds_json_contract() -> None:
    result = run_cli("worlds", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["best_by_world"]) == {"rule_based", "deal_based", "blocs", "multipolar", "escalation"}
    assert set(data["rules"]) == {"expected", "worst_case", "cvar", "regret"}
    for rule in data["rules"].values():
        assert {"portfolio", "expected_value", "worst_case", "cvar", "max_regret"} <= set(rule)


def test_robust_rejects_unknown_vary() -> None:
    result = run_cli("robust", "--vary", "scores,moods", "--samples", "5")
    assert result.returncode == 2
    assert (
        result.stderr
        == "niches: error: unknown --vary item 'moods'; choose from scores, weights, probabilities\n"
    )


def test_ctrl_c_reports_the_samples_done_as_partial() -> None:
    scenario = load_scenario(DEFAULT)
    seen = []

    def interrupt_after_ten(done: float) -> None:
        seen.append(done)
        if len(seen) == 10:
            raise KeyboardInterrupt

    report = robust_of(Study(scenario), 1000, 3, progress=interrupt_after_ten)
    assert (report.partial, report.done, report.samples) == (True, 10, 1000)
    full = robust_of(Study(scenario), 10, 3)
    assert report.core_index == full.core_index  # the samples done are the first ten, as in a full run


# --------------------------------------------------------------------------- level index

TIE = """\
name: tie
budget: 10
criteria: {a: 1}
niches:
  minerals:
    levels:
      explore: {cost: 1, scores: {a: [0, 10]}}
      process: {cost: 1, scores: {a: 5}}
  food:
    levels:
      trade: {cost: 1, scores: {a: 5}}
      hub: {cost: 1, scores: {a: 1}}
"""
"""minerals' two levels tie in expected value (explore averages 5): each sample picks explore
exactly when its drawn explore score beats 5, so the samples split between the levels."""


def test_level_split_by_hand(tmp_path: Path) -> None:
    from niches.analysis.robust import Sample, summarise

    path = tmp_path / "four.yaml"
    path.write_text(
        TIE
        + "  water:\n    levels:\n      dialogue: {cost: 1, scores: {a: 1}}\n"
        + "      infra: {cost: 1, scores: {a: 1}}\n"
        + "  logistics: {cost: 1, scores: {a: 1}}\n"
    )
    scenario = load_scenario(path)
    chosen = [  # six samples: minerals 3/3 (a coin flip), food 4/2 (exactly 2/3: settled),
        # water in only 3 of 6 (split 2/1, but not in most samples), logistics never
        {"minerals": "explore", "food": "trade", "water": "dialogue"},
        {"minerals": "explore", "food": "trade", "water": "infra"},
        {"minerals": "explore", "food": "hub", "water": "dialogue"},
        {"minerals": "process", "food": "trade"},
        {"minerals": "process", "food": "trade"},
        {"minerals": "process", "food": "hub"},
    ]
    results = [Sample(i, tuple(sorted(p.items())), 1.0, 1.0) for i, p in enumerate(chosen)]
    report = summarise(scenario, "expected", 6, results, 0, (), 50.0, False, chosen[0], 1)
    assert report.level_split == {
        "minerals": {"explore": 0.5, "process": 0.5},
        "food": {"trade": 4 / 6, "hub": 2 / 6},
        "water": {"dialogue": 2 / 6, "infra": 1 / 6},
        "logistics": {},
    }
    assert report.level_uncertain == ("minerals",)
    for niche in scenario.niches:
        assert sum(report.level_split[niche.id].values()) == pytest.approx(report.core_index[niche.id])


@pytest.mark.parametrize(("seed", "explore"), [(0, 4), (11, 6)])
def test_tied_levels_split_the_samples(tmp_path: Path, seed: int, explore: int) -> None:
    path = tmp_path / "tie.yaml"
    path.write_text(TIE)
    scenario = load_scenario(path)
    samples = 12
    sampler = Sampler(scenario, ("scores", "weights", "probabilities"), 50.0)
    beats = sum(float(sampler.draw(seed, i)[0][0, 0]) > 5 for i in range(samples))  # row 0: explore
    assert beats == explore
    report = robust_of(Study(scenario), samples, seed)
    assert report.level_split["minerals"] == {
        "explore": explore / samples,
        "process": (samples - explore) / samples,
    }
    assert report.level_split["food"] == {"trade": 1.0}  # hub never chosen: not listed
    assert report.core_index == {"minerals": 1.0, "food": 1.0}
    # 4 of 12 at explore leaves process 8 of 12, exactly 2/3: settled; 6 of 12 is a coin flip
    assert report.level_uncertain == (("minerals",) if explore == 6 else ())

    args = ("robust", str(path), "--samples", str(samples), "--seed", str(seed))
    result = run_cli(*args, "--format", "json")
    data = json.loads(result.stdout)
    assert data["level_split"] == {
        "minerals": {"explore": round(explore / samples, 6), "process": round(1 - explore / samples, 6)},
        "food": {"trade": 1.0},
    }
    assert data["level_uncertain"] == list(report.level_uncertain)
    assert data["level_index"]["food.hub"] == 0.0  # the older flat field is unchanged

    text = run_cli(*args, "--format", "markdown")
    row = "| minerals | 100.0% | core | explore | explore {} · process {} | {} |".format(
        "50.0%" if explore == 6 else "33.3%",
        "50.0%" if explore == 6 else "66.7%",
        "level uncertain" if explore == 6 else "",
    )
    assert row in text.stdout
    assert "| food | 100.0% | core | trade | trade 100.0% |  |" in text.stdout
    assert "yet no level holds 2/3 of the samples that choose the niche" in text.stdout
    terminal = run_cli(*args)
    table = terminal.stdout.split("level uncertain:")[0]  # the rule is stated in the footer
    assert ("level uncertain" in table) == (explore == 6)
