"""JSON output: one object per command, stable key order, fixed float rounding."""

from __future__ import annotations

import json
from typing import Any

from niches.analysis.summary import Gain, SolveReport
from niches.numbers import clean
from niches.optimize.evaluate import Metrics
from niches.scenario import Scenario


def dumps(data: Any) -> str:
    """Serialise `data` deterministically (floats already rounded by `clean`)."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def units_json(scenario: Scenario) -> dict[str, str]:
    """Return the `units` object: the money unit and the value unit (shares are fractions in [0, 1])."""
    return {"money": scenario.units, "value": scenario.value_unit, "share": "fraction"}


def _floats(mapping: dict[str, float]) -> dict[str, float]:
    return {k: clean(v) for k, v in mapping.items()}


def metrics_dict(metrics: Metrics, deals: bool = False) -> dict[str, Any]:
    """Return the `metrics` object of the JSON contract (with `deals`: the figures deals change)."""
    extra: dict[str, Any] = {}
    if deals:
        extra = {
            "gross_cost": clean(metrics.gross_cost),
            "stressed_by_world": _floats(metrics.stressed_by_world),
        }
    return {
        "expected_value": clean(metrics.expected_value),
        "worst_case": clean(metrics.worst_case),
        "cvar": clean(metrics.cvar),
        "cost": clean(metrics.cost),
        "cost_by_period": _floats(metrics.cost_by_period),
        "value_by_world": _floats(metrics.value_by_world),
        "exposure": _floats(metrics.exposure),
        "uses": _floats(metrics.uses),
        "niches": metrics.count,
        "synergy_value": clean(metrics.synergy_value),
        **extra,
    }


def deals_list(
    scenario: Scenario, metrics: Metrics, worth: dict[str, float | None] | None = None
) -> list[dict[str, Any]]:
    """Return the `deals` array: every deal offered, taken or not, what a taken one brings, and (`worth`)
    what taking it is worth to the plan."""
    rows = []
    for deal in scenario.deals:
        taken = deal.id in metrics.deal_money
        extra: dict[str, float | None] = {}
        if worth is not None:
            figure = worth.get(deal.id)
            extra["worth"] = None if figure is None else clean(figure)
        rows.append(
            {
                "deal": deal.id,
                "partner": deal.partner,
                "funds": {nid: list(choices) for nid, choices in deal.funds.items()},
                "share": None if deal.share is None else clean(deal.share),
                "amount": None if deal.amount is None else clean(deal.amount),
                "taken": taken,
                "money": clean(metrics.deal_money[deal.id]) if taken else 0.0,
                "money_by_period": _floats(metrics.deal_money_by_period[deal.id]) if taken else {},
                "expected_value": clean(metrics.deal_value[deal.id]) if taken else 0.0,
                **extra,
                "reliability": _floats(dict(deal.reliability)),
            }
        )
    return rows


def portfolio_list(scenario: Scenario, portfolio: dict[str, str], metrics: Metrics) -> list[dict[str, Any]]:
    """Return the `portfolio` array: one object per chosen niche, in declaration order."""
    rows = []
    for niche in scenario.niches:
        if niche.id not in portfolio:
            continue
        level = niche.level(portfolio[niche.id])
        rows.append(
            {
                "niche": niche.id,
                "level": level.id,
                "name": niche.name,
                "cost": clean(level.total_cost),
                "cost_by_period": _floats(dict(level.cost)),
                "expected_value": clean(metrics.niche_value[niche.id]),
                **({"declared_level": level.base, "start": level.start} if scenario.timed else {}),
            }
        )
    return rows


def judged_list(scenario: Scenario) -> list[dict[str, Any]]:
    """Return the figures the judges changed: what, the file's figure, each judge's, the group's."""
    return [
        {
            "what": j.what,
            "kind": j.judgement[0],
            "declared": None if j.declared is None else clean(j.declared),
            "judges": {name: clean(v) for name, v in j.judges.items()},
            "group": clean(j.group),
        }
        for j in scenario.judged
    ]


def solve_dict(report: SolveReport) -> dict[str, Any]:
    """Return the JSON object of `niches solve`."""
    solution = report.solution
    scenario = solution.scenario
    data: dict[str, Any] = {
        "scenario": scenario.name,
        "units": units_json(scenario),
        "status": solution.status,
        "objective": {
            "kind": solution.objective_kind,
            "value": None if solution.objective is None else clean(solution.objective),
        },
        "solver": solution.solver,
        "gap": None if solution.gap is None else clean(solution.gap),
        "portfolio": [],
        "metrics": None,
    }
    if solution.metrics is not None:
        data["portfolio"] = portfolio_list(scenario, solution.portfolio, solution.metrics)
        if scenario.deals:
            data["deals"] = deals_list(scenario, solution.metrics, report.deal_worth)
        data["metrics"] = metrics_dict(solution.metrics, bool(scenario.deals))
    if scenario.judged:
        data["judged"] = judged_list(scenario)
    if solution.best_by_world is not None:
        data["best_by_world"] = _floats(solution.best_by_world)
    data["rules"] = [
        {
            "rule": check.rule,
            "measured": clean(check.measured),
            "limit": clean(check.limit),
            "slack": clean(check.slack),
            "tight": check.tight,
            "binding": None if check.rule in report.unknown else check.rule in report.binding,
            **_floor_source(scenario, check.rule),
        }
        for check in report.checks
    ]
    data["binding"] = [
        {"rule": rule, **gain_fields(gain), "location": _location(scenario, rule)}
        for rule, gain in report.binding.items()
    ]
    data["left_out"] = [{"niche": item.niche, "reason": item.reason} for item in report.left_out]
    data["warnings"] = list(scenario.warnings)
    data["notes"] = list(solution.notes)
    data["unfinished"] = list(report.unfinished)
    return data


def gain_fields(gain: Gain, suffix: str = "") -> dict[str, Any]:
    """Return a rule's gain as JSON fields: `gain_if_dropped` (the exact figure, or null when only
    bounded), `gain_bounds` ([low, high]; equal when exact) and `exact`, each name ending in `suffix`."""
    return {
        f"gain_if_dropped{suffix}": None if gain.figure is None else clean(gain.figure),
        f"gain_bounds{suffix}": [clean(gain.low), clean(gain.high)],
        f"exact{suffix}": gain.exact,
    }


def _floor_source(scenario: Scenario, rule: str) -> dict[str, Any]:
    """Return, for a floor declared as a share, the share and the best it is a share of."""
    r = scenario.rules
    if rule not in r.floor_shares:
        return {}
    return {"share": clean(r.floor_shares[rule]), "best_under_other_rules": clean(r.floor_bests[rule])}


def _location(scenario: Scenario, rule: str) -> str | None:
    loc = scenario.locations.get(rule)
    if loc is None and rule.endswith("[*]"):
        family = rule[: -len("[*]")]
        loc = scenario.locations.get({"capacity": "capacities"}.get(family, family))
    return None if loc is None else str(loc)


def render_solve(report: SolveReport) -> str:
    """Return `niches solve --format json` text."""
    return dumps(solve_dict(report))
