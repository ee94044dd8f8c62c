"""The matrix under a formulation: named columns and rows, bounds and coefficients, changes journalled."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from niches.scenario import Scenario

INF = math.inf


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


class Matrix:
    """Named columns and rows a formulation adds and changes; every change is journalled for the solver."""

    # set by `Formulation.__init__`
    scenario: Scenario
    col_name: list[str]
    col_lower: list[float]
    col_upper: list[float]
    col_integer: list[bool]
    row_name: list[str]
    row_lower: list[float]
    row_upper: list[float]
    row_coef: list[dict[int, float]]
    groups: dict[str, Group]
    changes: Changes
    _used: set[str]
    _undo: list[list[tuple[str, int, int, float, float]]]
    _sizes: list[tuple[int, int]]
    base_rows: int
    base_cols: int

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
