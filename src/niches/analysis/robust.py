"""Monte Carlo over the judgements a scenario declares uncertain; the core index.

Each sample draws scores from their ranges (uniform) or low/mode/high
(triangular), criterion weights declared as ranges, and world probabilities
from a Dirichlet centred on the stated ones; then solves under the scenario's
rules and objective. The random stream of sample i depends only on (seed, i)
and on which judgement it draws (one child stream each), so results are
identical whatever the number of workers or the scheduler.

Small scenarios are solved by scoring every portfolio with numpy (one pass per
sample); larger ones by re-solving one MILP with the sampled values.

This module checks the request and runs the samples here, in worker processes
or on a Dask cluster; the draws are in `sampling`, the solving of samples in
`samples`, the summary in `core_index`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from niches.analysis.core_index import SETTLED as SETTLED
from niches.analysis.core_index import RobustReport as RobustReport
from niches.analysis.core_index import Stats as Stats
from niches.analysis.core_index import classify as classify
from niches.analysis.core_index import summarise as summarise
from niches.analysis.core_index import widest
from niches.analysis.samples import STOPPED as STOPPED
from niches.analysis.samples import Sample as Sample
from niches.analysis.samples import _remember_stop, run_samples
from niches.analysis.sampling import Sampler as Sampler
from niches.interrupts import STOPS
from niches.limits import (
    AUTO_CAP,
    AUTO_FIRST,
    AUTO_HALF_WIDTH,
    AUTO_SAMPLES,
    AUTO_STEP,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_WORKERS,
    SAMPLES,
)
from niches.optimize.engine import MilpEngine, TableEngine
from niches.parallel import run_shared
from niches.scenario import Scenario

if TYPE_CHECKING:
    from niches.study import Study

VARY = ("scores", "weights", "probabilities")
Progress = Callable[[float], None]


class RobustError(ValueError):
    """The Monte Carlo asked for cannot run (say why)."""


def _chunks(indices: list[int], parts: int) -> list[list[int]]:
    size = math.ceil(len(indices) / max(1, parts))
    return [indices[start : start + size] for start in range(0, len(indices), size)]


SampleArgs = tuple[int, tuple[str, ...], float, str, dict[str, str], str]
"""What every sample is drawn and judged with: seed, vary, concentration, kind, recommended, solver."""


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
    auto = samples == AUTO_SAMPLES
    if not auto and not 1 <= samples <= MAX_SAMPLES:
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
    planned = AUTO_FIRST if auto else samples

    def tick(n: int) -> None:
        nonlocal done_count
        done_count += n
        if progress:
            progress(min(1.0, done_count / planned))

    args: SampleArgs = (seed, tuple(vary), concentration, kind, recommended, solver)

    def run(indices: list[int]) -> tuple[list[Sample], bool]:
        """Solve the samples `indices` here, in processes or on Dask; return them and whether cut short."""
        if scheduler:
            found = _run_dask(scenario, indices, workers, scheduler, args)
            return found, len(found) < len(indices)
        if workers > 1 and isinstance(study.engine, MilpEngine):  # HiGHS runs outside the GIL: threads
            return _run_threads(study.engine.twins(workers), indices, args, tick)
        if workers > 1:  # numpy scoring holds the GIL: processes
            return _run_processes(scenario, indices, workers, args, tick)
        found = run_samples(scenario, indices, *args, progress=tick, engine=study.engine)
        return found, len(found) < len(indices)

    def grow(total: int) -> None:  # with --samples auto the progress bar's end moves as rounds are added
        nonlocal planned
        planned = total

    if auto:
        results, partial, widest_seen = _until_precise(scenario, run, grow)
    else:
        results, partial = run(list(range(samples)))
        widest_seen = None
    results.sort(key=lambda r: r.index)
    engine = "enumeration" if isinstance(study.engine, TableEngine) else "milp"
    report = summarise(
        scenario,
        kind,
        len(results) if auto else samples,
        results,
        seed,
        tuple(vary),
        concentration,
        partial or (not auto and len(results) < samples),
        recommended,
        workers,
        engine,
    )
    return dataclasses.replace(report, auto=auto, half_width=widest_seen) if auto else report


def _until_precise(
    scenario: Scenario, run: Callable[[list[int]], tuple[list[Sample], bool]], grow: Callable[[int], None]
) -> tuple[list[Sample], bool, float]:
    """Draw samples 0, 1, 2, ... in rounds until every core index's 95% half-width is within
    AUTO_HALF_WIDTH (checked after AUTO_FIRST samples, then every AUTO_STEP), or AUTO_CAP are drawn.

    The stopping count depends only on the samples, never on how they were shared out, so it is the
    same for a seed whatever the workers. Return the samples, whether a stop cut them short, and the
    widest half-width at the end.
    """
    results: list[Sample] = []
    total, size = 0, AUTO_FIRST
    while True:
        grow(total + size)
        found, cut = run(list(range(total, total + size)))
        results += found
        total += size
        wide = widest(scenario, results)
        if cut:
            return results, True, wide
        if wide <= AUTO_HALF_WIDTH or total >= AUTO_CAP:
            return results, False, wide
        size = min(AUTO_STEP, AUTO_CAP - total)


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


def _run_threads(
    engines: Sequence[MilpEngine], indices: list[int], args: SampleArgs, tick: Callable[[int], None]
) -> tuple[list[Sample], bool]:
    """Share the samples among threads, each re-solving its own engine's model (`parallel.run_shared`).

    Each sample is kept as it is done, so a stop (Ctrl-C, SIGTERM) keeps every sample finished.
    """
    import threading

    kept: list[Sample] = []
    lock = threading.Lock()
    stopped = threading.Event()  # set on a stop: each thread ends after the sample in hand

    def keep(sample: Sample) -> None:
        with lock:
            kept.append(sample)

    def share(engine: MilpEngine, part: list[int]) -> None:
        run_samples(
            engine.scenario, part, *args, progress=tick, engine=engine, emit=keep, stop=stopped.is_set
        )

    count = len(engines)
    try:
        run_shared(engines, share, [indices[j::count] for j in range(count)])
    except STOPS as exc:
        stopped.set()
        _remember_stop(exc)
        with lock:
            return list(kept), True
    with lock:
        return list(kept), len(kept) < len(indices)


def _run_processes(
    scenario: Scenario,
    indices: list[int],
    workers: int,
    args: SampleArgs,
    tick: Callable[[int], None],
) -> tuple[list[Sample], bool]:
    """Share the samples among `workers` processes that send back each sample as it is done.

    On Ctrl-C (or SIGTERM) the processes are ended at once and every sample
    finished so far is kept: the result is partial, not lost.
    """
    import multiprocessing
    import queue as queues

    context = multiprocessing.get_context()
    channel = context.Queue()
    shares = [indices[w::workers] for w in range(workers)]
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


def _worker(scenario: Scenario, indices: list[int], args: SampleArgs, channel: Any) -> None:
    """Solve `indices` in a worker process, sending each sample as it is done, then None."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop, and keeps what was sent
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ended by the parent: quietly, no traceback
    try:
        run_samples(scenario, indices, *args, emit=channel.put)
    except Exception as exc:  # sent to the parent, which says what failed
        channel.put(f"{type(exc).__name__}: {exc}")
        return
    channel.put(None)


def _run_dask(
    scenario: Scenario, indices: list[int], workers: int, scheduler: str, args: SampleArgs
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
        chunks = _chunks(indices, max(workers, len(client.scheduler_info().get("workers", {})) or 1) * 4)
        futures = [client.submit(run_samples, scenario, chunk, *args, pure=False) for chunk in chunks]
        parts = client.gather(futures)  # type: ignore[no-untyped-call]
    return [sample for part in parts for sample in part]
