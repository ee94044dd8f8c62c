"""Monte Carlo throughput: `niches robust` against the obvious loop, measured in the same run.

    python bench/montecarlo.py [--samples 1000] [--baseline-samples 100] [--big-samples 1000]

The obvious loop draws the same samples and, for each, builds the model afresh
and solves it (CBC, as before, and HiGHS). Prints samples per second and the
ratio for the default scenario and for a 100-niche synthetic one (too big to
enumerate, so `niches` re-solves one MILP there, in place).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from niches.analysis.robust import VARY, Sampler, robust_of
from niches.optimize.model import solve
from niches.scenario import Scenario, load_scenario, parse_scenario
from niches.scenario.defaults import default_scenario
from niches.study import Study
from synthetic import synthetic


def naive(scenario: Scenario, samples: int, seed: int, vary: tuple[str, ...], solver: str) -> float:
    """Samples per second of the obvious loop: draw, build the model afresh, solve."""
    sampler = Sampler(scenario, vary, 50.0)
    start = time.perf_counter()
    for i in range(samples):
        variant = sampler.scenario_for(*sampler.draw(seed, i))
        solve(variant, scenario.objective, solver, tie_breaks=False)
    return samples / (time.perf_counter() - start)


def ours(
    scenario: Scenario, samples: int, seed: int, vary: tuple[str, ...], workers: int, solver: str
) -> float:
    """Samples per second of `niches robust` (the recommendation solved first, as the command does)."""
    start = time.perf_counter()
    robust_of(Study(scenario, solver=solver), samples, seed, vary, workers=workers)
    return samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--baseline-samples", type=int, default=100)
    parser.add_argument("--big-samples", type=int, default=1000)
    args = parser.parse_args()
    default = load_scenario(default_scenario())
    big = parse_scenario(yaml.safe_dump(synthetic(100, 3, 5, 5, seed=1)), "synthetic-100.yaml")
    print("| scenario | vary | method | samples | samples/s | ratio to baseline |")
    print("|---|---|---|---:|---:|---:|")
    cases = [
        ("default (62,208 portfolios)", default, VARY, args.samples, args.baseline_samples),
        ("synthetic 100 niches", big, VARY, args.big_samples, max(5, args.big_samples // 20)),
    ]
    for name, scenario, vary, n, n_base in cases:
        base = naive(scenario, n_base, 1, vary, "cbc")
        print(f"| {name} | {','.join(vary)} | rebuild + CBC per sample | {n_base} | {base:.1f} | 1.0 |")
        fresh = naive(scenario, n_base, 1, vary, "highs")
        print(
            f"| {name} | {','.join(vary)} | rebuild + HiGHS per sample | {n_base} | {fresh:.1f} "
            f"| {fresh / base:.1f} |"
        )
        for workers, solver in ((1, "highs"), (2, "highs")):
            rate = ours(scenario, n, 1, vary, workers, solver)
            label = f"niches robust --workers {workers} --solver {solver}"
            print(f"| {name} | {','.join(vary)} | {label} | {n} | {rate:.1f} | {rate / base:.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
