"""The rows of the scenario's rules, one group per rule: budgets, capacities, counts, lists, shares, links."""

from __future__ import annotations

from niches.optimize.checks import numeric_limits, rule_groups
from niches.optimize.formulation_matrix import INF, Group, Matrix


class RuleRows(Matrix):
    """Adds one group of rows per rule of the scenario (`_build_rules`), written on the columns below."""

    # the columns the rules are written on, added by `Columns._build` before the rules
    choose: dict[tuple[str, str], int]
    levels_of: dict[str, list[int]]
    take: dict[str, int]
    fund: dict[tuple[str, str, str], int]
    worst: int
    cvar: int
    total_spend: int
    program_spend: int
    exposure_spend: dict[str, int]

    def offsets(self, nid: str) -> dict[int, float]:
        """Return the start offset of niche `nid` (periods after the first) as column -> coefficient."""
        niche = self.scenario.niche(nid)
        return {self.choose[nid, lv.id]: float(lv.offset) for lv in niche.levels if lv.offset}

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
