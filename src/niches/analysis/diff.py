"""What a change of assumptions does to the recommendation, and which change caused what.

Two scenario versions are compared as YAML data, cut into units a reviewer
recognises (one budget cap, one level of one niche, the world probabilities,
one rule...). Both versions are solved; then every change of the portfolio is
attributed by applying the units to the old version one at a time, and where
no single unit explains it, in pairs.
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
import posixpath
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

import yaml

from niches.numbers import share, share_change
from niches.optimize.evaluate import Metrics
from niches.optimize.model import Solution, solve
from niches.scenario import Scenario, ScenarioError, parse_scenario
from niches.scenario.inputs import Files, InputError, decoded
from niches.study import Study

Path_ = tuple[str, ...]
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's safe dumper when PyYAML has it (the variants are written and read again many times)."""
MAX_PAIRS = 120


class SourceError(Exception):
    """A side of the diff cannot be read (say which and why)."""


@dataclass(frozen=True)
class Unit:
    """One change of assumptions: where (a path in the YAML), and its text before and after."""

    path: Path_
    label: str
    before: Any
    after: Any
    description: str


@dataclass(frozen=True)
class Cause:
    """A change of the portfolio and the assumption changes that produce it."""

    niche: str
    before: str | None
    after: str | None
    units: tuple[str, ...]  # labels; empty when only all changes together produce it
    alone: bool


@dataclass(frozen=True)
class Diff:
    """Both versions, the assumption changes, both recommendations and the attribution."""

    old_name: str
    new_name: str
    old: Scenario
    new: Scenario
    units: tuple[Unit, ...]
    before: Solution
    after: Solution
    causes: tuple[Cause, ...]
    solves: int


def read_side(spec: str) -> tuple[str, str, Files]:
    """Return (display name, YAML text, where its judges are read) for a file path, `-`, or git `REV:PATH`.

    A scenario read from a git revision reads the judgement files it names from that revision.
    """
    from niches.scenario.inputs import FILES, InputError, read_bytes, shown

    if spec == "-" or Path(spec).exists():
        try:
            data = read_bytes(spec)
        except InputError as exc:
            raise SourceError(str(exc)) from None
        return shown(spec), _decoded(shown(spec), data), FILES
    if ":" in spec:
        rev, _, path = spec.partition(":")
        sha, inside = _git_location(spec, rev, path)
        return spec, _decoded(spec, _git_read(spec, sha, inside, rev, path)), GitFiles(rev, sha, inside)
    raise SourceError(f"{spec}: no such file; give a path or REV:PATH (for example HEAD~1:{spec})")


def _decoded(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{name}: is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"cannot run git ({exc})") from None


def _git_location(spec: str, rev: str, path: str) -> tuple[str, str]:
    """Return (commit id, path from the repository's top) of `path` at revision `rev`.

    Neither can be read by git as an option: the revision is resolved to a
    commit id first (after `--end-of-options`, and refused when it begins with
    '-'); the path must stay inside the repository.
    """
    if not rev or rev.startswith("-"):
        raise SourceError(f"{spec}: '{rev}' is not a revision; a revision cannot be empty or begin with '-'")
    if not path or path.startswith(("/", "\\")) or "\x00" in path:
        raise SourceError(f"{spec}: give a path inside the repository after the colon")
    prefix = _git("rev-parse", "--show-prefix")
    if prefix.returncode != 0:
        raise SourceError(f"{spec}: not inside a git repository; run niches diff from the repository")
    inside = posixpath.normpath(posixpath.join(prefix.stdout.decode("utf-8", "replace").strip(), path))
    if inside == ".." or inside.startswith("../") or posixpath.isabs(inside):
        raise SourceError(f"{spec}: '{path}' is outside the repository")
    commit = _git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if commit.returncode != 0:
        raise SourceError(f"{spec}: no revision '{rev}' in this repository; check it with git log")
    return commit.stdout.decode("ascii", "replace").strip(), inside


def _git_read(spec: str, sha: str, inside: str, rev: str, path: str) -> bytes:
    """Return the bytes of the blob `inside` at commit `sha` (at most the size limit)."""
    from niches.scenario.yamlsource import MAX_BYTES

    size = _git("cat-file", "-s", f"{sha}:{inside}")
    if size.returncode != 0:
        raise SourceError(
            f"{spec}: no file '{path}' at revision '{rev}'; check the path with git ls-tree {rev}"
        )
    if int(size.stdout.strip() or 0) > MAX_BYTES:
        raise SourceError(f"{spec}: more than {MAX_BYTES / 1e6:g} MB; scenarios are limited to that")
    return _git("cat-file", "blob", f"{sha}:{inside}").stdout


class GitFiles(Files):
    """The judgement files a scenario at a git revision names, read from that revision.

    Paths are shown `REV:path` (from the repository's top), relative to the
    scenario's folder in that revision; a glob matches that revision's tree.
    """

    def __init__(self, rev: str, sha: str, scenario: str) -> None:
        self.rev, self.sha = rev, sha
        self.folder = posixpath.dirname(scenario)

    def _inside(self, path: PurePath) -> str:
        return str(path).partition(":")[2]

    def named(self, written: str, naming: str | None) -> PurePath:
        joined = posixpath.normpath(posixpath.join(self.folder, written))
        if posixpath.isabs(written) or joined == ".." or joined.startswith("../"):
            raise InputError(written, "is outside the repository")
        return PurePosixPath(f"{self.rev}:{joined}")

    def matching(self, pattern: PurePath, naming: str | None) -> list[PurePath]:
        inside = self._inside(pattern)
        prefix = inside.split("*")[0].split("?")[0].split("[")[0]
        folder = posixpath.dirname(prefix)
        listed = _git("ls-tree", "-r", "--name-only", self.sha, "--", folder or ".")
        names = listed.stdout.decode("utf-8", "replace").splitlines() if listed.returncode == 0 else []
        depth = inside.count("/")
        found = [n for n in names if n.count("/") == depth and fnmatch.fnmatchcase(n, inside)]
        return [PurePosixPath(f"{self.rev}:{n}") for n in sorted(found)]

    def exists(self, path: PurePath) -> bool:
        return _git("cat-file", "-e", f"{self.sha}:{self._inside(path)}").returncode == 0

    def read_text(self, path: PurePath) -> str:
        shown = str(path)
        try:
            data = _git_read(shown, self.sha, self._inside(path), self.rev, self._inside(path))
        except SourceError as exc:
            raise InputError(shown, str(exc).partition(": ")[2]) from None
        return decoded(data, shown)


def _load(name: str, text: str, files: Files) -> tuple[Scenario, dict[str, Any]]:
    scenario = parse_scenario(text, name, files)
    data = yaml.safe_load(text)
    return scenario, data


SHARES = ("world probabilities", "max_exposure", "max_share", "max_imbalance", "core_index", "cvar_tail")
"""Labels (and niche fields ending so) whose numbers are shares, shown as percentages."""


def _is_share(label: str) -> bool:
    return label in SHARES or label.endswith(" exposure")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _num(x: Any, as_share: bool = False) -> str:
    if as_share and _number(x):
        return share(x)
    if isinstance(x, float):
        return f"{x:g}"
    return yaml.safe_dump(x, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def _delta(a: Any, b: Any, as_share: bool = False) -> str:
    if _number(a) and _number(b):
        if as_share:
            return f" ({share_change(a, b)})"
        change = b - a
        return f" ({'+' if change >= 0 else ''}{change:g})"
    return ""


def _describe(label: str, before: Any, after: Any, as_share: bool | None = None) -> str:
    as_share = _is_share(label) if as_share is None else as_share
    if before is None:
        return f"{label} added: {_num(after, as_share)}"
    if after is None:
        return f"{label} removed (was {_num(before, as_share)})"
    if isinstance(before, dict) and isinstance(after, dict):
        parts = []
        for key in [*before, *[k for k in after if k not in before]]:
            a, b = before.get(key), after.get(key)
            if a != b:
                parts.append(
                    _describe(str(key), a, b, as_share)
                    if a is None or b is None
                    else f"{key} {_num(a, as_share)} -> {_num(b, as_share)}{_delta(a, b, as_share)}"
                )
        return f"{label}: " + "; ".join(parts)
    return f"{label} {_num(before, as_share)} -> {_num(after, as_share)}{_delta(before, after, as_share)}"


def _odds(worlds: Any) -> dict[str, Any] | None:
    """Return world -> probability from a `worlds` value (either form)."""
    if not isinstance(worlds, dict):
        return None
    return {str(k): v.get("probability") if isinstance(v, dict) else v for k, v in worlds.items()}


def _keyed(mapping: Any) -> dict[str, Any]:
    return {str(k): v for k, v in mapping.items()} if isinstance(mapping, dict) else {}


def units_between(old: dict[str, Any], new: dict[str, Any]) -> list[Unit]:
    """Cut the differences between two scenario documents into reviewable units."""
    units: list[Unit] = []

    def add(path: Path_, label: str, before: Any, after: Any) -> None:
        if before != after:
            units.append(Unit(path, label, before, after, _describe(label, before, after)))

    keys = [*old, *[k for k in new if k not in old]]
    for key in keys:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key in ("budget", "capacities", "rules") and isinstance(a, dict) and isinstance(b, dict):
            ka, kb = _keyed(a), _keyed(b)
            for sub in [*ka, *[k for k in kb if k not in ka]]:
                label = (
                    f"budget[{sub}]"
                    if key == "budget"
                    else f"capacity[{sub}]"
                    if key == "capacities"
                    else sub
                )
                add((key, sub), label, ka.get(sub), kb.get(sub))
        elif key == "criteria" and isinstance(a, dict) and isinstance(b, dict):
            ka, kb = _keyed(a), _keyed(b)
            for sub in [*ka, *[k for k in kb if k not in ka]]:
                add((key, sub), f"criterion {sub}", ka.get(sub), kb.get(sub))
        elif key == "worlds":
            unit = Unit(
                (key,), "world probabilities", a, b, _describe("world probabilities", _odds(a), _odds(b))
            )
            units.append(unit)
        elif key == "niches" and isinstance(a, dict) and isinstance(b, dict):
            ka, kb = _keyed(a), _keyed(b)
            for nid in [*ka, *[k for k in kb if k not in ka]]:
                na, nb = ka.get(nid), kb.get(nid)
                if na == nb:
                    continue
                if na is None or nb is None or not isinstance(na, dict) or not isinstance(nb, dict):
                    add((key, nid), f"niche {nid}", na, nb)
                    continue
                for field in [*na, *[f for f in nb if f not in na]]:
                    fa, fb = na.get(field), nb.get(field)
                    if fa == fb:
                        continue
                    if field == "levels" and isinstance(fa, dict) and isinstance(fb, dict):
                        la, lb = _keyed(fa), _keyed(fb)
                        for lid in [*la, *[k for k in lb if k not in la]]:
                            add((key, nid, field, lid), f"{nid}.{lid}", la.get(lid), lb.get(lid))
                    else:
                        add((key, nid, field), f"{nid} {field}", fa, fb)
        elif key != "assertions":
            add((key,), key, a, b)
    return units


def apply_units(old: dict[str, Any], units: list[Unit]) -> dict[str, Any]:
    """Return the old document with `units` set to their new values."""
    data = copy.deepcopy(old)
    for unit in units:
        target = data
        for step in unit.path[:-1]:
            target = _child(target, step)
        last = unit.path[-1]
        existing = _match(target, last)
        if unit.after is None:
            target.pop(existing, None)
        else:
            target[existing if existing is not None else last] = copy.deepcopy(unit.after)
    return data


def _match(mapping: dict[Any, Any], key: str) -> Any:
    for existing in mapping:
        if str(existing) == key:
            return existing
    return None


def _child(mapping: dict[Any, Any], key: str) -> dict[Any, Any]:
    existing = _match(mapping, key)
    if existing is None:
        mapping[key] = {}
        existing = key
    child = mapping[existing]
    assert isinstance(child, dict)
    return child


def _portfolio_changes(
    before: dict[str, str], after: dict[str, str], order: list[str]
) -> list[tuple[str, str | None, str | None]]:
    return [(n, before.get(n), after.get(n)) for n in order if before.get(n) != after.get(n)]


def diff(old_spec: str, new_spec: str, solver: str = "highs") -> Diff:
    """Compare two scenario versions (paths or git REV:PATH) and attribute every portfolio change."""
    old_name, old_text, old_files = read_side(old_spec)
    new_name, new_text, new_files = read_side(new_spec)
    old, old_data = _load(old_name, old_text, old_files)
    new, new_data = _load(new_name, new_text, new_files)
    before = solve(old, solver=solver)
    after = solve(new, solver=solver)
    solves = before.solves + after.solves
    units = units_between(old_data, new_data)
    order = [n.id for n in new.niches] + [n.id for n in old.niches if n.id not in {m.id for m in new.niches}]
    order += [d.id for d in new.deals] + [d.id for d in old.deals if d.id not in {e.id for e in new.deals}]
    changes = _portfolio_changes(before.portfolio, after.portfolio, order)
    cache: dict[tuple[int, ...], dict[str, str] | None] = {}

    def outcome(indices: tuple[int, ...]) -> dict[str, str] | None:
        if indices not in cache:
            data = apply_units(old_data, [units[i] for i in indices])
            try:
                text = yaml.dump(data, Dumper=_DUMPER, sort_keys=False)
                variant = parse_scenario(text, old_name, old_files)
            except ScenarioError:
                cache[indices] = None  # this combination alone is not a valid scenario
            else:  # attribution only needs the optimum: the study's fastest engine answers it
                study = Study(variant, solver=solver)
                result = study.engine.best(tie_breaks=True)
                nonlocal solves
                solves += study.solves
                cache[indices] = result.portfolio if result.metrics is not None else None
        return cache[indices]

    causes = []
    for niche, was, now in changes:
        found: tuple[int, ...] | None = None
        for i in range(len(units)):
            result = outcome((i,))
            if result is not None and result.get(niche) == now:
                found = (i,) if found is None else (*found, i)
        alone = found is not None
        if found is None:
            for pair in itertools.islice(itertools.combinations(range(len(units)), 2), MAX_PAIRS):
                result = outcome(pair)
                if result is not None and result.get(niche) == now:
                    found = pair
                    break
        labels = tuple(units[i].label for i in found) if found else ()
        causes.append(Cause(niche, was, now, labels, alone))
    return Diff(old_name, new_name, old, new, tuple(units), before, after, tuple(causes), solves)


def metric_deltas(
    before: Metrics | None, after: Metrics | None
) -> list[tuple[str, float | None, float | None]]:
    """Return (metric, before, after) for the headline figures and each power's exposure."""
    names = [
        ("expected value", "expected_value"),
        ("worst case", "worst_case"),
        ("CVaR", "cvar"),
        ("cost", "cost"),
    ]
    rows: list[tuple[str, float | None, float | None]] = [
        (
            label,
            None if before is None else getattr(before, key),
            None if after is None else getattr(after, key),
        )
        for label, key in names
    ]
    powers = list((before.exposure if before else {}) | (after.exposure if after else {}))
    for power in powers:
        rows.append(
            (
                f"exposure {power}",
                None if before is None else before.exposure.get(power),
                None if after is None else after.exposure.get(power),
            )
        )
    return rows
