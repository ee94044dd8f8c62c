"""Reading criteria: weights given as numbers or by pairwise comparison (AHP), their scales."""

from __future__ import annotations

import math

from niches.numbers import plural
from niches.scenario import ahp
from niches.scenario.checks import _Checks, _describe, _num
from niches.scenario.keys import PAIRWISE
from niches.scenario.types import Criterion, Score
from niches.scenario.yamlsource import Location, YNode


class _CriteriaSections(_Checks):
    """Read `criteria:` and the pairwise comparisons that may give their weights."""

    def criteria(self, node: YNode | None) -> list[Criterion] | None:
        if node is None:
            return None
        items = self.mapping(node, "criteria")
        if items is None:
            return None
        pairwise = items.pop(PAIRWISE, None)
        self.declared_criteria = list(items)  # referable even when a definition is wrong
        if pairwise is not None:
            return self.pairwise_criteria(items, pairwise)
        raw: list[tuple[str, Score, str]] = []
        for key, child in items.items():
            description = ""
            weight_node = child
            if isinstance(child.value, dict):
                meant = self.check_keys(
                    child.value, ("weight", "description", "name", "scale"), f"criterion '{key}'"
                )
                if "scale" in child.value:
                    self.scale(key, child.value["scale"])
                if "weight" not in child.value:
                    if "weight" not in meant:  # a misspelt 'weight' is reported once, as such
                        self.error(child.at_key, f"criterion '{key}' is missing required key 'weight'")
                    continue
                weight_node = child.value["weight"]
                if "description" in child.value:
                    description = self.text(child.value["description"], "description") or ""
            weight = self.score(weight_node, f"weight of criterion '{key}'")
            if weight is None:
                continue
            if weight.low < 0:
                self.error(
                    weight_node.loc, f"weight of criterion '{key}' must be >= 0, got {_num(weight.low)}"
                )
                continue
            raw.append((key, weight, description))
            self.locations[f"criterion[{key}]"] = child.at_key
        if not items:
            self.error(node.loc, "criteria must declare at least one criterion")
            return None
        total = math.fsum(w.mean for _, w, _ in raw)
        if len(raw) == len(items) and total <= 0:
            self.error(node.loc, "criteria weights are all 0; give at least one a positive weight")
        return [
            Criterion(k, (w.mean / total) if total > 0 else 0.0, w, d, self.scales.get(k)) for k, w, d in raw
        ]

    def pairwise_criteria(self, items: dict[str, YNode], pairwise: YNode) -> list[Criterion] | None:
        """Return criteria whose weights come from the pairwise comparisons at `pairwise`."""
        descriptions: dict[str, str] = {}
        for key, child in items.items():
            self.locations[f"criterion[{key}]"] = child.at_key
            if child.value is None:
                continue
            if not isinstance(child.value, dict):
                self.error(
                    child.loc,
                    f"criterion '{key}' has a weight, but the criteria's weights come from 'pairwise'; "
                    "give it a mapping (description, scale) or nothing",
                )
                continue
            if "weight" in child.value:
                self.error(
                    child.value["weight"].at_key,
                    f"criterion '{key}' has a weight, but the criteria's weights come from 'pairwise'; "
                    "remove the weight or the comparisons",
                )
                continue
            self.check_keys(child.value, ("description", "name", "scale"), f"criterion '{key}'")
            if "scale" in child.value:
                self.scale(key, child.value["scale"])
            if "description" in child.value:
                descriptions[key] = self.text(child.value["description"], "description") or ""
        if not items:
            self.error(pairwise.at_key, "criteria must declare at least one criterion")
            return None
        ids = list(items)
        a = self.comparisons(pairwise, ids, "pairwise comparisons of criteria")
        if a is None:
            return None
        found = ahp.priorities(a)
        self.weights_cr = found.cr
        self.cr_warning(a, found, ids, pairwise, "criteria")
        return [
            Criterion(k, w, Score.point(w), descriptions.get(k, ""), self.scales.get(k))
            for k, w in zip(ids, found.weights, strict=True)
        ]

    def comparisons(self, node: YNode, ids: list[str], what: str) -> ahp.Matrix | None:
        """Return the reciprocal matrix of `[a, b, x]` items at `node`: every pair of `ids` once."""
        self.locations[what] = node.at_key
        if not isinstance(node.value, list):
            self.error(node.loc, f"{what} must be a list of [a, b, x] items, got {_describe(node)}")
            return None
        count = len(self.problems)
        seen: dict[frozenset[str], Location] = {}
        pairs: list[tuple[int, int, float]] = []
        for item in node.value:
            parts = item.value if isinstance(item.value, list) else None
            if parts is None or len(parts) != 3 or not all(p.is_scalar() for p in parts):
                self.error(
                    item.loc,
                    f"each of the {what} must be [a, b, x] (a is x times as important as b), "
                    f"got {_describe(item)}",
                )
                continue
            a, b, x = parts
            if not (self.ref(a, ids, "criterion", what) & self.ref(b, ids, "criterion", what)):
                continue
            if a.text == b.text:
                self.error(item.loc, f"{what}: '{a.text}' is compared with itself; compare it with another")
                continue
            value = ahp.ratio(x.text) if not isinstance(x.value, bool) else None
            if value is None or not math.isfinite(value):
                self.error(
                    x.loc,
                    f"{what}: {a.text} vs {b.text} must be a number or a fraction like 1/3, "
                    f"got {_describe(x)}",
                )
                continue
            if not ahp.on_scale(value):
                self.error(
                    x.loc,
                    f"{what}: {a.text} vs {b.text} must be on Saaty's scale, 1/9 to 9, got {x.text}",
                )
                continue
            key = frozenset((a.text, b.text))
            if key in seen:
                self.error(
                    item.loc,
                    f"{what}: {a.text} and {b.text} are compared twice (also on line {seen[key].line}); "
                    "compare each pair once",
                )
                continue
            seen[key] = item.loc
            pairs.append((ids.index(a.text), ids.index(b.text), value))
        missing = [
            f"[{a}, {b}, x]" for i, a in enumerate(ids) for b in ids[i + 1 :] if frozenset((a, b)) not in seen
        ]
        if missing and len(self.problems) == count:
            self.error(
                node.at_key,
                f"{what} miss {plural(len(missing), 'pair')}: {', '.join(missing)}; compare every pair once",
            )
        if len(self.problems) > count:
            return None
        return ahp.matrix(len(ids), pairs)

    def cr_warning(
        self, a: ahp.Matrix, found: ahp.Priorities, ids: list[str], node: YNode, what: str
    ) -> None:
        """Warn when the comparisons' consistency ratio is above 0.1, naming the one to revisit."""
        if found.cr <= ahp.CR_LIMIT:
            return
        advice = ""
        change = ahp.revisit(a)
        if change is not None:
            advice = (
                f"; revisit {ids[change.a]} vs {ids[change.b]} (given {_ratio_text(change.given)}): "
                f"{_ratio_text(change.consistent)} agrees with the rest (CR {change.cr_after:.2f})"
            )
        self.warn(
            node.at_key, f"{what} pairwise comparisons are inconsistent: CR {found.cr:.2f} > 0.10{advice}"
        )

    def scale(self, key: str, node: YNode) -> None:
        what = f"scale of criterion '{key}'"
        items = node.value
        if not isinstance(items, list) or len(items) != 2:
            self.error(node.loc, f"{what} must be [low, high], for example [0, 10]")
            return
        low, high = self.number(items[0], f"{what} low"), self.number(items[1], f"{what} high")
        if low is None or high is None:
            return
        if low >= high:
            self.error(node.loc, f"{what} must have low < high, got [{_num(low)}, {_num(high)}]")
            return
        self.scales[key] = (low, high)

    def off_scale(self, crit: str, score: Score, what: str) -> str | None:
        """Return a warning when `score` leaves the declared scale of `crit`."""
        if crit not in self.scales:
            return None
        low, high = self.scales[crit]
        outside = sorted(
            {x for x in (score.low, score.mode, score.high) if x is not None and not low <= x <= high}
        )
        if not outside:
            return None
        shown = ", ".join(_num(x) for x in outside)
        return (
            f"{what} ({shown}) is outside the scale [{_num(low)}, {_num(high)}] of criterion '{crit}'; "
            "fix the score or widen the criterion's scale"
        )


def _ratio_text(x: float) -> str:
    """Return a comparison as written on Saaty's scale: `3`, `1/3`, or two decimals between."""
    for whole in range(1, 10):
        if math.isclose(x, whole, rel_tol=1e-9):
            return str(whole)
        if math.isclose(x, 1.0 / whole, rel_tol=1e-9):
            return f"1/{whole}"
    return f"{x:.2f}" if x >= 1 else f"1/{1 / x:.2f}"
