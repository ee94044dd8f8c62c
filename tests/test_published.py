"""Published examples with known optima."""

from __future__ import annotations

from pathlib import Path

import pytest

from niches.optimize.evaluate import brute_force
from niches.optimize.model import solve
from niches.scenario import load_scenario
from tests.orlib import knapsack_scenario, read_mknap

PUBLISHED = Path(__file__).parent / "data" / "published"
MKNAP1_OPTIMA = [3800, 8706.1, 4015, 6120, 12400, 10618, 16537]


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_california_manufacturing_optimum_is_14(solver: str) -> None:
    scenario = load_scenario(PUBLISHED / "california.yaml")
    result = solve(scenario, solver=solver)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(14.0)
    assert result.portfolio == {"factory_la": "invest", "factory_sf": "invest"}
    assert brute_force(scenario).portfolio == result.portfolio


def test_mknap1_headers_are_the_published_optima() -> None:
    assert [p.optimum for p in read_mknap(PUBLISHED / "mknap1.txt")] == MKNAP1_OPTIMA


@pytest.mark.parametrize("solver", ["cbc", "highs"])
@pytest.mark.parametrize("index", range(7))
def test_mknap1_optima(solver: str, index: int) -> None:
    problem = read_mknap(PUBLISHED / "mknap1.txt")[index]
    result = solve(knapsack_scenario(problem), solver=solver)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(MKNAP1_OPTIMA[index], abs=1e-6)
