"""One small invalid file per validation rule, each with its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from niches.scenario import ScenarioError, load_scenario, parse_scenario

from .conftest import run_cli

DATA = Path(__file__).parent / "data"

EXPECTED = {
    "adapt_unknown_period.yaml": ["7:17: unknown period '2031' in adapt.reveal; did you mean '2030'?"],
    "adapt_not_a_mapping.yaml": [
        "7:8: adapt must be a mapping, got number 2028; write adapt: {reveal: 2028}"
    ],
    "adapt_unknown_key.yaml": ["7:23: unknown key 'revealed' in adapt; did you mean 'reveal'?"],
    "adapt_no_reveal.yaml": [
        "7:1: adapt is missing required key 'reveal': the period from which the world order is known, "
        "e.g. reveal: 2028",
        "7:9: unknown key 'when' in adapt; expected one of: reveal",
    ],
    "share_percent.yaml": [
        "7:14: max_share must be a number, got text '50%'; a share is a fraction: write 0.5"
    ],
    "share_over_one.yaml": [
        "7:14: max_share must be in [0, 1], got 50; a share is a fraction: write 0.5 for 50%"
    ],
    "number_as_text.yaml": [
        "2:9: budget must be a number, got text '10'; drop the quotes: 10",
        "6:11: cost of niche 'x' must be a number or a mapping period -> amount, got text '1,000'; "
        "write numbers without separators: 1000",
    ],
    "mixed_list_mapping.yaml": [
        "5:3: YAML syntax error: expected <block end>, but found '?'; this `key: value` line follows list "
        "items (`- ...`) at the same indentation; in a mapping drop the dashes, in a list start this line "
        "with `- `",
    ],
    "mixed_mapping_list.yaml": [
        "5:3: YAML syntax error: expected <block end>, but found '-'; this list item (`- ...`) follows "
        "`key: value` lines at the same indentation; in a mapping drop the `- `",
    ],
    "deal_amount_several.yaml": [
        "15:5: deal 'eu' pays an amount per period, so it funds one niche; give a 'share' to fund several",
    ],
    "deal_conditions.yaml": [
        "16:29: deal 'eu' cannot require itself",
        "16:33: unknown niche or deal 'cn' in requires of deal 'eu'; expected one of: x, y, eu",
        "16:37: niche 'y' has no level 'large' (in requires of deal 'eu'); expected one of: small",
        "16:58: deal 'eu' cannot exclude itself",
        "16:62: unknown deal 'y' in excludes of deal 'eu'; expected one of: eu",
        "16:66: unknown key 'when' in conditions of deal 'eu'; expected one of: requires, excludes",
    ],
    "deal_niche_id.yaml": [
        "12:3: deal 'x' has the id of a niche; give the deal an id of its own",
    ],
    "deal_no_partner.yaml": [
        "12:3: deal 'eu' is missing required key 'partner'",
        "15:16: unknown power 'US' in exposure of deal 'eu'; expected one of: EU",
        "16:25: reliability of deal 'eu' in calm must be in [0, 1], got 1.2",
        "16:30: unknown world 'wet' in reliability of deal 'eu'; expected one of: calm, storm",
    ],
    "deal_pays_nothing.yaml": [
        "12:3: deal 'eu' must say what it pays: 'share' (of the niches' cost) or 'amount' (per period)",
    ],
    "deal_share_and_amount.yaml": [
        "16:5: deal 'eu' gives both 'share' and 'amount'; keep one",
    ],
    "deal_unknown_niche.yaml": [
        "14:14: unknown niche 'z' in niches of deal 'eu'; expected one of: x, y",
        "14:17: niche 'y' has no level 'large' (in niches of deal 'eu'); expected one of: small",
        "15:12: share of deal 'eu' must be in (0, 1], got 1.5",
    ],
    "pairwise_missing_pair.yaml": [
        "7:3: pairwise comparisons of criteria miss 2 pairs: [relevance, autonomy, x], "
        "[economic, autonomy, x]; compare every pair once"
    ],
    "pairwise_off_scale.yaml": [
        "7:29: pairwise comparisons of criteria: relevance vs economic must be on Saaty's scale, "
        "1/9 to 9, got 12"
    ],
    "pairwise_twice.yaml": [
        "8:7: pairwise comparisons of criteria: economic and relevance are compared twice "
        "(also on line 7); compare each pair once",
        "9:7: pairwise comparisons of criteria: 'relevance' is compared with itself; compare it with another",
        "10:19: unknown criterion 'econmic' in pairwise comparisons of criteria; did you mean 'economic'?",
    ],
    "pairwise_and_weight.yaml": [
        "4:15: criterion 'relevance' has a weight, but the criteria's weights come from 'pairwise'; "
        "remove the weight or the comparisons",
        "5:13: criterion 'economic' has a weight, but the criteria's weights come from 'pairwise'; "
        "give it a mapping (description, scale) or nothing",
        "7:29: pairwise comparisons of criteria: relevance vs economic must be a number or a fraction "
        "like 1/3, got text 'three'",
    ],
    "start_unknown_period.yaml": ["6:40: unknown period '2028' in start of niche 'x'; did you mean '2027'?"],
    "start_empty.yaml": [
        "8:47: start of level 'small' of niche 'x' must list at least one period id, or be 'any'"
    ],
    "start_at_in_level_id.yaml": [
        "9:7: level 'big@home' of niche 'x' may start later, so its id cannot contain '@' "
        "(it separates a level from its start period); rename the level"
    ],
    "floor_share.yaml": [
        "7:21: share of min_cvar must be in (0, 1], got 0",
        "8:20: unknown key 'shares' in min_worst_case; did you mean 'share'?",
    ],
    "syntax_error.yaml": [
        "4:7: YAML syntax error: expected ',' or '}', but got ':'; check indentation, colons and quoting here"
    ],
    "empty.yaml": [
        "1:1: the file is empty; a scenario needs at least name, budget, criteria and niches "
        "(`niches init` writes a starter)"
    ],
    "not_a_mapping.yaml": ["1:1: a scenario must be a mapping, got a list"],
    "wrong_type.yaml": [
        "6:11: cost of niche 'x' must be a number or a mapping period -> amount, got text 'lots'"
    ],
    "unknown_key.yaml": [
        "1:1: the scenario is missing required key 'budget'",
        "2:1: unknown key 'budjet' in the scenario; did you mean 'budget'?",
    ],
    "unknown_niche.yaml": [
        "6:47: unknown niche 'mediaton' in requires of niche 'water'; did you mean 'mediation'?"
    ],
    "unknown_criterion.yaml": [
        "5:25: unknown criterion 'relevanse' in scores of niche 'x'; did you mean 'relevance'?"
    ],
    "unknown_world.yaml": ["6:42: unknown world 'strom' in outlook of niche 'x'; did you mean 'storm'?"],
    "unknown_power.yaml": ["6:43: unknown power 'Chine' in exposure of niche 'x'; did you mean 'China'?"],
    "unknown_period.yaml": ["3:20: unknown period '2028' in budget; did you mean '2027'?"],
    "unknown_capacity.yaml": [
        "6:39: unknown capacity 'diplomat' in uses of niche 'x'; did you mean 'diplomats'?"
    ],
    "negative_cost.yaml": ["7:21: cost of level 'small' of niche 'x' must be >= 0, got -5"],
    "share_out_of_range.yaml": ["6:48: exposure of niche 'x' to USA must be in [0, 1], got 1.5"],
    "probabilities_sum.yaml": ["4:1: world probabilities sum to 0.9, not 1; adjust them so they add up to 1"],
    "score_order.yaml": [
        "5:28: score of niche 'x' on a must satisfy low <= mode <= high, got low=3, mode=2, high=5"
    ],
    "include_and_exclude.yaml": [
        "8:18: niche 'x' is in both must_include and must_exclude; remove it from one of them"
    ],
    "duplicate_key.yaml": ["6:3: duplicate key 'x' (first defined at line 5); remove one of them"],
    "missing_required.yaml": ["1:1: the scenario is missing required key 'budget'"],
    "zero_weights.yaml": ["3:11: criteria weights are all 0; give at least one a positive weight"],
    "total_period.yaml": ["2:17: 'total' cannot be a period id: it names the sum over all periods"],
    "synergy_twice.yaml": [
        "6:42: the synergy of 'y' and 'x' is declared on both niches; declare each pair on one side only"
    ],
    "cvar_tail.yaml": ["7:14: cvar_tail must be in (0, 1], got 0"],
    "scale_order.yaml": ["3:25: scale of criterion 'a' must have low < high, got [10, 0]"],
    "unknown_objective.yaml": ["6:12: unknown objective 'worstcase'; did you mean 'worst_case'?"],
    "control_character.yaml": [
        "2:20: the file holds a control character (#x0007) that YAML does not allow; delete it"
    ],
    "escape_sequence.yaml": ["1:7: the text holds a control character (U+001B); delete it"],
    "nul_byte.yaml": [
        "2:11: the file holds a control character (#x0000) that YAML does not allow; delete it"
    ],
    "huge_integer.yaml": [
        "2:9: budget must be between -1e+09 and 1e+09 (the range of every number in a scenario; see the "
        "README), got a number of over 300 digits"
    ],
    "number_out_of_range.yaml": [
        "5:13: cost of niche 'x' must be between -1e+09 and 1e+09 (the range of every number in a scenario; "
        "see the README), got 1e+21"
    ],
    "bad_tags.yaml": [
        "2:9: cannot read 'abc' as !!int; remove the tag or correct the value",
        "3:15: cannot read 'abc' as !!float; remove the tag or correct the value",
        "5:29: cannot read 'notadate' as !!timestamp; remove the tag or correct the value",
        "6:12: cannot read 'maybe' as !!bool; remove the tag or correct the value",
    ],
    "recursive_anchor.yaml": [
        "4:9: values nest more than 40 levels deep (a recursive anchor?); a scenario needs only a few levels"
    ],
    "deep_nesting.yaml": ["5:66: values nest more than 40 levels deep; a scenario needs only a few levels"],
    "alias_bomb.yaml": [
        "9:7: the document holds more than 500,000 values once its anchors and aliases are expanded; "
        "write the values out instead of aliasing aliases"
    ],
    "too_many_levels.yaml": ["6:5: niche 'x' declares 21 levels; a niche may declare at most 20"],
    "misspelt_weight.yaml": ["4:15: unknown key 'wieght' in criterion 'relevance'; did you mean 'weight'?"],
    "misspelt_probability.yaml": [
        "5:10: unknown key 'probabilty' in world 'calm'; did you mean 'probability'?"
    ],
    "many_problems.yaml": [
        "2:9: budget must be >= 0, got -1",
        "5:25: unknown criterion 'b' in scores of niche 'x'; expected one of: a",
        "6:13: cost of niche 'y' must be a number or a mapping period -> amount, got a list",
    ],
    # constellation files (`niches rivals`): `{file}` stands for the file's own path
    "constellation_unknown_key.yaml": [
        "5:3: unknown key 'crowdng' in constellation; did you mean 'crowding'?",
        "6:1: unknown key 'extra' in the constellation file; expected constellation",
    ],
    "constellation_missing_members.yaml": ["1:1: constellation 'members' must list 2 to 12 scenario files"],
    "constellation_member_not_found.yaml": [
        "2:37: member scenario '../rivals/nowhere.yaml' not found (paths are relative to the constellation "
        "file)"
    ],
    "constellation_member_outside.yaml": [
        "2:37: member scenario '/etc/hostname' is outside the folder niches runs in and the folder of "
        "{file}; move it there or allow its folder with `niches --allow-path DIR`"
    ],
    "constellation_one_member.yaml": [
        "2:12: a constellation has 2 to 12 members (every round re-solves each against the others); this "
        "one lists 1"
    ],
    "constellation_member_twice.yaml": [
        "2:61: member 'cycle_a' is listed twice (a member is named by its file's name); list each scenario "
        "once"
    ],
    "constellation_undeclared_niche.yaml": [
        "5:5: crowded niche 'mediaton' is declared by no member; did you mean 'mediation'?"
    ],
    "constellation_multiplier.yaml": [
        "4:12: crowding of 'x' at 2 occupants must be in (0, 1], got 1.2",
        "5:12: crowding of 'y' at 2 occupants must be in (0, 1], got 0",
        "6:12: crowding of 'z' at 2 occupants must be a number in (0, 1], got text '85%'; a share is a "
        "fraction: write 0.85",
    ],
    "constellation_occupants.yaml": [
        "4:9: crowding of 'x': the number of occupants must be at least 2, got 1 (one occupant keeps the "
        "whole value)",
        "4:17: crowding of 'x': the number of occupants must be a whole number, got '2.5'",
        "4:27: crowding of 'x': the number of occupants must be a whole number, got 'two'",
        "5:8: crowding of 'y' must map a number of occupants to a multiplier, like {2: 0.85, 3: 0.7}",
    ],
    "constellation_increasing.yaml": [
        "4:20: crowding of 'x' rises from 0.7 at 2 occupants to 0.9 at 3; more occupants may not leave "
        "each one more of the value"
    ],
    "constellation_not_a_constellation.yaml": [
        "1:1: a constellation file must hold 'constellation:' with members and crowding"
    ],
}


def _load(path: Path) -> object:
    """Load a scenario, or a constellation file (its name starts with `constellation`)."""
    from niches.scenario.constellation import load_constellation

    return load_constellation(path) if path.name.startswith("constellation") else load_scenario(path)


def _expected(path: Path | str, name: str) -> list[str]:
    return [f"{path}:{line}".replace("{file}", str(path)) for line in EXPECTED[name]]


def test_every_invalid_file_has_an_expectation() -> None:
    assert sorted(p.name for p in (DATA / "invalid").glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loader_reports_exact_problems(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)  # members are read inside the folder niches runs in
    path = DATA / "invalid" / name
    with pytest.raises(ScenarioError) as info:
        _load(path)
    assert [str(p) for p in info.value.problems] == _expected(path, name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_validate_prints_problems_and_exits_2(name: str) -> None:
    path = f"tests/data/invalid/{name}"
    result = run_cli("validate", path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = [*_expected(path, name), "1 of 1 file invalid"]
    assert result.stderr.splitlines() == lines
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["negative_cost.yaml", "syntax_error.yaml"])
def test_cli_solve_refuses_invalid_input(name: str) -> None:
    result = run_cli("solve", f"tests/data/invalid/{name}")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.endswith("nothing was solved\n")


def test_impossible_niche_is_a_warning_and_the_solve_goes_on() -> None:
    path = "tests/data/valid/impossible_niche.yaml"
    result = run_cli("solve", path, "--format", "json")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"{path}:5:44: warning: niche 'ai' can never be chosen: it requires 'energy', which excludes it",
        f"{path}:7:47: warning: niche 'water' can never be chosen: it requires 'food', "
        "which must_exclude names",
    ]


def test_a_score_off_its_criterion_scale_is_a_warning_with_its_location() -> None:
    path = "tests/data/valid/off_scale.yaml"
    result = run_cli("solve", path, "--format", "json")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"{path}:8:28: warning: score of niche 'x' on a (12) is outside the scale [0, 10] of criterion 'a'; "
        "fix the score or widen the criterion's scale",
        f"{path}:9:28: warning: score of niche 'y' on a (-1, 11) is outside the scale [0, 10] of "
        "criterion 'a'; fix the score or widen the criterion's scale",
    ]
    assert '"value": "index points"' in result.stdout


def test_period_ids_compare_as_text() -> None:
    scenario = parse_scenario(
        "name: t\nperiods: [2026, '2027']\nbudget: {'2026': 5, 2027: 6}\ncriteria: {a: 1}\n"
        "niches:\n  x: {cost: {2026: 1, '2027': 2}, scores: {a: 1}}\n"
    )
    assert scenario.periods == ("2026", "2027")
    assert dict(scenario.budget) == {"2026": 5.0, "2027": 6.0}
    assert dict(scenario.niches[0].levels[0].cost) == {"2026": 1.0, "2027": 2.0}


def test_defaults_fill_in() -> None:
    scenario = parse_scenario("name: t\nbudget: 5\ncriteria: {a: 3, b: 1}\nniches:\n  x: {cost: 1}\n")
    assert scenario.periods == ("total",)
    assert [w.id for w in scenario.worlds] == ["baseline"]
    assert scenario.units == "USD million"
    assert scenario.weights == {"a": 0.75, "b": 0.25}
    assert scenario.niches[0].levels[0].id == "invest"
    assert scenario.rules.cvar_tail == 0.25


def test_score_means() -> None:
    scenario = parse_scenario(
        "name: t\nbudget: 5\ncriteria: {a: 1, b: 1, c: 1}\n"
        "niches:\n  x: {cost: 1, scores: {a: 3, b: [2, 6], c: {low: 1, mode: 2, high: 6}}}\n"
    )
    scores = scenario.niches[0].levels[0].scores
    assert [scores[c].mean for c in "abc"] == [3.0, 4.0, 3.0]


def test_only_safe_yaml_is_loaded() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(
            "name: !!python/object/apply:os.system ['true']\nbudget: !!python/name:os.system\n", "evil.yaml"
        )
    assert [str(p) for p in info.value.problems][2:] == [
        "evil.yaml:1:7: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'; "
        "write a plain value",
        "evil.yaml:2:9: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'; write a plain value",
    ]
