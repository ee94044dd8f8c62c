"""Independent solves on several threads give the same bytes as on one (parallel.run_shared)."""

from __future__ import annotations

import sys

import pytest
import yaml

from niches.analysis.summary import binding_rules
from niches.parallel import run_shared
from niches.scenario import parse_scenario
from niches.study import Study

from .conftest import ROOT, run_cli

sys.path.insert(0, str(ROOT / "bench"))

from synthetic import synthetic


def test_tasks_come_back_in_order_whatever_the_threads() -> None:
    seen: list[tuple[str, int]] = []

    def task(state: str, item: int) -> int:
        seen.append((state, item))
        return item * item

    items = list(range(11))
    for states in (["a"], ["a", "b"], ["a", "b", "c"]):
        seen.clear()
        assert run_shared(states, task, items) == [i * i for i in items]
        # item i ran on state i % n, in order within each state
        assert sorted(seen) == sorted((states[i % len(states)], i) for i in items)


def test_a_failing_task_raises_in_the_caller() -> None:
    def task(state: int, item: int) -> int:
        if item == 3:
            raise ValueError("three")
        return item

    with pytest.raises(ValueError, match="three"):
        run_shared([0, 1], task, [1, 2, 3, 4])


def test_solve_gives_the_same_bytes_with_one_or_three_workers() -> None:
    path = "tests/data/synthetic30.yaml"
    one = run_cli("solve", path, "-f", "json", "--workers", "1")
    three = run_cli("solve", path, "-f", "json", "--workers", "3")
    assert one.returncode == three.returncode == 0, one.stderr + three.stderr
    assert one.stdout == three.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["azerbaijan", "canada"])
def test_sensitivity_on_the_milp_engine_is_the_same_with_one_or_three_workers(name: str) -> None:
    """Each niche's radii start from a cold solver on its thread's own model."""
    from niches.analysis.sensitivity import sensitivity_of
    from niches.render.sensitivity import sensitivity_json
    from niches.scenario import load_scenario

    scenario = load_scenario(ROOT / "options" / f"{name}.yaml")
    one, three = (
        sensitivity_json(sensitivity_of(Study(scenario, engine="milp", workers=workers)))
        for workers in (1, 3)
    )
    assert one == three


@pytest.mark.slow
def test_bounded_gains_do_not_depend_on_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each gain is answered from a cold solver: the intervals found are the same on 1, 2 or 3 threads."""
    from niches.optimize import relaxed

    monkeypatch.setattr(relaxed, "EXACT_CHOICES", 0)
    scenario = parse_scenario(yaml.safe_dump(synthetic(60, 3, 5, 5, seed=1)), "synthetic-60.yaml")
    found = [binding_rules(Study(scenario, "cvar", workers=n)) for n in (1, 2, 3)]
    assert found[0][0] and any(not gain.exact for gain in found[0][0].values())
    assert found[0] == found[1] == found[2]
