"""Mutated scenarios, at the YAML level and the byte level: never a traceback, always a clear exit.

Each example takes a bundled scenario, breaks it (a value replaced by one of
another type or range, a key dropped or misspelt, bytes flipped, inserted or
cut off) and runs `niches solve` on it in-process. Whatever the damage, the
exit code is 0, 1 or 2, no exception escapes, every problem line reads
FILE:LINE:COL, and a file broken on purpose (a negative cost, an unknown key,
a probability above 1) is never solved. `bench/fuzz.py` runs the same
campaign for longer, by hand.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from niches.cli import app

from .conftest import ROOT

BASES = {
    name: (ROOT / "options" / name).read_text()
    for name in ("kazakhstan.yaml", "canada.yaml", "turkey.yaml", "azerbaijan.yaml")
}
SUMMARY = re.compile(r"^\d+ problems? found; nothing was solved$")

ODD_VALUES = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(-3, 3), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


@st.composite
def yaml_mutations(draw: st.DrawFn) -> tuple[str, bool]:
    """Return (text, broken on purpose) for a bundled scenario changed at the YAML level."""
    data = yaml.safe_load(BASES[draw(st.sampled_from(sorted(BASES)))])
    paths = _paths(data)
    kind = draw(
        st.sampled_from(["replace", "drop", "misspell", "negative cost", "unknown key", "probability"])
    )
    if kind == "negative cost":
        costs = [p for p in paths if p[-1] == "cost" and isinstance(_parent(data, p)[p[-1]], (int, float))]
        path = draw(st.sampled_from(costs))
        _parent(data, path)[path[-1]] = -draw(st.integers(1, 10**6))
        return yaml.safe_dump(data, sort_keys=False), True
    if kind == "unknown key":
        data[draw(st.sampled_from(["budjet", "nitches", "rulez", "objectve"]))] = 1
        return yaml.safe_dump(data, sort_keys=False), True
    if kind == "probability":
        world = draw(st.sampled_from(sorted(data["worlds"])))
        entry = data["worlds"][world]
        value = draw(st.floats(1.01, 1e6))
        if isinstance(entry, dict):
            entry["probability"] = value
        else:
            data["worlds"][world] = value
        return yaml.safe_dump(data, sort_keys=False), True
    path = draw(st.sampled_from(paths))
    parent = _parent(data, path)
    if kind == "replace":
        parent[path[-1]] = draw(ODD_VALUES)
    elif kind == "drop":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[str(path[-1]) + draw(st.sampled_from(["x", "_", "s"]))] = parent.pop(path[-1])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans())), False


@st.composite
def byte_mutations(draw: st.DrawFn) -> tuple[bytes, bool]:
    """Return bytes of a bundled scenario with bytes flipped, inserted or cut off."""
    data = bytearray(BASES[draw(st.sampled_from(sorted(BASES)))].encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "cut", "control"]))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "cut":
            del data[at:]
        else:
            data[at:at] = bytes([draw(st.sampled_from([0, 7, 8, 11, 12, 27, 127]))])
        if not data:
            break
    return bytes(data), False


def _check(tmp_path: Path, content: bytes, broken: bool) -> None:
    path = tmp_path / "mutated.yaml"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["solve", str(path), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and SUMMARY.match(lines[-1]), lines
        for line in lines[:-1]:
            assert line.startswith(f"{path}:") and re.match(rf"^{re.escape(str(path))}:\d+:\d+: \S", line), (
                line
            )
    if broken:
        assert result.exit_code == 2, result.stdout[:300]


FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@given(yaml_mutations())
@FUZZ
def test_yaml_level_mutations_exit_cleanly(tmp_path: Path, mutated: tuple[str, bool]) -> None:
    text, broken = mutated
    _check(tmp_path, text.encode(), broken)


@given(byte_mutations())
@FUZZ
def test_byte_level_mutations_exit_cleanly(tmp_path: Path, mutated: tuple[bytes, bool]) -> None:
    content, broken = mutated
    _check(tmp_path, content, broken)


# --------------------------------------------------------------------------- the other surfaces

JUDGES = {
    name: (ROOT / "options" / "kazakhstan" / name).read_bytes() for name in ("ministry.yaml", "economy.yaml")
}
"""Judgement files, mutated and named by the default scenario's judges."""

MEMBER = b"""name: small
budget: 10
criteria: {a: 1}
niches:
  road: {cost: 4, scores: {a: 2}}
  port: {cost: 5, scores: {a: 3}}
"""

PROVENANCE = (
    "# small\n\n## Provenance\n\n| what | value |\n|---|---|\n| scenario | s.yaml |\n"
    "| SHA-256 of the scenario | 0 |\n| solver | HiGHS |\n| Monte Carlo | 20 samples, seed 0 |\n"
    "| commitments | --pin road=invest |\n| generated | 2026-01-01 |\n"
)


@st.composite
def mutated_bytes(draw: st.DrawFn, base: bytes) -> bytes:
    """Return `base` with one to four bytes flipped, runs inserted (NUL, escape, CR...) or the end cut."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "cut", "control"]))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "cut":
            del data[at:]
        else:
            data[at:at] = bytes([draw(st.sampled_from([0, 7, 8, 10, 13, 27, 127]))])
    return bytes(data)


def _clean_exit(args: list[str], folder: Path, stdin: bytes | None = None) -> Any:
    """Run the CLI in `folder`; it exits 0, 1 or 2, with no exception and no traceback."""
    import os

    before = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(app, args, input=stdin)
    finally:
        os.chdir(before)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def _located(result: Any, files: tuple[str, ...]) -> None:
    """Every problem line of a failed validation names one of `files` with a line and column."""
    if result.exit_code != 2:
        return
    for line in result.stderr.splitlines()[:-1]:
        assert any(re.match(rf"^{re.escape(f)}:\d+:\d+: \S", line) for f in files), line


SURFACES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def judge_case(folder: Path, content: bytes) -> None:
    """The default scenario with its ministry's judgement file replaced by `content`: validate."""
    import shutil

    shutil.copy(ROOT / "options" / "kazakhstan.yaml", folder / "kazakhstan.yaml")
    shutil.copytree(ROOT / "options" / "kazakhstan", folder / "kazakhstan", dirs_exist_ok=True)
    (folder / "kazakhstan" / "ministry.yaml").write_bytes(content)
    result = _clean_exit(["validate", "kazakhstan.yaml"], folder)
    _located(result, ("kazakhstan.yaml", "kazakhstan/ministry.yaml"))


def member_case(folder: Path, content: bytes) -> None:
    """A two-member coalition whose second member is `content`: validate, then coalition."""
    (folder / "a.yaml").write_bytes(MEMBER)
    (folder / "b.yaml").write_bytes(content)
    (folder / "c.yaml").write_text("coalition:\n  members: [a.yaml, b.yaml]\n  shared: [road]\n")
    _located(_clean_exit(["validate", "c.yaml"], folder), ("c.yaml", "b.yaml"))
    _clean_exit(["coalition", "c.yaml", "--format", "json"], folder)


CONSTELLATION = b"""constellation:
  name: two roads
  members: [a.yaml, b.yaml]
  crowding:
    road: {2: 0.5, 3: 0.25}
    port: {2: 0.9}
"""


def constellation_case(folder: Path, content: bytes) -> None:
    """A constellation file that is `content` (two valid members): validate, then rivals."""
    (folder / "a.yaml").write_bytes(MEMBER)
    (folder / "b.yaml").write_bytes(MEMBER)
    (folder / "r.yaml").write_bytes(content)
    _located(_clean_exit(["validate", "r.yaml"], folder), ("r.yaml", "a.yaml", "b.yaml"))
    _clean_exit(["rivals", "r.yaml", "--format", "json"], folder)


def provenance_case(folder: Path, content: bytes) -> None:
    """A report whose text (a provenance block) is `content`: report --check."""
    (folder / "s.yaml").write_bytes(MEMBER)
    (folder / "plan.md").write_bytes(content)
    _clean_exit(["report", "--check", "plan.md"], folder)


def stdin_case(folder: Path, content: bytes) -> None:
    """`content` on standard input: validate -, solve -."""
    _located(_clean_exit(["validate", "-"], folder, stdin=content), ("<stdin>",))
    _clean_exit(["solve", "-", "--format", "json"], folder, stdin=content)


judge_mutations = st.sampled_from(sorted(JUDGES)).flatmap(lambda name: mutated_bytes(JUDGES[name]))
member_mutations = mutated_bytes(MEMBER)
provenance_mutations = mutated_bytes(PROVENANCE.encode())
constellation_mutations = mutated_bytes(CONSTELLATION)

SURFACE_CASES = {
    "constellation": (constellation_mutations, constellation_case),
    "judges": (judge_mutations, judge_case),
    "members": (member_mutations, member_case),
    "provenance": (provenance_mutations, provenance_case),
    "stdin": (member_mutations, stdin_case),
}
"""Surface name -> (strategy of mutated bytes, the check run on them in a fresh folder)."""


@pytest.mark.parametrize("surface", sorted(SURFACE_CASES))
def test_mutated_surfaces_exit_cleanly(tmp_path: Path, surface: str) -> None:
    strategy, case = SURFACE_CASES[surface]

    @given(strategy)
    @SURFACES
    def check(content: bytes) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            case(Path(folder), content)

    check()
