"""Assertions (`niches check`), the JSON Schema and the starter scenario."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from niches.scenario import (
    ASSERTION_KEYS,
    CONDITION_KEYS,
    DEAL_KEYS,
    LEVEL_KEYS,
    NICHE_KEYS,
    RULE_KEYS,
    TOP_KEYS,
    load_scenario,
)
from niches.scenario.schema import scenario_schema, schema_text
from niches.scenario.starter import STARTER

from .conftest import ROOT, run_cli

VALID = sorted(
    [
        *ROOT.glob("options/*.yaml"),
        *ROOT.glob("tests/data/valid/*.yaml"),
        ROOT / "tests/data/published/california.yaml",
    ]
)


def test_shipped_schema_is_in_sync() -> None:
    assert (ROOT / "schema" / "scenario-v1.schema.json").read_text() == schema_text()
    assert run_cli("schema").stdout == schema_text()


def test_schema_knows_every_key_the_loader_knows() -> None:
    schema = scenario_schema()
    props = schema["properties"]
    assert set(props) == set(TOP_KEYS)
    niche = props["niches"]["additionalProperties"]["properties"]
    assert set(niche) == set(NICHE_KEYS) | set(LEVEL_KEYS)
    level = props["niches"]["additionalProperties"]["properties"]["levels"]["additionalProperties"][
        "properties"
    ]
    assert set(level) == set(LEVEL_KEYS)
    assert set(props["rules"]["properties"]) == set(RULE_KEYS)
    assert set(props["assertions"]["properties"]) == set(ASSERTION_KEYS)
    deal = props["deals"]["additionalProperties"]["properties"]
    assert set(deal) == set(DEAL_KEYS)
    assert set(deal["conditions"]["properties"]) == set(CONDITION_KEYS)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_example_validates_against_the_schema(path: Path) -> None:
    load_scenario(path)
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema())


def test_schema_rejects_an_unknown_key() -> None:
    data = yaml.safe_load((ROOT / "tests/data/invalid/unknown_key.yaml").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, scenario_schema())


def test_init_writes_a_starter_that_validates_solves_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    result = run_cli("init", str(path))
    schema_file = tmp_path / "niches.schema.json"
    assert (result.returncode, result.stdout) == (
        0,
        f"wrote {path} and {schema_file}; next: niches validate {path} && niches solve {path}\n",
    )
    assert path.read_text() == STARTER
    assert STARTER.startswith("# yaml-language-server: $schema=./niches.schema.json\n")
    assert schema_file.read_text() == schema_text()  # what the first line points at, offline
    jsonschema.validate(yaml.safe_load(STARTER), scenario_schema())
    assert run_cli("validate", str(path)).returncode == 0
    solved = json.loads(run_cli("solve", str(path), "-f", "json").stdout)
    assert solved["status"] == "optimal"
    assert run_cli("check", str(path)).returncode == 0
    again = run_cli("init", str(path))
    assert again.returncode == 2
    assert again.stderr == f"niches: error: {path}: already exists; pass --force to overwrite it\n"


def test_check_fails_with_a_clear_list(tmp_path: Path) -> None:
    text = STARTER.replace("recommend: [mediation]", "recommend: {education: invest}").replace(
        "min_expected_value: 10", "min_expected_value: 99"
    )
    path = tmp_path / "strict.yaml"
    path.write_text(text)
    result = run_cli("check", str(path), "-f", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    failed = [a["assertion"] for a in data["assertions"] if not a["holds"]]
    assert failed == ["recommend education", "min_expected_value"]
    assert result.stderr.splitlines() == [
        f"{path}:95:3: assertion failed: recommend education: required invest, found left out",
        f"{path}:96:3: assertion failed: min_expected_value: required >= 99, found 17.71",
    ]


def test_check_core_index_and_regret(tmp_path: Path) -> None:
    text = STARTER.replace(
        "  max_exposure: {China: 0.45}\n",
        "  max_exposure: {China: 0.45}\n  core_index: {mediation: 0.9}\n"
        "  max_regret: 50\n  samples: 100\n  seed: 3\n",
    )
    path = tmp_path / "core.yaml"
    path.write_text(text)
    data = json.loads(run_cli("check", str(path), "-f", "json").stdout)
    names = [a["assertion"] for a in data["assertions"]]
    assert names[-2:] == ["max_regret", "core_index mediation"]


def test_unknown_assertion_key_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(STARTER.replace("  min_expected_value: 10", "  min_expected_valu: 10"))
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert (
        "unknown key 'min_expected_valu' in assertions; did you mean 'min_expected_value'?" in result.stderr
    )
