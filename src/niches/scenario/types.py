"""The validated scenario: frozen dataclasses (Scenario, Niche, Level, Score, Deal, ...), ScenarioError."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from niches.scenario import judges as panel
from niches.scenario.judges import Judge
from niches.scenario.yamlsource import Location, Problem

OBJECTIVES = ("expected", "worst_case", "cvar", "regret")
TOTAL = "total"
BASELINE = "baseline"
SHORTHAND_LEVEL = "invest"
TAKEN = "taken"
"""What a portfolio maps a deal it takes to (niches map to their level)."""


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
class Adapt:
    """When the world order shows itself (`adapt:`): `reveal` is the period id from which it is known.

    A choice that starts before `reveal` (a level started in an earlier period,
    or a deal funding one) is made now, the same in every world; a choice that
    starts in `reveal` or later may differ by world.
    """

    reveal: str


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
    adapt: Adapt | None = None
    """When the world order is known (`niches adapt`); None: the scenario declares no `adapt`."""

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
