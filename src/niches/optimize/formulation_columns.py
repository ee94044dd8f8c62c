"""The columns of a portfolio and the rows defining them: choices, synergies, deals, values, spend."""

from __future__ import annotations

import math

from niches.optimize.formulation_matrix import INF
from niches.optimize.formulation_rules import RuleRows
from niches.optimize.metrics import value_table
from niches.scenario import Deal


class Columns(RuleRows):
    """Builds the whole model (`_build`): the columns, the rows that define them, then the rules."""

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
