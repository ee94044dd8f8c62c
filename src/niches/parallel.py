"""Independent tasks on several threads, each with its own worker state, results in task order.

Analyses ask many independent questions of one model (a rule's gain, a
niche's stability radius, a sub-coalition's plan). Each worker thread owns one
state (its own built model: a solver instance is never shared) and answers
the tasks i, i + n, i + 2n, ... in order. HiGHS runs outside the GIL, so the
threads solve in parallel. Every task is answered independently of the ones
before it on the same worker (the callers clear what a solver remembers), so
the results are the same bytes whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

DEFAULT_WORKERS = 2
"""Threads an analysis uses unless told (`--workers`); never more than the machine's cores."""


def default_workers() -> int:
    """Return the number of threads analyses use by default: DEFAULT_WORKERS, at most the cores."""
    return max(1, min(DEFAULT_WORKERS, os.cpu_count() or 1))


def run_shared(states: Sequence[S], task: Callable[[S, T], R], items: Sequence[T]) -> list[R]:
    """Return `task(state, item)` for every item, in order; item i runs on `states[i % len(states)]`.

    With one state (or one item) everything runs here. Waiting on the futures
    (not in the pool's own exit) lets Ctrl-C through at once.
    """
    count = min(len(states), len(items))
    if count <= 1:
        return [task(states[0], item) for item in items]
    shares = [list(items[i::count]) for i in range(count)]
    pool = ThreadPoolExecutor(max_workers=count)
    try:
        futures = [
            pool.submit(lambda j: [task(states[j], item) for item in shares[j]], j) for j in range(count)
        ]
        parts = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [parts[i % count][i // count] for i in range(len(items))]
