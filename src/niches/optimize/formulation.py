"""The portfolio MILP, defined once: columns, rows and rule groups in domain words.

A `Formulation` is solver-neutral: lists of named columns and rows with their
bounds and coefficients. Every solver path reads it (HiGHS in-process through
highspy, CBC through PuLP, the LP dump), so there is one place that says what
the variables and constraints are.

Columns: `choose[n.l]` (binary, one per level), `both[a+b]` (a synergy pair
chosen together), `value[k]` (value in world k), `expected_value`,
`worst_case`, `cvar` with its `cvar.threshold` and `cvar.shortfall[k]`,
`max_regret`, `total_spend` and `exposure_spend[P]` (spend weighted by the
exposure to power P). Every objective is one of these columns (or a short
sum), so pinning an objective during a tie-break is a column bound.

Deals add `take[d]` (binary) and `fund[d: n.l]` (1 when deal d is taken with
niche n at level l: at most `choose[n.l]`, summing to `take[d]` over the
levels it funds, so a deal is taken only with its niches). The money a deal
pays lowers `budget[p]` and `total_spend` (what the country pays), moves
exposure from the niche's powers to the deal's, and its reliability enters
`value[k]` (expected) and `stressed[k]` (broken wherever it may break, the
values `worst_case` and `cvar` read). Shares are then taken of
`program_spend`, the niches' whole spend (without deals, it is `total_spend`).

Rows: the definitions of those columns, `one_level[n]`, the synergy links,
and one group of rows per rule (`budget[2027]`, `capacity[diplomats]`,
`max_exposure[China]`, `requires[ai -> energy]`, ...). Share rules are written
against `total_spend` (`exposure_spend[China] - 0.35 total_spend <= 0`), which
keeps the matrix small.

Analyses change the formulation in place inside `variant()` (drop rule groups,
move limits, change values, costs or probabilities, add temporary rows and
columns); everything is undone when the variant ends. Changes are journalled
so that an in-process solver applies only what changed.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from niches.optimize.evaluate import numeric_limits, rule_groups, value_table
from niches.scenario import TAKEN, Deal, Scenario

INF = math.inf

MINIMISED = (
    "max_regret",
    "total_spend",
    "start_rank",
    "tie_rank",
    "budget_scale",
    "spend[",
    "uses[",
    "relaxation",
)
"""Goals (expressions) that are better when lower; every other goal is maximised."""

KIND_GOAL = {"expected": "expected_value", "worst_case": "worst_case", "cvar": "cvar", "regret": "max_regret"}
"""The goal each objective kind optimises."""


def minimised(goal: str) -> bool:
    """Return whether `goal` is better when lower."""
    return goal.startswith(MINIMISED)


def tie_break_goals(kind: str, timed: bool = False) -> list[str]:
    """Return the goals solved in order for objective `kind`.

    It, expected value, spend, then (when levels may start later, `timed`)
    the earlier start, then declaration order.
    """
    primary = KIND_GOAL[kind]
    goals = [primary]
    if primary != "expected_value":
        goals.append("expected_value")
    return [*goals, "total_spend", *(["start_rank"] if timed else []), "tie_rank"]


@dataclass(frozen=True)
class Group:
    """The rows of one rule group and how its limit enters them.

    `how` is "upper" (rows <= limit), "lower" (rows >= limit), "share" (the
    limit is the coefficient of `total_spend`, rows <= 0) or "fixed" (no
    numeric limit). `declared` is False for latent groups (an exposure cap on
    a power the scenario does not cap), which are off until given a limit.
    """

    name: str
    rows: tuple[int, ...]
    how: str
    declared: bool = True


@dataclass
class Changes:
    """What changed since a solver last read the formulation (latest value wins).

    Rows from `rows_from` on (and columns from `cols_from` on) may have been
    replaced by a variant's temporary ones: a solver re-reads them whole.
    """

    rows_from: int
    cols_from: int
    coefficients: dict[tuple[int, int], float] = field(default_factory=dict)
    row_bounds: set[int] = field(default_factory=set)
    col_bounds: set[int] = field(default_factory=set)


class Formulation:
    """The MILP of one scenario; changed in place by variants and restored after."""

    def __init__(self, scenario: Scenario) -> None:
        if scenario.rules.unresolved:
            raise ValueError(
                "resolve the floors declared as shares (model.resolve_floors) before building a model"
            )
        self.scenario = scenario
        self.col_name: list[str] = []
        self.col_lower: list[float] = []
        self.col_upper: list[float] = []
        self.col_integer: list[bool] = []
        self.row_name: list[str] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.row_coef: list[dict[int, float]] = []
        self.groups: dict[str, Group] = {}
        self.changes = Changes(0, 0)
        self._used: set[str] = set()
        self._undo: list[list[tuple[str, int, int, float, float]]] = []
        self._sizes: list[tuple[int, int]] = []
        self._build()
        self.base_rows = len(self.row_name)
        self.base_cols = len(self.col_name)

    # ---------------------------------------------------------------- primitives
    def _unique(self, name: str) -> str:
        candidate, i = name, 1
        while candidate in self._used:
            i += 1
            candidate = f"{name}#{i}"
        self._used.add(candidate)
        return candidate

    def add_col(self, name: str, lower: float = 0.0, upper: float = INF, integer: bool = False) -> int:
        """Add a column and return its index (inside a variant it goes when the variant ends)."""
        self.col_name.append(self._unique(name))
        self.col_lower.append(lower)
        self.col_upper.append(upper)
        self.col_integer.append(integer)
        return len(self.col_name) - 1

    def add_row(self, name: str, coefficients: Mapping[int, float], lower: float, upper: float) -> int:
        """Add a row `lower <= sum coef * col <= upper` and return its index."""
        self.row_name.append(self._unique(name))
        self.row_coef.append({c: v for c, v in coefficients.items() if v != 0.0})
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_name) - 1

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Set one matrix coefficient (0 removes it)."""
        coefs = self.row_coef[row]
        old = coefs.get(col, 0.0)
        if old == value:
            return
        if self._undo:
            self._undo[-1].append(("coef", row, col, old, 0.0))
        if value == 0.0:
            del coefs[col]
        else:
            coefs[col] = value
        self.changes.coefficients[row, col] = value

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        """Set the bounds of a row."""
        old = (self.row_lower[row], self.row_upper[row])
        if old == (lower, upper):
            return
        if self._undo:
            self._undo[-1].append(("row", row, 0, *old))
        self.row_lower[row], self.row_upper[row] = lower, upper
        self.changes.row_bounds.add(row)

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        """Set the bounds of a column."""
        old = (self.col_lower[col], self.col_upper[col])
        if old == (lower, upper):
            return
        if self._undo:
            self._undo[-1].append(("col", col, 0, *old))
        self.col_lower[col], self.col_upper[col] = lower, upper
        self.changes.col_bounds.add(col)

    def take_changes(self) -> Changes:
        """Return what changed since the last call, and start a new journal."""
        changes, self.changes = self.changes, Changes(self.rows, self.cols)
        return changes

    @property
    def rows(self) -> int:
        return len(self.row_name)

    @property
    def cols(self) -> int:
        return len(self.col_name)

    # ---------------------------------------------------------------- variants
    @contextlib.contextmanager
    def variant(self) -> Iterator[Formulation]:
        """Undo every change made inside the block when it ends (variants nest)."""
        self._undo.append([])
        self._sizes.append((self.rows, self.cols))
        try:
            yield self
        finally:
            log = self._undo.pop()
            rows, cols = self._sizes.pop()
            for kind, index, col, first, second in reversed(log):
                if kind == "coef":
                    if index < rows:
                        self._restore_coefficient(index, col, first, journal=col < cols)
                elif kind == "row":
                    if index < rows:
                        self.row_lower[index], self.row_upper[index] = first, second
                        self.changes.row_bounds.add(index)
                elif index < cols:
                    self.col_lower[index], self.col_upper[index] = first, second
                    self.changes.col_bounds.add(index)
            for name in self.row_name[rows:] + self.col_name[cols:]:
                self._used.discard(name)
            del self.row_name[rows:], self.row_lower[rows:], self.row_upper[rows:], self.row_coef[rows:]
            del self.col_name[cols:], self.col_lower[cols:], self.col_upper[cols:], self.col_integer[cols:]
            self.changes.rows_from = min(self.changes.rows_from, rows)
            self.changes.cols_from = min(self.changes.cols_from, cols)

    def _restore_coefficient(self, row: int, col: int, old: float, journal: bool) -> None:
        if old == 0.0:
            self.row_coef[row].pop(col, None)
        else:
            self.row_coef[row][col] = old
        if journal:
            self.changes.coefficients[row, col] = old

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        s = self.scenario
        self.choose: dict[tuple[str, str], int] = {}
        for niche in s.niches:
            for level in niche.levels:
                self.choose[niche.id, level.id] = self.add_col(f"choose[{niche.id}.{level.id}]", 0, 1, True)
        self.levels_of: dict[str, list[int]] = {
            n.id: [self.choose[n.id, lv.id] for lv in n.levels] for n in s.niches
        }
        for niche in s.niches:
            if len(niche.levels) > 1:
                self.add_row(f"one_level[{niche.id}]", dict.fromkeys(self.levels_of[niche.id], 1.0), -INF, 1)
        self.both: dict[tuple[str, str], int] = {}
        self.shorter: dict[tuple[str, str], int] = {}
        for niche in s.niches:
            for other in niche.synergy:
                self._synergy_pair(niche.id, other)
        self._build_deals()
        values = value_table(s)
        self.value: dict[str, int] = {}
        self.value_row: dict[str, int] = {}
        self.stressed: dict[str, int] = {}  # worst case and CVaR read these (deals broken)
        self.stressed_row: dict[str, int] = {}
        for world in s.worlds:
            col = self.add_col(f"value[{world.id}]", -INF, INF)
            coefs = {col: 1.0}
            for (nid, lid), c in self.choose.items():
                coefs[c] = -values[nid, lid, world.id]
            for (a, b), c in self.both.items():
                coefs[c] = -s.niche(a).synergy[b]
            plain = dict(coefs)
            for deal in s.deals:
                coefs[self.take[deal.id]] = -deal.holds(world.id) * deal.value.get(world.id, 0.0)
            lost = {
                z: self._funded_value(key, values[key[1], key[2], world.id]) for key, z in self.fund.items()
            }
            for key, z in self.fund.items():
                coefs[z] = (1.0 - s.deal(key[0]).holds(world.id)) * lost[z]
            self.value_row[world.id] = self.add_row(f"value_of[{world.id}]", coefs, 0, 0)
            self.value[world.id] = col
            if s.deals:
                stressed = self.add_col(f"stressed[{world.id}]", -INF, INF)
                coefs = {stressed: 1.0, **{c: v for c, v in plain.items() if c != col}}
                for deal in s.deals:
                    if deal.holds(world.id) >= 1.0:
                        coefs[self.take[deal.id]] = -deal.value.get(world.id, 0.0)
                for key, z in self.fund.items():
                    if s.deal(key[0]).holds(world.id) < 1.0:
                        coefs[z] = lost[z]
                self.stressed_row[world.id] = self.add_row(f"stressed_of[{world.id}]", coefs, 0, 0)
                self.stressed[world.id] = stressed
        if not s.deals:
            self.stressed = self.value
        self.expected = self.add_col("expected_value", -INF, INF)
        coefs = {self.expected: 1.0}
        for world in s.worlds:
            coefs[self.value[world.id]] = -world.probability
        self.expected_row = self.add_row("expected_value_of", coefs, 0, 0)
        self.worst = self.add_col("worst_case", -INF, INF)
        for world in s.worlds:
            self.add_row(
                f"worst_case_of[{world.id}]", {self.worst: 1.0, self.stressed[world.id]: -1.0}, -INF, 0
            )
        threshold = self.add_col("cvar.threshold", -INF, INF)
        self.shortfall: dict[str, int] = {}
        for world in s.worlds:
            short = self.add_col(f"cvar.shortfall[{world.id}]", 0, INF)
            self.add_row(
                f"cvar.shortfall_def[{world.id}]",
                {short: 1.0, threshold: -1.0, self.stressed[world.id]: 1.0},
                0,
                INF,
            )
            self.shortfall[world.id] = short
        self.cvar = self.add_col("cvar", -INF, INF)
        coefs = {self.cvar: 1.0, threshold: -1.0}
        for world in s.worlds:
            coefs[self.shortfall[world.id]] = world.probability / s.rules.cvar_tail
        self.cvar_row = self.add_row("cvar_of", coefs, 0, 0)
        self.regret = self.add_col("max_regret", -INF, INF)
        self.regret_row = {
            w.id: self.add_row(f"regret_in[{w.id}]", {self.regret: 1.0, self.value[w.id]: 1.0}, -INF, INF)
            for w in s.worlds
        }  # the right-hand side V*_k is set when regret is the objective
        self.total_spend = self.add_col("total_spend", -INF if s.deals else 0, INF)
        coefs = {self.total_spend: 1.0}
        for niche in s.niches:
            for level in niche.levels:
                coefs[self.choose[niche.id, level.id]] = -level.total_cost
        self.program_spend = self.total_spend
        if s.deals:
            self.program_spend = self.add_col("program_spend", 0, INF)
            self.program_spend_row = self.add_row(
                "program_spend_of", {**coefs, self.total_spend: 0.0, self.program_spend: 1.0}, 0, 0
            )
            for key, z in self.fund.items():
                coefs[z] = self._paid(key)
        self.total_spend_row = self.add_row("total_spend_of", coefs, 0, 0)
        self.exposure_spend: dict[str, int] = {}
        self.exposure_row: dict[str, int] = {}
        for power in s.powers:
            col = self.add_col(f"exposure_spend[{power}]", -INF if s.deals else 0, INF)
            coefs = {col: 1.0}
            for niche in s.niches:
                for level in niche.levels:
                    coefs[self.choose[niche.id, level.id]] = -level.total_cost * niche.exposure.get(
                        power, 0.0
                    )
            for key, z in self.fund.items():
                coefs[z] = -self._paid(key) * self._moved(key, power)
            self.exposure_row[power] = self.add_row(f"exposure_spend_of[{power}]", coefs, 0, 0)
            self.exposure_spend[power] = col
        self._build_rules()

    def _build_deals(self) -> None:
        """Add `take[d]` and `fund[d: n.l]` for every deal, and the rows that tie a deal to its niches."""
        s = self.scenario
        self.take: dict[str, int] = {}
        self.fund: dict[tuple[str, str, str], int] = {}
        for deal in s.deals:
            take = self.add_col(f"take[{deal.id}]", 0, 1, True)
            self.take[deal.id] = take
            self.levels_of[deal.id] = [take]
            for nid, choices in deal.funds.items():
                coefs = {take: -1.0}
                for lid in choices:
                    z = self.add_col(f"fund[{deal.id}: {nid}.{lid}]", 0, 1)
                    self.fund[deal.id, nid, lid] = z
                    self.add_row(
                        f"fund_on[{deal.id}: {nid}.{lid}]", {z: 1.0, self.choose[nid, lid]: -1.0}, -INF, 0
                    )
                    coefs[z] = 1.0
                self.add_row(f"deal_with[{deal.id} -> {nid}]", coefs, 0, 0)
        self.funded_row: dict[str, int] = {}
        for niche in s.niches:
            keys = [key for key in self.fund if key[1] == niche.id]
            if len({key[0] for key in keys}) > 1:  # several deals: together at most the whole cost
                coefs = {self.fund[key]: self._fraction(s.deal(key[0]), key[1], key[2]) for key in keys}
                self.funded_row[niche.id] = self.add_row(f"funded[{niche.id}]", coefs, -INF, 1)

    def _funded_value(self, key: tuple[str, str, str], v: float) -> float:
        """Return the value deal key[0] funds of level key[1].key[2] when that level is worth `v`."""
        return self._fraction(self.scenario.deal(key[0]), key[1], key[2]) * v

    def _set_lost_value(self, z: int, deal: Deal, world: str, funded: float) -> None:
        """Set what fund column `z` loses in `world` if its deal breaks: at its odds, whole in stressed."""
        holds = deal.holds(world)
        self.set_coefficient(self.value_row[world], z, (1.0 - holds) * funded)
        if holds < 1.0:
            self.set_coefficient(self.stressed_row[world], z, funded)

    def _fraction(self, deal: Deal, nid: str, lid: str) -> float:
        """Return the share of level `nid.lid`'s cost deal `deal` pays."""
        return deal.funded_fraction(self.scenario.niche(nid).level(lid).cost)

    def _paid(self, key: tuple[str, str, str]) -> float:
        """Return the money deal key[0] pays toward level key[1].key[2] over all periods."""
        deal = self.scenario.deal(key[0])
        return math.fsum(deal.funding(self.scenario.niche(key[1]).level(key[2]).cost).values())

    def _moved(self, key: tuple[str, str, str], power: str) -> float:
        """Return the change in exposure to `power` per unit of money deal key[0] pays toward niche key[1]."""
        return self.scenario.deal(key[0]).exposure.get(power, 0.0) - self.scenario.niche(key[1]).exposure.get(
            power, 0.0
        )

    def active(self, nid: str) -> dict[int, float]:
        """Return the active share of niche `nid` as column -> coefficient (0 when it is left out)."""
        niche = self.scenario.niche(nid)
        return {self.choose[nid, lv.id]: lv.share for lv in niche.levels}

    def offsets(self, nid: str) -> dict[int, float]:
        """Return the start offset of niche `nid` (periods after the first) as column -> coefficient."""
        niche = self.scenario.niche(nid)
        return {self.choose[nid, lv.id]: float(lv.offset) for lv in niche.levels if lv.offset}

    def _synergy_pair(self, a: str, b: str) -> None:
        """Add `both[a+b]`: the smaller active share of a and b (1 when both are chosen for every period).

        Where every choice of both niches is active in every period, `both` is
        the product of two 0/1 sums (three rows). Otherwise a binary
        `shorter[a+b]` (1 when a is active no longer than b) makes `both` equal
        the minimum of the two active shares.
        """
        col = self.add_col(f"both[{a}+{b}]", 0, 1)
        label = f"synergy[{a}+{b}]"
        share = {nid: self.active(nid) for nid in (a, b)}
        for side, nid in (("a", a), ("b", b)):
            self.add_row(f"{label}.{side}", {col: 1.0, **{c: -v for c, v in share[nid].items()}}, -INF, 0)
        if all(v == 1.0 for nid in (a, b) for v in share[nid].values()):
            coefs = {col: 1.0}
            for nid in (a, b):
                for c in self.levels_of[nid]:
                    coefs[c] = -1.0
            self.add_row(f"{label}.ab", coefs, -1, INF)
        else:
            shorter = self.add_col(f"shorter[{a}+{b}]", 0, 1, True)
            # both >= share[a] - (1 - shorter) and both >= share[b] - shorter
            coefs = {col: 1.0, shorter: -1.0, **{c: -v for c, v in share[a].items()}}
            self.add_row(f"{label}.min_a", coefs, -1, INF)
            coefs = {col: 1.0, shorter: 1.0, **{c: -v for c, v in share[b].items()}}
            self.add_row(f"{label}.min_b", coefs, 0, INF)
            self.shorter[a, b] = shorter
        self.both[a, b] = col

    def _spend(self, period: str) -> dict[int, float]:
        """Return what the country spends in `period`: its levels' cost less what deals pay."""
        s = self.scenario
        spend = {
            self.choose[n.id, lv.id]: lv.cost[period] for n in s.niches for lv in n.levels if lv.cost[period]
        }
        for (did, nid, lid), z in self.fund.items():
            paid = s.deal(did).funding(s.niche(nid).level(lid).cost)[period]
            if paid:
                spend[z] = -paid
        return spend

    def _group(self, name: str, rows: list[int], how: str, declared: bool = True) -> None:
        self.groups[name] = Group(name, tuple(rows), how, declared)

    def _build_rules(self) -> None:
        s = self.scenario
        r = s.rules
        limits = numeric_limits(s)
        self.budget_row: dict[str, int] = {}
        for period, cap in s.budget.items():
            row = self.add_row(f"budget[{period}]", self._spend(period), -INF, cap)
            self.budget_row[period] = row
            self._group(f"budget[{period}]", [row], "upper")
        self.budget_total_row: int | None = None
        if s.budget_total is not None:
            row = self.add_row("budget[total]", {self.total_spend: 1.0}, -INF, s.budget_total)
            self.budget_total_row = row
            self._group("budget[total]", [row], "upper")
        self.uses_row: dict[str, int] = {}
        for resource, amount in s.capacities.items():
            coefs = {
                self.choose[n.id, lv.id]: lv.uses[resource]
                for n in s.niches
                for lv in n.levels
                if lv.uses.get(resource)
            }
            row = self.add_row(f"capacity[{resource}]", coefs, -INF, amount)
            self.uses_row[resource] = row
            self._group(f"capacity[{resource}]", [row], "upper")
        count = dict.fromkeys(self.choose.values(), 1.0)
        if r.min_niches is not None:
            self._group("min_niches", [self.add_row("min_niches", count, r.min_niches, INF)], "lower")
        if r.max_niches is not None:
            self._group("max_niches", [self.add_row("max_niches", count, -INF, r.max_niches)], "upper")
        for nid in r.must_include:
            row = self.add_row(f"must_include[{nid}]", dict.fromkeys(self.levels_of[nid], 1.0), 1, INF)
            self._group(f"must_include[{nid}]", [row], "fixed")
        for nid in r.must_exclude:
            row = self.add_row(f"must_exclude[{nid}]", dict.fromkeys(self.levels_of[nid], 1.0), -INF, 0)
            self._group(f"must_exclude[{nid}]", [row], "fixed")
        for nid, allowed in r.pins.items():
            row = self.add_row(f"pin[{nid}]", {self.choose[nid, lid]: 1.0 for lid in allowed}, 1, INF)
            self._group(f"pin[{nid}]", [row], "fixed")
        self.share_row: dict[str, int] = {}
        if r.max_share is not None:
            rows = []
            for niche in s.niches:
                coefs = {self.choose[niche.id, lv.id]: lv.total_cost for lv in niche.levels}
                coefs[self.program_spend] = -r.max_share
                row = self.add_row(f"max_share[{niche.id}]", coefs, -INF, 0)
                self.share_row[niche.id] = row
                rows.append(row)
            self._group("max_share", rows, "share")
        for power in s.powers:  # a latent row for every power: the exposure frontier caps them all
            declared = power in r.max_exposure
            share = r.max_exposure.get(power, 1.0)
            coefs = {self.exposure_spend[power]: 1.0, self.program_spend: -share}
            row = self.add_row(f"max_exposure[{power}]", coefs, -INF, 0 if declared else INF)
            self._group(f"max_exposure[{power}]", [row], "share", declared=declared)
        if r.max_imbalance is not None and len(s.powers) >= 2:
            rows = []
            for a in s.powers:
                for b in s.powers:
                    if a != b:
                        coefs = {
                            self.exposure_spend[a]: 1.0,
                            self.exposure_spend[b]: -1.0,
                            self.program_spend: -r.max_imbalance,
                        }
                        rows.append(self.add_row(f"max_imbalance[{a}-{b}]", coefs, -INF, 0))
            self._group("max_imbalance", rows, "share")
        if r.min_worst_case is not None:
            row = self.add_row("min_worst_case", {self.worst: 1.0}, r.min_worst_case, INF)
            self._group("min_worst_case", [row], "lower")
        if r.min_cvar is not None:
            self._group("min_cvar", [self.add_row("min_cvar", {self.cvar: 1.0}, r.min_cvar, INF)], "lower")
        for niche in s.niches:
            for needed in niche.requires:
                name = f"requires[{niche.id} -> {needed}]"
                coefs = dict.fromkeys(self.levels_of[niche.id], 1.0)
                for c in self.levels_of[needed]:
                    coefs[c] = -1.0
                rows = [self.add_row(name, coefs, -INF, 0)]
                if self.offsets(niche.id) or self.offsets(needed):
                    # start[needed] - start[niche] <= latest * (1 - chosen[niche])
                    latest = float(len(s.periods) - 1)
                    coefs = dict(self.offsets(needed))
                    for c in self.levels_of[niche.id]:
                        coefs[c] = latest
                    for c, v in self.offsets(niche.id).items():
                        coefs[c] = latest - v
                    rows.append(self.add_row(f"{name}.start", coefs, -INF, latest))
                self._group(name, rows, "fixed")
            for other in niche.excludes:
                coefs = dict.fromkeys(self.levels_of[niche.id], 1.0)
                for c in self.levels_of[other]:
                    coefs[c] = 1.0
                row = self.add_row(f"excludes[{niche.id}, {other}]", coefs, -INF, 1)
                self._group(f"excludes[{niche.id}, {other}]", [row], "fixed")
        for deal in s.deals:
            for needed in deal.requires:
                coefs = {self.take[deal.id]: 1.0}
                for c in self._columns_of(needed):
                    coefs[c] = -1.0
                row = self.add_row(f"requires[{deal.id} -> {needed}]", coefs, -INF, 0)
                self._group(f"requires[{deal.id} -> {needed}]", [row], "fixed")
            for other in deal.excludes:
                row = self.add_row(
                    f"excludes[{deal.id}, {other}]", {self.take[deal.id]: 1.0, self.take[other]: 1.0}, -INF, 1
                )
                self._group(f"excludes[{deal.id}, {other}]", [row], "fixed")
        self.rule_groups = tuple(rule_groups(s))
        self.limits = limits
        self._fixed_bounds = {
            row: (self.row_lower[row], self.row_upper[row])
            for g in self.groups.values()
            if g.how == "fixed"
            for row in g.rows
        }

    def _columns_of(self, item: str) -> list[int]:
        """Return the columns whose sum is 1 when `item` (a deal, a niche or `niche.level`) is chosen."""
        if item in self.levels_of:
            return self.levels_of[item]
        nid, _, lid = item.partition(".")
        return [self.choose[nid, lv.id] for lv in self.scenario.niche(nid).levels if lv.base == lid]

    # ---------------------------------------------------------------- changes by meaning
    def drop(self, group: str) -> None:
        """Switch rule group `group` off (its rows become free)."""
        for row in self.groups[group].rows:
            self.set_row_bounds(row, -INF, INF)

    def set_limit(self, group: str, limit: float) -> None:
        """Switch rule group `group` on with `limit` (a cap, a floor or a share)."""
        g = self.groups[group]
        for row in g.rows:
            if g.how == "upper":
                self.set_row_bounds(row, -INF, limit)
            elif g.how == "lower":
                self.set_row_bounds(row, limit, INF)
            elif g.how == "share":
                self.set_coefficient(row, self.program_spend, -limit)
                self.set_row_bounds(row, -INF, 0)
            else:
                self.set_row_bounds(row, *self._fixed_bounds[row])

    def set_values(self, values: Mapping[tuple[str, str, str], float]) -> None:
        """Use v(n, l, k) from `values` (niche, level, world) -> value in the value rows."""
        s = self.scenario
        for (nid, lid, world), v in values.items():
            self.set_coefficient(self.value_row[world], self.choose[nid, lid], -v)
            if world in self.stressed_row:
                self.set_coefficient(self.stressed_row[world], self.choose[nid, lid], -v)
        for key, z in self.fund.items():
            deal = s.deal(key[0])
            choice = self.choose[key[1], key[2]]
            spend = -self.row_coef[self.total_spend_row].get(choice, 0.0)
            fraction = self.row_coef[self.total_spend_row].get(z, 0.0) / spend if spend > 0 else 0.0
            for world in self.value_row:
                if (key[1], key[2], world) in values:
                    self._set_lost_value(z, deal, world, fraction * values[key[1], key[2], world])

    def set_probabilities(self, probabilities: Mapping[str, float]) -> None:
        """Use world -> probability in the expected value and CVaR rows."""
        tail = self.scenario.rules.cvar_tail
        for world, p in probabilities.items():
            self.set_coefficient(self.expected_row, self.value[world], -p)
            self.set_coefficient(self.cvar_row, self.shortfall[world], p / tail)

    def set_costs(self, costs: Mapping[tuple[str, str], Mapping[str, float]]) -> None:
        """Use (niche, level) -> period -> cost in every row that counts spend."""
        s = self.scenario
        for (nid, lid), cost in costs.items():
            col = self.choose[nid, lid]
            total = math.fsum(cost.values())
            for period, row in self.budget_row.items():
                self.set_coefficient(row, col, cost.get(period, 0.0))
            self.set_coefficient(self.total_spend_row, col, -total)
            niche = s.niche(nid)
            for power, row in self.exposure_row.items():
                self.set_coefficient(row, col, -total * niche.exposure.get(power, 0.0))
            if nid in self.share_row:
                self.set_coefficient(self.share_row[nid], col, total)
            if self.scenario.deals:
                self.set_coefficient(self.program_spend_row, col, -total)
            for key, z in self.fund.items():
                if key[1:] == (nid, lid):
                    self._set_funding(key, z, cost)

    def _set_funding(self, key: tuple[str, str, str], z: int, cost: Mapping[str, float]) -> None:
        """Make fund column `z` pay what deal key[0] pays toward a level costing `cost` per period."""
        s = self.scenario
        deal, niche = s.deal(key[0]), s.niche(key[1])
        paid = deal.funding(cost)
        total = math.fsum(paid.values())
        for period, row in self.budget_row.items():
            self.set_coefficient(row, z, -paid.get(period, 0.0))
        self.set_coefficient(self.total_spend_row, z, total)
        for power, row in self.exposure_row.items():
            self.set_coefficient(
                row, z, -total * (deal.exposure.get(power, 0.0) - niche.exposure.get(power, 0.0))
            )
        fraction = deal.funded_fraction(cost)
        if key[1] in self.funded_row:
            self.set_coefficient(self.funded_row[key[1]], z, fraction)
        choice = self.choose[key[1], key[2]]
        for world, row in self.value_row.items():
            self._set_lost_value(z, deal, world, fraction * -self.row_coef[row].get(choice, 0.0))

    def set_regret_targets(self, best_by_world: Mapping[str, float]) -> None:
        """Make `max_regret + value[k] >= V*_k` hold for every world (regret objective)."""
        for world, row in self.regret_row.items():
            self.set_row_bounds(row, best_by_world[world], INF)

    def add_budget_scale(self) -> int:
        """Scale every budget cap by a new column `budget_scale` (inside a variant); return it."""
        col = self.add_col("budget_scale", 0, INF)
        caps = [(row, self.scenario.budget[period]) for period, row in self.budget_row.items()]
        if self.budget_total_row is not None and self.scenario.budget_total is not None:
            caps.append((self.budget_total_row, self.scenario.budget_total))
        for row, amount in caps:
            self.set_coefficient(row, col, -amount)
            self.set_row_bounds(row, -INF, 0)
        return col

    def add_relaxations(self, groups: Iterable[str]) -> dict[str, int]:
        """Loosen numeric rule groups by new columns `relax[<group>]` >= 0 (inside a variant); return them.

        Caps rise and floors fall by the column, in the rule's unit. Share rules
        rise by it as a share of total spend: the column times each level's
        choice is a column `relaxed_spend[<group>, n.l]` (at most the column,
        and 0 unless the level is chosen: exact, since the rows only gain from
        it) that enters the group's rows with the level's spend; a share never
        needs to rise past 1. The goal `relaxation` adds the columns up, each
        over the scale of its limit (`niches.optimize.evaluate.relaxation_scale`).
        """
        found: dict[str, int] = {}
        for name in groups:
            group = self.groups[name]
            if group.how not in ("upper", "lower", "share"):
                raise ValueError(f"{name} has no limit to relax")
            col = self.add_col(f"relax[{name}]", 0, 1.0 if group.how == "share" else INF)
            if group.how == "share":
                spent: dict[int, float] = {}
                for (nid, lid), choice in self.choose.items():
                    cost = self.scenario.niche(nid).level(lid).total_cost
                    if cost:
                        label = f"{name}, {nid}.{lid}"
                        product = self.add_col(f"relaxed_spend[{label}]", 0, 1.0)
                        self.add_row(f"relaxed_spend_of[{label}]", {product: 1.0, col: -1.0}, -INF, 0)
                        self.add_row(f"relaxed_spend_on[{label}]", {product: 1.0, choice: -1.0}, -INF, 0)
                        spent[product] = -cost
                for row in group.rows:
                    for product, coefficient in spent.items():
                        self.set_coefficient(row, product, coefficient)
            else:
                for row in group.rows:
                    self.set_coefficient(row, col, -1.0 if group.how == "upper" else 1.0)
            found[name] = col
        return found

    # ---------------------------------------------------------------- goals
    def goal(self, name: str) -> dict[int, float]:
        """Return the objective vector of goal `name` (`expected_value`, `value[k]`, `spend[p]`, ...)."""
        single = {
            "expected_value": self.expected,
            "worst_case": self.worst,
            "cvar": self.cvar,
            "max_regret": self.regret,
            "total_spend": self.total_spend,
        }
        if name in single:
            return {single[name]: 1.0}
        family, _, inner = name.partition("[")
        inner = inner[:-1]
        if family == "value":
            return {self.value[inner]: 1.0}
        if family == "spend":
            if inner not in self.budget_row:
                return {self.total_spend: 1.0}
            return {c: v for c, v in self.row_coef[self.budget_row[inner]].items() if c < self.base_cols}
        if family == "uses":
            return dict(self.row_coef[self.uses_row[inner]])
        if name == "tie_rank":
            ranked = [*self.choose.values(), *self.take.values()]
            return {col: float(i + 1) for i, col in enumerate(ranked)}
        if name == "start_rank":
            s = self.scenario
            return {
                self.choose[n.id, lv.id]: float(lv.offset) for n in s.niches for lv in n.levels if lv.offset
            }
        if name == "budget_scale":
            found = [i for i, n in enumerate(self.col_name) if n == "budget_scale"]
            if not found:
                raise ValueError("budget_scale is a goal only inside add_budget_scale()")
            return {found[-1]: 1.0}
        if name == "relaxation":
            from niches.optimize.evaluate import relaxation_scale

            relaxed = {f"relax[{g}]": g for g in self.groups}
            return {
                col: 1.0 / relaxation_scale(self.limits[relaxed[n]])
                for col, n in enumerate(self.col_name)
                if n in relaxed
            }
        raise ValueError(f"unknown goal {name!r}")

    def bound_goal(self, name: str, bound: float) -> None:
        """Keep goal `name` at least `bound` (maximised goals) or at most `bound` (minimised)."""
        vector = self.goal(name)
        low, high = (-INF, bound) if minimised(name) else (bound, INF)
        if len(vector) == 1:
            ((col, coef),) = vector.items()
            if coef == 1.0:
                current_low, current_high = self.col_lower[col], self.col_upper[col]
                self.set_col_bounds(col, max(current_low, low), min(current_high, high))
                return
        self.add_row(f"keep[{name}]", vector, low, high)

    def binary_start(self, portfolio: Mapping[str, str]) -> dict[int, float]:
        """Return column -> value of every binary and pair column for `portfolio`."""
        start = {col: 1.0 if portfolio.get(nid) == lid else 0.0 for (nid, lid), col in self.choose.items()}
        s = self.scenario
        share = {nid: s.niche(nid).level(lid).share for nid, lid in portfolio.items() if nid not in self.take}
        for (a, b), col in self.both.items():
            start[col] = min(share.get(a, 0.0), share.get(b, 0.0))
            if (a, b) in self.shorter:
                start[self.shorter[a, b]] = 1.0 if share.get(a, 0.0) <= share.get(b, 0.0) else 0.0
        for did, col in self.take.items():
            start[col] = 1.0 if did in portfolio else 0.0
        for (did, nid, lid), col in self.fund.items():
            start[col] = 1.0 if did in portfolio and portfolio.get(nid) == lid else 0.0
        return start

    def portfolio(self, col_value: list[float]) -> dict[str, str]:
        """Return the portfolio a solution's column values choose."""
        found = {nid: lid for (nid, lid), col in self.choose.items() if col_value[col] > 0.5}
        return found | {did: TAKEN for did, col in self.take.items() if col_value[col] > 0.5}


def joint(parts: Sequence[tuple[str, Formulation]], shared: Mapping[str, Sequence[str]]) -> Joint:
    """Return one model of several members: each member's formulation side by side, its rules kept.

    `parts` are (member name, formulation) pairs; every column and row is
    renamed `member/name`. `shared` maps a niche built jointly -> the members
    that build it: the rows `shared[niche.level]` make them all choose the same
    level or all leave it out (each member's formulation already counts its
    share of the cost).
    """
    merged = Joint(parts)
    for nid, members in shared.items():
        first = members[0]
        for lid in [lid for (n, lid) in dict(parts)[first].choose if n == nid]:
            base = merged.column(first, dict(parts)[first].choose[nid, lid])
            for other in members[1:]:
                col = merged.column(other, dict(parts)[other].choose[nid, lid])
                merged.add_row(f"shared[{nid}.{lid}: {first} = {other}]", {base: 1.0, col: -1.0}, 0, 0)
    merged.base_rows, merged.base_cols = len(merged.row_name), len(merged.col_name)
    return merged


class Joint(Formulation):
    """Several members' formulations as one model (built by `joint`)."""

    def __init__(self, parts: Sequence[tuple[str, Formulation]]) -> None:
        self.scenario = parts[0][1].scenario
        self.col_name, self.col_lower, self.col_upper, self.col_integer = [], [], [], []
        self.row_name, self.row_lower, self.row_upper, self.row_coef = [], [], [], []
        self.groups = {}
        self.changes = Changes(0, 0)
        self._used = set()
        self._undo = []
        self._sizes = []
        self.choose = {}
        self.take = {}
        self.offset: dict[str, int] = {}
        self.parts = dict(parts)
        for member, form in parts:
            first = len(self.col_name)
            self.offset[member] = first
            for i, name in enumerate(form.col_name):
                self.add_col(f"{member}/{name}", form.col_lower[i], form.col_upper[i], form.col_integer[i])
            for (nid, lid), col in form.choose.items():
                self.choose[f"{member}/{nid}", lid] = first + col
            for r, name in enumerate(form.row_name[: form.base_rows]):
                coefs = {first + c: v for c, v in form.row_coef[r].items()}
                self.add_row(f"{member}/{name}", coefs, form.row_lower[r], form.row_upper[r])
        self.base_rows, self.base_cols = len(self.row_name), len(self.col_name)

    def column(self, member: str, col: int) -> int:
        """Return the joint column of member `member`'s column `col`."""
        return self.offset[member] + col

    def member_goal(self, member: str, goal: str) -> dict[int, float]:
        """Return goal `goal` of member `member` as a joint objective vector."""
        return {self.column(member, c): v for c, v in self.parts[member].goal(goal).items()}

    def member_values(self, member: str, values: list[float]) -> list[float]:
        """Return member `member`'s column values out of a joint solution's."""
        first = self.offset[member]
        return values[first : first + self.parts[member].cols]
