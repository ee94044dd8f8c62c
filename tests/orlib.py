"""OR-Library multi-dimensional knapsack instances as scenarios.

Each item becomes a niche with one level; each knapsack constraint becomes a
period whose budget is the constraint's capacity; the profit is the single
criterion. The scenario's optimum is the knapsack's optimum, which makes the
published instances (with proven optima) a check and a benchmark of the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from niches.scenario import Criterion, Level, Niche, Rules, Scenario, Score, World


@dataclass(frozen=True)
class Knapsack:
    """A 0/1 multi-dimensional knapsack: maximise profits @ x s.t. weights @ x <= capacities."""

    name: str
    profits: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]
    capacities: tuple[float, ...]
    optimum: float


def read_mknap(path: str | Path, prefix: str | None = None) -> list[Knapsack]:
    """Read an OR-Library `mknap1`/`mknapcb` file (the optimum is taken from each header)."""
    tokens = Path(path).read_text().split()
    position = 0

    def take(count: int) -> list[float]:
        nonlocal position
        chunk = [float(t) for t in tokens[position : position + count]]
        position += count
        return chunk

    label = prefix or Path(path).stem
    (count,) = take(1)
    problems = []
    for index in range(int(count)):
        n, m, optimum = take(3)
        profits = take(int(n))
        weights = tuple(tuple(take(int(n))) for _ in range(int(m)))
        capacities = take(int(m))
        problems.append(Knapsack(f"{label}-{index + 1}", tuple(profits), weights, tuple(capacities), optimum))
    return problems


def knapsack_scenario(problem: Knapsack) -> Scenario:
    """Return `problem` as a scenario: items are niches, constraints are periods."""
    periods = tuple(f"c{i + 1}" for i in range(len(problem.capacities)))
    niches = []
    for j, profit in enumerate(problem.profits):
        level = Level(
            id="invest",
            name="invest",
            cost={p: problem.weights[i][j] for i, p in enumerate(periods)},
            scores={"profit": Score.point(profit)},
            uses={},
        )
        niches.append(
            Niche(
                id=f"item{j + 1}",
                name=f"item {j + 1}",
                description="",
                levels=(level,),
                exposure={},
                outlook={"baseline": 1.0},
                requires=(),
                excludes=(),
                synergy={},
            )
        )
    return Scenario(
        name=problem.name,
        description="OR-Library multi-dimensional knapsack",
        units="units",
        periods=periods,
        budget=dict(zip(periods, problem.capacities, strict=True)),
        budget_total=None,
        capacities={},
        criteria=(Criterion("profit", 1.0, Score.point(1.0), "profit"),),
        powers=(),
        worlds=(World("baseline", 1.0, ""),),
        niches=tuple(niches),
        rules=Rules(),
        objective="expected",
        source=problem.name,
    )


def read_mknap2(path: str | Path) -> list[Knapsack]:
    """Read OR-Library `mknap2` (SAC-94).

    Each problem: `problem NAME`, `+++`, `m n`, profits, capacities, weights, optimum.
    """
    problems = []
    blocks = Path(path).read_text().split("problem")[1:]
    for block in blocks:
        lines = block.strip().splitlines()
        name = lines[0].strip().removesuffix(".DAT")
        body = [t for line in lines[1:] if not line.strip().startswith("+") for t in line.split()]
        values = [float(t) for t in body]
        m, n = int(values[0]), int(values[1])
        at = 2
        profits = values[at : at + n]
        at += n
        capacities = values[at : at + m]
        at += m
        weights = tuple(tuple(values[at + i * n : at + (i + 1) * n]) for i in range(m))
        at += m * n
        problems.append(Knapsack(name, tuple(profits), weights, tuple(capacities), values[at]))
    return problems
