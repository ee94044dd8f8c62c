"""Goals as objective vectors of a formulation, bounds that hold them, and portfolios as column values."""

from __future__ import annotations

from collections.abc import Mapping

from niches.optimize.formulation_columns import Columns
from niches.optimize.formulation_matrix import INF
from niches.optimize.goals import minimised
from niches.scenario import TAKEN


class Goals(Columns):
    """Reads goals and portfolios off the built model's columns."""

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
            from niches.optimize.relaxation import relaxation_scale

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

    def avoid(self, portfolio: Mapping[str, str]) -> None:
        """Add a row that every portfolio but `portfolio` keeps (`differs_from[...]`)."""
        start = self.binary_start(portfolio)
        binaries = [*self.choose.values(), *self.take.values()]
        held = sum(1 for c in binaries if start.get(c, 0.0) == 1.0)
        row = {c: 1.0 if start.get(c, 0.0) == 1.0 else -1.0 for c in binaries}
        label = ", ".join(f"{n}.{lv}" for n, lv in sorted(portfolio.items())) or "nothing"
        self.add_row(f"differs_from[{label}]", row, -INF, held - 1.0)

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
