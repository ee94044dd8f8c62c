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
import threading
from collections.abc import Callable, Sequence
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

    With one state (or one item) everything runs here. The worker threads are
    daemons, waited for here in short steps: Ctrl-C (or SIGTERM) reaches this
    thread at once, and the program can end without waiting for a solve in
    hand (a caller that must stop its workers tells them so, as robust does).
    When tasks fail, the first worker's error (in worker order) is raised.
    """
    count = min(len(states), len(items))
    if count <= 1:
        return [task(states[0], item) for item in items]
    shares = [list(items[i::count]) for i in range(count)]
    parts: list[list[R]] = [[] for _ in range(count)]
    errors: list[BaseException | None] = [None] * count
    finished = [threading.Event() for _ in range(count)]

    def work(j: int) -> None:
        try:
            parts[j] = [task(states[j], item) for item in shares[j]]
        except BaseException as exc:  # handed to the waiting thread
            errors[j] = exc
        finally:
            finished[j].set()

    for j in range(count):
        threading.Thread(target=work, args=(j,), name=f"niches-worker-{j}", daemon=True).start()
    for event in finished:
        while not event.wait(0.2):
            pass
    for error in errors:
        if error is not None:
            raise error
    return [parts[i % count][i // count] for i in range(len(items))]
