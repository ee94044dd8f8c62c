"""Solve count and wall time of every analysis on the default scenario and a synthetic one.

    python bench/analyses.py [--niches 60] [--solver highs] [--to 1.5]

Each analysis runs on a fresh study (nothing shared), so each figure is what
that command alone costs. The default scenario (62,208 portfolios) is answered
by enumeration; the synthetic one is too big to enumerate, so the analyses
re-solve one MILP in place.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from niches.analysis.explain import explain_of
from niches.analysis.frontier import frontier_of
from niches.analysis.sensitivity import sensitivity_of
from niches.analysis.summary import summary_of
from niches.analysis.worlds import worlds_of
from niches.scenario import Scenario, load_scenario, parse_scenario
from niches.scenario.defaults import default_scenario
from niches.study import Study
from synthetic import synthetic


def timed(run: Callable[[Study], object], scenario: Scenario, solver: str) -> tuple[int, float]:
    """Return (solver calls, seconds) of `run` on a fresh study."""
    study = Study(scenario, solver=solver)
    start = time.perf_counter()
    run(study)
    return study.solves, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--niches", type=int, default=60)
    parser.add_argument("--solver", default="highs")
    parser.add_argument("--to", type=float, default=1.5, help="largest budget scale of the budget frontier")
    args = parser.parse_args()
    scenarios: list[tuple[str, Scenario]] = [
        ("default", load_scenario(default_scenario())),
        (
            f"synthetic {args.niches}",
            parse_scenario(yaml.safe_dump(synthetic(args.niches, 3, 5, 5, seed=1)), "s.yaml"),
        ),
    ]
    runs: list[tuple[str, Callable[[Study], object]]] = [
        ("solve, with binding rules and left-out reasons", lambda st: summary_of(st)),
        ("frontier --axis budget", lambda st: frontier_of(st, "budget", 0.0, args.to)),
        ("frontier --axis hull", lambda st: frontier_of(st, "hull")),
        ("frontier --axis risk", lambda st: frontier_of(st, "risk")),
        ("frontier --axis exposure", lambda st: frontier_of(st, "exposure")),
        ("worlds", lambda st: worlds_of(st)),
        ("sensitivity", lambda st: sensitivity_of(st)),
        ("explain", lambda st: explain_of(st)),
    ]
    print(f"solver: {args.solver}\n")
    print("| scenario | analysis | solver calls | seconds |")
    print("|---|---|---:|---:|")
    for name, scenario in scenarios:
        for label, run in runs:
            solves, seconds = timed(run, scenario, args.solver)
            print(f"| {name} | {label} | {solves} | {seconds:.2f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
