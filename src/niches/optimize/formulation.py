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

The class is built in layers, one module each: the matrix and its journal
(`formulation_matrix`), the rule rows (`formulation_rules`), the columns and
their defining rows (`formulation_columns`), changes by meaning
(`formulation_edits`) and goals (`formulation_goals`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from niches.optimize.formulation_edits import Edits
from niches.optimize.formulation_goals import Goals
from niches.optimize.formulation_matrix import Changes, Group
from niches.optimize.goals import KIND_GOAL, minimised, tie_break_goals
from niches.scenario import Scenario

__all__ = ["KIND_GOAL", "Formulation", "Joint", "joint", "minimised", "tie_break_goals"]


class Formulation(Edits, Goals):
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
        self.row_offset: dict[str, int] = {}
        self.parts = dict(parts)
        for member, form in parts:
            first = len(self.col_name)
            self.offset[member] = first
            self.row_offset[member] = len(self.row_name)
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

    def row(self, member: str, row: int) -> int:
        """Return the joint row of member `member`'s row `row`."""
        return self.row_offset[member] + row

    def member_goal(self, member: str, goal: str) -> dict[int, float]:
        """Return goal `goal` of member `member` as a joint objective vector."""
        return {self.column(member, c): v for c, v in self.parts[member].goal(goal).items()}

    def member_values(self, member: str, values: list[float]) -> list[float]:
        """Return member `member`'s column values out of a joint solution's."""
        first = self.offset[member]
        return values[first : first + self.parts[member].cols]
