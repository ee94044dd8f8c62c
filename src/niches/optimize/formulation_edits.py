"""Changes to a formulation by meaning: rules dropped or moved, new values, costs, odds, relaxations."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from niches.optimize.formulation_columns import Columns
from niches.optimize.formulation_matrix import INF
from niches.scenario import Deal


class Edits(Columns):
    """Changes the built model by meaning (inside a variant, undone when it ends)."""

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

    def _set_lost_value(self, z: int, deal: Deal, world: str, funded: float) -> None:
        """Set what fund column `z` loses in `world` if its deal breaks: at its odds, whole in stressed."""
        holds = deal.holds(world)
        self.set_coefficient(self.value_row[world], z, (1.0 - holds) * funded)
        if holds < 1.0:
            self.set_coefficient(self.stressed_row[world], z, funded)

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
        over the scale of its limit (`niches.optimize.relaxation.relaxation_scale`).
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
