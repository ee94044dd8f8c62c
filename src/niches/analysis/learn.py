"""What is worth learning first: the expected value of learning each uncertain judgement before choosing.

For a judgement θ (a score, a weight, the world probabilities; see
`analysis.judgements`), everything else staying as uncertain as `robust` draws
it, the expected value of partial perfect information is

    EVPPI(θ) = E_θ[ max_x E[f(x) | θ] ] - max_x E[f(x)],

what choosing after learning θ exactly is worth over choosing now, in the
objective's units (for regret, the expected fall in the largest shortfall).
The expected value of perfect information on everything, EVPI, learns every
judgement at once. Learning changes values, not the rules: the portfolios
compared are those that keep every rule at the scenario's own values.

How each is computed, and how exact it is:

- the expected objective is linear in every score, so E[V | θ] is V with θ
  fixed and everything else at its mean (the value `solve` uses; a weight is
  fixed raw and the weights normalised). θ is integrated over its
  distribution at `points` quantiles (midpoints of equal-probability bins),
  each point one best-portfolio question: exact up to the grid. The world
  probabilities (a Dirichlet, several numbers at once) are integrated by
  Monte Carlo over `samples` draws, with its standard error;
- worst case, CVaR and regret are not linear: E[f | θ] is a Monte Carlo mean
  over `samples` draws of the other judgements (the same draws for every
  point, robust's own), nested in the quantile points (or, for the
  probabilities, `points` draws); the standard error comes from `GROUPS`
  groups of the inner draws;
- EVPI is E[max] - max E over `samples` joint draws (robust's), with its
  standard error, every portfolio enumerated on the table engine.

Small scenarios are enumerated (every objective); larger ones are solved as
MILPs (the expected objective; `learn_milp`). `changes_to` is the portfolio
the decision becomes where learning θ changes it, the most frequent over the
points; None when learning it cannot change it. The decision without learning
is the best portfolio under the same points (the recommendation, unless the
points tie it with another).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from niches.analysis.judgements import uncertain_judgements
from niches.analysis.learn_common import (
    POINTS,
    SAMPLES,
    Inputs,
    Learned,
    Learner,
    LearnError,
    check,
)
from niches.scenario import Scenario

if TYPE_CHECKING:
    from niches.study import Study

__all__ = ["POINTS", "SAMPLES", "LearnError", "LearnReport", "Learned", "learn", "learn_of"]


@dataclass(frozen=True)
class LearnReport:
    """The value of learning each judgement, ranked, and of learning everything (EVPI).

    `decision` is the portfolio chosen without learning; `expected_value` the recommendation's expected
    value (value units), the base of every share. `evpi_stderr` is the standard error of `evpi`, over
    `samples` joint draws (seed `seed`, Dirichlet concentration `concentration`). `engine` is
    "enumeration" or "milp".
    """

    scenario: Scenario
    kind: str
    decision: dict[str, str]
    expected_value: float
    evpi: float
    evpi_stderr: float | None
    evpi_changes_to: dict[str, str] | None
    judgements: tuple[Learned, ...]
    points: int
    samples: int
    seed: int
    concentration: float
    engine: str


def learn(
    study: Study, points: int = POINTS, samples: int = SAMPLES, seed: int = 0, concentration: float = 50.0
) -> LearnReport:
    """Return the value of learning each uncertain judgement, ranked, and EVPI."""
    check(points, samples, seed)
    if concentration <= 0:
        raise LearnError("--concentration must be positive")
    solution = study.solution()
    if solution.metrics is None:
        raise LearnError("the scenario is infeasible: run `niches explain` to see which rules conflict")
    scenario, kind = study.scenario, study.kind
    inputs = Inputs(scenario, seed, concentration)
    judgements = uncertain_judgements(scenario)
    if study.table is not None:
        from niches.analysis.learn_table import TableLearner

        learner: Learner = TableLearner(study, inputs, points, samples)
        engine = "enumeration"
    else:
        if kind != "expected":
            raise LearnError(
                f"niches learn with the {kind} objective enumerates every portfolio, and this scenario has "
                "too many (more than 1,000,000); use --objective expected, which it solves as MILPs"
            )
        from niches.analysis.learn_milp import MilpLearner

        learner = MilpLearner(study, inputs, points, samples)
        engine = "milp"
    base = solution.metrics.expected_value
    found = [learner.evppi(j) for j in judgements]
    order = sorted(range(len(found)), key=lambda i: (-round(found[i].evppi, 9), i))
    ranked = tuple(_with_share(found[i], base) for i in order)
    evpi = learner.evpi()
    return LearnReport(
        scenario,
        kind,
        learner.decision,
        base,
        evpi.evppi,
        evpi.stderr,
        evpi.changes_to,
        ranked,
        points,
        samples,
        seed,
        concentration,
        engine,
    )


def _with_share(learned: Learned, base: float) -> Learned:
    share = None if abs(base) < 1e-12 else learned.evppi / abs(base)
    return replace(learned, share_of_value=share)


def learn_of(
    study: Study, points: int = POINTS, samples: int = SAMPLES, seed: int = 0, concentration: float = 50.0
) -> LearnReport:
    """Return the value of learning (remembered by the study)."""
    key = ("learn", points, samples, seed, concentration)
    return study.remember(key, lambda: learn(study, points, samples, seed, concentration))  # type: ignore[no-any-return]
