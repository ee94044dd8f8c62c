"""A longer fuzz campaign than CI runs: mutated bundled scenarios through `niches solve`.

    python bench/fuzz.py [--examples 2000] [--only provenance,stdin]

Uses the strategies and checks of tests/test_fuzz.py (exit 0/1/2 only, no
traceback, every problem line FILE:LINE:COL, a file broken on purpose never
solved) with many more examples: mutated scenarios (YAML and bytes), then a
quarter as many of each other surface (judgement files, coalition members,
report provenance blocks, standard input). Prints the slowest runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_fuzz import (  # noqa: E402 (after the path is set)
    SURFACE_CASES,
    _check,
    byte_mutations,
    yaml_mutations,
)


def _campaign(name: str, strategy: object, campaign: settings, durations: list[tuple[float, str]]) -> None:
    @given(strategy)
    @campaign
    def run(mutated: tuple[object, bool]) -> None:
        content, broken = mutated
        data = content.encode() if isinstance(content, str) else content
        assert isinstance(data, bytes)
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            _check(Path(folder), data, broken)
            durations.append((time.perf_counter() - start, name))

    run()


def _surface(
    name: str, strategy: object, case: object, campaign: settings, durations: list[tuple[float, str]]
) -> None:
    @given(strategy)
    @campaign
    def run(content: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            case(Path(folder), content)  # type: ignore[operator]
            durations.append((time.perf_counter() - start, name))

    run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated campaigns: yaml, bytes, judges, members, provenance, stdin.",
    )
    args = parser.parse_args()
    only = {w for w in args.only.split(",") if w}
    durations: list[tuple[float, str]] = []
    campaign = settings(
        max_examples=args.examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    for name, strategy in (("yaml", yaml_mutations()), ("bytes", byte_mutations())):
        if only and name not in only:
            continue
        _campaign(name, strategy, campaign, durations)
        print(f"{name}: {args.examples} examples passed", flush=True)
    surfaces = settings(
        max_examples=max(1, args.examples // 4),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    for name, (strategy, case) in sorted(SURFACE_CASES.items()):
        if only and name not in only:
            continue
        _surface(name, strategy, case, surfaces, durations)
        print(f"{name}: {surfaces.max_examples} examples passed", flush=True)
    durations.sort(reverse=True)
    print("slowest runs (s):", ", ".join(f"{d:.2f} ({n})" for d, n in durations[:5]))


if __name__ == "__main__":
    main()
