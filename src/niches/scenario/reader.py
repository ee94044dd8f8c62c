"""Loading a scenario: read, parse and validate a file into a Scenario (the reader over every section)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from niches.scenario import inputs
from niches.scenario import judges as panel
from niches.scenario.adapt_reader import _AdaptSections
from niches.scenario.checks import _hint
from niches.scenario.deals_reader import _DealSections
from niches.scenario.frame_reader import _FrameSections
from niches.scenario.judges import Judge
from niches.scenario.judges_reader import _JudgeSections
from niches.scenario.keys import SIZE_LIMITS, TOP_KEYS
from niches.scenario.niches_reader import _NicheSections, _normalise_synergy
from niches.scenario.rules_reader import _RuleSections
from niches.scenario.types import OBJECTIVES, Scenario, ScenarioError
from niches.scenario.yamlsource import Location, Problem, YNode, parse_yaml


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario at `path` (`-` reads standard input)."""
    return parse_scenario(read_source(path), inputs.shown(path))


def read_source(path: str | Path) -> str:
    """Return the UTF-8 text at `path` (`-`: standard input); raise ScenarioError saying why not.

    Reading follows `niches.scenario.inputs`: a regular file or standard input, at most
    10 MB counted while reading.
    """
    try:
        return inputs.read_text(path)
    except inputs.InputError as exc:
        raise ScenarioError([Problem(Location(exc.path, 1, 1), exc.message)]) from None


def judged_by(path: str | Path) -> Scenario:
    """Validate the judgement file at `path` with a scenario that lists it under `judges:`.

    A judgement file's ids (criteria, worlds, niches) are the scenario's, so it
    is read with the first scenario (by name) in its folder or the folder above
    whose `judges:` include it. Raise ScenarioError with the problems (located
    in the judgement file or the scenario), or when no scenario lists it.
    """
    target = Path(path).resolve()
    for folder in (target.parent, target.parent.parent):
        for candidate in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            if candidate.resolve() == target:
                continue
            try:
                text = read_source(candidate)
            except ScenarioError:
                continue
            if "judges:" not in text or panel.is_judgement_file(text):
                continue
            shown = os.path.relpath(candidate)
            try:
                scenario = parse_scenario(text, candidate.as_posix() if shown.startswith("..") else shown)
            except ScenarioError as exc:
                if any(Path(p.loc.file).resolve() == target for p in exc.problems):
                    raise
                continue
            if any(Path(j.source).resolve() == target for j in scenario.judges):
                return scenario
    raise ScenarioError(
        [
            Problem(
                Location(str(path), 1, 1),
                "a judgement file that no scenario in its folder or the one above lists under judges:; "
                "list it there, or validate the scenario that does",
            )
        ]
    )


def parse_scenario(text: str, file: str = "<string>", files: inputs.Files = inputs.FILES) -> Scenario:
    """Validate scenario YAML `text`; raise ScenarioError listing every problem.

    `files` is where the judgement files it names are read (a git revision for `niches diff`).
    """
    parsed = parse_yaml(text, file, SIZE_LIMITS)
    problems = list(parsed.problems)
    if parsed.root is None and not problems:
        problems.append(
            Problem(
                Location(file, 1, 1),
                "the file is empty; a scenario needs at least name, budget, criteria and niches "
                "(`niches init` writes a starter)",
            )
        )
    if parsed.root is None:
        raise ScenarioError(problems)
    reader = _Reader(file, problems, files)
    scenario = reader.scenario(parsed.root)
    seen = {(p.loc.line, p.loc.column) for p in parsed.problems}
    reader.problems[len(parsed.problems) :] = [
        p for p in reader.problems[len(parsed.problems) :] if (p.loc.line, p.loc.column) not in seen
    ]  # a value the YAML layer rejected is not reported twice
    errors = [p for p in reader.problems if p.severity == "error"]
    if errors or scenario is None:
        raise ScenarioError(sorted(errors, key=_order))
    warnings = tuple(str(p) for p in sorted(reader.problems, key=_order))
    return dataclasses.replace(scenario, warnings=warnings)


def _order(problem: Problem) -> tuple[int, int, str]:
    return (problem.loc.line, problem.loc.column, problem.message)


class _Reader(_JudgeSections, _NicheSections, _RuleSections, _DealSections, _FrameSections, _AdaptSections):
    """Walk the node tree, collect problems, and build the Scenario."""

    def scenario(self, root: YNode) -> Scenario | None:
        top = self.mapping(root, "a scenario")
        if top is None:
            return None
        self.check_keys(top, TOP_KEYS, "the scenario")
        for key in ("name", "budget", "criteria", "niches"):
            if key not in top:
                self.error(root.loc, f"the scenario is missing required key '{key}'")
        name = self.text(top["name"], "name") if "name" in top else None
        description = self.text(top["description"], "description") if "description" in top else ""
        units = self.text(top["units"], "units") if "units" in top else "USD million"
        value_unit = self.text(top["value_unit"], "value_unit") if "value_unit" in top else "points"
        periods = self.periods(top.get("periods"))
        capacities = self.capacities(top.get("capacities"))
        criteria = self.criteria(top.get("criteria"))
        powers = self.powers(top.get("powers"))
        worlds = self.worlds(top.get("worlds"))
        budget, budget_total = self.budget(top.get("budget"), periods)
        niche_nodes = self.niche_nodes(top.get("niches"))
        niche_ids = list(niche_nodes)
        niches = [
            self.niche(nid, node, periods, criteria, capacities, powers, worlds, niche_ids)
            for nid, node in niche_nodes.items()
        ]
        objective = "expected"
        if "objective" in top:
            objective_node = top["objective"]
            if objective_node.text in OBJECTIVES and objective_node.is_scalar():
                objective = objective_node.text
            else:
                self.error(
                    objective_node.loc,
                    f"unknown objective '{objective_node.text}'{_hint(objective_node.text, OBJECTIVES)}",
                )
        rules = self.rules(top.get("rules"), niche_ids, powers)
        assertions = self.assertions(top.get("assertions"), niche_nodes, powers)
        adapt = self.adapt(top.get("adapt"), periods)
        built = [n for n in niches if n is not None]
        if built and len(built) == len(niches):
            self.synergy_pairs(built, niche_nodes)
            self.impossible_niches(built, rules)
        aggregate = "mean"
        if "aggregate" in top:
            node = top["aggregate"]
            if node.is_scalar() and node.text in panel.AGGREGATES:
                aggregate = node.text
            else:
                self.error(node.loc, f"unknown aggregate '{node.text}'{_hint(node.text, panel.AGGREGATES)}")
        judges: list[Judge] = []
        judged: list[panel.Judged] = []
        if "judges" in top and criteria is not None and worlds is not None and len(built) == len(niches):
            judges = self.judges(top["judges"], criteria, worlds, built)
        if any(p.severity == "error" for p in self.problems):
            return None
        assert criteria is not None and worlds is not None
        if judges:
            applied = self.apply_judges(judges, aggregate, criteria, worlds, built, top.get("aggregate"))
            if applied is None:
                return None
            criteria, worlds, built, judged = applied
        deals = self.deals(top.get("deals"), built, powers, [w.id for w in worlds])
        if deals is None:
            return None
        assert name is not None and description is not None and units is not None
        assert value_unit is not None
        assert criteria is not None and worlds is not None and budget is not None
        return Scenario(
            name=name,
            description=description,
            units=units,
            periods=tuple(periods),
            budget=budget,
            budget_total=budget_total,
            capacities=capacities,
            criteria=tuple(criteria),
            powers=tuple(powers),
            worlds=tuple(worlds),
            niches=tuple(_normalise_synergy(built)),
            rules=rules,
            objective=objective,
            source=self.file,
            locations=dict(self.locations),
            assertions=assertions,
            value_unit=value_unit,
            weights_cr=self.weights_cr,
            judges=tuple(judges),
            aggregate=aggregate,
            judged=tuple(judged),
            deals=tuple(deals),
            adapt=adapt,
        )
