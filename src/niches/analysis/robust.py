"""Monte Carlo over the judgements a scenario declares uncertain; the core index.

Each sample draws scores from their ranges (uniform) or low/mode/high
(triangular), criterion weights declared as ranges, and world probabilities
from a Dirichlet centred on the stated ones; then solves under the scenario's
rules and objective. The random stream of sample i depends only on (seed, i)
and on which judgement it draws (one child stream each), so results are
identical whatever the number of workers or the scheduler.

Small scenarios are solved by scoring every portfolio with numpy (one pass per
sample); larger ones by re-solving one MILP with the sampled values.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from niches.interrupts import STOPS, Interrupted
from niches.limits import MAX_SAMPLES, MAX_SEED, MAX_WORKERS, SAMPLES
from niches.optimize.engine import Engine, MilpEngine, TableEngine, make_engine
from niches.optimize.evaluate import evaluate, objective_value, violated_rules
from niches.optimize.formulation import KIND_GOAL, tie_break_goals
from niches.optimize.model import best_by_world, measure_goals
from niches.optimize.table import objective_of
from niches.scenario import Criterion, Scenario, World

if TYPE_CHECKING:
    from niches.study import Study

VARY = ("scores", "weights", "probabilities")
STREAMS = {"scores": 0, "weights": 1, "probabilities": 2}
CORE, EXTERIOR = 0.9, 0.1
SETTLED = (2, 3)
"""A niche's level is settled when one level holds at least 2/3 of the samples that choose the niche."""
Progress = Callable[[float], None]


STOPPED: list[int] = []
"""Exit codes of the stops the Monte Carlo caught and turned into partial results (latest last)."""


def _remember_stop(exc: BaseException) -> None:
    STOPPED.append(exc.code if isinstance(exc, Interrupted) else 130)


class RobustError(ValueError):
    """The Monte Carlo asked for cannot run (say why)."""


@dataclass(frozen=True)
class Sample:
    """What one sample found: the optimum (None: no portfolio keeps the rules there) and objectives."""

    index: int
    optimum: tuple[tuple[str, str], ...] | None
    best: float  # the sample's optimal objective (oriented: higher is better), nan if infeasible
    recommended: float  # the recommendation's objective in the sample, nan if it breaks a rule


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


def _stream(seed: int, index: int, what: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index, STREAMS[what])))


class Sampler:
    """Draw the uncertain judgements of one scenario, sample by sample."""

    def __init__(self, scenario: Scenario, vary: Sequence[str], concentration: float) -> None:
        self.scenario = scenario
        self.vary = tuple(vary)
        self.concentration = concentration
        scores = [lv.scores[c.id] for n in scenario.niches for lv in n.levels for c in scenario.criteria]
        self.low = np.array([s.low for s in scores])
        self.high = np.array([s.high for s in scores])
        self.mode = np.array([s.mode if s.mode is not None else s.low for s in scores])
        self.uniform = np.array([s.kind == "uniform" for s in scores])
        self.triangular = np.array([s.kind == "triangular" for s in scores])
        self.mean = np.array([s.mean for s in scores])
        # One draw per declared level and criterion: a level started later is the same judgement
        # times its active share (its bounds are scaled, so the same uniform gives the scaled draw).
        declared: dict[tuple[str, str, str], int] = {}
        self.draw_of = np.array(
            [
                declared.setdefault((n.id, lv.base, c.id), len(declared))
                for n in scenario.niches
                for lv in n.levels
                for c in scenario.criteria
            ],
            dtype=np.int64,
        )
        self.draws = len(declared)
        self.levels = sum(len(n.levels) for n in scenario.niches)
        self.outlook = np.array(
            [[n.outlook.get(w.id, 1.0) for w in scenario.worlds] for n in scenario.niches for _ in n.levels]
        ).reshape(self.levels, len(scenario.worlds))
        raw = [c.raw_weight for c in scenario.criteria]
        self.w_low = np.array([w.low for w in raw])
        self.w_high = np.array([w.high for w in raw])
        self.w_mode = np.array([w.mode if w.mode is not None else w.low for w in raw])
        self.w_kind = [w.kind for w in raw]
        self.weights = np.array([c.weight for c in scenario.criteria])
        self.probabilities = np.array([w.probability for w in scenario.worlds])

    def draw(
        self, seed: int, index: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Return (scores as levels x criteria, normalised weights, probabilities) for sample `index`."""
        scores = self.mean
        if "scores" in self.vary:
            u = _stream(seed, index, "scores").random(self.draws)[self.draw_of]
            scores = np.where(self.uniform, self.low + u * (self.high - self.low), self.low)
            spread = self.high - self.low
            left = np.divide(self.mode - self.low, spread, out=np.zeros_like(spread), where=spread > 0)
            rising = self.low + np.sqrt(u * spread * (self.mode - self.low))
            falling = self.high - np.sqrt((1 - u) * spread * (self.high - self.mode))
            scores = np.where(self.triangular, np.where(u < left, rising, falling), scores)
        weights = self.weights
        if "weights" in self.vary:
            u = _stream(seed, index, "weights").random(len(self.w_kind))
            raw = np.array(
                [
                    _draw_one(kind, lo, mo, hi, x)
                    for kind, lo, mo, hi, x in zip(
                        self.w_kind, self.w_low, self.w_mode, self.w_high, u, strict=True
                    )
                ]
            )
            total = raw.sum()
            weights = raw / total if total > 0 else self.weights
        probabilities = self.probabilities
        if "probabilities" in self.vary and len(probabilities) > 1:
            positive = probabilities > 0
            alpha = self.concentration * probabilities[positive]
            drawn = _stream(seed, index, "probabilities").dirichlet(alpha)
            probabilities = np.zeros_like(self.probabilities)
            probabilities[positive] = drawn
        return scores.reshape(self.levels, len(self.weights)), weights, probabilities

    def level_values(self, scores: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the (levels, worlds) matrix of v(n, l, k) for drawn scores and weights."""
        return np.asarray((scores @ weights)[:, None] * self.outlook, dtype=np.float64)

    def scenario_for(
        self, scores: NDArray[np.float64], weights: NDArray[np.float64], probabilities: NDArray[np.float64]
    ) -> Scenario:
        """Return the scenario with the drawn judgements as point values."""
        from niches.scenario import Score

        s = self.scenario
        criteria = tuple(
            Criterion(c.id, float(w), c.raw_weight, c.description)
            for c, w in zip(s.criteria, weights, strict=True)
        )
        worlds = tuple(
            World(w.id, float(p), w.description) for w, p in zip(s.worlds, probabilities, strict=True)
        )
        niches = []
        row = 0
        for niche in s.niches:
            levels = []
            for level in niche.levels:
                drawn = {c.id: Score.point(float(scores[row, j])) for j, c in enumerate(s.criteria)}
                levels.append(dataclasses.replace(level, scores=drawn))
                row += 1
            niches.append(dataclasses.replace(niche, levels=tuple(levels)))
        return dataclasses.replace(s, criteria=criteria, worlds=worlds, niches=tuple(niches))


def _draw_one(kind: str, low: float, mode: float, high: float, u: float) -> float:
    if kind == "uniform":
        return low + u * (high - low)
    if kind == "triangular" and high > low:
        left = (mode - low) / (high - low)
        if u < left:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1 - u) * (high - low) * (high - mode))
    return low


def run_samples(
    scenario: Scenario,
    indices: Sequence[int],
    seed: int,
    vary: Sequence[str],
    concentration: float,
    kind: str,
    recommended: dict[str, str],
    solver: str = "highs",
    progress: Callable[[int], None] | None = None,
    engine: Engine | None = None,
    emit: Callable[[Sample], object] | None = None,
) -> list[Sample]:
    """Solve the samples `indices` (a worker's share); stops early on Ctrl-C, returning those done.

    `engine` is the study's own engine when the samples run in its process;
    a worker process builds its own. `emit` receives each sample as it is done.
    """
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
    indices: Sequence[int],
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
    indices: Sequence[int],
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


def _stats(values: list[float]) -> Stats:
    if not values:
        return Stats(math.nan, math.nan, math.nan, math.nan, 0)
    array = np.array(values)
    p5, p50, p95 = np.percentile(array, [5, 50, 95])
    return Stats(float(array.mean()), float(p5), float(p50), float(p95), len(values))


def _chunks(samples: int, parts: int) -> list[list[int]]:
    size = math.ceil(samples / max(1, parts))
    return [list(range(start, min(samples, start + size))) for start in range(0, samples, size)]


def robust(
    study: Study,
    samples: int = SAMPLES,
    seed: int = 0,
    vary: Sequence[str] = VARY,
    workers: int = 1,
    scheduler: str | None = None,
    concentration: float = 50.0,
    progress: Progress | None = None,
) -> RobustReport:
    """Run the Monte Carlo and summarise it (partial if interrupted)."""
    scenario, kind, solver = study.scenario, study.kind, study.solver
    unknown = [v for v in vary if v not in VARY]
    if unknown:
        raise RobustError(f"unknown --vary item '{unknown[0]}'; choose from {', '.join(VARY)}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise RobustError(f"--samples must be from 1 to {MAX_SAMPLES:,}")
    if not 0 <= seed <= MAX_SEED:
        raise RobustError(f"--seed must be from 0 to {MAX_SEED:,}")
    if not 1 <= workers <= MAX_WORKERS:
        raise RobustError(f"--workers must be from 1 to {MAX_WORKERS}")
    if concentration <= 0:
        raise RobustError("--concentration must be positive")
    recommended_solution = study.solution()
    if recommended_solution.metrics is None:
        raise RobustError("the scenario is infeasible: run `niches explain` to see which rules conflict")
    recommended = recommended_solution.portfolio
    done_count = 0

    def tick(n: int) -> None:
        nonlocal done_count
        done_count += n
        if progress:
            progress(done_count / samples)

    args = (seed, tuple(vary), concentration, kind, recommended, solver)
    results: list[Sample] = []
    partial = False
    if scheduler:
        results = _run_dask(scenario, samples, workers, scheduler, args)
    elif workers > 1:
        results, partial = _run_processes(scenario, samples, workers, args, tick)
    else:
        results = run_samples(scenario, range(samples), *args, progress=tick, engine=study.engine)
    results.sort(key=lambda r: r.index)
    partial = partial or len(results) < samples
    engine = "enumeration" if isinstance(study.engine, TableEngine) else "milp"
    return summarise(
        scenario,
        kind,
        samples,
        results,
        seed,
        tuple(vary),
        concentration,
        partial,
        recommended,
        workers,
        engine,
    )


def robust_of(
    study: Study,
    samples: int = SAMPLES,
    seed: int = 0,
    vary: Sequence[str] = ("scores", "weights", "probabilities"),
    workers: int = 1,
    scheduler: str | None = None,
    concentration: float = 50.0,
    progress: Progress | None = None,
) -> RobustReport:
    """Return the Monte Carlo over the scenario's uncertain judgements."""
    key = ("robust", samples, seed, tuple(vary), workers, scheduler, concentration)
    return study.remember(  # type: ignore[no-any-return]
        key, lambda: robust(study, samples, seed, vary, workers, scheduler, concentration, progress)
    )


def _run_processes(
    scenario: Scenario, samples: int, workers: int, args: tuple[object, ...], tick: Callable[[int], None]
) -> tuple[list[Sample], bool]:
    """Share the samples among `workers` processes that send back each sample as it is done.

    On Ctrl-C (or SIGTERM) the processes are ended at once and every sample
    finished so far is kept: the result is partial, not lost.
    """
    import multiprocessing
    import queue as queues

    context = multiprocessing.get_context()
    channel = context.Queue()
    shares = [list(range(w, samples, workers)) for w in range(workers)]
    processes = [
        context.Process(target=_worker, args=(scenario, share, args, channel), daemon=True)
        for share in shares
        if share
    ]
    results: list[Sample] = []
    running = len(processes)
    try:
        for process in processes:
            process.start()
        while running:
            try:
                item = channel.get(timeout=0.2)
            except queues.Empty:
                if not any(p.is_alive() for p in processes):
                    raise RobustError("a Monte Carlo worker stopped unexpectedly") from None
                continue
            if item is None:
                running -= 1
            elif isinstance(item, Sample):
                results.append(item)
                tick(1)
            else:
                raise RobustError(f"a Monte Carlo worker failed: {item}")
    except STOPS as exc:
        _remember_stop(exc)
        for process in processes:
            process.terminate()
        while True:  # keep what was sent before the end
            try:
                item = channel.get(timeout=0.05)
            except queues.Empty:
                break
            if isinstance(item, Sample):
                results.append(item)
        return results, True
    finally:
        for process in processes:
            process.join(timeout=1)
            if process.is_alive():
                process.kill()
    return results, False


def _worker(scenario: Scenario, indices: list[int], args: tuple[object, ...], channel: Any) -> None:
    """Solve `indices` in a worker process, sending each sample as it is done, then None."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop, and keeps what was sent
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ended by the parent: quietly, no traceback
    try:
        seed, vary, concentration, kind, recommended, solver = args
        run_samples(
            scenario,
            indices,
            seed,  # type: ignore[arg-type]
            vary,  # type: ignore[arg-type]
            concentration,  # type: ignore[arg-type]
            kind,  # type: ignore[arg-type]
            recommended,  # type: ignore[arg-type]
            solver,  # type: ignore[arg-type]
            emit=channel.put,
        )
    except Exception as exc:  # sent to the parent, which says what failed
        channel.put(f"{type(exc).__name__}: {exc}")
        return
    channel.put(None)


def _run_dask(
    scenario: Scenario, samples: int, workers: int, scheduler: str, args: tuple[object, ...]
) -> list[Sample]:
    try:
        from distributed import Client
    except ImportError:
        raise RobustError("--scheduler needs Dask: pip install 'niches[dask]'") from None
    try:
        client = Client(scheduler, timeout="3s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise RobustError(
            f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); "
            "check the address and that the scheduler runs"
        ) from None
    with client:
        chunks = _chunks(samples, max(workers, len(client.scheduler_info().get("workers", {})) or 1) * 4)
        futures = [client.submit(run_samples, scenario, chunk, *args, pure=False) for chunk in chunks]
        parts = client.gather(futures)  # type: ignore[no-untyped-call]
    return [sample for part in parts for sample in part]


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
