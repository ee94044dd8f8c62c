"""What a scenario file may hold: the keys each section allows, the limits on sizes and numbers."""

from __future__ import annotations

PROBABILITY_TOLERANCE = 1e-6
NUMBER_MAX = 1e9
SIZE_LIMITS = {
    "niches": (500, "niches"),
    "criteria": (100, "criteria"),
    "worlds": (100, "worlds"),
    "periods": (100, "periods"),
    "powers": (50, "powers"),
    "capacities": (100, "capacities"),
}
"""Most entries each section may hold: past them the solvers' time and memory grow out of reach."""
MAX_LEVELS = 20
"""Most levels one niche may declare."""
"""Every number in a scenario lies in [-1e9, 1e9] (money, scores, limits): both solvers stay exact."""

TOP_KEYS = (
    "name",
    "description",
    "units",
    "value_unit",
    "periods",
    "budget",
    "capacities",
    "criteria",
    "powers",
    "worlds",
    "niches",
    "rules",
    "objective",
    "assertions",
    "judges",
    "aggregate",
    "deals",
    "adapt",
)
ADAPT_KEYS = ("reveal",)
"""The keys under `adapt:`."""
DEAL_KEYS = (
    "partner",
    "description",
    "niches",
    "share",
    "amount",
    "exposure",
    "conditions",
    "reliability",
    "value",
)
CONDITION_KEYS = ("requires", "excludes")
JUDGE_KEYS = ("judge", "description", "weights", "probabilities", "scores")
LEVEL_KEYS = ("name", "description", "cost", "scores", "uses", "start")
PAIRWISE = "pairwise"
"""The key under `criteria` that gives weights by pairwise comparison (so no criterion is named so)."""
ANY = "any"
"""`start: any` lets a niche or level start in every period."""
NICHE_KEYS = (
    "name",
    "description",
    "levels",
    "exposure",
    "outlook",
    "requires",
    "excludes",
    "synergy",
    "start",
)
RULE_KEYS = (
    "min_niches",
    "max_niches",
    "must_include",
    "must_exclude",
    "max_share",
    "max_exposure",
    "max_imbalance",
    "min_worst_case",
    "min_cvar",
    "cvar_tail",
)


ASSERTION_KEYS = (
    "recommend",
    "exclude",
    "min_expected_value",
    "min_worst_case",
    "min_cvar",
    "max_cost",
    "max_exposure",
    "max_regret",
    "core_index",
    "samples",
    "seed",
)
