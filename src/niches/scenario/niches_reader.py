"""Reading niches and their levels (costs, scores, uses, starts, links, synergies)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from niches.numbers import plural
from niches.scenario.checks import _describe
from niches.scenario.criteria_reader import _CriteriaSections
from niches.scenario.keys import ANY, LEVEL_KEYS, MAX_LEVELS, NICHE_KEYS
from niches.scenario.types import SHORTHAND_LEVEL, TOTAL, Criterion, Level, Niche, Score, World
from niches.scenario.yamlsource import Location, YNode


class _NicheSections(_CriteriaSections):
    """Read `niches:`: each niche, its levels and their starts; check synergy pairs."""

    def niche_nodes(self, node: YNode | None) -> dict[str, YNode]:
        if node is None:
            return {}
        items = self.mapping(node, "niches")
        if items is not None and not items:
            self.error(node.loc, "niches must declare at least one niche")
        return items or {}

    def niche(
        self,
        nid: str,
        node: YNode,
        periods: list[str],
        criteria: list[Criterion] | None,
        capacities: dict[str, float],
        powers: list[str],
        worlds: list[World] | None,
        niche_ids: list[str],
    ) -> Niche | None:
        where = f"niche '{nid}'"
        self.locations[f"niche[{nid}]"] = node.at_key
        items = self.mapping(node, where)
        if items is None:
            return None
        self.check_keys(items, tuple(dict.fromkeys(NICHE_KEYS + LEVEL_KEYS)), where)
        ok = True
        levels: list[Level] = []
        criterion_ids = self.declared_criteria if criteria is not None else None
        world_ids = self.declared_worlds if worlds is not None else None
        niche_start = [0]
        if "start" in items:
            niche_start = self.starts(items["start"], periods, f"start of {where}") or [0]
        direct = [k for k in ("cost", "scores", "uses") if k in items]
        if "levels" in items:
            for key in direct:
                self.error(
                    items[key].at_key,
                    f"{where} has both 'levels' and a direct '{key}'; move '{key}' into a level",
                )
                ok = False
            level_items = self.mapping(items["levels"], f"levels of {where}")
            if level_items is not None and not level_items:
                self.error(items["levels"].loc, f"{where} must declare at least one level")
            if level_items is not None and len(level_items) > MAX_LEVELS:
                self.error(
                    items["levels"].at_key,
                    f"{where} declares {plural(len(level_items), 'level')}; "
                    f"a niche may declare at most {MAX_LEVELS}",
                )
                level_items = None
            for lid, lnode in (level_items or {}).items():
                level = self.level(nid, lid, lnode, periods, criterion_ids, capacities)
                if level is None:
                    ok = False
                    continue
                starts = niche_start
                if isinstance(lnode.value, dict) and "start" in lnode.value:
                    where_level = f"start of level '{lid}' of niche '{nid}'"
                    starts = self.starts(lnode.value["start"], periods, where_level) or [0]
                if "@" in lid and starts != [0]:
                    self.error(
                        lnode.at_key,
                        f"level '{lid}' of niche '{nid}' may start later, so its id cannot contain '@' "
                        "(it separates a level from its start period); rename the level",
                    )
                levels.extend(started(level, starts, periods))
            ok = ok and level_items is not None
        else:
            level = self.level(nid, SHORTHAND_LEVEL, node, periods, criterion_ids, capacities, shorthand=True)
            if level is None:
                ok = False
            else:
                levels.extend(started(level, niche_start, periods))

        exposure: dict[str, float] = {}
        if "exposure" in items:
            for power, child in (self.mapping(items["exposure"], f"exposure of {where}") or {}).items():
                if self.key_ref(power, child, powers, "power", f"exposure of {where}"):
                    share = self.number(child, f"exposure of {where} to {power}", low=0, high=1)
                    if share is not None:
                        exposure[power] = share
        outlook: dict[str, float] = {}
        if "outlook" in items:
            for world, child in (self.mapping(items["outlook"], f"outlook of {where}") or {}).items():
                if self.key_ref(world, child, world_ids, "world", f"outlook of {where}"):
                    factor = self.number(child, f"outlook of {where} in {world}", low=0)
                    if factor is not None:
                        outlook[world] = factor
        requires = self.links(nid, items.get("requires"), niche_ids, "requires")
        excludes = self.links(nid, items.get("excludes"), niche_ids, "excludes")
        synergy: dict[str, float] = {}
        if "synergy" in items:
            for other, child in (self.mapping(items["synergy"], f"synergy of {where}") or {}).items():
                if not self.key_ref(other, child, niche_ids, "niche", f"synergy of {where}"):
                    continue
                if other == nid:
                    self.error(child.at_key, f"{where} cannot have a synergy with itself")
                    continue
                bonus = self.number(child, f"synergy of {where} with {other}")
                if bonus is not None:
                    synergy[other] = bonus
                    self.locations[f"synergy[{nid} + {other}]"] = child.at_key
        name = self.text(items["name"], "name") if "name" in items else nid
        description = self.text(items["description"], "description") if "description" in items else ""
        if not ok or name is None or description is None:
            return None
        return Niche(
            id=nid,
            name=name,
            description=description,
            levels=tuple(levels),
            exposure=exposure,
            outlook={w: outlook.get(w, 1.0) for w in world_ids or []},
            requires=tuple(requires),
            excludes=tuple(excludes),
            synergy=synergy,
        )

    def starts(self, node: YNode, periods: list[str], what: str) -> list[int] | None:
        """Return the indices of the periods `node` allows a start in (`any` or a list of period ids)."""
        if node.is_scalar() and node.text == ANY:
            return list(range(len(periods)))
        if periods == [TOTAL]:
            self.error(node.loc, f"{what} needs periods; declare them under 'periods'")
            return None
        items = self.id_list(node, what)
        found: set[int] = set()
        for item in items:
            if self.ref(item, periods, "period", what):
                found.add(periods.index(item.text))
        if not items and isinstance(node.value, list):
            self.error(node.loc, f"{what} must list at least one period id, or be 'any'")
        return sorted(found) or None

    def links(self, nid: str, node: YNode | None, niche_ids: list[str], kind: str) -> list[str]:
        if node is None:
            return []
        result: list[str] = []
        for item in self.id_list(node, f"{kind} of niche '{nid}'"):
            if not self.ref(item, niche_ids, "niche", f"{kind} of niche '{nid}'"):
                continue
            if item.text == nid:
                self.error(item.loc, f"niche '{nid}' cannot {kind[:-1]} itself")
            elif item.text not in result:
                result.append(item.text)
                arrow = f"{nid} -> {item.text}" if kind == "requires" else f"{nid}, {item.text}"
                self.locations[f"{kind}[{arrow}]"] = item.loc
        return result

    def level(
        self,
        nid: str,
        lid: str,
        node: YNode,
        periods: list[str],
        criterion_ids: list[str] | None,
        capacities: dict[str, float],
        shorthand: bool = False,
    ) -> Level | None:
        where = f"niche '{nid}'" if shorthand else f"level '{lid}' of niche '{nid}'"
        self.locations[f"level[{nid}.{lid}]"] = node.at_key
        items = self.mapping(node, where)
        if items is None:
            return None
        if not shorthand:
            self.check_keys(items, LEVEL_KEYS, where)
        count = len(self.problems)
        cost = dict.fromkeys(periods, 0.0)
        if "cost" not in items:
            self.error(node.at_key, f"{where} is missing required key 'cost'")
        else:
            cost_node = items["cost"]
            if isinstance(cost_node.value, dict):
                for period, child in cost_node.value.items():
                    if self.key_ref(period, child, periods, "period", f"cost of {where}"):
                        amount = self.number(child, f"cost of {where} in {period}", low=0)
                        if amount is not None:
                            cost[period] = amount
            elif isinstance(cost_node.value, bool) or not isinstance(cost_node.value, (int, float)):
                self.error(
                    cost_node.loc,
                    f"cost of {where} must be a number or a mapping period -> amount, "
                    f"got {_describe(cost_node)}",
                )
            else:
                amount = self.number(cost_node, f"cost of {where}", low=0)
                if amount is not None:
                    cost = dict.fromkeys(periods, amount)
        scores: dict[str, Score] = {}
        off_scale: list[tuple[Location, str]] = []
        if "scores" in items:
            for crit, child in (self.mapping(items["scores"], f"scores of {where}") or {}).items():
                if self.key_ref(crit, child, criterion_ids, "criterion", f"scores of {where}"):
                    score = self.score(child, f"score of {where} on {crit}")
                    if score is not None:
                        scores[crit] = score
                        warning = self.off_scale(crit, score, f"score of {where} on {crit}")
                        if warning:
                            off_scale.append((child.loc, warning))
        uses: dict[str, float] = {}
        if "uses" in items:
            for cap, child in (self.mapping(items["uses"], f"uses of {where}") or {}).items():
                if self.key_ref(cap, child, list(capacities), "capacity", f"uses of {where}"):
                    amount = self.number(child, f"use of {cap} by {where}", low=0)
                    if amount is not None:
                        uses[cap] = amount
        name = self.text(items["name"], "name") if "name" in items and not shorthand else lid
        if len(self.problems) > count or name is None:
            return None
        for loc, warning in off_scale:
            self.warn(loc, warning)
        return Level(
            id=lid,
            name=name,
            cost=cost,
            scores={c: scores.get(c, Score.point(0.0)) for c in criterion_ids or []},
            uses={c: uses[c] for c in capacities if c in uses},
        )

    def synergy_pairs(self, niches: list[Niche], nodes: dict[str, YNode]) -> None:
        for niche in niches:
            for other in niche.synergy:
                if niche.id in self._synergy_of(other, niches) and niche.id > other:
                    loc = self.locations.get(f"synergy[{niche.id} + {other}]", nodes[niche.id].at_key)
                    self.error(
                        loc,
                        f"the synergy of '{niche.id}' and '{other}' is declared on both niches; "
                        "declare each pair on one side only",
                    )

    @staticmethod
    def _synergy_of(nid: str, niches: list[Niche]) -> Mapping[str, float]:
        for niche in niches:
            if niche.id == nid:
                return niche.synergy
        return {}


def started(level: Level, starts: Iterable[int], periods: Sequence[str]) -> list[Level]:
    """Return the choices of a declared level: one per period it may start in (in period order).

    Started in the i-th period, the amount stated for the k-th period is spent
    in the (k+i)-th (amounts past the last period are dropped) and every score
    is multiplied by the active share (periods from the start to the end) / periods.
    """
    choices = []
    count = len(periods)
    for offset in starts:
        if offset == 0:
            choices.append(dataclasses.replace(level, start=periods[0]))
            continue
        share = (count - offset) / count
        cost = {p: (level.cost[periods[k - offset]] if k >= offset else 0.0) for k, p in enumerate(periods)}
        choices.append(
            Level(
                id=f"{level.id}@{periods[offset]}",
                name=f"{level.name} from {periods[offset]}",
                cost=cost,
                scores={c: score.scaled(share) for c, score in level.scores.items()},
                uses=level.uses,
                declared=level.id,
                start=periods[offset],
                offset=offset,
                share=share,
            )
        )
    return choices


def _normalise_synergy(niches: list[Niche]) -> list[Niche]:
    """Return niches whose synergy maps hold each pair once, on the first-declared niche."""
    order = {n.id: i for i, n in enumerate(niches)}
    moved: dict[str, dict[str, float]] = {n.id: {} for n in niches}
    for niche in niches:
        for other, bonus in niche.synergy.items():
            first, second = (niche.id, other) if order[niche.id] < order[other] else (other, niche.id)
            moved[first][second] = bonus
    result = []
    for niche in niches:
        pairs = dict(sorted(moved[niche.id].items(), key=lambda kv: order[kv[0]]))
        result.append(Niche(**{**niche.__dict__, "synergy": pairs}))
    return result
