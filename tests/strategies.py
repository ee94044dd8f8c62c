"""Hypothesis strategies: small random scenarios that use every key and rule."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import strategies as st

from niches.scenario import Scenario, parse_scenario

POWERS = ["USA", "China", "EU"]
WORLDS = ["calm", "blocs", "storm"]
CRITERIA = ["relevance", "autonomy"]
PERIODS = ["2026", "2027"]
PERIODS3 = ["2026", "2027", "2028"]


def _rarely(draw: st.DrawFn, one_in: int) -> bool:
    return draw(st.sampled_from([True] + [False] * (one_in - 1)))


@st.composite
def score(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["point", "range", "tri"]))
    low = draw(st.integers(-2, 8))
    if kind == "point":
        return low
    high = low + draw(st.integers(0, 4))
    if kind == "range":
        return [low, high]
    return {"low": low, "mode": draw(st.integers(low, high)), "high": high}


def _start(draw: st.DrawFn, periods: list[str]) -> Any:
    """Draw a `start` value: `any`, or a non-empty list of period ids."""
    if draw(st.booleans()):
        return "any"
    chosen = draw(st.lists(st.sampled_from(periods), min_size=1, max_size=len(periods), unique=True))
    return [int(p) for p in chosen]


@st.composite
def scenario_dict(draw: st.DrawFn, max_niches: int = 5, timed: bool = False) -> dict[str, Any]:
    """Draw a scenario as plain data, ready to dump to YAML.

    `timed` scenarios have two or three periods and let some niches and
    levels start later (`start`), so the choices are levels and start periods.
    """
    n_niches = draw(st.integers(1, max_niches))
    niche_ids = [f"n{i}" for i in range(n_niches)]
    periods = PERIODS3[: draw(st.integers(2, 3))] if timed else PERIODS[: draw(st.integers(0, 2))]
    worlds = WORLDS[: draw(st.integers(0, 3))]
    powers = POWERS[: draw(st.integers(0, 3))]
    use_capacity = draw(st.booleans())
    data: dict[str, Any] = {"name": "random"}
    if periods:
        data["periods"] = [int(p) for p in periods]
    plist = periods or ["total"]
    if draw(st.booleans()):
        data["budget"] = draw(st.integers(0, 25))
    else:
        budget: dict[Any, Any] = {}
        for p in plist:
            if draw(st.booleans()):
                budget[int(p) if p != "total" else p] = draw(st.integers(3, 25))
        if periods and draw(st.booleans()):
            budget["total"] = draw(st.integers(5, 40))
        data["budget"] = budget or {plist[0] if not periods else int(plist[0]): 15}
    if use_capacity:
        data["capacities"] = {"diplomats": draw(st.integers(0, 8))}
    data["criteria"] = {
        c: ({"weight": w} if draw(st.booleans()) else w)
        for c, w in zip(CRITERIA, [draw(st.integers(1, 3)), draw(st.integers(0, 3))], strict=True)
    }
    if powers:
        data["powers"] = powers
    if worlds:
        raw = [draw(st.integers(1, 4)) for _ in worlds]
        total = sum(raw)
        probs = [r / total for r in raw]
        probs[-1] = 1.0 - sum(probs[:-1])
        data["worlds"] = dict(zip(worlds, probs, strict=True))
    niches: dict[str, Any] = {}
    for i, nid in enumerate(niche_ids):
        n_levels = draw(st.integers(1, 3))
        levels = {}
        for j in range(n_levels):
            level: dict[str, Any] = {}
            if periods and draw(st.booleans()):
                level["cost"] = {int(p): draw(st.integers(0, 9)) for p in periods}
            else:
                level["cost"] = draw(st.integers(0, 9))
            level["scores"] = {c: draw(score()) for c in CRITERIA if draw(st.booleans())}
            if use_capacity and draw(st.booleans()):
                level["uses"] = {"diplomats": draw(st.integers(0, 4))}
            if timed and _rarely(draw, 4):
                level["start"] = _start(draw, periods)
            levels[f"l{j}"] = level
        shorthand = n_levels == 1 and draw(st.booleans())  # one level named `invest`
        niche: dict[str, Any] = dict(levels["l0"]) if shorthand else {"levels": levels}
        if timed and "start" not in niche and draw(st.booleans()):
            niche["start"] = _start(draw, periods)
        if powers and draw(st.integers(0, 3)) > 0:
            niche["exposure"] = {p: draw(st.integers(0, 10)) / 10 for p in powers if draw(st.booleans())}
        if worlds and draw(st.booleans()):
            niche["outlook"] = {w: draw(st.integers(0, 6)) / 2 for w in worlds if draw(st.booleans())}
        others = niche_ids[i + 1 :]
        if others and _rarely(draw, 3 if timed else 4):
            niche["requires"] = [draw(st.sampled_from(others))]
        if others and _rarely(draw, 4):
            niche["excludes"] = [draw(st.sampled_from(others))]
        if others and draw(st.booleans()):
            niche["synergy"] = {draw(st.sampled_from(others)): draw(st.integers(-3, 4))}
        niches[nid] = niche
    data["niches"] = niches
    rules: dict[str, Any] = {}
    if draw(st.booleans()):
        rules["min_niches"] = draw(st.integers(0, 1))
    if draw(st.booleans()):
        rules["max_niches"] = draw(st.integers(max(rules.get("min_niches", 0), 1), 4))
    if _rarely(draw, 6):
        rules["must_include"] = [draw(st.sampled_from(niche_ids))]
    if _rarely(draw, 4):
        excluded = draw(st.sampled_from(niche_ids))
        if excluded not in rules.get("must_include", []):
            rules["must_exclude"] = [excluded]
    if _rarely(draw, 4):
        rules["max_share"] = draw(st.integers(3, 10)) / 10
    if powers and draw(st.booleans()):
        if draw(st.booleans()):
            rules["max_exposure"] = draw(st.integers(2, 10)) / 10
        else:
            rules["max_exposure"] = {powers[0]: draw(st.integers(2, 10)) / 10}
    if len(powers) >= 2 and draw(st.booleans()):
        rules["max_imbalance"] = draw(st.integers(0, 5)) / 10
    if _rarely(draw, 4):
        rules["min_worst_case"] = draw(st.integers(-2, 3))
    if _rarely(draw, 4):
        rules["min_cvar"] = draw(st.integers(-2, 4))
    if draw(st.booleans()):
        rules["cvar_tail"] = draw(st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]))
    if rules:
        data["rules"] = rules
    if draw(st.booleans()):
        data["objective"] = draw(st.sampled_from(["expected", "worst_case", "cvar", "regret"]))
    return data


@st.composite
def deal_scenario_dict(draw: st.DrawFn, max_niches: int = 3, timed: bool = False) -> dict[str, Any]:
    """Draw a scenario with one to three deals on its niches: shares and amounts, exposure,
    reliability, bonuses, conditions."""
    data = draw(scenario_dict(max_niches=max_niches, timed=timed))
    niches = data["niches"]
    worlds = list(data.get("worlds", {})) or ["baseline"]
    powers = data.get("powers", [])
    deal_ids = [f"d{i}" for i in range(draw(st.integers(1, 3)))]
    deals: dict[str, Any] = {}
    for i, did in enumerate(deal_ids):
        funded = draw(st.lists(st.sampled_from(sorted(niches)), min_size=1, max_size=2, unique=True))
        named = []
        for nid in funded:
            levels = list(niches[nid].get("levels", {"invest": None}))
            named.append(f"{nid}.{draw(st.sampled_from(levels))}" if _rarely(draw, 3) else nid)
        deal: dict[str, Any] = {"partner": draw(st.sampled_from([*powers, "Partner"])), "niches": named}
        if len(funded) == 1 and _rarely(draw, 3):
            deal["amount"] = draw(st.integers(1, 5))
        else:
            deal["share"] = draw(st.integers(1, 10)) / 10
        if powers and draw(st.booleans()):
            deal["exposure"] = {p: draw(st.integers(0, 10)) / 10 for p in powers if draw(st.booleans())}
        if _rarely(draw, 2):
            deal["reliability"] = {w: draw(st.integers(0, 10)) / 10 for w in worlds if draw(st.booleans())}
        if draw(st.booleans()):
            deal["value"] = {w: draw(st.integers(-1, 4)) for w in worlds if draw(st.booleans())}
        conditions: dict[str, Any] = {}
        others = deal_ids[i + 1 :]
        if others and _rarely(draw, 3):
            conditions["excludes"] = [draw(st.sampled_from(others))]
        if _rarely(draw, 4):
            conditions["requires"] = [draw(st.sampled_from([*sorted(niches), *others] or sorted(niches)))]
        if conditions:
            deal["conditions"] = conditions
        deals[did] = deal
    data["deals"] = deals
    return data


def to_scenario(data: dict[str, Any]) -> Scenario:
    """Dump `data` to YAML and load it through the real loader."""
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "random.yaml")


scenarios = scenario_dict().map(to_scenario)
timed_scenarios = scenario_dict(max_niches=4, timed=True).map(to_scenario)
"""Scenarios whose niches may start in later periods (choices: level and start)."""
deal_scenarios = deal_scenario_dict().map(to_scenario)
timed_deal_scenarios = deal_scenario_dict(timed=True).map(to_scenario)
"""Scenarios with deals (and, timed, levels that start later)."""


def _times(value: Any, factor: float) -> Any:
    """Return a money or value entry (a number, a range, a triangle, a mapping by period) times `factor`."""
    if isinstance(value, dict):
        return {k: v * factor for k, v in value.items()}
    if isinstance(value, list):
        return [v * factor for v in value]
    return value * factor


def scaled(data: dict[str, Any], money: float, value: float) -> dict[str, Any]:
    """Return scenario data with every amount of money times `money` and every value times `value`.

    Money: costs, budgets, deal amounts. Values: scores, synergies, deal bonuses
    and the value floors. Shares, probabilities, weights and outlook multipliers
    are unit-free and stay as they are, so the optimum's portfolio is the same
    at every magnitude (ties aside), which is what the magnitude tests rely on.
    """
    out = copy.deepcopy(data)
    if "budget" in out:
        out["budget"] = _times(out["budget"], money)
    for niche in out["niches"].values():
        for level in niche["levels"].values() if "levels" in niche else [niche]:
            level["cost"] = _times(level["cost"], money)
            level["scores"] = {c: _times(s, value) for c, s in level.get("scores", {}).items()}
        if "synergy" in niche:
            niche["synergy"] = _times(niche["synergy"], value)
    for deal in out.get("deals", {}).values():
        if "amount" in deal:
            deal["amount"] = _times(deal["amount"], money)
        if "value" in deal:
            deal["value"] = _times(deal["value"], value)
    for floor in ("min_worst_case", "min_cvar"):
        if floor in out.get("rules", {}):
            out["rules"][floor] *= value
    return out
