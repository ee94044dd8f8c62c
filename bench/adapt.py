"""Seconds of `niches adapt` and `niches learn` beside `niches solve`, measured in one run.

    python bench/adapt.py [--repeat N]

Whole commands (a fresh process each, imports included), the best of N runs, on the default scenario
and on the 30-niche synthetic of `bench/synthetic.py --niches 30 --seed 1` (5 worlds, 5 periods): its
adaptive plan with the reveal in the middle period and in the first (perfect foresight, every world
apart), and the same scenario with `--starts` (levels above the first may also start in the middle
period, so a reveal there leaves choices open). The ratio is the command's time over `solve`'s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import synthetic

ROOT = Path(__file__).resolve().parent.parent


def seconds(args: list[str], repeat: int) -> float:
    """Return the best wall time of `niches ARGS` over `repeat` runs (output discarded)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "niches", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"niches {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (the best is shown)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "synthetic30.yaml"
        plain.write_text(yaml.safe_dump(synthetic(30, seed=1), sort_keys=False))
        staged = Path(folder) / "synthetic30-starts.yaml"
        staged.write_text(yaml.safe_dump(synthetic(30, seed=1, starts=True), sort_keys=False))
        cases = [
            ("default", "options/kazakhstan.yaml", [["adapt"], ["adapt", "--sweep"], ["learn"]]),
            (
                "synthetic 30",
                str(plain),
                [["adapt", "--reveal", "2028"], ["adapt", "--reveal", "2026"], ["learn"]],
            ),
            ("synthetic 30, starts", str(staged), [["adapt", "--reveal", "2028"]]),
        ]
        print(f"{'scenario':<22} {'command':<24} {'seconds':>8} {'x solve':>8}")
        for name, path, commands in cases:
            base = seconds(["solve", path, "--format", "json"], options.repeat)
            print(f"{name:<22} {'solve':<24} {base:8.2f} {1.0:8.1f}")
            for command in commands:
                took = seconds([command[0], path, *command[1:], "--format", "json"], options.repeat)
                print(f"{name:<22} {' '.join(command):<24} {took:8.2f} {took / base:8.1f}")


if __name__ == "__main__":
    main()
