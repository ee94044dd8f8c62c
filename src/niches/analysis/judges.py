"""Judges side by side: each one's weights and portfolio, and the disagreements that change the answer.

For each judgement on which judges differ, each judge's value is tried alone
(every other judgement at the group's value): does the recommendation change,
and what does the group's recommendation cost in that judge's view (regret:
the best objective there minus the group recommendation's objective there;
for the `regret` objective, the other way round)? Disagreements are ranked by
their largest regret.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from niches.optimize.evaluate import evaluate, objective_value, violated_rules
from niches.scenario import Scenario, Score
from niches.scenario.judges import Judge, Judgement, disagreements, group_matrix, label

if TYPE_CHECKING:
    from niches.study import Study


@dataclass(frozen=True)
class JudgeView:
    """One judge: the weights given (None: none), their consistency ratio, and the portfolio of their view."""

    judge: Judge
    portfolio: dict[str, str] | None
    objective: float | None


@dataclass(frozen=True)
class Disagreement:
    """A judgement judges differ on: their values, whether each alone changes the recommendation, the regret.

    `regret` maps judge -> what the group's recommendation gives up in a world
    where only this judgement takes that judge's value (value units; None when
    the group's recommendation breaks a rule there).
    """

    judgement: Judgement
    values: dict[str, float]
    changes: dict[str, bool]
    regret: dict[str, float | None]

    @property
    def changes_recommendation(self) -> bool:
        """Return whether any judge's value alone changes the recommendation."""
        return any(self.changes.values())

    @property
    def largest(self) -> float:
        """Return the largest regret (infinite when the recommendation breaks a rule in a judge's view)."""
        return max((math.inf if r is None else r) for r in self.regret.values())


@dataclass(frozen=True)
class JudgesReport:
    """The group's weights and recommendation, each judge's view, and the ranked disagreements."""

    scenario: Scenario
    weights: dict[str, float]
    group_cr: float | None
    portfolio: dict[str, str] | None
    objective: float | None
    judges: tuple[JudgeView, ...]
    disagreements: tuple[Disagreement, ...]


def judge_view(scenario: Scenario, judge: Judge) -> Scenario:
    """Return the scenario with every judgement `judge` gives at the judge's value (the group's elsewhere)."""
    changed = scenario
    if judge.weights is not None:
        changed = with_weights(changed, dict(judge.weights))
    view = {
        j.judgement[1]: j.judges[judge.name]
        for j in scenario.judged
        if j.judgement[0] == "probability" and judge.name in j.judges
    }
    if view:  # the judge's whole view: the worlds it does not state keep the scenario's proportions
        changed = with_probabilities(changed, {w.id: view.get(w.id, w.probability) for w in scenario.worlds})
    for (niche, level, criterion), value in judge.scores.items():
        changed = with_score(changed, niche, level, criterion, value)
    return changed


def with_judgement(scenario: Scenario, judgement: Judgement, value: float) -> Scenario:
    """Return the scenario with one judgement at `value` (a weight or probability: the others rescaled)."""
    kind = judgement[0]
    if kind == "weight":
        others = {c.id: c.weight for c in scenario.criteria if c.id != judgement[1]}
        total = math.fsum(others.values())
        rest = 1.0 - value
        weights = {
            c.id: value
            if c.id == judgement[1]
            else (others[c.id] * rest / total if total > 0 else rest / len(others))
            for c in scenario.criteria
        }
        return with_weights(scenario, weights)
    if kind == "probability":
        probabilities = {w.id: value if w.id == judgement[1] else w.probability for w in scenario.worlds}
        return with_probabilities(scenario, probabilities)
    _, niche, level, criterion = judgement
    return with_score(scenario, niche, level, criterion, value)


def with_weights(scenario: Scenario, weights: Mapping[str, float]) -> Scenario:
    """Return the scenario with criterion weights `weights` (normalised to sum 1), as point values."""
    total = math.fsum(weights.values())
    criteria = tuple(
        dataclasses.replace(c, weight=weights[c.id] / total, raw_weight=Score.point(weights[c.id] / total))
        for c in scenario.criteria
    )
    return dataclasses.replace(scenario, criteria=criteria)


def with_probabilities(scenario: Scenario, probabilities: Mapping[str, float]) -> Scenario:
    """Return the scenario with world probabilities `probabilities` (normalised to sum 1)."""
    total = math.fsum(probabilities.values())
    worlds = tuple(dataclasses.replace(w, probability=probabilities[w.id] / total) for w in scenario.worlds)
    return dataclasses.replace(scenario, worlds=worlds)


def with_score(scenario: Scenario, niche: str, level: str, criterion: str, value: float) -> Scenario:
    """Return the scenario with the score of `niche.level` on `criterion` at `value` (every start of it)."""
    niches = []
    for n in scenario.niches:
        if n.id == niche:
            levels = tuple(
                dataclasses.replace(lv, scores={**lv.scores, criterion: Score.point(value * lv.share)})
                if lv.base == level
                else lv
                for lv in n.levels
            )
            n = dataclasses.replace(n, levels=levels)
        niches.append(n)
    return dataclasses.replace(scenario, niches=tuple(niches))


def _regret(study: Study, variant: Scenario, recommended: Mapping[str, str]) -> tuple[bool, float | None]:
    """Return (does the variant's optimum differ from `recommended`, regret of `recommended` there)."""
    best = study.engine.best(variant, tie_breaks=True, probabilities=True)
    if best.metrics is None or best.objective is None:
        return True, None
    changes = best.portfolio != dict(recommended)
    if violated_rules(variant, recommended):
        return changes, None
    mine = objective_value(best.objective_kind, evaluate(variant, recommended), best.best_by_world)
    regret = mine - best.objective if best.objective_kind == "regret" else best.objective - mine
    return changes, max(0.0, regret)


def judges_report(study: Study) -> JudgesReport:
    """Return every judge's view and the disagreements ranked by consequence (largest regret first)."""
    from niches.scenario import ahp

    scenario = study.scenario
    solution = study.solution()
    views = []
    for judge in scenario.judges:
        best = study.engine.best(judge_view(scenario, judge), tie_breaks=True, probabilities=True)
        views.append(JudgeView(judge, best.portfolio if best.metrics is not None else None, best.objective))
    matrix = group_matrix(scenario.judges)
    found = []
    recommended = solution.portfolio if solution.metrics is not None else None
    for judgement, values in disagreements(scenario.judges).items():
        changes: dict[str, bool] = {}
        regret: dict[str, float | None] = {}
        for name, value in values.items():
            if recommended is None:
                changes[name], regret[name] = False, None
                continue
            changes[name], regret[name] = _regret(
                study, with_judgement(scenario, judgement, value), recommended
            )
        found.append(Disagreement(judgement, values, changes, regret))
    found.sort(key=lambda d: (-d.largest, not d.changes_recommendation, label(d.judgement)))
    return JudgesReport(
        scenario,
        {c.id: c.weight for c in scenario.criteria},
        None if matrix is None else ahp.priorities(matrix).cr,
        recommended,
        solution.objective,
        tuple(views),
        tuple(found),
    )
