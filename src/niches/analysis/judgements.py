"""The uncertain judgements a scenario declares, one by one, and the points their distributions are read at.

`robust` draws them all together (`analysis.sampling`); `learn` asks what
learning each one alone is worth, so it needs them one by one:

- a score of a declared level on a criterion: a range [low, high] (uniform)
  or {low, mode, high} (triangular), or the judges' spread (triangular: the
  least, the median and the largest of their values). Every start of the
  level shares the draw, scaled by its active share (as the Sampler draws it);
- a weight declared as a range or a triangle, or spread by the judges: drawn
  raw, then every weight is normalised;
- the world probabilities, as one judgement: a Dirichlet centred on the stated
  probabilities with a concentration (robust's `--concentration`).

A score or weight is read at `points` quantiles, the midpoints of equal-probability
bins (u = (i + 1/2) / points), each mapped through the distribution's inverse
(the same map the Sampler applies to a uniform draw).
"""

from __future__ import annotations

from dataclasses import dataclass

from niches.analysis.sampling import _draw_one
from niches.scenario import Scenario, Score


@dataclass(frozen=True)
class Judgement:
    """One uncertain judgement.

    `what` is "score" (level `level` of niche `niche` on `criterion`), "weight" (of `criterion`),
    "probabilities" (the world probabilities together; `distribution` None) or "everything" (every
    judgement at once, for EVPI). `distribution` is the
    declared or judged Score drawn; `judges` says whether its spread is the judges' (their least,
    median and largest values) rather than a declared range.
    """

    what: str
    niche: str | None
    level: str | None
    criterion: str | None
    distribution: Score | None
    judges: bool

    @property
    def label(self) -> str:
        """Return the judgement in words: `ai.lead on economic`, `weight of economic`, ...."""
        if self.what == "score":
            return f"{self.niche}.{self.level} on {self.criterion}"
        if self.what == "weight":
            return f"weight of {self.criterion}"
        if self.what == "everything":
            return "every judgement at once"
        return "world probabilities"

    @property
    def source(self) -> str:
        """Return how it is drawn: `judges`, `range`, `triangle` or `dirichlet`."""
        if self.distribution is None:
            return "dirichlet"
        if self.judges:
            return "judges"
        return "range" if self.distribution.kind == "uniform" else "triangle"


def _uncertain(score: Score) -> bool:
    return score.kind != "point" and score.high > score.low


def uncertain_judgements(scenario: Scenario) -> list[Judgement]:
    """Return every judgement `robust` draws, in declaration order: scores (niche by niche, level by
    level, criterion by criterion), weights, then the world probabilities (when there are two worlds or
    more)."""
    found = []
    for niche in scenario.niches:
        for level in niche.levels:
            if level.declared is not None:  # a later start shares its declared level's draw
                continue
            for c in scenario.criteria:
                score = level.scores[c.id]
                if _uncertain(score):
                    found.append(Judgement("score", niche.id, level.id, c.id, score, score.value is not None))
    for c in scenario.criteria:
        if _uncertain(c.raw_weight):
            found.append(Judgement("weight", None, None, c.id, c.raw_weight, c.raw_weight.value is not None))
    if sum(1 for w in scenario.worlds if w.probability > 0) > 1:
        found.append(Judgement("probabilities", None, None, None, None, False))
    return found


def quantile(score: Score, u: float) -> float:
    """Return the value of `score`'s distribution at cumulative probability `u` (as the Sampler draws)."""
    mode = score.mode if score.mode is not None else score.low
    return _draw_one(score.kind, score.low, mode, score.high, u)


def grid(points: int) -> list[float]:
    """Return the midpoints of `points` equal-probability bins of [0, 1]."""
    return [(i + 0.5) / points for i in range(points)]
