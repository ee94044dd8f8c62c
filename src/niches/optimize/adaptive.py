"""The adaptive plan as one MILP: a portfolio per world, the same before the world order shows itself.

`Adaptive` puts one copy of the scenario's `Formulation` per world side by side
(`formulation.joint`: every column and row of world k's copy is named `k/...`,
as in `blocs/choose[ai.lead]` or `blocs/budget[2027]`). Each copy keeps every
rule of the scenario but the value floors, which hold on the plan as a whole.
Rows link the copies before the reveal:

- `same_before_reveal[n.l: w1 = wk]`: a choice that starts before the reveal
  (a level whose start period comes earlier) is taken in every world or in none;
- `same_before_reveal[d: w1 = wk]`: so is `take[d]` of a deal funding such a level.

Over the copies stand the plan's own columns, defined as `formulation_columns`
defines a portfolio's, each world read in its own copy: `value[k]` (row
`value_of[k]`: copy k's value in world k), `stressed[k]` (with deals: deals
broken wherever they may break), `expected_value`, `worst_case`, `cvar` with
`cvar.threshold` and `cvar.shortfall[k]`, `max_regret` (rows `regret_in[k]`,
whose targets V*_k are set when regret is the objective), `expected_spend`
(the sum over worlds of p_k times copy k's spend) and `differs[n.l]` (at least
1 when a choice made at or after the reveal is not the same in every world).
The floors `min_cvar` and `min_worst_case` are rows on the plan's `cvar` and
`worst_case`.

A plan maps each world to its portfolio. Its figures always come from the
evaluator (`plan_goal`), never from the solver: world k's value is
`evaluate(scenario, plan[k]).value_by_world[k]`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from niches.optimize.formulation import Formulation, Joint, joint
from niches.optimize.formulation_matrix import INF
from niches.optimize.metrics import cvar, evaluate
from niches.optimize.portfolio import start_rank, tie_rank
from niches.scenario import Scenario

Plan = Mapping[str, Mapping[str, str]]
"""An adaptive plan: world id -> that world's portfolio (niche -> level, deal -> TAKEN)."""

GOALS_MINIMISED = ("max_regret", "expected_spend", "start_rank", "tie_rank", "differs")
"""The plan's goals that are better when lower; the others (expected value, worst case, CVaR) are higher."""

PRIMARY = {"expected": "expected_value", "worst_case": "worst_case", "cvar": "cvar", "regret": "max_regret"}
"""The plan's goal each objective kind optimises."""


@dataclass(frozen=True)
class Reveal:
    """Where the world order shows itself.

    `period` is the reveal period's id (None: after the last period, so nothing may differ by world);
    `at` its index in the scenario's periods (0: the first period, so everything may; len(periods):
    None). `choices` are the (niche, level) choices that start before it, made the same in every world;
    `deals` the deals funding one of them, taken the same in every world.
    """

    period: str | None
    at: int
    choices: tuple[tuple[str, str], ...]
    deals: tuple[str, ...]


def reveal_of(scenario: Scenario, period: str | None) -> Reveal:
    """Return what a reveal in `period` links (None: after the last period, every choice linked)."""
    at = len(scenario.periods) if period is None else list(scenario.periods).index(period)
    choices = tuple((n.id, lv.id) for n in scenario.niches for lv in n.levels if lv.offset < at)
    linked = set(choices)
    deals = tuple(
        d.id
        for d in scenario.deals
        if any((nid, lid) in linked for nid, lids in d.funds.items() for lid in lids)
    )
    return Reveal(period, at, choices, deals)


def floorless(scenario: Scenario) -> Scenario:
    """Return `scenario` without its value floors (they hold on the plan, not on each world's portfolio)."""
    rules = dataclasses.replace(scenario.rules, min_cvar=None, min_worst_case=None)
    return dataclasses.replace(scenario, rules=rules)


FLOORS = ("min_cvar", "min_worst_case")


class Adaptive:
    """The adaptive model of one scenario and reveal: the world copies, the links and the plan's columns."""

    def __init__(self, scenario: Scenario, reveal: Reveal) -> None:
        if scenario.rules.unresolved:
            raise ValueError("resolve the floors declared as shares (model.resolve_floors) first")
        self.scenario = scenario
        self.reveal = reveal
        self.worlds = [w.id for w in scenario.worlds]
        copy = floorless(scenario)
        self.parts = {k: Formulation(copy) for k in self.worlds}
        self.form: Joint = joint(list(self.parts.items()), {})
        self._link()
        self._columns()
        self.form.base_rows, self.form.base_cols = self.form.rows, self.form.cols

    # ---------------------------------------------------------------- building
    def column(self, world: str, col: int) -> int:
        """Return the joint column of world `world`'s copy's column `col`."""
        return self.form.column(world, col)

    def _link(self) -> None:
        form, first = self.form, self.worlds[0]
        for nid, lid in self.reveal.choices:
            base = self.column(first, self.parts[first].choose[nid, lid])
            for k in self.worlds[1:]:
                col = self.column(k, self.parts[k].choose[nid, lid])
                form.add_row(f"same_before_reveal[{nid}.{lid}: {first} = {k}]", {base: 1.0, col: -1.0}, 0, 0)
        for did in self.reveal.deals:
            base = self.column(first, self.parts[first].take[did])
            for k in self.worlds[1:]:
                col = self.column(k, self.parts[k].take[did])
                form.add_row(f"same_before_reveal[{did}: {first} = {k}]", {base: 1.0, col: -1.0}, 0, 0)

    def _columns(self) -> None:
        s, form = self.scenario, self.form
        odds = s.probabilities
        self.value: dict[str, int] = {}
        self.stressed: dict[str, int] = {}
        for k in self.worlds:
            part = self.parts[k]
            col = form.add_col(f"value[{k}]", -INF, INF)
            form.add_row(f"value_of[{k}]", {col: 1.0, self.column(k, part.value[k]): -1.0}, 0, 0)
            self.value[k] = col
            if s.deals:
                col = form.add_col(f"stressed[{k}]", -INF, INF)
                form.add_row(f"stressed_of[{k}]", {col: 1.0, self.column(k, part.stressed[k]): -1.0}, 0, 0)
                self.stressed[k] = col
        if not s.deals:
            self.stressed = self.value
        self.expected = form.add_col("expected_value", -INF, INF)
        coefs = {self.expected: 1.0, **{self.value[k]: -odds[k] for k in self.worlds}}
        form.add_row("expected_value_of", coefs, 0, 0)
        self.worst = form.add_col("worst_case", -INF, INF)
        for k in self.worlds:
            form.add_row(f"worst_case_of[{k}]", {self.worst: 1.0, self.stressed[k]: -1.0}, -INF, 0)
        threshold = form.add_col("cvar.threshold", -INF, INF)
        shortfall = {}
        for k in self.worlds:
            shortfall[k] = form.add_col(f"cvar.shortfall[{k}]", 0, INF)
            coefs = {shortfall[k]: 1.0, threshold: -1.0, self.stressed[k]: 1.0}
            form.add_row(f"cvar.shortfall_def[{k}]", coefs, 0, INF)
        self.cvar = form.add_col("cvar", -INF, INF)
        tail = s.rules.cvar_tail
        coefs = {self.cvar: 1.0, threshold: -1.0, **{shortfall[k]: odds[k] / tail for k in self.worlds}}
        form.add_row("cvar_of", coefs, 0, 0)
        self.regret = form.add_col("max_regret", -INF, INF)
        self.regret_row = {
            k: form.add_row(f"regret_in[{k}]", {self.regret: 1.0, self.value[k]: 1.0}, -INF, INF)
            for k in self.worlds
        }
        self.spend = form.add_col("expected_spend", -INF, INF)
        coefs = {self.spend: 1.0}
        for k in self.worlds:
            coefs[self.column(k, self.parts[k].total_spend)] = -odds[k]
        form.add_row("expected_spend_of", coefs, 0, 0)
        self.differs: dict[str, int] = {}
        if len(self.worlds) > 1:
            first = self.worlds[0]
            linked = set(self.reveal.choices) | {(d, "") for d in self.reveal.deals}
            free = [((nid, lid), f"{nid}.{lid}") for (nid, lid) in self.parts[first].choose]
            free += [((did, ""), did) for did in self.parts[first].take]
            for key, label in free:
                if key in linked:
                    continue
                col = form.add_col(f"differs[{label}]", 0, 1)
                base = self.column(first, self._binary(first, key))
                for k in self.worlds[1:]:
                    other = self.column(k, self._binary(k, key))
                    form.add_row(
                        f"differs_of[{label}: {first} - {k}]", {col: 1.0, base: -1.0, other: 1.0}, 0, INF
                    )
                    form.add_row(
                        f"differs_of[{label}: {k} - {first}]", {col: 1.0, base: 1.0, other: -1.0}, 0, INF
                    )
                self.differs[label] = col
        self.floor_row: dict[str, int] = {}
        r = s.rules
        if r.min_cvar is not None:
            self.floor_row["min_cvar"] = form.add_row("min_cvar", {self.cvar: 1.0}, r.min_cvar, INF)
        if r.min_worst_case is not None:
            self.floor_row["min_worst_case"] = form.add_row(
                "min_worst_case", {self.worst: 1.0}, r.min_worst_case, INF
            )

    def _binary(self, world: str, key: tuple[str, str]) -> int:
        """Return copy `world`'s column of a choice (niche, level) or of a deal (deal, "")."""
        part = self.parts[world]
        return part.take[key[0]] if key[1] == "" else part.choose[key]

    # ---------------------------------------------------------------- changes (inside a variant)
    def drop(self, group: str) -> None:
        """Switch rule group `group` off in every world (a value floor: on the plan)."""
        if group in self.floor_row:
            self.form.set_row_bounds(self.floor_row[group], -INF, INF)
            return
        for k in self.worlds:
            part = self.parts[k]
            if group in part.groups:
                for row in part.groups[group].rows:
                    self.form.set_row_bounds(self.form.row(k, row), -INF, INF)

    def set_regret_targets(self, best_by_world: Mapping[str, float]) -> None:
        """Make `max_regret + value[k] >= V*_k` hold for every world."""
        for k, row in self.regret_row.items():
            self.form.set_row_bounds(row, best_by_world[k], INF)

    # ---------------------------------------------------------------- goals and plans
    def goal(self, name: str) -> dict[int, float]:
        """Return the objective vector of the plan's goal `name` (see `GOALS_MINIMISED`)."""
        single = {
            "expected_value": self.expected,
            "worst_case": self.worst,
            "cvar": self.cvar,
            "max_regret": self.regret,
            "expected_spend": self.spend,
        }
        if name in single:
            return {single[name]: 1.0}
        if name == "differs":
            return dict.fromkeys(self.differs.values(), 1.0)
        if name in ("start_rank", "tie_rank"):
            vector: dict[int, float] = {}
            for i, k in enumerate(self.worlds):
                weight = 1.0 if name == "start_rank" else float(len(self.worlds) - i)
                for col, v in self.form.member_goal(k, name).items():
                    vector[col] = vector.get(col, 0.0) + weight * v
            return vector
        raise ValueError(f"unknown goal of an adaptive plan {name!r}")

    def plan(self, values: list[float]) -> dict[str, dict[str, str]]:
        """Return the plan a solution's column values choose."""
        return {k: self.parts[k].portfolio(self.form.member_values(k, values)) for k in self.worlds}

    def start(self, plan: Plan) -> dict[int, float]:
        """Return the binary columns of `plan` (a start for the solver)."""
        found: dict[int, float] = {}
        for k in self.worlds:
            part = self.parts[k]
            for col, v in part.binary_start(plan[k]).items():
                if part.col_integer[col]:
                    found[self.column(k, col)] = v
        return found


def goals_of(kind: str, timed: bool) -> list[str]:
    """Return the plan's goals in order: the objective, expected value, expected spend, the earlier starts
    (when levels may start later), declaration order (world by world, the first worlds weighing more),
    then the fewest choices that differ by world."""
    primary = PRIMARY[kind]
    goals = [primary, *(["expected_value"] if primary != "expected_value" else [])]
    return [*goals, "expected_spend", *(["start_rank"] if timed else []), "tie_rank", "differs"]


def world_values(scenario: Scenario, plan: Plan) -> tuple[dict[str, float], dict[str, float]]:
    """Return each world's value and stressed value (deals broken where they may break), read in the
    world's own portfolio."""
    values, stressed = {}, {}
    for w in scenario.worlds:
        m = evaluate(scenario, plan[w.id])
        values[w.id] = m.value_by_world[w.id]
        stressed[w.id] = m.stressed_by_world[w.id]
    return values, stressed


def plan_objective(
    scenario: Scenario, plan: Plan, kind: str, best_by_world: Mapping[str, float] | None = None
) -> float:
    """Return the objective `kind` of an adaptive plan (regret: lower is better), from the evaluator."""
    return plan_goal(scenario, plan, PRIMARY[kind], reveal_of(scenario, None), best_by_world)


def plan_goal(
    scenario: Scenario,
    plan: Plan,
    goal: str,
    reveal: Reveal,
    best_by_world: Mapping[str, float] | None = None,
) -> float:
    """Return the exact value of the plan's goal `goal`, computed by the evaluator world by world."""
    odds = scenario.probabilities
    worlds = [w.id for w in scenario.worlds]
    if goal in ("expected_value", "worst_case", "cvar", "max_regret"):
        values, stressed = world_values(scenario, plan)
        if goal == "expected_value":
            return math.fsum(odds[k] * values[k] for k in worlds)
        if goal == "worst_case":
            return min(stressed.values())
        if goal == "cvar":
            return cvar(stressed, odds, scenario.rules.cvar_tail)
        if best_by_world is None:
            raise ValueError("regret needs the best value of each world")
        return max(best_by_world[k] - values[k] for k in worlds)
    if goal == "expected_spend":
        return math.fsum(odds[k] * evaluate(scenario, plan[k]).cost for k in worlds)
    if goal == "start_rank":
        return float(sum(start_rank(scenario, plan[k]) for k in worlds))
    if goal == "tie_rank":
        return float(sum((len(worlds) - i) * tie_rank(scenario, plan[k]) for i, k in enumerate(worlds)))
    if goal == "differs":
        return float(len(differing(scenario, plan, reveal)))
    raise ValueError(f"unknown goal of an adaptive plan {goal!r}")


def differing(scenario: Scenario, plan: Plan, reveal: Reveal) -> list[str]:
    """Return the choices made at or after the reveal (`n.l`, deal ids) that are not the same in every
    world, in declaration order."""
    linked = set(reveal.choices)
    worlds = [w.id for w in scenario.worlds]
    found = []
    for niche in scenario.niches:
        for level in niche.levels:
            if (niche.id, level.id) in linked:
                continue
            taken = sum(1 for k in worlds if plan[k].get(niche.id) == level.id)
            if 0 < taken < len(worlds):
                found.append(f"{niche.id}.{level.id}")
    for deal in scenario.deals:
        if deal.id in reveal.deals:
            continue
        taken = sum(1 for k in worlds if deal.id in plan[k])
        if 0 < taken < len(worlds):
            found.append(deal.id)
    return found
