"""Reading the scenario's frame: periods, budget, capacities, powers and worlds."""

from __future__ import annotations

import math

from niches.scenario.checks import _Checks
from niches.scenario.keys import PROBABILITY_TOLERANCE
from niches.scenario.types import BASELINE, TOTAL, World
from niches.scenario.yamlsource import YNode


class _FrameSections(_Checks):
    """Read the sections every other one refers to: periods, budget, capacities, powers, worlds."""

    def periods(self, node: YNode | None) -> list[str]:
        if node is None:
            return [TOTAL]
        items = self.id_list(node, "periods")
        periods: list[str] = []
        for item in items:
            if item.text == TOTAL:
                self.error(item.loc, "'total' cannot be a period id: it names the sum over all periods")
            elif item.text in periods:
                self.error(item.loc, f"period '{item.text}' is listed twice")
            else:
                periods.append(item.text)
                self.locations[f"period[{item.text}]"] = item.loc
        if not periods and not any(p.severity == "error" for p in self.problems):
            self.error(node.loc, "periods must list at least one period id")
        return periods or [TOTAL]

    def budget(self, node: YNode | None, periods: list[str]) -> tuple[dict[str, float] | None, float | None]:
        if node is None:
            return None, None
        self.locations["budget"] = node.at_key
        if isinstance(node.value, dict):
            caps: dict[str, float] = {}
            total: float | None = None
            allowed = [*periods, TOTAL] if periods != [TOTAL] else [TOTAL]
            for key, child in node.value.items():
                if not self.key_ref(key, child, allowed, "period", "budget"):
                    continue
                amount = self.number(child, f"budget for {key}", low=0)
                if amount is None:
                    continue
                if key == TOTAL and periods != [TOTAL]:
                    total = amount
                else:
                    caps[key] = amount
                self.locations[f"budget[{key}]"] = child.at_key
            if not node.value:
                self.error(node.loc, "budget must cap at least one period or 'total'")
            return caps, total
        amount = self.number(node, "budget", low=0)
        if amount is None:
            if isinstance(node.value, list):
                self.problems[-1].message += "; give one number or a mapping {period: cap, total: cap}"
            return None, None
        for period in periods:
            self.locations[f"budget[{period}]"] = node.at_key
        return dict.fromkeys(periods, amount), None

    def capacities(self, node: YNode | None) -> dict[str, float]:
        if node is None:
            return {}
        self.locations["capacities"] = node.at_key
        items = self.mapping(node, "capacities")
        result: dict[str, float] = {}
        for key, child in (items or {}).items():
            amount = self.number(child, f"capacity '{key}'", low=0)
            if amount is not None:
                result[key] = amount
                self.locations[f"capacity[{key}]"] = child.at_key
        return result

    def powers(self, node: YNode | None) -> list[str]:
        if node is None:
            return []
        powers: list[str] = []
        for item in self.id_list(node, "powers"):
            if item.text in powers:
                self.error(item.loc, f"power '{item.text}' is listed twice")
            else:
                powers.append(item.text)
        return powers

    def worlds(self, node: YNode | None) -> list[World] | None:
        if node is None:
            return [World(BASELINE, 1.0, "the single world assumed when none are declared")]
        items = self.mapping(node, "worlds")
        if items is None:
            return None
        self.declared_worlds = list(items)
        worlds: list[World] = []
        for key, child in items.items():
            description = ""
            p_node = child
            if isinstance(child.value, dict):
                meant = self.check_keys(child.value, ("probability", "description", "name"), f"world '{key}'")
                if "probability" not in child.value:
                    if "probability" not in meant:
                        self.error(child.at_key, f"world '{key}' is missing required key 'probability'")
                    continue
                p_node = child.value["probability"]
                if "description" in child.value:
                    description = self.text(child.value["description"], "description") or ""
            p = self.number(p_node, f"probability of world '{key}'", low=0, high=1)
            if p is not None:
                worlds.append(World(key, p, description))
                self.locations[f"world[{key}]"] = child.at_key
        if not items:
            self.error(node.loc, "worlds must declare at least one world (or leave the key out)")
            return None
        if len(worlds) == len(items):
            total = math.fsum(w.probability for w in worlds)
            if abs(total - 1.0) > PROBABILITY_TOLERANCE:
                self.error(
                    node.at_key,
                    f"world probabilities sum to {total:.6g}, not 1; adjust them so they add up to 1",
                )
        return worlds
