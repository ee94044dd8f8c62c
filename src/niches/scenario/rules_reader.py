"""Reading the portfolio rules and the policy assertions; warning of niches the rules make impossible."""

from __future__ import annotations

from niches.scenario.checks import _Checks
from niches.scenario.keys import ASSERTION_KEYS, RULE_KEYS
from niches.scenario.types import SHORTHAND_LEVEL, Assertions, Niche, Rules
from niches.scenario.yamlsource import YNode


class _RuleSections(_Checks):
    """Read `rules:` and `assertions:`."""

    def rules(self, node: YNode | None, niche_ids: list[str], powers: list[str]) -> Rules:
        if node is None:
            return Rules()
        items = self.mapping(node, "rules")
        if items is None:
            return Rules()
        self.check_keys(items, RULE_KEYS, "rules")
        for key, child in items.items():
            if key in RULE_KEYS:
                self.locations[key] = child.at_key
        values: dict[str, object] = {}
        for key in ("min_niches", "max_niches"):
            if key in items:
                values[key] = self.integer(items[key], key)
        for key in ("max_share", "max_imbalance"):
            if key in items:
                values[key] = self.number(items[key], key, low=0, high=1)
        shares: dict[str, float] = {}
        for key in ("min_worst_case", "min_cvar"):
            if key in items and isinstance(items[key].value, dict):
                relative = self.mapping(items[key], key) or {}
                meant = self.check_keys(relative, ("share",), key)
                if "share" not in relative:
                    if "share" not in meant:
                        self.error(items[key].loc, f"{key} must be a number or {{share: s}} with 0 < s <= 1")
                else:
                    s = self.number(relative["share"], f"share of {key}", low=0, high=1, low_open=True)
                    if s is not None:
                        shares[key] = s
            elif key in items:
                values[key] = self.number(items[key], key)
        if "cvar_tail" in items:
            tail = self.number(items["cvar_tail"], "cvar_tail", low=0, high=1, low_open=True)
            values["cvar_tail"] = 0.25 if tail is None else tail
        lists: dict[str, list[str]] = {}
        for key in ("must_include", "must_exclude"):
            lists[key] = []
            if key in items:
                for item in self.id_list(items[key], key):
                    if self.ref(item, niche_ids, "niche", key) and item.text not in lists[key]:
                        lists[key].append(item.text)
                        self.locations[f"{key}[{item.text}]"] = item.loc
        if "must_exclude" in items:
            for item in self.id_list(items["must_exclude"], "must_exclude"):
                if item.text in lists["must_include"]:
                    self.error(
                        item.loc,
                        f"niche '{item.text}' is in both must_include and must_exclude; "
                        "remove it from one of them",
                    )
        exposure: dict[str, float] = {}
        if "max_exposure" in items:
            exposure_node = items["max_exposure"]
            if isinstance(exposure_node.value, dict):
                for power, child in exposure_node.value.items():
                    if self.key_ref(power, child, powers, "power", "max_exposure"):
                        cap = self.number(child, f"max_exposure for {power}", low=0, high=1)
                        if cap is not None:
                            exposure[power] = cap
                            self.locations[f"max_exposure[{power}]"] = child.at_key
            else:
                cap = self.number(exposure_node, "max_exposure", low=0, high=1)
                if cap is not None:
                    if not powers:
                        self.error(
                            exposure_node.loc, "max_exposure needs powers; declare them under 'powers'"
                        )
                    for power in powers:
                        exposure[power] = cap
                        self.locations[f"max_exposure[{power}]"] = exposure_node.at_key
        if "max_imbalance" in items and len(powers) < 2:
            self.error(
                items["max_imbalance"].at_key, "max_imbalance needs at least two powers under 'powers'"
            )
        low, high = values.get("min_niches"), values.get("max_niches")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.error(items["min_niches"].loc, f"min_niches ({low}) is greater than max_niches ({high})")
        return Rules(
            min_niches=_opt_int(values.get("min_niches")),
            max_niches=_opt_int(values.get("max_niches")),
            must_include=tuple(lists["must_include"]),
            must_exclude=tuple(lists["must_exclude"]),
            max_share=_opt_float(values.get("max_share")),
            max_exposure=exposure,
            max_imbalance=_opt_float(values.get("max_imbalance")),
            min_worst_case=_opt_float(values.get("min_worst_case")),
            min_cvar=_opt_float(values.get("min_cvar")),
            cvar_tail=_opt_float(values.get("cvar_tail")) or 0.25,
            floor_shares=shares,
        )

    def assertions(self, node: YNode | None, niche_nodes: dict[str, YNode], powers: list[str]) -> Assertions:
        if node is None:
            return Assertions()
        items = self.mapping(node, "assertions")
        if items is None:
            return Assertions()
        self.check_keys(items, ASSERTION_KEYS, "assertions")
        niche_ids = list(niche_nodes)
        for key, child in items.items():
            self.locations[f"assertion[{key}]"] = child.at_key
        recommend: dict[str, str | None] = {}
        if "recommend" in items:
            rec = items["recommend"]
            if isinstance(rec.value, dict):
                for nid, child in rec.value.items():
                    if not self.key_ref(nid, child, niche_ids, "niche", "assertions.recommend"):
                        continue
                    levels = niche_nodes[nid].value
                    known = (
                        list(levels["levels"].value)
                        if isinstance(levels, dict)
                        and "levels" in levels
                        and isinstance(levels["levels"].value, dict)
                        else [SHORTHAND_LEVEL]
                    )
                    if self.ref(child, known, "level", f"assertions.recommend for {nid}"):
                        recommend[nid] = child.text
            else:
                for item in self.id_list(rec, "assertions.recommend"):
                    if self.ref(item, niche_ids, "niche", "assertions.recommend"):
                        recommend[item.text] = None
        exclude: list[str] = []
        if "exclude" in items:
            exclude = [
                i.text
                for i in self.id_list(items["exclude"], "assertions.exclude")
                if self.ref(i, niche_ids, "niche", "assertions.exclude")
            ]
        numbers: dict[str, float | None] = {}
        for key in ("min_expected_value", "min_worst_case", "min_cvar"):
            numbers[key] = self.number(items[key], f"assertions.{key}") if key in items else None
        for key in ("max_cost", "max_regret"):
            numbers[key] = self.number(items[key], f"assertions.{key}", low=0) if key in items else None
        shares: dict[str, dict[str, float]] = {"max_exposure": {}, "core_index": {}}
        for key, kind, known in (("max_exposure", "power", powers), ("core_index", "niche", niche_ids)):
            if key in items:
                for ref, child in (self.mapping(items[key], f"assertions.{key}") or {}).items():
                    if self.key_ref(ref, child, known, kind, f"assertions.{key}"):
                        share = self.number(child, f"assertions.{key} for {ref}", low=0, high=1)
                        if share is not None:
                            shares[key][ref] = share
        samples = self.integer(items["samples"], "assertions.samples") if "samples" in items else 500
        if samples == 0:
            self.error(items["samples"].loc, "assertions.samples must be at least 1")
        seed = self.integer(items["seed"], "assertions.seed") if "seed" in items else 0
        return Assertions(
            recommend=recommend,
            exclude=tuple(exclude),
            min_expected_value=numbers["min_expected_value"],
            min_worst_case=numbers["min_worst_case"],
            min_cvar=numbers["min_cvar"],
            max_cost=numbers["max_cost"],
            max_exposure=shares["max_exposure"],
            max_regret=numbers["max_regret"],
            core_index=shares["core_index"],
            samples=samples or 500,
            seed=seed or 0,
        )

    def impossible_niches(self, niches: list[Niche], rules: Rules) -> None:
        by_id = {n.id: n for n in niches}
        for niche in niches:
            for needed in niche.requires:
                loc = self.locations[f"requires[{niche.id} -> {needed}]"]
                other = by_id[needed]
                if niche.id in other.excludes or needed in niche.excludes:
                    self.warn(
                        loc,
                        f"niche '{niche.id}' can never be chosen: it requires '{needed}', which excludes it",
                    )
                elif needed in rules.must_exclude:
                    self.warn(
                        loc,
                        f"niche '{niche.id}' can never be chosen: it requires '{needed}', "
                        "which must_exclude names",
                    )


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
