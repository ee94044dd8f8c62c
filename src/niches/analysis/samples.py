"""Solve Monte Carlo samples in one process: each sample's optimum and the recommendation's objective."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from niches.analysis.sampling import Sampler
from niches.interrupts import STOPS, Interrupted
from niches.optimize.engine import Engine, MilpEngine, TableEngine, make_engine
from niches.optimize.evaluate import evaluate, objective_value, violated_rules
from niches.optimize.formulation import KIND_GOAL, tie_break_goals
from niches.optimize.model import best_by_world, measure_goals
from niches.optimize.table import objective_of
from niches.scenario import Scenario

STOPPED: list[int] = []
"""Exit codes of the stops the Monte Carlo caught and turned into partial results (latest last)."""


def _remember_stop(exc: BaseException) -> None:
    STOPPED.append(exc.code if isinstance(exc, Interrupted) else 130)


@dataclass(frozen=True)
class Sample:
    """What one sample found: the optimum (None: no portfolio keeps the rules there) and objectives."""

    index: int
    optimum: tuple[tuple[str, str], ...] | None
    best: float  # the sample's optimal objective (oriented: higher is better), nan if infeasible
    recommended: float  # the recommendation's objective in the sample, nan if it breaks a rule


def run_samples(
    scenario: Scenario,
    indices: Iterable[int],
    seed: int,
    vary: Sequence[str],
    concentration: float,
    kind: str,
    recommended: dict[str, str],
    solver: str = "highs",
    progress: Callable[[int], None] | None = None,
    engine: Engine | None = None,
    emit: Callable[[Sample], object] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[Sample]:
    """Solve the samples `indices` (a worker's share); stops early on Ctrl-C, returning those done.

    `engine` is the study's own engine when the samples run in its process;
    a worker process builds its own. `emit` receives each sample as it is done.
    `stop` is asked before each sample (a worker thread whose parent was stopped ends there).
    """
    if stop is not None:
        indices = _until(indices, stop)
    sampler = Sampler(scenario, vary, concentration)
    results: list[Sample] = _Emitting(emit) if emit is not None else []
    if engine is None:
        engine = make_engine(scenario, kind, solver)
    try:
        if isinstance(engine, TableEngine):
            _table_samples(engine, sampler, indices, seed, kind, recommended, results, progress)
        else:
            assert isinstance(engine, MilpEngine)
            _milp_samples(engine, sampler, indices, seed, kind, recommended, results, progress)
    except STOPS as exc:
        _remember_stop(exc)
    return results


def _until(indices: Iterable[int], stop: Callable[[], bool]) -> Iterator[int]:
    """Yield `indices` until `stop()` says to end."""
    for index in indices:
        if stop():
            return
        yield index


class _Emitting(list[Sample]):
    """A list of samples that also hands each one on as it is appended."""

    def __init__(self, emit: Callable[[Sample], object]) -> None:
        super().__init__()
        self.emit = emit

    def append(self, sample: Sample) -> None:
        super().append(sample)
        self.emit(sample)


def _table_samples(
    engine: TableEngine,
    sampler: Sampler,
    indices: Iterable[int],
    seed: int,
    kind: str,
    recommended: dict[str, str],
    results: list[Sample],
    progress: Callable[[int], None] | None,
) -> None:
    """Score every portfolio under a batch of samples at once, then pick each sample's optimum."""
    table = engine.table
    rows = table.static(sampler.scenario).rows
    rec_at = np.searchsorted(rows, table.row_of(recommended))
    rec_index = int(rec_at) if rec_at < len(rows) and rows[rec_at] == table.row_of(recommended) else None
    batch = 64
    order = list(indices)
    for first in range(0, len(order), batch):
        chunk = order[first : first + batch]
        draws = [sampler.draw(seed, i) for i in chunk]
        level_values = np.stack([sampler.level_values(sc, w) for sc, w, _ in draws])  # (B, levels, worlds)
        probabilities = np.stack([p for _, _, p in draws])  # (B, worlds)
        scored = table.score_batch(rows, level_values, probabilities, kind, rec_index)
        for b, i in enumerate(chunk):
            sample = scored.sample(b)
            stars = table.best_by_world(sample) if kind == "regret" else None
            if kind == "regret" and stars is None:
                results.append(Sample(i, None, math.nan, math.nan))
            else:
                row = table.best(sample, kind, stars)
                objective = objective_of(sample, kind, stars)
                mine = math.nan
                if rec_index is not None and sample.feasible[rec_index]:
                    mine = float(objective[rec_index])
                if row is None:
                    results.append(Sample(i, None, math.nan, mine))
                else:
                    best = float(objective[int(np.searchsorted(rows, row))])
                    results.append(Sample(i, tuple(sorted(table.portfolio(row).items())), best, mine))
            if progress:
                progress(1)


def _milp_samples(
    engine: MilpEngine,
    sampler: Sampler,
    indices: Iterable[int],
    seed: int,
    kind: str,
    recommended: dict[str, str],
    results: list[Sample],
    progress: Callable[[int], None] | None,
) -> None:
    """Re-solve one model with each sample's values and probabilities, started from the best optimum seen."""
    model = engine.model
    scenario = sampler.scenario
    sign = -1.0 if kind == "regret" else 1.0
    goal = KIND_GOAL[kind]
    seen: Counter[tuple[tuple[str, str], ...]] = Counter({tuple(sorted(recommended.items())): 1})
    keys = [(n.id, lv.id) for n in scenario.niches for lv in n.levels]
    for i in indices:
        scores, weights, probabilities = sampler.draw(seed, i)
        variant = sampler.scenario_for(scores, weights, probabilities)
        values = sampler.level_values(scores, weights)
        table = {
            (nid, lid, w.id): float(values[r, k])
            for r, (nid, lid) in enumerate(keys)
            for k, w in enumerate(scenario.worlds)
        }
        odds = {w.id: float(p) for w, p in zip(scenario.worlds, probabilities, strict=True)}
        with model.variant(values=table, probabilities=odds), model.form.variant():
            stars = None
            if kind == "regret":
                stars = best_by_world(variant, model=model)
                if stars is None:
                    results.append(Sample(i, None, math.nan, math.nan))
                    continue
                model.form.set_regret_targets(stars)
            known = _best_known(variant, kind, stars, [dict(key) for key, _ in seen.most_common(8)])
            start, incumbent = known if known is not None else (None, None)
            if scenario.deals:  # a deal that adds no value ties on the objective: break ties as solve does
                goals = tie_break_goals(kind, scenario.timed)
                chain = model.chain(goals, measure_goals(variant, stars), start=start, start_keeps_rules=True)
                optimum = None if chain.status == "infeasible" else chain.portfolio
            else:
                outcome = model.optimise(goal, start=start, incumbent=incumbent)
                optimum = None if outcome.status == "infeasible" else model.portfolio(outcome)
        mine = math.nan
        if not violated_rules(variant, recommended):
            mine = sign * objective_value(kind, evaluate(variant, recommended), stars)
        if optimum is None:
            results.append(Sample(i, None, math.nan, mine))
        else:
            key = tuple(sorted(optimum.items()))
            seen[key] += 1
            best = sign * objective_value(kind, evaluate(variant, optimum), stars)
            results.append(Sample(i, key, best, mine))
        if progress:
            progress(1)


def _best_known(
    variant: Scenario, kind: str, stars: dict[str, float] | None, candidates: list[dict[str, str]]
) -> tuple[dict[str, str], float] | None:
    """Return the best of `candidates` that keeps the variant's rules, with its objective, or None."""
    sign = -1.0 if kind == "regret" else 1.0
    best: tuple[float, dict[str, str]] | None = None
    for portfolio in candidates:
        metrics = evaluate(variant, portfolio)
        if violated_rules(variant, portfolio, metrics):
            continue
        value = sign * objective_value(kind, metrics, stars)
        if best is None or value > best[0]:
            best = (value, portfolio)
    return None if best is None else (best[1], sign * best[0])
