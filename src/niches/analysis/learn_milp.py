"""The value of learning by MILP, for scenarios too big to enumerate (the expected objective).

Each point is one best-portfolio question: the expected value under the
point's values and probabilities as the objective (`optimize.learning.
expected_vector`), every rule kept as the scenario states it, started from the
recommendation. A portfolio's figure at a point is that objective's exact sum
over its columns.

A score is cheaper: within the portfolios that choose the same option of its
niche (a level, or none), learning the score moves every expected value by the
same amount. So the best of each option is solved once, at the means (one
MILP with the niche pinned, shared by every score of the niche), and each
point's best is the best option once moved: exact, whatever the number of
points. Deals break the shift (a deal's lost value depends on whether it is
taken), so with deals a score's points are solved one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from niches.analysis.judgements import Judgement, grid, quantile
from niches.analysis.learn_common import (
    Floats,
    Inputs,
    Learned,
    Learner,
    LearnError,
    Settled,
    everything,
    most_frequent,
    settle,
    stderr_of,
)
from niches.optimize.learning import expected_vector
from niches.optimize.model import TimedOut
from niches.optimize.tolerances import RELATIVE_TIE

if TYPE_CHECKING:
    from niches.study import Study


class MilpLearner(Learner):
    """EVPPI and EVPI of the expected objective, one MILP per point."""

    def __init__(self, study: Study, inputs: Inputs, points: int, samples: int) -> None:
        self.study = study
        self.model = study.milp.model
        self.form = self.model.form
        solution = study.solution()
        assert solution.metrics is not None
        self.decision = solution.portfolio
        self.value = solution.metrics.expected_value
        self.inputs = inputs
        self.points = points
        self.samples = samples
        self._options: dict[str, list[tuple[str | None, dict[str, str], float]]] = {}

    # ---------------------------------------------------------------- one question per point
    def _figure(self, vector: dict[int, float], portfolio: dict[str, str]) -> float:
        """Return `portfolio`'s exact value of the objective `vector`."""
        return sum(vector.get(col, 0.0) * v for col, v in self.form.binary_start(portfolio).items())

    def _best(self, vector: dict[int, float]) -> dict[str, str]:
        """Return the portfolio maximising `vector` under every rule (started from the recommendation)."""
        start = self.form.binary_start(self.decision)
        outcome = self.model.backend.solve(vector, True, self.study.deadline.left(), start)
        if outcome.status in ("timeout", "feasible"):
            limit = self.study.deadline.seconds
            raise TimedOut(
                f"the {self.study.solver} solver hit the time limit ({limit:g} s) before the value of "
                "learning was known; raise --time-limit"
            )
        if outcome.status != "optimal" or outcome.values is None:
            raise LearnError(f"the {self.study.solver} solver stopped without an optimum ({outcome.status})")
        return self.model.portfolio(outcome)

    def _settle(self, tables: Floats, odds: Floats) -> Settled:
        """Return EVPPI over points given as value tables and probabilities, one MILP per point."""
        vectors = [expected_vector(self.form, tables[i], odds[i]) for i in range(len(tables))]
        prior: dict[int, float] = {}
        for vector in vectors:
            for col, v in vector.items():
                prior[col] = prior.get(col, 0.0) + v / len(vectors)
        decision = self._best(prior)
        top = self._figure(prior, decision)
        if self._figure(prior, self.decision) >= top - RELATIVE_TIE * max(1.0, abs(top)):
            decision = self.decision
        gains, changed = [], []
        for vector in vectors:
            best = self._best(vector)
            figure = self._figure(vector, best)
            gain = max(0.0, figure - self._figure(vector, decision))
            gains.append(gain)
            if gain > RELATIVE_TIE * max(1.0, abs(figure)):
                changed.append(best)
        found = np.array(gains)
        return Settled(float(found.mean()), found, most_frequent(changed))

    # ---------------------------------------------------------------- a score: the best of each option
    def _options_of(self, niche: str) -> list[tuple[str | None, dict[str, str], float]]:
        """Return each option of `niche` (a level id, or None: left out) with its best portfolio and
        expected value at the means (the recommendation for its own option)."""
        if niche not in self._options:
            found = []
            for option in [None, *(lv.id for lv in self.study.scenario.niche(niche).levels)]:
                if self.decision.get(niche) == option:
                    found.append((option, self.decision, self.value))
                    continue
                best = self.study.milp.best(
                    kind="expected",
                    goals=["expected_value"],
                    pins={niche: option},
                    deadline=self.study.deadline,
                )
                if best.metrics is not None:
                    found.append((option, best.portfolio, best.metrics.expected_value))
            self._options[niche] = found
        return self._options[niche]

    def _score(self, judgement: Judgement) -> Learned:
        s = self.study.scenario
        niche = s.niche(judgement.niche or "")
        c = self.inputs.criteria.index(judgement.criterion or "")
        reach = self.inputs.weights[c] * sum(
            w.probability * niche.outlook.get(w.id, 1.0) for w in s.worlds
        )  # expected value per unit of score
        options = self._options_of(niche.id)
        points = grid(self.points)
        figures = np.zeros((len(points), len(options)))
        for o, (option, _, value) in enumerate(options):
            level = None if option is None else niche.level(option)
            for i, u in enumerate(points):
                shift = 0.0
                if level is not None and level.base == judgement.level:
                    score = level.scores[judgement.criterion or ""]
                    shift = reach * (quantile(score, u) - score.mean)
                figures[i, o] = value + shift
        preferred = next(
            o for o, (option, _, _) in enumerate(options) if option == self.decision.get(niche.id)
        )
        found = settle(figures, preferred, lambda o: options[o][1])
        return Learned(judgement, found.evppi, None, "quantiles", self.points, 0, found.changes_to, None)

    # ---------------------------------------------------------------- the interface
    def evppi(self, judgement: Judgement) -> Learned:
        if judgement.what == "score" and not self.study.scenario.deals:
            return self._score(judgement)
        count = self.samples if judgement.what == "probabilities" else self.points
        tables, odds = self.inputs.at_points(judgement, count)
        found = self._settle(tables, odds)
        if judgement.what == "probabilities":
            stderr = stderr_of(found.gains)
            return Learned(judgement, found.evppi, stderr, "monte carlo", count, 0, found.changes_to, None)
        return Learned(judgement, found.evppi, None, "quantiles", count, 0, found.changes_to, None)

    def evpi(self) -> Learned:
        scores, _, weights, odds = self.inputs.draws(0, self.samples)
        base = np.einsum("nlc,nc->nl", scores, weights)
        tables = base[:, :, None] * self.inputs.sampler.outlook[None, :, :]
        found = self._settle(tables, odds)
        stderr = stderr_of(found.gains)
        return Learned(
            everything(), found.evppi, stderr, "monte carlo", self.samples, 0, found.changes_to, None
        )
