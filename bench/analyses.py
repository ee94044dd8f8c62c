"""Solve count and wall time of every analysis on the default scenario and a 60-niche synthetic one.

    python bench/analyses.py [--niches 60] [--solver cbc]

The default scenario (62,208 portfolios) is answered by enumeration; the
synthetic one is too big to enumerate, so the analyses re-solve one MILP.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from niches.analysis.explain import explain
from niches.analysis.frontier import frontier
from niches.analysis.sensitivity import sensitivity
from niches.analysis.summary import summarise
from niches.defaults import default_scenario
from niches.model import solve
from niches.scenario import Scenario, load_scenario, parse_scenario
from synthetic import synthetic


def solve_and_explain(scenario: Scenario, solver: str) -> int:
    """What `niches solve` computes: the solution, then the binding rules and left-out niches."""
    solution = solve(scenario, solver=solver)
    summarise(solution)
    return solution.solves


def timed(run: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    solves = run()
    return solves, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--niches", type=int, default=60)
    parser.add_argument("--solver", default="cbc")
    args = parser.parse_args()
    scenarios: list[tuple[str, Scenario]] = [
        ("default", load_scenario(default_scenario())),
        (
            f"synthetic {args.niches}",
            parse_scenario(yaml.safe_dump(synthetic(args.niches, 3, 5, 5, seed=1)), "s.yaml"),
        ),
    ]
    print(f"solver: {args.solver}\n")
    print("| scenario | analysis | solves | seconds |")
    print("|---|---|---:|---:|")
    for name, sc in scenarios:
        s = args.solver
        runs: list[tuple[str, Callable[[], int]]] = [
            ("solve, with binding rules", lambda sc=sc, s=s: solve_and_explain(sc, s)),
            ("frontier --axis budget", lambda sc=sc, s=s: frontier(sc, "budget", s).solves),
            ("frontier --axis risk", lambda sc=sc, s=s: frontier(sc, "risk", s).solves),
            ("frontier --axis exposure", lambda sc=sc, s=s: frontier(sc, "exposure", s).solves),
            ("sensitivity", lambda sc=sc, s=s: sensitivity(sc, s).solves),
            ("explain", lambda sc=sc, s=s: explain(sc, s).solves),
        ]
        for label, run in runs:
            solves, seconds = timed(run)
            print(f"| {name} | {label} | {solves} | {seconds:.2f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
