"""Judgements from several people merged into one scenario, and each person's view of it.

A judgement is one number of the scenario a judge may give: a criterion's
weight, a world's probability, or a level's score on a criterion. The group's
value of a judgement is the aggregate (`mean`, `median` or `geometric`) of the
judges who gave one (the scenario's own value where none did); where two or
more judges differ, the judgement becomes uncertain for `robust`: triangular
(min, median, max) around the group's value. Weights given by pairwise
comparison combine by the geometric mean of the judges' comparisons (Saaty's
AIJ) when every judge who gives weights compares pairs.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from niches.scenario import ahp

AGGREGATES = ("mean", "median", "geometric")

Judgement = tuple[str, ...]
"""("weight", criterion), ("probability", world) or ("score", niche, level, criterion)."""


@dataclass(frozen=True)
class Judge:
    """One person's judgements, read from a judgement file.

    `weights` are normalised to sum 1 (None: the judge gives none); `matrix`
    holds the judge's pairwise comparisons of the criteria when given that
    way, `cr` their consistency ratio; `probabilities` maps world -> the
    judge's probability (as given); `scores` maps (niche, declared level,
    criterion) -> the judge's score (the mean of the form given).
    """

    name: str
    source: str
    weights: Mapping[str, float] | None = None
    matrix: tuple[tuple[float, ...], ...] | None = None
    cr: float | None = None
    probabilities: Mapping[str, float] = dataclasses.field(default_factory=dict)
    scores: Mapping[tuple[str, str, str], float] = dataclasses.field(default_factory=dict)

    def values(self) -> dict[Judgement, float]:
        """Return every judgement this judge gives, with its value."""
        found: dict[Judgement, float] = {}
        for c, w in (self.weights or {}).items():
            found["weight", c] = w
        for k, p in self.probabilities.items():
            found["probability", k] = p
        for (n, lv, c), score in self.scores.items():
            found["score", n, lv, c] = score
        return found


def label(judgement: Judgement) -> str:
    """Return a judgement in words: `weight of economic`, `probability of blocs`, `ai.lead on economic`."""
    if judgement[0] == "score":
        _, niche, level, criterion = judgement
        return f"{niche}.{level} on {criterion}"
    return f"{judgement[0]} of {judgement[1]}"


def combine(values: Sequence[float], how: str) -> float:
    """Return the aggregate of `values` (`mean`, `median`, or `geometric`, which needs them > 0)."""
    if how == "median":
        return float(statistics.median(values))
    if how == "geometric":
        return math.prod(values) ** (1.0 / len(values))
    return math.fsum(values) / len(values)


def group_weights(judges: Sequence[Judge], ids: Sequence[str], how: str) -> dict[str, float] | None:
    """Return the group's weights (sum 1), or None when no judge gives weights."""
    giving = [j for j in judges if j.weights is not None]
    if not giving:
        return None
    if all(j.matrix is not None for j in giving):
        found = ahp.priorities(ahp.geometric_mean([[list(r) for r in j.matrix or ()] for j in giving]))
        return dict(zip(ids, found.weights, strict=True))
    raw = {c: combine([(j.weights or {})[c] for j in giving], how) for c in ids}
    total = math.fsum(raw.values())
    return {c: (w / total if total > 0 else 1.0 / len(ids)) for c, w in raw.items()}


def group_matrix(judges: Sequence[Judge]) -> ahp.Matrix | None:
    """Return the AIJ matrix of the judges' pairwise comparisons (None unless every weight-giver compares)."""
    giving = [j for j in judges if j.weights is not None]
    if not giving or not all(j.matrix is not None for j in giving):
        return None
    return ahp.geometric_mean([[list(r) for r in j.matrix or ()] for j in giving])


def spread(values: Sequence[float]) -> tuple[float, float, float] | None:
    """Return (min, median, max) of values that differ, else None."""
    if len(values) < 2 or max(values) - min(values) <= 1e-12 * max(1.0, max(abs(v) for v in values)):
        return None
    return min(values), float(statistics.median(values)), max(values)


def disagreements(judges: Sequence[Judge]) -> dict[Judgement, dict[str, float]]:
    """Return every judgement on which two or more judges differ -> {judge: value}, in a stable order."""
    given: dict[Judgement, dict[str, float]] = {}
    for judge in judges:
        for judgement, v in judge.values().items():
            given.setdefault(judgement, {})[judge.name] = v
    return {k: v for k, v in given.items() if spread(list(v.values())) is not None}


def completed(stated: Mapping[str, float], declared: Mapping[str, float]) -> dict[str, float]:
    """Return a judge's whole view of the world probabilities from the ones it states.

    The worlds the judge does not state share what it leaves (1 less the sum
    it states) in the scenario's own proportions; a judge that states every
    world (or leaves nothing) is normalised to sum 1. Empty when it states none.
    """
    if not stated:
        return {}
    rest = [k for k in declared if k not in stated]
    left = 1.0 - math.fsum(stated.values())
    if not rest or left <= 0.0:
        total = math.fsum(stated.values())
        return {k: (stated.get(k, 0.0) / total if total > 0 else 1.0 / len(declared)) for k in declared}
    mass = math.fsum(declared[k] for k in rest)
    return {
        k: stated[k] if k in stated else left * (declared[k] / mass if mass > 0 else 1.0 / len(rest))
        for k in declared
    }


def group_probabilities(views: Sequence[Mapping[str, float]], how: str) -> dict[str, float]:
    """Return the group's world probabilities from the judges' whole views (`completed`).

    Each world's aggregate (`how`), fitted to sum 1 without leaving the range
    of the views of that world: every aggregate is scaled by one factor and
    held within [smallest view, largest view] (the mean of views that each
    sum to 1 already does both). Where no factor fits, the mean is used.
    """
    ids = list(views[0])
    raw = {k: combine([v[k] for v in views], how) for k in ids}
    low = {k: min(v[k] for v in views) for k in ids}
    high = {k: max(v[k] for v in views) for k in ids}

    def fitted(t: float) -> dict[str, float]:
        return {k: min(high[k], max(low[k], t * raw[k])) for k in ids}

    a, b = 0.0, 1.0
    while math.fsum(fitted(b).values()) < 1.0 and b < 1e12:
        b *= 2.0
    for _ in range(200):
        mid = (a + b) / 2.0
        if math.fsum(fitted(mid).values()) < 1.0:
            a = mid
        else:
            b = mid
    found = fitted(b)
    total = math.fsum(found.values())
    if abs(total - 1.0) > 1e-9:
        found = {k: math.fsum(v[k] for v in views) / len(views) for k in ids}
        total = math.fsum(found.values())
    return {k: p / total for k, p in found.items()}


@dataclass(frozen=True)
class Judged:
    """A figure of the scenario the judges changed.

    `declared` is what the scenario file itself gives (a weight normalised
    with the file's other weights; a probability; a score's mean; None where
    the file gives none), `judges` each judge's figure (a probability from
    the judge's whole view, see `completed`), `group` the figure used.
    """

    judgement: Judgement
    declared: float | None
    judges: Mapping[str, float]
    group: float

    @property
    def what(self) -> str:
        return label(self.judgement)


def is_judgement_file(text: str) -> bool:
    """Return whether YAML `text` is a judgement file (a top-level `judge:` key)."""
    import re

    return re.search(r"^judge\s*:", text, flags=re.MULTILINE) is not None
