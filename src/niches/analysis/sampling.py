"""Draw the judgements a scenario declares uncertain, sample by sample (one random stream per judgement)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from niches.scenario import Criterion, Scenario, World

STREAMS = {"scores": 0, "weights": 1, "probabilities": 2}


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
