"""The Monte Carlo's summary: core indices, the recommendation's robustness and the most frequent optima."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from niches.analysis.samples import Sample
from niches.scenario import Scenario

CORE, EXTERIOR = 0.9, 0.1
SETTLED = (2, 3)
"""A niche's level is settled when one level holds at least 2/3 of the samples that choose the niche."""


@dataclass(frozen=True)
class Stats:
    """Mean and percentiles of a distribution (nan when empty)."""

    mean: float
    p5: float
    p50: float
    p95: float
    count: int


@dataclass(frozen=True)
class RobustReport:
    """Core indices, the recommendation's robustness and the most frequent optima."""

    scenario: Scenario
    objective_kind: str
    samples: int
    done: int
    seed: int
    vary: tuple[str, ...]
    concentration: float
    partial: bool
    recommended: dict[str, str]
    core_index: dict[str, float]
    level_index: dict[str, float]
    optimal_share: float
    objective: Stats
    regret: Stats
    infeasible_share: float
    broken_share: float
    top: tuple[tuple[dict[str, str], float], ...]
    engine: str
    workers: int
    level_split: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    """niche -> {level: share of the samples done}, only levels ever chosen, in declared order."""
    level_uncertain: tuple[str, ...] = ()
    """Niches chosen in most samples whose level is a coin flip (see `level_is_uncertain`)."""
    auto: bool = False
    """Whether the sample count was chosen by precision (`--samples auto`)."""
    half_width: float | None = None
    """The largest half-width of a core index's 95% interval (Wilson), in shares; set when `auto`."""


def half_width(share: float, count: int) -> float:
    """Return the half-width of the 95% Wilson interval of a share seen in `count` samples."""
    if count <= 0:
        return 1.0
    z = 1.959963984540054
    spread = math.sqrt(share * (1.0 - share) / count + z * z / (4.0 * count * count))
    return z * spread / (1.0 + z * z / count)


def widest(scenario: Scenario, results: Sequence[Sample]) -> float:
    """Return the largest 95% half-width of a niche's core index over `results`."""
    count = len(results)
    held: Counter[str] = Counter(n for r in results if r.optimum is not None for n, _ in r.optimum)
    return max((half_width(held[n.id] / count, count) for n in scenario.niches), default=0.0)


def _stats(values: list[float]) -> Stats:
    if not values:
        return Stats(math.nan, math.nan, math.nan, math.nan, 0)
    array = np.array(values)
    p5, p50, p95 = np.percentile(array, [5, 50, 95])
    return Stats(float(array.mean()), float(p5), float(p50), float(p95), len(values))


def summarise(
    scenario: Scenario,
    kind: str,
    samples: int,
    results: list[Sample],
    seed: int,
    vary: tuple[str, ...],
    concentration: float,
    partial: bool,
    recommended: dict[str, str],
    workers: int,
    engine: str = "enumeration",
) -> RobustReport:
    """Turn per-sample results into core indices, regret statistics and the top optima."""
    done = len(results)
    niches_in: Counter[str] = Counter()
    levels_in: Counter[str] = Counter()
    optima: Counter[tuple[tuple[str, str], ...]] = Counter()
    for sample in results:
        if sample.optimum is None:
            continue
        optima[sample.optimum] += 1
        for niche, level in sample.optimum:
            niches_in[niche] += 1
            levels_in[f"{niche}.{level}"] += 1
    share = 1.0 / done if done else 0.0
    core = {n.id: niches_in[n.id] * share for n in scenario.niches}
    level_index = {
        f"{n.id}.{lv.id}": levels_in[f"{n.id}.{lv.id}"] * share for n in scenario.niches for lv in n.levels
    }
    level_split = {
        n.id: {lv.id: levels_in[f"{n.id}.{lv.id}"] * share for lv in n.levels if levels_in[f"{n.id}.{lv.id}"]}
        for n in scenario.niches
    }
    uncertain = tuple(
        n.id
        for n in scenario.niches
        if level_is_uncertain(done, niches_in[n.id], [levels_in[f"{n.id}.{lv.id}"] for lv in n.levels])
    )
    rec_key = tuple(sorted(recommended.items()))
    sign = -1.0 if kind == "regret" else 1.0
    objective_values = [sign * s.recommended for s in results if not math.isnan(s.recommended)]
    regrets = [
        s.best - s.recommended for s in results if not math.isnan(s.best) and not math.isnan(s.recommended)
    ]
    order = {
        nid: i for i, nid in enumerate([*(n.id for n in scenario.niches), *(d.id for d in scenario.deals)])
    }

    def as_portfolio(key: tuple[tuple[str, str], ...]) -> dict[str, str]:
        return dict(sorted(key, key=lambda kv: order[kv[0]]))

    top = sorted(optima.items(), key=lambda kv: (-kv[1], [order[n] for n, _ in kv[0]], kv[0]))[:5]
    return RobustReport(
        scenario=scenario,
        objective_kind=kind,
        samples=samples,
        done=done,
        seed=seed,
        vary=vary,
        concentration=concentration,
        partial=partial,
        recommended=recommended,
        core_index=core,
        level_index=level_index,
        optimal_share=optima[rec_key] * share,
        objective=_stats(objective_values),
        regret=_stats(regrets),
        infeasible_share=sum(1 for s in results if s.optimum is None) * share,
        broken_share=sum(1 for s in results if math.isnan(s.recommended)) * share,
        top=tuple((as_portfolio(key), count * share) for key, count in top),
        engine=engine,
        workers=workers,
        level_split=level_split,
        level_uncertain=uncertain,
    )


def level_is_uncertain(done: int, chosen: int, by_level: Sequence[int]) -> bool:
    """Return whether a niche chosen in `chosen` of `done` samples, `by_level` of them at each level,
    has a coin-flip level: chosen in more than half the samples, yet no level holds 2/3 of those.

    Counted in whole samples, so a split exactly at 2/3 is settled whatever the rounding.
    """
    if 2 * chosen <= done:
        return False
    top = max(by_level, default=0)
    return SETTLED[1] * top < SETTLED[0] * chosen


def classify(share: float) -> str:
    """Return "core" (>= 0.9), "exterior" (<= 0.1) or "borderline"."""
    if share >= CORE:
        return "core"
    if share <= EXTERIOR:
        return "exterior"
    return "borderline"
