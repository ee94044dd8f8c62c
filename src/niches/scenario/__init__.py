"""Scenario format v1: YAML -> a frozen, typed, validated `Scenario`.

Every problem is reported as `FILE:LINE:COLUMN: message`, all problems of a
file at once. Loading uses YAML's safe loader only.

The package: `types` (the Scenario and its parts), `keys` (what a file may
hold), `reader` (loading, over the section readers `checks`, `frame_reader`,
`criteria_reader`, `judges_reader`, `niches_reader`, `rules_reader`,
`deals_reader`), `commitments` (rules given on the command line), `coalition`
(coalition files). This module re-exports the names used outside it.
"""

from __future__ import annotations

from niches.scenario.commitments import COMMAND_LINE, Commitment, CommitmentError, commit
from niches.scenario.keys import (
    ADAPT_KEYS,
    ANY,
    ASSERTION_KEYS,
    CONDITION_KEYS,
    DEAL_KEYS,
    JUDGE_KEYS,
    LEVEL_KEYS,
    MAX_LEVELS,
    NICHE_KEYS,
    NUMBER_MAX,
    PAIRWISE,
    PROBABILITY_TOLERANCE,
    RULE_KEYS,
    SIZE_LIMITS,
    TOP_KEYS,
)
from niches.scenario.reader import judged_by, load_scenario, parse_scenario, read_source
from niches.scenario.types import (
    BASELINE,
    OBJECTIVES,
    SHORTHAND_LEVEL,
    TAKEN,
    TOTAL,
    Adapt,
    Assertions,
    Criterion,
    Deal,
    Level,
    Niche,
    Rules,
    Scenario,
    ScenarioError,
    Score,
    World,
)

__all__ = [
    "ADAPT_KEYS",
    "ANY",
    "ASSERTION_KEYS",
    "BASELINE",
    "COMMAND_LINE",
    "CONDITION_KEYS",
    "DEAL_KEYS",
    "JUDGE_KEYS",
    "LEVEL_KEYS",
    "MAX_LEVELS",
    "NICHE_KEYS",
    "NUMBER_MAX",
    "OBJECTIVES",
    "PAIRWISE",
    "PROBABILITY_TOLERANCE",
    "RULE_KEYS",
    "SHORTHAND_LEVEL",
    "SIZE_LIMITS",
    "TAKEN",
    "TOP_KEYS",
    "TOTAL",
    "Adapt",
    "Assertions",
    "Commitment",
    "CommitmentError",
    "Criterion",
    "Deal",
    "Level",
    "Niche",
    "Rules",
    "Scenario",
    "ScenarioError",
    "Score",
    "World",
    "commit",
    "judged_by",
    "load_scenario",
    "parse_scenario",
    "read_source",
]
