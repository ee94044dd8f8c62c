"""Scenario format v1: YAML -> a frozen, typed, validated `Scenario`.

Every problem is reported as `FILE:LINE:COLUMN: message`, all problems of a
file at once. Loading uses YAML's safe loader only.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from niches.numbers import plural, plural_of
from niches.scenario import ahp, inputs
from niches.scenario import judges as panel
from niches.scenario.judges import Judge
from niches.scenario.yamlsource import Location, Problem, YNode, parse_yaml

OBJECTIVES = ("expected", "worst_case", "cvar", "regret")
TOTAL = "total"
BASELINE = "baseline"
SHORTHAND_LEVEL = "invest"
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
)
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
TAKEN = "taken"
"""What a portfolio maps a deal it takes to (niches map to their level)."""
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


class ScenarioError(Exception):
    """A scenario file cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Score:
    """A judgement: a point, a uniform range [low, high] or a triangular low/mode/high.

    `kind` is "point", "uniform" or "triangular"; `mode` is None unless triangular.
    `value`, when set, is the value `solve` uses instead of the mean (a group's
    aggregate of several judges, whose spread is the distribution).
    """

    low: float
    high: float
    mode: float | None = None
    kind: str = "point"
    value: float | None = None

    @property
    def mean(self) -> float:
        """Return the value `solve` uses: `value` when set, else the distribution's mean."""
        if self.value is not None:
            return self.value
        if self.kind == "triangular" and self.mode is not None:
            return (self.low + self.mode + self.high) / 3.0
        return (self.low + self.high) / 2.0 if self.kind == "uniform" else self.low

    @staticmethod
    def point(value: float) -> Score:
        return Score(value, value, None, "point")

    def scaled(self, factor: float) -> Score:
        """Return the judgement multiplied by `factor` (> 0): every bound, the mode and the value."""
        mode = None if self.mode is None else self.mode * factor
        value = None if self.value is None else self.value * factor
        return Score(self.low * factor, self.high * factor, mode, self.kind, value)


@dataclass(frozen=True)
class Level:
    """One way to pursue a niche.

    A level is one choice the model can make: a declared level started in
    one period. Started in the first period (the default), its id is the
    declared id; started later, its id is `level@period`, its cost profile is
    shifted right by `offset` periods (amounts past the last period dropped)
    and its scores are multiplied by `share`, the fraction of the periods it
    is active, (periods from its start to the end) / (number of periods).

    `cost` maps every period id to spend in that period (money units);
    `scores` maps every criterion id to a Score (missing criteria score 0);
    `uses` maps capacity id -> amount consumed; `declared` is the level's id
    as declared (None: the same as `id`); `start` the period it starts in
    (None: the first period).
    """

    id: str
    name: str
    cost: Mapping[str, float]
    scores: Mapping[str, Score]
    uses: Mapping[str, float]
    declared: str | None = None
    start: str | None = None
    offset: int = 0
    share: float = 1.0

    @property
    def base(self) -> str:
        """Return the level's id as declared (without its start)."""
        return self.declared or self.id

    @property
    def total_cost(self) -> float:
        """Return spend summed over all periods (money units)."""
        return math.fsum(self.cost.values())


@dataclass(frozen=True)
class Niche:
    """A candidate functional niche; at most one of its levels is chosen.

    `exposure`: power -> share of spend that depends on that power, in [0, 1].
    `outlook`: world -> multiplier >= 0 on the niche's value (missing worlds: 1).
    `synergy`: other niche -> bonus added in every world when both are chosen,
    normalised so each pair is stored once, on the niche declared first.
    """

    id: str
    name: str
    description: str
    levels: tuple[Level, ...]
    exposure: Mapping[str, float]
    outlook: Mapping[str, float]
    requires: tuple[str, ...]
    excludes: tuple[str, ...]
    synergy: Mapping[str, float]

    def level(self, level_id: str) -> Level:
        """Return the level called `level_id`."""
        for level in self.levels:
            if level.id == level_id:
                return level
        raise KeyError(f"{self.id} has no level {level_id!r}")


@dataclass(frozen=True)
class Deal:
    """An offer: a partner pays part of some niches' cost if the country takes the deal with them.

    `funds` maps each niche the deal funds -> the level ids (choices, with
    their starts) it funds. Taken, the deal pays `share` (in (0, 1]) of the
    chosen levels' spend in every period, or `amount` (money per period,
    never more than the level spends that period; one niche only); see
    `funding`. `exposure` maps power -> share of the deal's money that
    depends on that power (the partner, when it is a declared power, is 1
    unless stated). `requires` lists niches (`niche` or `niche.level`) and
    deals that must be taken with it, `excludes` deals that cannot be.
    `reliability` maps world -> probability the deal holds (missing: 1);
    `value` maps world -> bonus in value units while it holds (missing: 0).
    A broken deal takes its bonus and the value of what it funded with it.
    """

    id: str
    partner: str
    description: str
    funds: Mapping[str, tuple[str, ...]]
    share: float | None
    amount: float | None
    exposure: Mapping[str, float]
    requires: tuple[str, ...]
    excludes: tuple[str, ...]
    reliability: Mapping[str, float]
    value: Mapping[str, float]

    def funding(self, cost: Mapping[str, float]) -> dict[str, float]:
        """Return period -> money the deal pays toward a level it funds that costs `cost` per period."""
        if self.share is not None:
            return {p: self.share * c for p, c in cost.items()}
        amount = self.amount or 0.0
        return {p: min(amount, max(c, 0.0)) for p, c in cost.items()}

    def funded_fraction(self, cost: Mapping[str, float]) -> float:
        """Return the share of a level's whole cost (`cost` per period) the deal pays (0 if it is free)."""
        total = math.fsum(cost.values())
        return math.fsum(self.funding(cost).values()) / total if total > 0 else 0.0

    def holds(self, world: str) -> float:
        """Return the probability the deal holds in `world`."""
        return self.reliability.get(world, 1.0)


@dataclass(frozen=True)
class Criterion:
    """A criterion of value; `weight` is normalised (all weights sum to 1).

    `raw_weight` is the weight as declared (a range when uncertain); `scale`
    is the declared [low, high] range of its scores (None when not declared).
    """

    id: str
    weight: float
    raw_weight: Score
    description: str
    scale: tuple[float, float] | None = None


@dataclass(frozen=True)
class World:
    """A world order with its probability (all sum to 1)."""

    id: str
    probability: float
    description: str


@dataclass(frozen=True)
class Rules:
    """Portfolio rules; None or empty means the rule is absent.

    Shares (`max_share`, `max_exposure`, `max_imbalance`) are fractions in [0, 1];
    `min_worst_case` and `min_cvar` are in value units; `cvar_tail` is the lower
    tail's probability mass in (0, 1]. `floor_shares` maps a floor declared as
    `{share: s}` (`min_cvar`, `min_worst_case`) to s; until `floor_bests` holds
    the best value reachable under the other rules for it, the floor is not
    yet a number (`study.resolve_floors` makes it one: s times that best).
    `pins` maps a niche pinned on the command line to the level ids it may take.
    """

    min_niches: int | None = None
    max_niches: int | None = None
    must_include: tuple[str, ...] = ()
    must_exclude: tuple[str, ...] = ()
    max_share: float | None = None
    max_exposure: Mapping[str, float] = field(default_factory=dict)
    max_imbalance: float | None = None
    min_worst_case: float | None = None
    min_cvar: float | None = None
    cvar_tail: float = 0.25
    floor_shares: Mapping[str, float] = field(default_factory=dict)
    floor_bests: Mapping[str, float] = field(default_factory=dict)
    pins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def unresolved(self) -> tuple[str, ...]:
        """Return the floors declared as a share whose figure is not yet computed."""
        return tuple(f for f in self.floor_shares if f not in self.floor_bests)


@dataclass(frozen=True)
class Assertions:
    """Policy assertions that `niches check` evaluates against the recommendation.

    `recommend` maps niches that must be chosen -> the level required (None:
    any level); `core_index` maps niche -> least Monte Carlo core index, drawn
    with `samples` and `seed`; values are in value units, money in the
    scenario's units, shares in [0, 1].
    """

    recommend: Mapping[str, str | None] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    min_expected_value: float | None = None
    min_worst_case: float | None = None
    min_cvar: float | None = None
    max_cost: float | None = None
    max_exposure: Mapping[str, float] = field(default_factory=dict)
    max_regret: float | None = None
    core_index: Mapping[str, float] = field(default_factory=dict)
    samples: int = 500
    seed: int = 0

    @property
    def declared(self) -> bool:
        """Return whether any assertion is declared."""
        return bool(
            self.recommend
            or self.exclude
            or self.max_exposure
            or self.core_index
            or any(
                getattr(self, k) is not None
                for k in ("min_expected_value", "min_worst_case", "min_cvar", "max_cost", "max_regret")
            )
        )


@dataclass(frozen=True)
class Scenario:
    """A validated scenario.

    `budget` maps capped period ids -> cap per period; `budget_total` caps spend
    summed over all periods. All money is in `units`; values (weighted scores)
    are in `value_unit` ("points" unless declared). `locations` maps rule and
    entity names (`budget[2027]`, `niche[ai]`, `max_exposure[China]`) to where
    they are declared, for messages that point into the file.
    """

    name: str
    description: str
    units: str
    periods: tuple[str, ...]
    budget: Mapping[str, float]
    budget_total: float | None
    capacities: Mapping[str, float]
    criteria: tuple[Criterion, ...]
    powers: tuple[str, ...]
    worlds: tuple[World, ...]
    niches: tuple[Niche, ...]
    rules: Rules
    objective: str
    source: str = "<memory>"
    locations: Mapping[str, Location] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    assertions: Assertions = field(default_factory=Assertions)
    value_unit: str = "points"
    weights_cr: float | None = None
    """The consistency ratio of the criteria's pairwise comparisons (None: weights given as numbers)."""
    judges: tuple[Judge, ...] = ()
    """The judges whose judgements the scenario's values aggregate (see niches.scenario.judges)."""
    aggregate: str = "mean"
    """How judges combine: mean, median or geometric."""
    judged: tuple[panel.Judged, ...] = ()
    """The figures the judges changed or differ on: declared, each judge's, the group's (scenario.judges)."""
    deals: tuple[Deal, ...] = ()
    """Offers the portfolio may take with the niches they fund (a portfolio maps a taken deal to TAKEN)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {n.id: n for n in self.niches})
        object.__setattr__(self, "_deal_by_id", {d.id: d for d in self.deals})

    def deal(self, deal_id: str) -> Deal:
        """Return the deal called `deal_id`."""
        found: Deal | None = self._deal_by_id.get(deal_id)  # type: ignore[attr-defined]
        if found is None:
            raise KeyError(f"no deal {deal_id!r}")
        return found

    @property
    def timed(self) -> bool:
        """Return whether any level may start after the first period."""
        return any(lv.offset for n in self.niches for lv in n.levels)

    def niche(self, niche_id: str) -> Niche:
        """Return the niche called `niche_id`."""
        found: Niche | None = self._by_id.get(niche_id)  # type: ignore[attr-defined]
        if found is None:
            raise KeyError(f"no niche {niche_id!r}")
        return found

    @property
    def weights(self) -> dict[str, float]:
        """Return criterion id -> normalised weight."""
        return {c.id: c.weight for c in self.criteria}

    @property
    def probabilities(self) -> dict[str, float]:
        """Return world id -> probability."""
        return {w.id: w.probability for w in self.worlds}


# --------------------------------------------------------------------------- reading


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


def _describe(node: YNode, high: float | None = None) -> str:
    """What a node holds, in words, with how to write it as a number when it looks like one.

    `high` is the largest value allowed, when known (1 for a share).
    """
    value = node.value
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {node.text}"
    if isinstance(value, (int, float)):
        return f"number {node.text}"
    if isinstance(value, str) and _looks_numeric(value):  # YAML 1.1 reads 1e5 and 1.0e5 as text
        return f"text '{value}' (YAML reads an exponent without a sign as text; write {_signed(value)})"
    return f"text '{value}'{_text_hint(value, high)}"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "e" in text.lower()


def _signed(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}e{exponent if exponent.startswith(('+', '-')) else '+' + exponent}"


def _hint(word: str, known: Iterable[str]) -> str:
    choices = list(known)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not choices:
        return ""
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"; expected one of: {shown}"


def _num(x: float) -> str:
    return f"{x:g}"


class _Reader:
    """Walk the node tree, collect problems, and build the Scenario."""

    def __init__(self, file: str, problems: list[Problem], files: inputs.Files = inputs.FILES) -> None:
        self.file = file
        self.files = files
        self.problems = problems
        self.locations: dict[str, Location] = {}
        self.declared_criteria: list[str] = []
        self.scales: dict[str, tuple[float, float]] = {}
        self.weights_cr: float | None = None
        self.declared_worlds: list[str] = [BASELINE]

    # ------------------------------------------------------------------ helpers
    def error(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def warn(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc, message, "warning"))

    def mapping(self, node: YNode, what: str) -> dict[str, YNode] | None:
        if isinstance(node.value, dict):
            return node.value
        self.error(node.loc, f"{what} must be a mapping, got {_describe(node)}")
        return None

    def check_keys(self, items: dict[str, YNode], allowed: Iterable[str], where: str) -> set[str]:
        """Report unknown keys; return the allowed keys the misspelt ones were meant to be."""
        allowed = list(allowed)
        meant: set[str] = set()
        for key, child in items.items():
            if key not in allowed:
                self.error(child.at_key, f"unknown key '{key}' in {where}{_hint(key, allowed)}")
                meant.update(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6))
        return meant

    def require(self, items: dict[str, YNode], key: str, node: YNode, where: str) -> YNode | None:
        if key in items:
            return items[key]
        self.error(node.at_key, f"{where} is missing required key '{key}'")
        return None

    def number(
        self,
        node: YNode,
        what: str,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
    ) -> float | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(node.loc, f"{what} must be a number, got {_describe(node, high)}")
            return None
        if isinstance(value, int) and abs(value) > NUMBER_MAX:  # also keeps huge integers from float()
            number = math.inf if value > 0 else -math.inf
        else:
            number = float(value)
            if not math.isfinite(number):
                self.error(node.loc, f"{what} must be a finite number, got {node.text}")
                return None
        if low is not None and (number < low or (low_open and number <= low)):
            self.error(node.loc, _range_message(what, number, low, high, low_open))
            return None
        if high is not None and number > high:
            hint = f"; a share is a fraction: write {_num(number / 100)} for {_num(number)}%"
            shown = _range_message(what, number, low, high, low_open)
            self.error(
                node.loc, shown + (hint if high == 1 and 2 <= number <= 100 else "")
            )  # 50 meant as 50%
            return None
        if abs(number) > NUMBER_MAX:
            shown = _num(number) if math.isfinite(number) else "a number of over 300 digits"
            self.error(
                node.loc,
                f"{what} must be between {_num(-NUMBER_MAX)} and {_num(NUMBER_MAX)} (the range of every "
                f"number in a scenario; see the README), got {shown}",
            )
            return None
        return number

    def integer(self, node: YNode, what: str) -> int | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(node.loc, f"{what} must be a whole number >= 0, got {_describe(node)}")
            return None
        return value

    def text(self, node: YNode, what: str) -> str | None:
        if node.value is None or isinstance(node.value, (dict, list)):
            self.error(node.loc, f"{what} must be text, got {_describe(node)}")
            return None
        return node.text

    def id_list(self, node: YNode, what: str) -> list[YNode]:
        if isinstance(node.value, list):
            good = []
            for item in node.value:
                if item.is_scalar() and item.value is not None:
                    good.append(item)
                else:
                    self.error(item.loc, f"{what} must list ids, got {_describe(item)}")
            return good
        if node.is_scalar() and node.value is not None:
            return [node]  # a single id is accepted as a one-item list
        self.error(node.loc, f"{what} must be a list of ids, got {_describe(node)}")
        return []

    def ref(self, node: YNode, known: Iterable[str], kind: str, where: str) -> bool:
        known = list(known)
        if node.text in known:
            return True
        if not known:
            self.error(
                node.loc, f"unknown {kind} '{node.text}' in {where}: no {plural_of(kind)} are declared"
            )
        else:
            self.error(node.loc, f"unknown {kind} '{node.text}' in {where}{_hint(node.text, known)}")
        return False

    def key_ref(self, key: str, child: YNode, known: Iterable[str] | None, kind: str, where: str) -> bool:
        if known is None:  # the declarations themselves are broken (reported there): say nothing more
            return True
        known = list(known)
        if key in known:
            return True
        if not known:
            self.error(child.at_key, f"unknown {kind} '{key}' in {where}: no {plural_of(kind)} are declared")
        else:
            self.error(child.at_key, f"unknown {kind} '{key}' in {where}{_hint(key, known)}")
        return False

    def score(self, node: YNode, what: str) -> Score | None:
        value = node.value
        if isinstance(value, list):
            if len(value) != 2:
                self.error(node.loc, f"{what} range must be [low, high], got {plural(len(value), 'item')}")
                return None
            low = self.number(value[0], f"{what} low")
            high = self.number(value[1], f"{what} high")
            if low is None or high is None:
                return None
            if low > high:
                self.error(node.loc, f"{what} range must have low <= high, got [{_num(low)}, {_num(high)}]")
                return None
            return Score(low, high, None, "uniform")
        if isinstance(value, dict):
            self.check_keys(value, ("low", "mode", "high"), what)
            parts: dict[str, float | None] = {}
            for key in ("low", "mode", "high"):
                if key in value:
                    parts[key] = self.number(value[key], f"{what} {key}")
                elif key != "mode":
                    self.error(node.loc, f"{what} is missing '{key}'; write {{low: .., mode: .., high: ..}}")
                    parts[key] = None
            low, high, mode = parts.get("low"), parts.get("high"), parts.get("mode")
            if low is None or high is None or ("mode" in value and mode is None):
                return None
            if mode is None:
                if low > high:
                    self.error(
                        node.loc, f"{what} must have low <= high, got low={_num(low)}, high={_num(high)}"
                    )
                    return None
                return Score(low, high, None, "uniform")
            if not low <= mode <= high:
                self.error(
                    node.loc,
                    f"{what} must satisfy low <= mode <= high, got low={_num(low)}, "
                    f"mode={_num(mode)}, high={_num(high)}",
                )
                return None
            return Score(low, high, mode, "triangular")
        number = self.number(node, what)
        return None if number is None else Score.point(number)

    # ------------------------------------------------------------------ sections
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
        )

    def deals(
        self, node: YNode | None, niches: list[Niche], powers: list[str], worlds: list[str]
    ) -> list[Deal] | None:
        """Read `deals:` (None when any deal has a problem)."""
        if node is None:
            return []
        self.locations["deals"] = node.at_key
        items = self.mapping(node, "deals")
        if items is None:
            return None
        before = len(self.problems)
        by_id = {n.id: n for n in niches}
        deal_ids = list(items)
        found = [self.deal(did, child, by_id, powers, worlds, deal_ids) for did, child in items.items()]
        if len(self.problems) > before or any(d is None for d in found):
            return None
        return [d for d in found if d is not None]

    def deal(
        self,
        did: str,
        node: YNode,
        niches: Mapping[str, Niche],
        powers: list[str],
        worlds: list[str],
        deal_ids: list[str],
    ) -> Deal | None:
        where = f"deal '{did}'"
        self.locations[f"deal[{did}]"] = node.at_key
        if did in niches:
            self.error(node.at_key, f"{where} has the id of a niche; give the deal an id of its own")
        items = self.mapping(node, where)
        if items is None:
            return None
        self.check_keys(items, DEAL_KEYS, where)
        partner_node = self.require(items, "partner", node, where)
        partner = self.text(partner_node, f"partner of {where}") if partner_node else None
        funds: dict[str, tuple[str, ...]] = {}
        niches_node = self.require(items, "niches", node, where)
        for item in self.id_list(niches_node, f"niches of {where}") if niches_node else []:
            nid, dot, lid = item.text.partition(".")
            if not self.ref(YNode(nid, item.loc, item.at_key, nid), niches, "niche", f"niches of {where}"):
                continue
            niche = niches[nid]
            declared = list(dict.fromkeys(lv.base for lv in niche.levels))
            if dot and lid not in declared:
                self.error(
                    item.loc,
                    f"niche '{nid}' has no level '{lid}' (in niches of {where}){_hint(lid, declared)}",
                )
                continue
            choices = [lv.id for lv in niche.levels if not dot or lv.base == lid]
            funds[nid] = tuple(dict.fromkeys([*funds.get(nid, ()), *choices]))
        if niches_node is not None and isinstance(niches_node.value, list) and not niches_node.value:
            self.error(niches_node.loc, f"{where} must fund at least one niche")
        share = amount = None
        if "share" in items and "amount" in items:
            self.error(items["amount"].at_key, f"{where} gives both 'share' and 'amount'; keep one")
        elif "share" in items:
            share = self.number(items["share"], f"share of {where}", low=0, high=1, low_open=True)
        elif "amount" in items:
            amount = self.number(items["amount"], f"amount of {where}", low=0, low_open=True)
            if len(funds) > 1:
                self.error(
                    items["amount"].at_key,
                    f"{where} pays an amount per period, so it funds one niche; "
                    "give a 'share' to fund several",
                )
        else:
            self.error(
                node.at_key,
                f"{where} must say what it pays: 'share' (of the niches' cost) or 'amount' (per period)",
            )
        exposure: dict[str, float] = {}
        if "exposure" in items:
            for power, child in (self.mapping(items["exposure"], f"exposure of {where}") or {}).items():
                if self.key_ref(power, child, powers, "power", f"exposure of {where}"):
                    value = self.number(child, f"exposure of {where} to {power}", low=0, high=1)
                    if value is not None:
                        exposure[power] = value
        if partner in powers and partner not in exposure:
            exposure[partner] = 1.0
        reliability = self.world_numbers(items.get("reliability"), worlds, f"reliability of {where}", 0, 1)
        bonus = self.world_numbers(items.get("value"), worlds, f"value of {where}", None, None)
        requires: list[str] = []
        excludes: list[str] = []
        if "conditions" in items:
            conditions = self.mapping(items["conditions"], f"conditions of {where}") or {}
            self.check_keys(conditions, CONDITION_KEYS, f"conditions of {where}")
            if "requires" in conditions:
                requires = self.deal_requires(did, conditions["requires"], niches, deal_ids)
            if "excludes" in conditions:
                for item in self.id_list(conditions["excludes"], f"excludes of {where}"):
                    if not self.ref(item, deal_ids, "deal", f"excludes of {where}"):
                        continue
                    if item.text == did:
                        self.error(item.loc, f"{where} cannot exclude itself")
                    elif item.text not in excludes:
                        excludes.append(item.text)
                        self.locations[f"excludes[{did}, {item.text}]"] = item.loc
        description = self.text(items["description"], "description") if "description" in items else ""
        if partner is None or description is None or not funds:
            return None
        return Deal(
            did, partner, description, funds, share, amount, exposure,
            tuple(requires), tuple(excludes), reliability, bonus,
        )  # fmt: skip

    def world_numbers(
        self, node: YNode | None, worlds: list[str], what: str, low: float | None, high: float | None
    ) -> dict[str, float]:
        """Read a mapping world -> number (`low`/`high` bound it when given)."""
        found: dict[str, float] = {}
        if node is None:
            return found
        for world, child in (self.mapping(node, what) or {}).items():
            if self.key_ref(world, child, worlds, "world", what):
                number = self.number(child, f"{what} in {world}", low=low, high=high)
                if number is not None:
                    found[world] = number
        return found

    def deal_requires(
        self, did: str, node: YNode, niches: Mapping[str, Niche], deal_ids: list[str]
    ) -> list[str]:
        """Read what deal `did` requires: niches (`niche` or `niche.level`) and other deals."""
        where = f"requires of deal '{did}'"
        found: list[str] = []
        for item in self.id_list(node, where):
            text = item.text
            nid, dot, lid = text.partition(".")
            if text == did:
                self.error(item.loc, f"deal '{did}' cannot require itself")
                continue
            if text in deal_ids or (not dot and text in niches):
                pass
            elif dot and nid in niches:
                declared = list(dict.fromkeys(lv.base for lv in niches[nid].levels))
                if lid not in declared:
                    self.error(
                        item.loc, f"niche '{nid}' has no level '{lid}' (in {where}){_hint(lid, declared)}"
                    )
                    continue
            else:
                known = [*niches, *deal_ids]
                self.error(item.loc, f"unknown niche or deal '{text}' in {where}{_hint(text, known)}")
                continue
            if text not in found:
                found.append(text)
                self.locations[f"requires[{did} -> {text}]"] = item.loc
        return found

    def periods(self, node: YNode | None) -> list[str]:
        if node is None:
            return [TOTAL]
        items = self.id_list(node, "periods")
        periods: list[str] = []
        for item in items:
            if item.text == TOTAL:
                self.error(item.loc, "'total' cannot be a period id: it names the sum over all periods")
            elif item.text in periods:
                self.error(item.loc, f"period '{item.text}' is listed twice")
            else:
                periods.append(item.text)
                self.locations[f"period[{item.text}]"] = item.loc
        if not periods and not any(p.severity == "error" for p in self.problems):
            self.error(node.loc, "periods must list at least one period id")
        return periods or [TOTAL]

    def budget(self, node: YNode | None, periods: list[str]) -> tuple[dict[str, float] | None, float | None]:
        if node is None:
            return None, None
        self.locations["budget"] = node.at_key
        if isinstance(node.value, dict):
            caps: dict[str, float] = {}
            total: float | None = None
            allowed = [*periods, TOTAL] if periods != [TOTAL] else [TOTAL]
            for key, child in node.value.items():
                if not self.key_ref(key, child, allowed, "period", "budget"):
                    continue
                amount = self.number(child, f"budget for {key}", low=0)
                if amount is None:
                    continue
                if key == TOTAL and periods != [TOTAL]:
                    total = amount
                else:
                    caps[key] = amount
                self.locations[f"budget[{key}]"] = child.at_key
            if not node.value:
                self.error(node.loc, "budget must cap at least one period or 'total'")
            return caps, total
        amount = self.number(node, "budget", low=0)
        if amount is None:
            if isinstance(node.value, list):
                self.problems[-1].message += "; give one number or a mapping {period: cap, total: cap}"
            return None, None
        for period in periods:
            self.locations[f"budget[{period}]"] = node.at_key
        return dict.fromkeys(periods, amount), None

    def capacities(self, node: YNode | None) -> dict[str, float]:
        if node is None:
            return {}
        self.locations["capacities"] = node.at_key
        items = self.mapping(node, "capacities")
        result: dict[str, float] = {}
        for key, child in (items or {}).items():
            amount = self.number(child, f"capacity '{key}'", low=0)
            if amount is not None:
                result[key] = amount
                self.locations[f"capacity[{key}]"] = child.at_key
        return result

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

    # ---------------------------------------------------------------- judges
    def judges(
        self, node: YNode, criteria: list[Criterion], worlds: list[World], niches: list[Niche]
    ) -> list[Judge]:
        """Read every judgement file `node` lists (paths relative to the scenario, globs allowed)."""
        naming = None if self.file.startswith("<") else self.file
        found: list[Judge] = []
        names: dict[str, str] = {}
        for item in self.id_list(node, "judges"):
            pattern = item.text
            try:
                where = self.files.named(pattern, naming)
            except inputs.InputError as exc:
                self.error(item.loc, f"judges: '{pattern}' {exc.message}")
                continue
            if any(ch in pattern for ch in "*?["):
                paths = self.files.matching(where, naming)
                if not paths:
                    self.error(
                        item.loc, f"judges: '{pattern}' matches no file (paths are relative to the scenario)"
                    )
            else:
                paths = [where]
            for path in paths:
                judge = self.judge_file(path, item, criteria, worlds, niches)
                if judge is None:
                    continue
                if judge.name in names:
                    self.error(
                        item.loc,
                        f"judge '{judge.name}' is named in both {names[judge.name]} and {judge.source}; "
                        "give each judge one file",
                    )
                    continue
                names[judge.name] = judge.source
                found.append(judge)
        return found

    def judge_file(
        self, path: PurePath, item: YNode, criteria: list[Criterion], worlds: list[World], niches: list[Niche]
    ) -> Judge | None:
        """Read one judgement file; its problems are located in it."""
        shown = str(path)
        if not self.files.exists(path):
            self.error(item.loc, f"judges: no such file {shown}; check the path (relative to the scenario)")
            return None
        try:
            text = self.files.read_text(path)
        except inputs.InputError as exc:
            self.error(item.loc, f"judges: {shown}: {exc.message}")
            return None
        parsed = parse_yaml(text, shown, SIZE_LIMITS)
        self.problems.extend(parsed.problems)
        if parsed.root is None:
            if not parsed.problems:
                self.problems.append(
                    Problem(Location(shown, 1, 1), "the judgement file is empty; it needs 'judge'")
                )
            return None
        items = self.mapping(parsed.root, "a judgement file")
        if items is None:
            return None
        where = f"judgement file {shown}"
        self.check_keys(items, JUDGE_KEYS, "a judgement file")
        if "judge" not in items:
            self.error(
                parsed.root.loc, f"{where} is missing required key 'judge' (who gives these judgements)"
            )
            return None
        name = self.text(items["judge"], "judge")
        if name is None:
            return None
        ids = [c.id for c in criteria]
        weights: dict[str, float] | None = None
        matrix = None
        cr = None
        if "weights" in items:
            wnode = items["weights"]
            witems = self.mapping(wnode, f"weights of judge '{name}'") or {}
            if PAIRWISE in witems:
                extra = [k for k in witems if k != PAIRWISE]
                for key in extra:
                    self.error(witems[key].at_key, f"weights of judge '{name}' give 'pairwise'; drop '{key}'")
                a = self.comparisons(witems[PAIRWISE], ids, f"pairwise comparisons of judge '{name}'")
                if a is not None and not extra:
                    prio = ahp.priorities(a)
                    weights, matrix, cr = dict(zip(ids, prio.weights, strict=True)), a, prio.cr
                    self.cr_warning(a, prio, ids, witems[PAIRWISE], f"judge '{name}':")
            elif witems:
                raw: dict[str, float] = {}
                for key, child in witems.items():
                    if self.key_ref(key, child, ids, "criterion", f"weights of judge '{name}'"):
                        w = self.number(child, f"weight of {key} by judge '{name}'", low=0)
                        if w is not None:
                            raw[key] = w
                missing = [c for c in ids if c not in witems]
                if missing:
                    self.error(
                        wnode.at_key,
                        f"judge '{name}' gives no weight for {', '.join(missing)}; "
                        "give every criterion a weight (0 is allowed) or none",
                    )
                elif len(raw) == len(ids):
                    total = math.fsum(raw.values())
                    if total <= 0:
                        self.error(wnode.at_key, f"weights of judge '{name}' are all 0")
                    else:
                        weights = {c: raw[c] / total for c in ids}
        probabilities: dict[str, float] = {}
        if "probabilities" in items:
            world_ids = [w.id for w in worlds]
            for key, child in (
                self.mapping(items["probabilities"], f"probabilities of judge '{name}'") or {}
            ).items():
                if self.key_ref(key, child, world_ids, "world", f"probabilities of judge '{name}'"):
                    p = self.number(child, f"probability of {key} by judge '{name}'", low=0, high=1)
                    if p is not None:
                        probabilities[key] = p
        scores: dict[tuple[str, str, str], float] = {}
        if "scores" in items:
            by_id = {n.id: n for n in niches}
            for key, child in (self.mapping(items["scores"], f"scores of judge '{name}'") or {}).items():
                target = self.score_target(key, child, by_id, name)
                if target is None:
                    continue
                for crit, cnode in (self.mapping(child, f"scores of judge '{name}' for {key}") or {}).items():
                    if self.key_ref(crit, cnode, ids, "criterion", f"scores of judge '{name}' for {key}"):
                        score = self.score(cnode, f"score of {key} on {crit} by judge '{name}'")
                        if score is not None:
                            scores[target[0], target[1], crit] = score.mean
        return Judge(
            name,
            shown,
            weights,
            None if matrix is None else tuple(tuple(r) for r in matrix),
            cr,
            probabilities,
            scores,
        )

    def score_target(
        self, key: str, child: YNode, niches: dict[str, Niche], judge: str
    ) -> tuple[str, str] | None:
        """Return (niche, declared level) a judge's score key `niche` or `niche.level` names."""
        nid, dot, lid = key.partition(".")
        where = f"scores of judge '{judge}'"
        if not self.key_ref(nid, child, list(niches), "niche", where):
            return None
        levels = list(dict.fromkeys(lv.base for lv in niches[nid].levels))
        if not dot:
            if len(levels) == 1:
                return nid, levels[0]
            self.error(
                child.at_key,
                f"niche '{nid}' has {plural(len(levels), 'level')} ({', '.join(levels)}); "
                f"name one, as {nid}.{levels[0]}",
            )
            return None
        if lid not in levels:
            self.error(child.at_key, f"unknown level '{lid}' of niche '{nid}' in {where}{_hint(lid, levels)}")
            return None
        return nid, lid

    def apply_judges(
        self,
        judges: list[Judge],
        how: str,
        criteria: list[Criterion],
        worlds: list[World],
        niches: list[Niche],
        node: YNode | None,
    ) -> tuple[list[Criterion], list[World], list[Niche], list[panel.Judged]] | None:
        """Return criteria, worlds and niches with every judged value set to the group's aggregate,
        and the figures the judges changed (declared, each judge's, the group's)."""
        given: dict[panel.Judgement, dict[str, float]] = {}
        for judge in judges:
            for judgement, value in judge.values().items():
                given.setdefault(judgement, {})[judge.name] = value
        if how == "geometric":
            bad = [j for j, vs in given.items() if any(v <= 0 for v in vs.values())]
            if bad:
                where = node.loc if node is not None else Location(self.file, 1, 1)
                self.error(
                    where,
                    f"aggregate: geometric needs judgements above 0; {panel.label(bad[0])} has "
                    f"{_num(min(given[bad[0]].values()))}; use mean or median",
                )
                return None

        def group(values: Iterable[float], value: float) -> Score:
            low_mode_high = panel.spread(list(values))
            if low_mode_high is None:
                return Score.point(value)
            low, mode, high = low_mode_high
            return Score(low, high, mode, "triangular", value)

        judged: list[panel.Judged] = []

        def record(
            judgement: panel.Judgement, declared: float | None, figures: Mapping[str, float], value: float
        ) -> None:
            if (
                declared is None
                or abs(value - declared) > 1e-12
                or any(abs(v - value) > 1e-12 for v in figures.values())
            ):
                judged.append(panel.Judged(judgement, declared, dict(figures), value))

        ids = [c.id for c in criteria]
        weights = panel.group_weights(judges, ids, how)
        if weights is not None:
            by_judge = {j.name: j.weights for j in judges if j.weights is not None}
            for c in criteria:
                record(
                    ("weight", c.id), c.weight, {name: w[c.id] for name, w in by_judge.items()}, weights[c.id]
                )
            criteria = [
                dataclasses.replace(
                    c,
                    weight=weights[c.id],
                    raw_weight=group(given.get(("weight", c.id), {}).values(), weights[c.id]),
                )
                for c in criteria
            ]
        declared = {w.id: w.probability for w in worlds}
        views = {j.name: panel.completed(j.probabilities, declared) for j in judges if j.probabilities}
        if views:
            found = panel.group_probabilities(list(views.values()), how)
            for w in worlds:
                record(
                    ("probability", w.id), w.probability, {n: v[w.id] for n, v in views.items()}, found[w.id]
                )
            worlds = [dataclasses.replace(w, probability=found[w.id]) for w in worlds]
        scored = {j[1:]: vs for j, vs in given.items() if j[0] == "score"}
        for (nid, base, cid), figures in scored.items():
            niche = next((n for n in niches if n.id == nid), None)
            level = next((lv for lv in niche.levels if lv.base == base), None) if niche else None
            before = None
            if level is not None and cid in level.scores and level.share:
                before = level.scores[cid].mean / level.share
            record(("score", nid, base, cid), before, figures, panel.combine(list(figures.values()), how))
        if scored:
            niches = [
                dataclasses.replace(
                    n,
                    levels=tuple(
                        dataclasses.replace(
                            lv,
                            scores={
                                c: (
                                    group(
                                        scored[n.id, lv.base, c].values(),
                                        panel.combine(list(scored[n.id, lv.base, c].values()), how),
                                    ).scaled(lv.share)
                                    if (n.id, lv.base, c) in scored
                                    else s
                                )
                                for c, s in lv.scores.items()
                            },
                        )
                        for lv in n.levels
                    ),
                )
                for n in niches
            ]
        return criteria, worlds, niches, judged

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

    def powers(self, node: YNode | None) -> list[str]:
        if node is None:
            return []
        powers: list[str] = []
        for item in self.id_list(node, "powers"):
            if item.text in powers:
                self.error(item.loc, f"power '{item.text}' is listed twice")
            else:
                powers.append(item.text)
        return powers

    def worlds(self, node: YNode | None) -> list[World] | None:
        if node is None:
            return [World(BASELINE, 1.0, "the single world assumed when none are declared")]
        items = self.mapping(node, "worlds")
        if items is None:
            return None
        self.declared_worlds = list(items)
        worlds: list[World] = []
        for key, child in items.items():
            description = ""
            p_node = child
            if isinstance(child.value, dict):
                meant = self.check_keys(child.value, ("probability", "description", "name"), f"world '{key}'")
                if "probability" not in child.value:
                    if "probability" not in meant:
                        self.error(child.at_key, f"world '{key}' is missing required key 'probability'")
                    continue
                p_node = child.value["probability"]
                if "description" in child.value:
                    description = self.text(child.value["description"], "description") or ""
            p = self.number(p_node, f"probability of world '{key}'", low=0, high=1)
            if p is not None:
                worlds.append(World(key, p, description))
                self.locations[f"world[{key}]"] = child.at_key
        if not items:
            self.error(node.loc, "worlds must declare at least one world (or leave the key out)")
            return None
        if len(worlds) == len(items):
            total = math.fsum(w.probability for w in worlds)
            if abs(total - 1.0) > PROBABILITY_TOLERANCE:
                self.error(
                    node.at_key,
                    f"world probabilities sum to {total:.6g}, not 1; adjust them so they add up to 1",
                )
        return worlds

    def niche_nodes(self, node: YNode | None) -> dict[str, YNode]:
        if node is None:
            return {}
        items = self.mapping(node, "niches")
        if items is not None and not items:
            self.error(node.loc, "niches must declare at least one niche")
        return items or {}

    def niche(
        self,
        nid: str,
        node: YNode,
        periods: list[str],
        criteria: list[Criterion] | None,
        capacities: dict[str, float],
        powers: list[str],
        worlds: list[World] | None,
        niche_ids: list[str],
    ) -> Niche | None:
        where = f"niche '{nid}'"
        self.locations[f"niche[{nid}]"] = node.at_key
        items = self.mapping(node, where)
        if items is None:
            return None
        self.check_keys(items, tuple(dict.fromkeys(NICHE_KEYS + LEVEL_KEYS)), where)
        ok = True
        levels: list[Level] = []
        criterion_ids = self.declared_criteria if criteria is not None else None
        world_ids = self.declared_worlds if worlds is not None else None
        niche_start = [0]
        if "start" in items:
            niche_start = self.starts(items["start"], periods, f"start of {where}") or [0]
        direct = [k for k in ("cost", "scores", "uses") if k in items]
        if "levels" in items:
            for key in direct:
                self.error(
                    items[key].at_key,
                    f"{where} has both 'levels' and a direct '{key}'; move '{key}' into a level",
                )
                ok = False
            level_items = self.mapping(items["levels"], f"levels of {where}")
            if level_items is not None and not level_items:
                self.error(items["levels"].loc, f"{where} must declare at least one level")
            if level_items is not None and len(level_items) > MAX_LEVELS:
                self.error(
                    items["levels"].at_key,
                    f"{where} declares {plural(len(level_items), 'level')}; "
                    f"a niche may declare at most {MAX_LEVELS}",
                )
                level_items = None
            for lid, lnode in (level_items or {}).items():
                level = self.level(nid, lid, lnode, periods, criterion_ids, capacities)
                if level is None:
                    ok = False
                    continue
                starts = niche_start
                if isinstance(lnode.value, dict) and "start" in lnode.value:
                    where_level = f"start of level '{lid}' of niche '{nid}'"
                    starts = self.starts(lnode.value["start"], periods, where_level) or [0]
                if "@" in lid and starts != [0]:
                    self.error(
                        lnode.at_key,
                        f"level '{lid}' of niche '{nid}' may start later, so its id cannot contain '@' "
                        "(it separates a level from its start period); rename the level",
                    )
                levels.extend(started(level, starts, periods))
            ok = ok and level_items is not None
        else:
            level = self.level(nid, SHORTHAND_LEVEL, node, periods, criterion_ids, capacities, shorthand=True)
            if level is None:
                ok = False
            else:
                levels.extend(started(level, niche_start, periods))

        exposure: dict[str, float] = {}
        if "exposure" in items:
            for power, child in (self.mapping(items["exposure"], f"exposure of {where}") or {}).items():
                if self.key_ref(power, child, powers, "power", f"exposure of {where}"):
                    share = self.number(child, f"exposure of {where} to {power}", low=0, high=1)
                    if share is not None:
                        exposure[power] = share
        outlook: dict[str, float] = {}
        if "outlook" in items:
            for world, child in (self.mapping(items["outlook"], f"outlook of {where}") or {}).items():
                if self.key_ref(world, child, world_ids, "world", f"outlook of {where}"):
                    factor = self.number(child, f"outlook of {where} in {world}", low=0)
                    if factor is not None:
                        outlook[world] = factor
        requires = self.links(nid, items.get("requires"), niche_ids, "requires")
        excludes = self.links(nid, items.get("excludes"), niche_ids, "excludes")
        synergy: dict[str, float] = {}
        if "synergy" in items:
            for other, child in (self.mapping(items["synergy"], f"synergy of {where}") or {}).items():
                if not self.key_ref(other, child, niche_ids, "niche", f"synergy of {where}"):
                    continue
                if other == nid:
                    self.error(child.at_key, f"{where} cannot have a synergy with itself")
                    continue
                bonus = self.number(child, f"synergy of {where} with {other}")
                if bonus is not None:
                    synergy[other] = bonus
                    self.locations[f"synergy[{nid} + {other}]"] = child.at_key
        name = self.text(items["name"], "name") if "name" in items else nid
        description = self.text(items["description"], "description") if "description" in items else ""
        if not ok or name is None or description is None:
            return None
        return Niche(
            id=nid,
            name=name,
            description=description,
            levels=tuple(levels),
            exposure=exposure,
            outlook={w: outlook.get(w, 1.0) for w in world_ids or []},
            requires=tuple(requires),
            excludes=tuple(excludes),
            synergy=synergy,
        )

    def starts(self, node: YNode, periods: list[str], what: str) -> list[int] | None:
        """Return the indices of the periods `node` allows a start in (`any` or a list of period ids)."""
        if node.is_scalar() and node.text == ANY:
            return list(range(len(periods)))
        if periods == [TOTAL]:
            self.error(node.loc, f"{what} needs periods; declare them under 'periods'")
            return None
        items = self.id_list(node, what)
        found: set[int] = set()
        for item in items:
            if self.ref(item, periods, "period", what):
                found.add(periods.index(item.text))
        if not items and isinstance(node.value, list):
            self.error(node.loc, f"{what} must list at least one period id, or be 'any'")
        return sorted(found) or None

    def links(self, nid: str, node: YNode | None, niche_ids: list[str], kind: str) -> list[str]:
        if node is None:
            return []
        result: list[str] = []
        for item in self.id_list(node, f"{kind} of niche '{nid}'"):
            if not self.ref(item, niche_ids, "niche", f"{kind} of niche '{nid}'"):
                continue
            if item.text == nid:
                self.error(item.loc, f"niche '{nid}' cannot {kind[:-1]} itself")
            elif item.text not in result:
                result.append(item.text)
                arrow = f"{nid} -> {item.text}" if kind == "requires" else f"{nid}, {item.text}"
                self.locations[f"{kind}[{arrow}]"] = item.loc
        return result

    def level(
        self,
        nid: str,
        lid: str,
        node: YNode,
        periods: list[str],
        criterion_ids: list[str] | None,
        capacities: dict[str, float],
        shorthand: bool = False,
    ) -> Level | None:
        where = f"niche '{nid}'" if shorthand else f"level '{lid}' of niche '{nid}'"
        self.locations[f"level[{nid}.{lid}]"] = node.at_key
        items = self.mapping(node, where)
        if items is None:
            return None
        if not shorthand:
            self.check_keys(items, LEVEL_KEYS, where)
        count = len(self.problems)
        cost = dict.fromkeys(periods, 0.0)
        if "cost" not in items:
            self.error(node.at_key, f"{where} is missing required key 'cost'")
        else:
            cost_node = items["cost"]
            if isinstance(cost_node.value, dict):
                for period, child in cost_node.value.items():
                    if self.key_ref(period, child, periods, "period", f"cost of {where}"):
                        amount = self.number(child, f"cost of {where} in {period}", low=0)
                        if amount is not None:
                            cost[period] = amount
            elif isinstance(cost_node.value, bool) or not isinstance(cost_node.value, (int, float)):
                self.error(
                    cost_node.loc,
                    f"cost of {where} must be a number or a mapping period -> amount, "
                    f"got {_describe(cost_node)}",
                )
            else:
                amount = self.number(cost_node, f"cost of {where}", low=0)
                if amount is not None:
                    cost = dict.fromkeys(periods, amount)
        scores: dict[str, Score] = {}
        off_scale: list[tuple[Location, str]] = []
        if "scores" in items:
            for crit, child in (self.mapping(items["scores"], f"scores of {where}") or {}).items():
                if self.key_ref(crit, child, criterion_ids, "criterion", f"scores of {where}"):
                    score = self.score(child, f"score of {where} on {crit}")
                    if score is not None:
                        scores[crit] = score
                        warning = self.off_scale(crit, score, f"score of {where} on {crit}")
                        if warning:
                            off_scale.append((child.loc, warning))
        uses: dict[str, float] = {}
        if "uses" in items:
            for cap, child in (self.mapping(items["uses"], f"uses of {where}") or {}).items():
                if self.key_ref(cap, child, list(capacities), "capacity", f"uses of {where}"):
                    amount = self.number(child, f"use of {cap} by {where}", low=0)
                    if amount is not None:
                        uses[cap] = amount
        name = self.text(items["name"], "name") if "name" in items and not shorthand else lid
        if len(self.problems) > count or name is None:
            return None
        for loc, warning in off_scale:
            self.warn(loc, warning)
        return Level(
            id=lid,
            name=name,
            cost=cost,
            scores={c: scores.get(c, Score.point(0.0)) for c in criterion_ids or []},
            uses={c: uses[c] for c in capacities if c in uses},
        )

    def rules(self, node: YNode | None, niche_ids: list[str], powers: list[str]) -> Rules:
        if node is None:
            return Rules()
        items = self.mapping(node, "rules")
        if items is None:
            return Rules()
        self.check_keys(items, RULE_KEYS, "rules")
        for key, child in items.items():
            if key in RULE_KEYS:
                self.locations[key] = child.at_key
        values: dict[str, object] = {}
        for key in ("min_niches", "max_niches"):
            if key in items:
                values[key] = self.integer(items[key], key)
        for key in ("max_share", "max_imbalance"):
            if key in items:
                values[key] = self.number(items[key], key, low=0, high=1)
        shares: dict[str, float] = {}
        for key in ("min_worst_case", "min_cvar"):
            if key in items and isinstance(items[key].value, dict):
                relative = self.mapping(items[key], key) or {}
                meant = self.check_keys(relative, ("share",), key)
                if "share" not in relative:
                    if "share" not in meant:
                        self.error(items[key].loc, f"{key} must be a number or {{share: s}} with 0 < s <= 1")
                else:
                    s = self.number(relative["share"], f"share of {key}", low=0, high=1, low_open=True)
                    if s is not None:
                        shares[key] = s
            elif key in items:
                values[key] = self.number(items[key], key)
        if "cvar_tail" in items:
            tail = self.number(items["cvar_tail"], "cvar_tail", low=0, high=1, low_open=True)
            values["cvar_tail"] = 0.25 if tail is None else tail
        lists: dict[str, list[str]] = {}
        for key in ("must_include", "must_exclude"):
            lists[key] = []
            if key in items:
                for item in self.id_list(items[key], key):
                    if self.ref(item, niche_ids, "niche", key) and item.text not in lists[key]:
                        lists[key].append(item.text)
                        self.locations[f"{key}[{item.text}]"] = item.loc
        if "must_exclude" in items:
            for item in self.id_list(items["must_exclude"], "must_exclude"):
                if item.text in lists["must_include"]:
                    self.error(
                        item.loc,
                        f"niche '{item.text}' is in both must_include and must_exclude; "
                        "remove it from one of them",
                    )
        exposure: dict[str, float] = {}
        if "max_exposure" in items:
            exposure_node = items["max_exposure"]
            if isinstance(exposure_node.value, dict):
                for power, child in exposure_node.value.items():
                    if self.key_ref(power, child, powers, "power", "max_exposure"):
                        cap = self.number(child, f"max_exposure for {power}", low=0, high=1)
                        if cap is not None:
                            exposure[power] = cap
                            self.locations[f"max_exposure[{power}]"] = child.at_key
            else:
                cap = self.number(exposure_node, "max_exposure", low=0, high=1)
                if cap is not None:
                    if not powers:
                        self.error(
                            exposure_node.loc, "max_exposure needs powers; declare them under 'powers'"
                        )
                    for power in powers:
                        exposure[power] = cap
                        self.locations[f"max_exposure[{power}]"] = exposure_node.at_key
        if "max_imbalance" in items and len(powers) < 2:
            self.error(
                items["max_imbalance"].at_key, "max_imbalance needs at least two powers under 'powers'"
            )
        low, high = values.get("min_niches"), values.get("max_niches")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.error(items["min_niches"].loc, f"min_niches ({low}) is greater than max_niches ({high})")
        return Rules(
            min_niches=_opt_int(values.get("min_niches")),
            max_niches=_opt_int(values.get("max_niches")),
            must_include=tuple(lists["must_include"]),
            must_exclude=tuple(lists["must_exclude"]),
            max_share=_opt_float(values.get("max_share")),
            max_exposure=exposure,
            max_imbalance=_opt_float(values.get("max_imbalance")),
            min_worst_case=_opt_float(values.get("min_worst_case")),
            min_cvar=_opt_float(values.get("min_cvar")),
            cvar_tail=_opt_float(values.get("cvar_tail")) or 0.25,
            floor_shares=shares,
        )

    def assertions(self, node: YNode | None, niche_nodes: dict[str, YNode], powers: list[str]) -> Assertions:
        if node is None:
            return Assertions()
        items = self.mapping(node, "assertions")
        if items is None:
            return Assertions()
        self.check_keys(items, ASSERTION_KEYS, "assertions")
        niche_ids = list(niche_nodes)
        for key, child in items.items():
            self.locations[f"assertion[{key}]"] = child.at_key
        recommend: dict[str, str | None] = {}
        if "recommend" in items:
            rec = items["recommend"]
            if isinstance(rec.value, dict):
                for nid, child in rec.value.items():
                    if not self.key_ref(nid, child, niche_ids, "niche", "assertions.recommend"):
                        continue
                    levels = niche_nodes[nid].value
                    known = (
                        list(levels["levels"].value)
                        if isinstance(levels, dict)
                        and "levels" in levels
                        and isinstance(levels["levels"].value, dict)
                        else [SHORTHAND_LEVEL]
                    )
                    if self.ref(child, known, "level", f"assertions.recommend for {nid}"):
                        recommend[nid] = child.text
            else:
                for item in self.id_list(rec, "assertions.recommend"):
                    if self.ref(item, niche_ids, "niche", "assertions.recommend"):
                        recommend[item.text] = None
        exclude: list[str] = []
        if "exclude" in items:
            exclude = [
                i.text
                for i in self.id_list(items["exclude"], "assertions.exclude")
                if self.ref(i, niche_ids, "niche", "assertions.exclude")
            ]
        numbers: dict[str, float | None] = {}
        for key in ("min_expected_value", "min_worst_case", "min_cvar"):
            numbers[key] = self.number(items[key], f"assertions.{key}") if key in items else None
        for key in ("max_cost", "max_regret"):
            numbers[key] = self.number(items[key], f"assertions.{key}", low=0) if key in items else None
        shares: dict[str, dict[str, float]] = {"max_exposure": {}, "core_index": {}}
        for key, kind, known in (("max_exposure", "power", powers), ("core_index", "niche", niche_ids)):
            if key in items:
                for ref, child in (self.mapping(items[key], f"assertions.{key}") or {}).items():
                    if self.key_ref(ref, child, known, kind, f"assertions.{key}"):
                        share = self.number(child, f"assertions.{key} for {ref}", low=0, high=1)
                        if share is not None:
                            shares[key][ref] = share
        samples = self.integer(items["samples"], "assertions.samples") if "samples" in items else 500
        if samples == 0:
            self.error(items["samples"].loc, "assertions.samples must be at least 1")
        seed = self.integer(items["seed"], "assertions.seed") if "seed" in items else 0
        return Assertions(
            recommend=recommend,
            exclude=tuple(exclude),
            min_expected_value=numbers["min_expected_value"],
            min_worst_case=numbers["min_worst_case"],
            min_cvar=numbers["min_cvar"],
            max_cost=numbers["max_cost"],
            max_exposure=shares["max_exposure"],
            max_regret=numbers["max_regret"],
            core_index=shares["core_index"],
            samples=samples or 500,
            seed=seed or 0,
        )

    # ------------------------------------------------------------------ cross checks
    def synergy_pairs(self, niches: list[Niche], nodes: dict[str, YNode]) -> None:
        for niche in niches:
            for other in niche.synergy:
                if niche.id in self._synergy_of(other, niches) and niche.id > other:
                    loc = self.locations.get(f"synergy[{niche.id} + {other}]", nodes[niche.id].at_key)
                    self.error(
                        loc,
                        f"the synergy of '{niche.id}' and '{other}' is declared on both niches; "
                        "declare each pair on one side only",
                    )

    @staticmethod
    def _synergy_of(nid: str, niches: list[Niche]) -> Mapping[str, float]:
        for niche in niches:
            if niche.id == nid:
                return niche.synergy
        return {}

    def impossible_niches(self, niches: list[Niche], rules: Rules) -> None:
        by_id = {n.id: n for n in niches}
        for niche in niches:
            for needed in niche.requires:
                loc = self.locations[f"requires[{niche.id} -> {needed}]"]
                other = by_id[needed]
                if niche.id in other.excludes or needed in niche.excludes:
                    self.warn(
                        loc,
                        f"niche '{niche.id}' can never be chosen: it requires '{needed}', which excludes it",
                    )
                elif needed in rules.must_exclude:
                    self.warn(
                        loc,
                        f"niche '{niche.id}' can never be chosen: it requires '{needed}', "
                        "which must_exclude names",
                    )


def started(level: Level, starts: Iterable[int], periods: Sequence[str]) -> list[Level]:
    """Return the choices of a declared level: one per period it may start in (in period order).

    Started in the i-th period, the amount stated for the k-th period is spent
    in the (k+i)-th (amounts past the last period are dropped) and every score
    is multiplied by the active share (periods from the start to the end) / periods.
    """
    choices = []
    count = len(periods)
    for offset in starts:
        if offset == 0:
            choices.append(dataclasses.replace(level, start=periods[0]))
            continue
        share = (count - offset) / count
        cost = {p: (level.cost[periods[k - offset]] if k >= offset else 0.0) for k, p in enumerate(periods)}
        choices.append(
            Level(
                id=f"{level.id}@{periods[offset]}",
                name=f"{level.name} from {periods[offset]}",
                cost=cost,
                scores={c: score.scaled(share) for c, score in level.scores.items()},
                uses=level.uses,
                declared=level.id,
                start=periods[offset],
                offset=offset,
                share=share,
            )
        )
    return choices


def _ratio_text(x: float) -> str:
    """Return a comparison as written on Saaty's scale: `3`, `1/3`, or two decimals between."""
    for whole in range(1, 10):
        if math.isclose(x, whole, rel_tol=1e-9):
            return str(whole)
        if math.isclose(x, 1.0 / whole, rel_tol=1e-9):
            return f"1/{whole}"
    return f"{x:.2f}" if x >= 1 else f"1/{1 / x:.2f}"


def _text_hint(value: object, high: float | None) -> str:
    """How to write as a number the text a number belongs in ('50%', '0.5', '1,000'), or ''."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if text.endswith("%") and _is_number(text[:-1]):
        percent = float(text[:-1])
        if high == 1:
            return f"; a share is a fraction: write {_num(percent / 100)}"
        return f"; write {text[:-1].strip()} without %"
    if "," in text and _is_number(text.replace(",", "")):
        return f"; write numbers without separators: {text.replace(',', '')}"
    if _is_number(text) and not _looks_numeric(text):
        return f"; drop the quotes: {text}"
    return ""


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _range_message(what: str, number: float, low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        bracket = "(" if low_open else "["
        return f"{what} must be in {bracket}{_num(low)}, {_num(high)}], got {_num(number)}"
    if low is not None:
        return f"{what} must be {'>' if low_open else '>='} {_num(low)}, got {_num(number)}"
    return f"{what} must be <= {_num(high or 0)}, got {_num(number)}"


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _normalise_synergy(niches: list[Niche]) -> list[Niche]:
    """Return niches whose synergy maps hold each pair once, on the first-declared niche."""
    order = {n.id: i for i, n in enumerate(niches)}
    moved: dict[str, dict[str, float]] = {n.id: {} for n in niches}
    for niche in niches:
        for other, bonus in niche.synergy.items():
            first, second = (niche.id, other) if order[niche.id] < order[other] else (other, niche.id)
            moved[first][second] = bonus
    result = []
    for niche in niches:
        pairs = dict(sorted(moved[niche.id].items(), key=lambda kv: order[kv[0]]))
        result.append(Niche(**{**niche.__dict__, "synergy": pairs}))
    return result


COMMAND_LINE = Location("command line", 0, 0)
"""Where a rule given on the command line (`--pin`, `--include`, `--exclude`) is declared."""


class CommitmentError(ValueError):
    """A commitment names a niche, level or period the scenario does not have."""


@dataclass(frozen=True)
class Commitment:
    """A political commitment: `niche` at `level` from `start`, at any level, or left out.

    `level` None means any level; `start` None any start period the level allows.
    """

    niche: str
    level: str | None = None
    start: str | None = None
    excluded: bool = False

    def __str__(self) -> str:
        if self.excluded:
            return f"-{self.niche}"
        if self.level is None:
            return self.niche
        return f"{self.niche}={self.level}" + (f"@{self.start}" if self.start else "")

    @staticmethod
    def parse(text: str) -> Commitment:
        """Read `NICHE=LEVEL[@PERIOD]`, `NICHE` (any level) or `-NICHE` (left out)."""
        text = text.strip()
        if text.startswith("-"):
            return Commitment(text[1:], excluded=True)
        niche, sep, level = text.partition("=")
        if not sep:
            return Commitment(niche)
        return Commitment(niche, level)


def commit(scenario: Scenario, commitments: Sequence[Commitment]) -> Scenario:
    """Return `scenario` with `commitments` added as rules declared on the command line.

    A pin becomes the rule group `pin[niche]` (the niche takes one of the
    allowed levels); `NICHE` adds `must_include[niche]`, `-NICHE`
    `must_exclude[niche]`; a deal is committed the same way (`DEAL` taken,
    `-DEAL` refused). Raise CommitmentError naming what is unknown.
    """
    if not commitments:
        return scenario
    r = scenario.rules
    include, exclude = list(r.must_include), list(r.must_exclude)
    pins = dict(r.pins)
    locations = dict(scenario.locations)
    ids = [n.id for n in scenario.niches]
    deal_ids = [d.id for d in scenario.deals]
    first: dict[str, Commitment] = {}
    for c in commitments:
        earlier = first.setdefault(c.niche, c)
        if earlier != c:
            raise CommitmentError(f"{earlier} and {c} both commit '{c.niche}'; keep one")
        if c.niche in deal_ids and c.level is not None:
            raise CommitmentError(f"{c}: '{c.niche}' is a deal, taken or not: write {c.niche} or -{c.niche}")
        if c.niche not in ids + deal_ids:
            known = ids + deal_ids
            kind = "niche or deal" if deal_ids else "niche"
            raise CommitmentError(f"{c}: unknown {kind} '{c.niche}'{_hint(c.niche, known)}")
        if c.excluded:
            if c.niche not in exclude:
                exclude.append(c.niche)
                locations[f"must_exclude[{c.niche}]"] = COMMAND_LINE
            continue
        if c.level is None:
            if c.niche not in include:
                include.append(c.niche)
                locations[f"must_include[{c.niche}]"] = COMMAND_LINE
            continue
        pins[c.niche] = _pinned_levels(scenario.niche(c.niche), c)
        locations[f"pin[{c.niche}]"] = COMMAND_LINE
    rules = dataclasses.replace(r, must_include=tuple(include), must_exclude=tuple(exclude), pins=pins)
    return dataclasses.replace(scenario, rules=rules, locations=locations)


def _pinned_levels(niche: Niche, c: Commitment) -> tuple[str, ...]:
    """Return the level ids (with their starts) commitment `c` allows niche `niche` to take."""
    assert c.level is not None
    exact = [lv.id for lv in niche.levels if lv.id == c.level and "@" in c.level]
    if exact:  # a declared id with an '@' in it (its niche cannot start later)
        return tuple(exact)
    level, at, start = c.level.rpartition("@") if "@" in c.level else (c.level, "", "")
    if not at and c.start is not None:  # a Commitment built with its start apart
        at, start = "@", c.start
    declared = list(dict.fromkeys(lv.base for lv in niche.levels))
    if level not in declared:
        raise CommitmentError(f"{c}: niche '{niche.id}' has no level '{level}'{_hint(level, declared)}")
    allowed = [lv for lv in niche.levels if lv.base == level]
    if at:
        allowed = [lv for lv in allowed if lv.start == start]
        if not allowed:
            periods = [lv.start or "" for lv in niche.levels if lv.base == level]
            raise CommitmentError(
                f"{c}: level '{level}' of niche '{niche.id}' cannot start in '{start}'; "
                f"it may start in {', '.join(periods)} (its 'start' in the scenario)"
            )
    return tuple(lv.id for lv in allowed)
