"""A seeded generator of synthetic scenarios of any size, for benchmarks.

    python bench/synthetic.py --niches 60 --seed 1 > /tmp/big.yaml

The same arguments always give the same scenario (a private random.Random).
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any

import yaml


def synthetic(
    niches: int = 20,
    levels: int = 3,
    worlds: int = 5,
    periods: int = 5,
    powers: int = 4,
    criteria: int = 4,
    seed: int = 0,
    rules: bool = True,
    starts: bool = False,
) -> dict[str, Any]:
    """Return a scenario (plain data) with the given dimensions; uses every kind of rule when `rules`.

    `starts`: every level above the first may also start in the middle period ("explore now, scale
    later"), so a reveal there leaves choices open (`niches adapt`)."""
    rng = random.Random(seed)
    period_ids = [str(2026 + i) for i in range(periods)]
    world_ids = [f"w{i + 1}" for i in range(worlds)]
    power_ids = [f"P{i + 1}" for i in range(powers)]
    criterion_ids = [f"c{i + 1}" for i in range(criteria)]
    raw = [rng.uniform(0.5, 2.0) for _ in world_ids]
    probabilities = [round(r / sum(raw), 6) for r in raw]
    probabilities[-1] = round(1.0 - sum(probabilities[:-1]), 6)
    niche_ids = [f"n{i + 1:03d}" for i in range(niches)]
    data: dict[str, Any] = {
        "name": f"synthetic {niches}x{levels} w{worlds} p{periods} seed {seed}",
        "periods": period_ids,
        "capacities": {"staff": round(niches * 6.0, 1)},
        "criteria": {c: round(rng.uniform(0.5, 2.0), 2) for c in criterion_ids},
        "powers": power_ids,
        "worlds": dict(zip(world_ids, probabilities, strict=True)),
        "niches": {},
    }
    yearly_total = 0.0
    for index, nid in enumerate(niche_ids):
        base = rng.uniform(5, 40)
        level_data = {}
        for j in range(levels):
            scale = 1.0 + 0.9 * j
            level_data[f"l{j + 1}"] = {
                "cost": {p: round(base * scale * rng.uniform(0.8, 1.2), 1) for p in period_ids},
                "scores": {
                    c: [round(lo, 1), round(lo + rng.uniform(0, 3), 1)]
                    for c in criterion_ids
                    for lo in [rng.uniform(0, 4) * (1 + 0.6 * j)]
                },
                "uses": {"staff": round(rng.uniform(1, 6) * scale, 1)},
            }
            if starts and j > 0:
                level_data[f"l{j + 1}"]["start"] = [period_ids[0], period_ids[len(period_ids) // 2]]
        yearly_total += base
        niche: dict[str, Any] = {
            "levels": level_data,
            "exposure": {p: round(rng.uniform(0, 0.6), 2) for p in power_ids if rng.random() < 0.6},
            "outlook": {w: round(rng.uniform(0.5, 1.5), 2) for w in world_ids if rng.random() < 0.7},
        }
        if index + 1 < niches and rng.random() < 0.1:
            niche["requires"] = [niche_ids[rng.randrange(index + 1, niches)]]
        if index + 1 < niches and rng.random() < 0.1:
            niche["excludes"] = [niche_ids[rng.randrange(index + 1, niches)]]
        if index + 1 < niches and rng.random() < 0.2:
            niche["synergy"] = {niche_ids[rng.randrange(index + 1, niches)]: round(rng.uniform(-1, 2), 2)}
        data["niches"][nid] = niche
    data["budget"] = {p: round(yearly_total * 0.8, 0) for p in period_ids}
    data["budget"]["total"] = round(yearly_total * 0.75 * periods, 0)
    if rules:
        data["rules"] = {
            "min_niches": 2,
            "max_share": 0.5,
            "max_exposure": 0.4,
            "max_imbalance": 0.3,
            "cvar_tail": 0.3,
        }
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--niches", type=int, default=20)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--worlds", type=int, default=5)
    parser.add_argument("--periods", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--starts", action="store_true", help="levels above the first may also start in the middle period"
    )
    args = parser.parse_args()
    data = synthetic(args.niches, args.levels, args.worlds, args.periods, seed=args.seed, starts=args.starts)
    yaml.safe_dump(data, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
