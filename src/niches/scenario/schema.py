"""The JSON Schema of scenario format v1, for editors (yaml-language-server) and other tools.

The loader (`niches.scenario`) is the authority; a test keeps this schema in
step with it: every key the loader knows is here, and every valid example validates.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://niches.invalid/schema/scenario-v1.json"

_number: dict[str, Any] = {"type": "number"}
_share: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
_nonneg: dict[str, Any] = {"type": "number", "minimum": 0}
_id: dict[str, Any] = {"type": ["string", "integer"]}
_ids: dict[str, Any] = {"oneOf": [{"type": "array", "items": _id}, _id]}
_score: dict[str, Any] = {
    "description": "A number, a range [low, high] (uniform) or {low, mode, high} (triangular).",
    "oneOf": [
        _number,
        {"type": "array", "items": _number, "minItems": 2, "maxItems": 2},
        {
            "type": "object",
            "properties": {"low": _number, "mode": _number, "high": _number},
            "required": ["low", "high"],
            "additionalProperties": False,
        },
    ],
}
_level_properties: dict[str, Any] = {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "cost": {
        "description": "Spend in every period (a number) or period -> amount; missing periods cost 0.",
        "oneOf": [_nonneg, {"type": "object", "additionalProperties": _nonneg}],
    },
    "scores": {"type": "object", "additionalProperties": _score, "description": "criterion -> score"},
    "uses": {"type": "object", "additionalProperties": _nonneg, "description": "capacity -> amount"},
    "start": {
        "description": (
            "Periods the level may start in: a list of period ids, or 'any' (default: the first period "
            "only). Started later, its cost profile shifts right and its value scales by its active share."
        ),
        "anyOf": [{"const": "any"}, _ids],
    },
}
_niche_properties: dict[str, Any] = {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "levels": {
        "type": "object",
        "minProperties": 1,
        "description": "Ordered level id -> level; at most one level is chosen.",
        "additionalProperties": {
            "type": "object",
            "properties": _level_properties,
            "required": ["cost"],
            "additionalProperties": False,
        },
    },
    "exposure": {"type": "object", "additionalProperties": _share, "description": "power -> share of spend"},
    "outlook": {
        "type": "object",
        "additionalProperties": _nonneg,
        "description": "world -> value multiplier",
    },
    "requires": _ids,
    "excludes": _ids,
    "synergy": {"type": "object", "additionalProperties": _number, "description": "niche -> bonus"},
    "cost": _level_properties["cost"],
    "scores": _level_properties["scores"],
    "uses": _level_properties["uses"],
    "start": _level_properties["start"],
}
_floor: dict[str, Any] = {
    "description": "In value units, or {share: s}: at least s times the best under the other rules.",
    "oneOf": [
        _number,
        {
            "type": "object",
            "properties": {"share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}},
            "required": ["share"],
            "additionalProperties": False,
        },
    ],
}
_pairwise: dict[str, Any] = {
    "description": (
        "Weights by pairwise comparison instead of numbers: [a, b, x], a is x times as important as b, "
        "x on Saaty's 1-9 scale (fractions written 1/3); every pair once, reciprocals implied."
    ),
    "type": "array",
    "items": {
        "type": "array",
        "minItems": 3,
        "maxItems": 3,
        "prefixItems": [_id, _id, {"oneOf": [_number, {"type": "string", "pattern": "^[0-9.]+/[0-9.]+$"}]}],
    },
}
_rules: dict[str, Any] = {
    "type": "object",
    "properties": {
        "min_niches": {"type": "integer", "minimum": 0},
        "max_niches": {"type": "integer", "minimum": 0},
        "must_include": _ids,
        "must_exclude": _ids,
        "max_share": _share,
        "max_exposure": {"oneOf": [_share, {"type": "object", "additionalProperties": _share}]},
        "max_imbalance": _share,
        "min_worst_case": _floor,
        "min_cvar": _floor,
        "cvar_tail": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    },
    "additionalProperties": False,
}
_assertions: dict[str, Any] = {
    "type": "object",
    "description": "Policy assertions `niches check` evaluates (exit 1 when one fails).",
    "properties": {
        "recommend": {
            "description": "Niches the recommendation must contain (a list), or niche -> level.",
            "oneOf": [_ids, {"type": "object", "additionalProperties": _id}],
        },
        "exclude": _ids,
        "min_expected_value": _number,
        "min_worst_case": _number,
        "min_cvar": _number,
        "max_cost": _nonneg,
        "max_exposure": {"type": "object", "additionalProperties": _share},
        "max_regret": _nonneg,
        "core_index": {"type": "object", "additionalProperties": _share},
        "samples": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer"},
    },
    "additionalProperties": False,
}


_world_numbers: dict[str, Any] = {"type": "object", "additionalProperties": _number}
_deal_properties: dict[str, Any] = {
    "partner": {"type": "string", "description": "Who offers the deal (a power, or any other partner)."},
    "description": {"type": "string"},
    "niches": {
        "description": "The niches the deal funds ('niche' or 'niche.level'); it is taken only with them.",
        "oneOf": [{"type": "array", "items": _id, "minItems": 1}, _id],
    },
    "share": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 1,
        "description": "The share of the funded niches' cost the partner pays, every period.",
    },
    "amount": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "Money per period the partner pays (at most what the niche spends); one niche only.",
    },
    "exposure": {
        "type": "object",
        "additionalProperties": _share,
        "description": "power -> share of the deal's money that depends on it (the partner, if a power: 1).",
    },
    "conditions": {
        "type": "object",
        "properties": {
            "requires": {**_ids, "description": "Niches ('niche' or 'niche.level') or deals taken with it."},
            "excludes": {**_ids, "description": "Deals that cannot be taken with it."},
        },
        "additionalProperties": False,
    },
    "reliability": {
        "type": "object",
        "additionalProperties": _share,
        "description": "world -> probability the deal holds (default 1); broken, it loses what it funds.",
    },
    "value": {**_world_numbers, "description": "world -> bonus in value units while the deal holds."},
}


def scenario_schema() -> dict[str, Any]:
    """Return the JSON Schema of a scenario file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "niches scenario (format v1)",
        "type": "object",
        "required": ["name", "budget", "criteria", "niches"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "units": {"type": "string", "default": "USD million", "description": "The unit of all money."},
            "value_unit": {
                "type": "string",
                "default": "points",
                "description": "The unit of value (weighted criterion scores), shown beside every value.",
            },
            "periods": {"type": "array", "items": _id, "minItems": 1},
            "budget": {
                "description": "A cap for every period, or {period: cap, ..., total: cap}.",
                "oneOf": [_nonneg, {"type": "object", "minProperties": 1, "additionalProperties": _nonneg}],
            },
            "capacities": {"type": "object", "additionalProperties": _nonneg},
            "criteria": {
                "type": "object",
                "minProperties": 1,
                "properties": {"pairwise": _pairwise},
                "additionalProperties": {
                    "oneOf": [
                        {"type": "null", "description": "A criterion weighted by 'pairwise'."},
                        _score,
                        {
                            "type": "object",
                            "properties": {
                                "weight": _score,
                                "name": {"type": "string"},
                                "description": {"type": "string"},
                                "scale": {
                                    "type": "array",
                                    "items": _number,
                                    "minItems": 2,
                                    "maxItems": 2,
                                    "description": "[low, high] of this criterion's scores; "
                                    "a score outside it is a warning.",
                                },
                            },
                            "additionalProperties": False,
                        },
                    ]
                },
            },
            "powers": {"type": "array", "items": _id},
            "worlds": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {
                    "oneOf": [
                        _share,
                        {
                            "type": "object",
                            "properties": {
                                "probability": _share,
                                "name": {"type": "string"},
                                "description": {"type": "string"},
                            },
                            "required": ["probability"],
                            "additionalProperties": False,
                        },
                    ]
                },
            },
            "niches": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {
                    "type": "object",
                    "properties": _niche_properties,
                    "additionalProperties": False,
                },
            },
            "rules": _rules,
            "objective": {"enum": ["expected", "worst_case", "cvar", "regret"]},
            "assertions": _assertions,
            "judges": {
                "description": (
                    "Judgement files (paths relative to the scenario, globs allowed), each with 'judge' and "
                    "any of 'weights' (numbers or {pairwise: [...]}), 'probabilities' (world -> number) and "
                    "'scores' (niche or niche.level -> criterion -> score)."
                ),
                "type": "array",
                "items": {"type": "string"},
            },
            "aggregate": {
                "enum": ["mean", "median", "geometric"],
                "default": "mean",
                "description": "How judges' values combine (pairwise: geometric mean, then weights).",
            },
            "deals": {
                "type": "object",
                "description": "Deal id -> an offer to fund niches, taken (or not) with the portfolio.",
                "additionalProperties": {
                    "type": "object",
                    "properties": _deal_properties,
                    "required": ["partner", "niches"],
                    "oneOf": [{"required": ["share"]}, {"required": ["amount"]}],
                    "additionalProperties": False,
                },
            },
            "adapt": {
                "type": "object",
                "description": (
                    "When the world order shows itself (niches adapt): choices that start before 'reveal' "
                    "are made now, the same in every world; those that start at or after it may differ."
                ),
                "properties": {"reveal": {**_id, "description": "A declared period id."}},
                "required": ["reveal"],
                "additionalProperties": False,
            },
        },
    }


def schema_text() -> str:
    """Return the schema as the JSON text `niches schema` prints and the repository ships."""
    return json.dumps(scenario_schema(), indent=2) + "\n"
