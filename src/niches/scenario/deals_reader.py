"""Reading deals: partners' offers to fund niches, their conditions, reliability and value."""

from __future__ import annotations

from collections.abc import Mapping

from niches.scenario.checks import _Checks, _hint
from niches.scenario.keys import CONDITION_KEYS, DEAL_KEYS
from niches.scenario.types import Deal, Niche
from niches.scenario.yamlsource import YNode


class _DealSections(_Checks):
    """Read `deals:`."""

    def deals(
        self, node: YNode | None, niches: list[Niche], powers: list[str], worlds: list[str]
    ) -> list[Deal] | None:
        """Read `deals:` (None when any deal has a problem)."""
        if node is None:
            return []
        self.locations["deals"] = node.at_key
        items = self.mapping(node, "deals")
        if items is None:
            return None
        before = len(self.problems)
        by_id = {n.id: n for n in niches}
        deal_ids = list(items)
        found = [self.deal(did, child, by_id, powers, worlds, deal_ids) for did, child in items.items()]
        if len(self.problems) > before or any(d is None for d in found):
            return None
        return [d for d in found if d is not None]

    def deal(
        self,
        did: str,
        node: YNode,
        niches: Mapping[str, Niche],
        powers: list[str],
        worlds: list[str],
        deal_ids: list[str],
    ) -> Deal | None:
        where = f"deal '{did}'"
        self.locations[f"deal[{did}]"] = node.at_key
        if did in niches:
            self.error(node.at_key, f"{where} has the id of a niche; give the deal an id of its own")
        items = self.mapping(node, where)
        if items is None:
            return None
        self.check_keys(items, DEAL_KEYS, where)
        partner_node = self.require(items, "partner", node, where)
        partner = self.text(partner_node, f"partner of {where}") if partner_node else None
        funds: dict[str, tuple[str, ...]] = {}
        niches_node = self.require(items, "niches", node, where)
        for item in self.id_list(niches_node, f"niches of {where}") if niches_node else []:
            nid, dot, lid = item.text.partition(".")
            if not self.ref(YNode(nid, item.loc, item.at_key, nid), niches, "niche", f"niches of {where}"):
                continue
            niche = niches[nid]
            declared = list(dict.fromkeys(lv.base for lv in niche.levels))
            if dot and lid not in declared:
                self.error(
                    item.loc,
                    f"niche '{nid}' has no level '{lid}' (in niches of {where}){_hint(lid, declared)}",
                )
                continue
            choices = [lv.id for lv in niche.levels if not dot or lv.base == lid]
            funds[nid] = tuple(dict.fromkeys([*funds.get(nid, ()), *choices]))
        if niches_node is not None and isinstance(niches_node.value, list) and not niches_node.value:
            self.error(niches_node.loc, f"{where} must fund at least one niche")
        share = amount = None
        if "share" in items and "amount" in items:
            self.error(items["amount"].at_key, f"{where} gives both 'share' and 'amount'; keep one")
        elif "share" in items:
            share = self.number(items["share"], f"share of {where}", low=0, high=1, low_open=True)
        elif "amount" in items:
            amount = self.number(items["amount"], f"amount of {where}", low=0, low_open=True)
            if len(funds) > 1:
                self.error(
                    items["amount"].at_key,
                    f"{where} pays an amount per period, so it funds one niche; "
                    "give a 'share' to fund several",
                )
        else:
            self.error(
                node.at_key,
                f"{where} must say what it pays: 'share' (of the niches' cost) or 'amount' (per period)",
            )
        exposure: dict[str, float] = {}
        if "exposure" in items:
            for power, child in (self.mapping(items["exposure"], f"exposure of {where}") or {}).items():
                if self.key_ref(power, child, powers, "power", f"exposure of {where}"):
                    value = self.number(child, f"exposure of {where} to {power}", low=0, high=1)
                    if value is not None:
                        exposure[power] = value
        if partner in powers and partner not in exposure:
            exposure[partner] = 1.0
        reliability = self.world_numbers(items.get("reliability"), worlds, f"reliability of {where}", 0, 1)
        bonus = self.world_numbers(items.get("value"), worlds, f"value of {where}", None, None)
        requires: list[str] = []
        excludes: list[str] = []
        if "conditions" in items:
            conditions = self.mapping(items["conditions"], f"conditions of {where}") or {}
            self.check_keys(conditions, CONDITION_KEYS, f"conditions of {where}")
            if "requires" in conditions:
                requires = self.deal_requires(did, conditions["requires"], niches, deal_ids)
            if "excludes" in conditions:
                for item in self.id_list(conditions["excludes"], f"excludes of {where}"):
                    if not self.ref(item, deal_ids, "deal", f"excludes of {where}"):
                        continue
                    if item.text == did:
                        self.error(item.loc, f"{where} cannot exclude itself")
                    elif item.text not in excludes:
                        excludes.append(item.text)
                        self.locations[f"excludes[{did}, {item.text}]"] = item.loc
        description = self.text(items["description"], "description") if "description" in items else ""
        if partner is None or description is None or not funds:
            return None
        return Deal(
            did, partner, description, funds, share, amount, exposure,
            tuple(requires), tuple(excludes), reliability, bonus,
        )  # fmt: skip

    def world_numbers(
        self, node: YNode | None, worlds: list[str], what: str, low: float | None, high: float | None
    ) -> dict[str, float]:
        """Read a mapping world -> number (`low`/`high` bound it when given)."""
        found: dict[str, float] = {}
        if node is None:
            return found
        for world, child in (self.mapping(node, what) or {}).items():
            if self.key_ref(world, child, worlds, "world", what):
                number = self.number(child, f"{what} in {world}", low=low, high=high)
                if number is not None:
                    found[world] = number
        return found

    def deal_requires(
        self, did: str, node: YNode, niches: Mapping[str, Niche], deal_ids: list[str]
    ) -> list[str]:
        """Read what deal `did` requires: niches (`niche` or `niche.level`) and other deals."""
        where = f"requires of deal '{did}'"
        found: list[str] = []
        for item in self.id_list(node, where):
            text = item.text
            nid, dot, lid = text.partition(".")
            if text == did:
                self.error(item.loc, f"deal '{did}' cannot require itself")
                continue
            if text in deal_ids or (not dot and text in niches):
                pass
            elif dot and nid in niches:
                declared = list(dict.fromkeys(lv.base for lv in niches[nid].levels))
                if lid not in declared:
                    self.error(
                        item.loc, f"niche '{nid}' has no level '{lid}' (in {where}){_hint(lid, declared)}"
                    )
                    continue
            else:
                known = [*niches, *deal_ids]
                self.error(item.loc, f"unknown niche or deal '{text}' in {where}{_hint(text, known)}")
                continue
            if text not in found:
                found.append(text)
                self.locations[f"requires[{did} -> {text}]"] = item.loc
        return found
