"""What the ways of computing the value of learning share: the judgements' points and draws, a figure per
judgement, and how points settle into EVPPI (see `analysis.learn`)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from niches.analysis.judgements import Judgement, grid, quantile
from niches.analysis.sampling import Sampler, _draw_one, _stream
from niches.limits import MAX_SAMPLES, MAX_SEED
from niches.optimize.tolerances import RELATIVE_TIE
from niches.scenario import Scenario

POINTS = 33
"""Quantile points a score or weight is integrated over (midpoints of 33 equal-probability bins)."""
SAMPLES = 200
"""Monte Carlo draws: of the world probabilities, of the other judgements (nested), and for EVPI."""
GROUPS = 10
"""Groups of the inner draws a nested Monte Carlo's standard error is measured across."""
MAX_POINTS = 1000
VARY = ("scores", "weights", "probabilities")

Floats = np.ndarray


class LearnError(ValueError):
    """The value of learning asked for cannot be computed (say why, and what to ask instead)."""


@dataclass(frozen=True)
class Learned:
    """What learning one judgement exactly before choosing is worth.

    `evppi` is in the objective's units (regret: the expected fall); `share_of_value` is it over the
    recommendation's expected value (None when that is 0). `method` is "quantiles" (exact up to the
    grid of `points`; `stderr` None), "monte carlo" (`points` draws) or "nested monte carlo" (`points`
    outer points, `samples` inner draws each); `stderr` the standard error of a Monte Carlo figure.
    `changes_to` is the portfolio the decision becomes where learning the judgement changes it (the
    most frequent change over the points), None when it never does.
    """

    judgement: Judgement
    evppi: float
    stderr: float | None
    method: str
    points: int
    samples: int
    changes_to: dict[str, str] | None
    share_of_value: float | None


@dataclass(frozen=True)
class Settled:
    """The outcome over a set of points: EVPPI, each point's gain over the decision, what it changes to."""

    evppi: float
    gains: Floats
    changes_to: dict[str, str] | None


class Inputs:
    """The scenario's judgements at their means, and draws of them as robust draws them."""

    def __init__(self, scenario: Scenario, seed: int, concentration: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.sampler = Sampler(scenario, VARY, concentration)
        self.odds_only = Sampler(scenario, ("probabilities",), concentration)
        sampler = self.sampler
        self.criteria = [c.id for c in scenario.criteria]
        self.mean = sampler.mean.reshape(sampler.levels, len(self.criteria))
        self.weights = sampler.weights
        self.probabilities = sampler.probabilities
        self.raw = np.array([c.raw_weight.mean for c in scenario.criteria])
        self.levels = [(n.id, lv) for n in scenario.niches for lv in n.levels]

    def values(self, scores: Floats, weights: Floats) -> Floats:
        """Return the (levels, worlds) value table of scores (levels, criteria) and normalised weights."""
        return np.asarray(self.sampler.level_values(scores, weights))

    def rows_of(self, judgement: Judgement) -> list[int]:
        """Return the level rows a score judgement sets (every start of the declared level)."""
        return [
            i
            for i, (nid, lv) in enumerate(self.levels)
            if nid == judgement.niche and lv.base == judgement.level
        ]

    def set_score(self, scores: Floats, judgement: Judgement, u: float) -> Floats:
        """Return `scores` with the judgement's entries at cumulative probability `u`."""
        c = self.criteria.index(judgement.criterion or "")
        out = np.array(scores)
        for row in self.rows_of(judgement):
            out[row, c] = quantile(self.levels[row][1].scores[judgement.criterion or ""], u)
        return out

    def normalised(self, raw: Floats) -> Floats:
        total = raw.sum()
        return raw / total if total > 0 else self.weights

    def set_weight(self, raw: Floats, judgement: Judgement, u: float) -> Floats:
        """Return the normalised weights with the judgement's raw weight at cumulative probability `u`."""
        c = self.criteria.index(judgement.criterion or "")
        out = np.array(raw, dtype=np.float64)
        assert judgement.distribution is not None
        out[c] = quantile(judgement.distribution, u)
        return self.normalised(out)

    def at_points(self, judgement: Judgement, points: int) -> tuple[Floats, Floats]:
        """Return value tables (points, levels, worlds) and probabilities (points, worlds) with the
        judgement at each point (a score or weight: its quantile points; the probabilities: robust's
        draws 0..points-1) and everything else at its mean."""
        tables, odds = [], []
        for i, u in enumerate(grid(points)):
            if judgement.what == "score":
                tables.append(self.values(self.set_score(self.mean, judgement, u), self.weights))
                odds.append(self.probabilities)
            elif judgement.what == "weight":
                tables.append(self.values(self.mean, self.set_weight(self.raw, judgement, u)))
                odds.append(self.probabilities)
            else:
                tables.append(self.values(self.mean, self.weights))
                odds.append(self.odds_only.draw(self.seed, i)[2])
        return np.stack(tables), np.stack(odds)

    def draws(self, first: int, count: int) -> tuple[Floats, Floats, Floats, Floats]:
        """Return robust's joint draws `first`..`first + count - 1`: scores (count, levels, criteria), raw
        weights (count, criteria), normalised weights and probabilities."""
        scores, raw, weights, odds = [], [], [], []
        for index in range(first, first + count):
            drawn, normal, p = self.sampler.draw(self.seed, index)
            scores.append(drawn)
            raw.append(self._raw_weights(index))
            weights.append(normal)
            odds.append(p)
        return np.stack(scores), np.stack(raw), np.stack(weights), np.stack(odds)

    def _raw_weights(self, index: int) -> Floats:
        """Return the raw weights robust's draw `index` normalises (the same stream and map)."""
        s = self.sampler
        u = _stream(self.seed, index, "weights").random(len(s.w_kind))
        return np.array(
            [
                _draw_one(kind, lo, mo, hi, x)
                for kind, lo, mo, hi, x in zip(s.w_kind, s.w_low, s.w_mode, s.w_high, u, strict=True)
            ]
        )


def settle(objectives: Floats, preferred: int | None, portfolio: Callable[[int], dict[str, str]]) -> Settled:
    """Return EVPPI over points whose objectives over the candidate portfolios are `objectives` (points,
    portfolios; higher is better): the mean best less the best mean, each point's gain over the decision
    (the best mean, `preferred` when it ties), and the most frequent portfolio that beats the decision."""
    prior = objectives.mean(axis=0)
    top = float(prior.max())
    tie = RELATIVE_TIE * max(1.0, abs(top))
    decision = preferred if preferred is not None and prior[preferred] >= top - tie else int(np.argmax(prior))
    best = objectives.max(axis=1)
    gains = np.maximum(best - objectives[:, decision], 0.0)
    better = np.flatnonzero(gains > RELATIVE_TIE * np.maximum(1.0, np.abs(best)))
    changes = None
    if better.size:
        winners = Counter(int(np.argmax(objectives[i])) for i in better)
        changes = portfolio(min(winners, key=lambda w: (-winners[w], w)))
    return Settled(float(gains.mean()), gains, changes)


def stderr_of(gains: Floats) -> float:
    """Return the standard error of the mean of `gains` (0 for a single draw)."""
    if len(gains) < 2:
        return 0.0
    return float(np.std(gains, ddof=1) / math.sqrt(len(gains)))


def check(points: int, samples: int, seed: int) -> None:
    """Refuse counts and seeds out of range (before any work)."""
    if not 1 <= points <= MAX_POINTS:
        raise LearnError(f"--points must be from 1 to {MAX_POINTS:,}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise LearnError(f"--samples must be from 1 to {MAX_SAMPLES:,}")
    if not 0 <= seed <= MAX_SEED:
        raise LearnError(f"--seed must be from 0 to {MAX_SEED:,}")


class Learner:
    """What the table and MILP learners share: the decision without learning, EVPPI, EVPI."""

    decision: dict[str, str]

    def evppi(self, judgement: Judgement) -> Learned:
        raise NotImplementedError

    def evpi(self) -> Learned:
        raise NotImplementedError


def everything() -> Judgement:
    """Return the pseudo-judgement of learning everything at once (EVPI)."""
    return Judgement("everything", None, None, None, None, False)


def most_frequent(portfolios: Sequence[dict[str, str]]) -> dict[str, str] | None:
    """Return the most frequent portfolio (the first seen among equals), None when there is none."""
    if not portfolios:
        return None
    counts = Counter(tuple(sorted(p.items())) for p in portfolios)
    first = {tuple(sorted(p.items())): i for i, p in reversed(list(enumerate(portfolios)))}
    best = min(counts, key=lambda key: (-counts[key], first[key]))
    return dict(best)
