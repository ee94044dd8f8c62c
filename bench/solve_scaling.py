"""Solve time as niches, levels, worlds and periods grow; CBC and HiGHS side by side.

    python bench/solve_scaling.py [--repeat 3] [--objective expected]

Prints a markdown table: median wall time of `niches.optimize.model.solve` (full solve,
with its tie-break stages) per solver, and HiGHS time as a ratio of CBC time
measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from niches.optimize.model import solve
from niches.scenario import parse_scenario
from synthetic import synthetic

SIZES = [  # (niches, levels, worlds, periods)
    (10, 3, 5, 5),
    (20, 3, 5, 5),
    (40, 3, 5, 5),
    (80, 3, 5, 5),
    (160, 3, 5, 5),
    (40, 1, 5, 5),
    (40, 5, 5, 5),
    (40, 3, 1, 5),
    (40, 3, 20, 5),
    (40, 3, 5, 1),
    (40, 3, 5, 20),
]


def timed(scenario: object, solver: str, objective: str, repeat: int) -> tuple[float, float]:
    times = []
    value = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        result = solve(scenario, objective, solver)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
        value = result.objective or 0.0
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--objective", default="expected")
    args = parser.parse_args()
    print(f"objective: {args.objective}; median of {args.repeat} runs; seconds\n")
    print("| niches | levels | worlds | periods | CBC s | HiGHS s | HiGHS/CBC | same objective |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, lv, w, p in SIZES:
        text = yaml.safe_dump(synthetic(n, lv, w, p, seed=1), sort_keys=False)
        scenario = parse_scenario(text, "synthetic.yaml")
        cbc, v1 = timed(scenario, "cbc", args.objective, args.repeat)
        highs, v2 = timed(scenario, "highs", args.objective, args.repeat)
        same = abs(v1 - v2) <= 1e-6 * max(1.0, abs(v1))
        print(f"| {n} | {lv} | {w} | {p} | {cbc:.3f} | {highs:.3f} | {highs / cbc:.2f} | {same} |")


if __name__ == "__main__":
    main()
