"""Sections, JSON and the report's section of `niches rivals`: rivals crowding the same niches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from niches.analysis.rivals import MAX_ROUNDS, RivalsReport, Standing, occupants
from niches.numbers import clean, plural, share, value
from niches.optimize.relaxation import value_floors
from niches.optimize.tolerances import RELATIVE_TIE
from niches.render.json import units_json
from niches.render.markdown import table
from niches.render.portfolio import _portfolio_json, change_text, portfolio_text
from niches.render.sections import OBJECTIVE_WORDS, Section
from niches.scenario import Scenario
from niches.scenario.constellation import Constellation


def rivals_heading(report: RivalsReport) -> str:
    """Return the line above the sections: the constellation, its members and crowded niches."""
    c = report.constellation
    return f"{c.name}: {plural(len(c.members), 'member')}, {plural(len(c.crowding), 'crowded niche')}"


def rivals_sections(report: RivalsReport) -> list[Section]:
    """Return the sections of `niches rivals`: members, crowded niches, plans, value floors (when a member
    has one), the dynamics (and the cycle)."""
    sections = [_members_section(report), _niches_section(report), _plans_section(report)]
    if any(value_floors(s) for s in report.scenarios.values()):
        sections.append(_floors_section(report))
    sections.append(_dynamics_section(report))
    if report.dynamics.cycle is not None:
        sections.append(_cycle_section(report))
    return sections


def _figure(standing: Standing | None, member: str) -> str:
    return "-" if standing is None else value(standing.objectives[member])


def _total(standing: Standing | None) -> str:
    return "-" if standing is None else value(standing.total)


def _members_section(report: RivalsReport) -> Section:
    c = report.constellation
    rows = [
        (
            m,
            OBJECTIVE_WORDS[s.objective],
            value(report.alone.objectives[m]),
            _figure(report.equilibrium, m),
            _figure(report.coordinated, m),
        )
        for m, s in report.scenarios.items()
    ]
    rows.append(("total", "", _total(report.alone), _total(report.equilibrium), _total(report.coordinated)))
    unit = next(iter(c.members.values())).value_unit
    return Section(
        f"Members (objective values in {unit})",
        ("member", "objective", "alone", "equilibrium", "coordinated"),
        tuple(rows),
        frozenset({2, 3, 4}),
        frozenset({len(rows) - 1}),
        footer=(
            "alone: each member's own optimum, with no rival in its niches; equilibrium and coordinated: "
            "its objective under the crowding those plans imply",
            *objectives_note(report.scenarios),
            *(
                ()
                if any(value_floors(s) for s in report.scenarios.values())
                else ("no member has a value floor",)
            ),
            price_line(report),
        ),
        optional=((1,),),
    )


def objectives_note(scenarios: Mapping[str, Scenario]) -> tuple[str, ...]:
    """Say so when the members optimise different objectives (each is compared on its own)."""
    kinds = {m: s.objective for m, s in scenarios.items()}
    if len(set(kinds.values())) < 2:
        return ()
    each = ", ".join(f"{m} {OBJECTIVE_WORDS[k]}" for m, k in kinds.items())
    return (
        f"the members optimise different objectives ({each}): each member is compared on its own "
        "objective, and totals add unlike figures",
    )


def price_line(report: RivalsReport) -> str:
    """Return the price of anarchy in words, or why there is none."""
    price = report.price_of_anarchy
    if price is None:
        return f"price of anarchy: none ({report.price_note})"
    text = f"price of anarchy {price:.4f}: the coordinated total over the equilibrium total"
    eq, co = report.equilibrium, report.coordinated
    if eq is not None and co.shortfall < eq.shortfall - RELATIVE_TIE * max(1.0, eq.shortfall):
        text += (
            f"; the coordinated plan falls less short of the members' value floors ({share(co.shortfall)} "
            f"against {share(eq.shortfall)} at equilibrium: each shortfall as a share of its floor, added "
            "up)"
        )
    return text


def coordinated_words(report: RivalsReport) -> str:
    """Return what the coordinated plan is, in words (it depends on whether there is an equilibrium and
    on whether a member has a value floor)."""
    if not any(value_floors(s) for s in report.scenarios.values()):
        return "the members' largest total"
    if report.equilibrium is not None:
        return "the members' largest total with none further short of its value floors than at equilibrium"
    return (
        "the members' shortfalls below their value floors added up as small as they can be, then their total"
    )


def _multipliers(c: Constellation, niche: str) -> str:
    return " ".join(f"{k}:{m:.2f}" for k, m in c.crowding[niche].items())


def _occupied(c: Constellation, standing: Standing | None, niche: str) -> str:
    """Return who holds `niche` in `standing`, with the multiplier they get: `a, b (x0.85)`."""
    if standing is None:
        return "-"
    held = occupants(c, standing.portfolios, niche)
    if not held:
        return "nobody"
    factor = c.multiplier(niche, len(held))
    return ", ".join(held) + (f" (x{factor:.2f})" if factor != 1.0 else "")


def _niches_section(report: RivalsReport) -> Section:
    c = report.constellation
    rows = tuple(
        (
            n,
            _multipliers(c, n),
            _occupied(c, report.alone, n),
            _occupied(c, report.equilibrium, n),
            _occupied(c, report.coordinated, n),
        )
        for n in c.crowding
    )
    return Section(
        "Crowded niches: who holds them",
        ("niche", "k:m(k)", "alone", "equilibrium", "coordinated"),
        rows,
        footer=(
            "k:m(k): each holder's value from the niche is multiplied by m(k) when k members hold it (a k "
            "not given takes the m of the largest k below it); (xm): the multiplier its holders get",
        ),
        optional=((1,),),
    )


FLOOR_MEASURES = {"min_worst_case": ("worst_case", "worst case"), "min_cvar": ("cvar", "CVaR")}
"""Each value floor -> the metric it holds up and that metric in words."""


def _measure(standing: Standing, member: str, rule: str) -> float:
    return float(getattr(standing.metrics[member], FLOOR_MEASURES[rule][0]))


def _short_by(floor: float, measure: float) -> str:
    """Return by how much `measure` falls short of `floor` as the figures shown differ (so that a
    reader's subtraction agrees), or `less than 0.01`."""
    shown = value(clean(floor, 2) - clean(measure, 2))
    return shown if shown != "0.00" else "less than 0.01"


def _floor_cell(standing: Standing | None, member: str, rule: str, floor: float) -> str:
    """Return the member's measure of `rule` in `standing`, with `(-X)` where it falls X short of `floor`."""
    if standing is None:
        return "-"
    measure = _measure(standing, member, rule)
    if rule not in standing.shortfalls[member]:
        return value(measure)
    return f"{value(measure)} (-{_short_by(floor, measure).replace('less than ', '<')})"


def floor_sentences(report: RivalsReport, member: str) -> list[str]:
    """Return, for each floor `member` falls short of at equilibrium or in the coordinated plan, a clause
    saying so with the figures (empty when its floors hold in both)."""
    floors = value_floors(report.scenarios[member])
    found = []
    for rule, floor in floors.items():
        words = FLOOR_MEASURES[rule][1]
        named = f"{rule} {value(floor)}"
        eq = report.equilibrium
        if eq is not None and rule in eq.shortfalls[member]:
            measure = _measure(eq, member, rule)
            found.append(
                f"{member} cannot keep {named} against its rivals' plans: its {words} at equilibrium is "
                f"{value(measure)} (short by {_short_by(floor, measure)})"
            )
        co = report.coordinated
        if rule in co.shortfalls[member]:
            measure = _measure(co, member, rule)
            found.append(
                f"the coordinated plan leaves {member} short of {named}: its {words} there is "
                f"{value(measure)} (short by {_short_by(floor, measure)})"
            )
    return found


def _floors_section(report: RivalsReport) -> Section:
    rows: list[tuple[str, ...]] = []
    without = []
    notes = []
    for m, s in report.scenarios.items():
        floors = value_floors(s)
        if not floors:
            without.append(m)
        for i, (rule, floor) in enumerate(floors.items()):
            rows.append(
                (
                    m if i == 0 else "",
                    f"{rule} {value(floor)}",
                    _floor_cell(report.alone, m, rule, floor),
                    _floor_cell(report.equilibrium, m, rule, floor),
                    _floor_cell(report.coordinated, m, rule, floor),
                )
            )
        notes += floor_sentences(report, m)
    where = "alone, at equilibrium and coordinated" if report.equilibrium else "alone and coordinated"
    held = "; ".join(notes) if notes else f"every value floor holds {where}"
    return Section(
        "Value floors: alone, at equilibrium, coordinated",
        ("member", "floor", "alone", "equilibrium", "coordinated"),
        tuple(rows),
        frozenset({2, 3, 4}),
        footer=(
            "the member's worst case or CVaR in each plan, under the crowding it implies (-x: short of "
            "the floor by x); floors hold alone, and against rivals' plans where some portfolio keeps "
            "them: otherwise the member "
            "falls as little short as it can (each shortfall as a share of its floor, added up), then "
            f"optimises its objective; {floors_rule(report)}",
            held,
            *([f"no value floor: {', '.join(without)}"] if without else []),
        ),
        optional=((2,),),
    )


def floors_rule(report: RivalsReport) -> str:
    """Return how the coordinated plan treats the members' value floors, in words."""
    if report.equilibrium is not None:
        return (
            "the coordinated plan makes the members' total as large as it can with no member further short "
            "of its floors than at equilibrium"
        )
    return (
        "with no equilibrium, the coordinated plan first makes the members' shortfalls added up as small "
        "as it can"
    )


def _plans_section(report: RivalsReport) -> Section:
    rows: list[tuple[str, ...]] = []
    for m, s in report.scenarios.items():
        alone = report.alone.portfolios[m]
        rows.append((m, "alone", portfolio_text(s, alone)))
        if report.equilibrium is not None:
            rows.append(("", "equilibrium", change_text(s, alone, report.equilibrium.portfolios[m])))
        rows.append(("", "coordinated", change_text(s, alone, report.coordinated.portfolios[m])))
    return Section(
        "Plans: alone, at equilibrium, coordinated",
        ("member", "plan", "portfolio"),
        tuple(rows),
    )


def _dynamics_section(report: RivalsReport) -> Section:
    d = report.dynamics
    rows = tuple(
        (
            str(move.round),
            move.member,
            change_text(report.scenarios[move.member], move.before, move.after),
            value(move.objective),
        )
        for move in d.moves
    )
    if not rows:
        rows = (("1", "", "no member changes its plan alone", ""),)
    return Section(
        "Best responses, round by round",
        ("round", "member", "change", "objective"),
        rows,
        frozenset({0, 3}),
        footer=(dynamics_line(report), "objective: the member's own, under the crowding it then faces"),
    )


def dynamics_line(report: RivalsReport) -> str:
    """Return how the best responses ended, in words."""
    d = report.dynamics
    if d.converged:
        return (
            f"converged in {plural(d.rounds, 'round')} (the last changed no member): a pure Nash "
            "equilibrium, where no member gains by changing its plan alone"
        )
    if d.repeats is not None:
        return (
            f"no equilibrium: the state after round {d.rounds} repeats the state "
            f"{'of the plans alone' if d.repeats == 0 else f'after round {d.repeats}'}, so the best "
            "responses cycle for ever"
        )
    return f"stopped after {MAX_ROUNDS} rounds, neither settled nor repeating"


def _cycle_section(report: RivalsReport) -> Section:
    d = report.dynamics
    cycle = d.cycle or ()
    assert d.repeats is not None
    rows: list[tuple[str, ...]] = []
    for offset, state in enumerate(cycle):
        after = d.repeats + offset
        label = "alone" if after == 0 else f"after round {after}"
        for i, (m, s) in enumerate(report.scenarios.items()):
            rows.append((label if i == 0 else "", m, portfolio_text(s, state[m])))
    return Section(
        "The cycle: the states that repeat",
        ("state", "member", "portfolio"),
        tuple(rows),
        footer=(f"after round {d.rounds} the first state comes back, and the states follow in this order",),
    )


# --------------------------------------------------------------------------- JSON


def _plan(scenario: Scenario, standing: Standing | None, member: str) -> list[dict[str, str]] | None:
    return None if standing is None else _portfolio_json(scenario, standing.portfolios[member])


def _objective(standing: Standing | None, member: str) -> float | None:
    return None if standing is None else clean(standing.objectives[member])


def _holders(c: Constellation, standing: Standing | None, niche: str) -> list[str] | None:
    return None if standing is None else list(occupants(c, standing.portfolios, niche))


def _shortfalls(standing: Standing | None, member: str) -> dict[str, float] | None:
    """Return each value floor the member falls short of in `standing` -> by how much (value units)."""
    if standing is None:
        return None
    return {rule: clean(amount) for rule, amount in standing.shortfalls[member].items()}


def rivals_json(report: RivalsReport) -> dict[str, Any]:
    """Return the JSON object of `niches rivals`."""
    c = report.constellation
    d = report.dynamics
    first = next(iter(c.members.values()))
    scenarios = report.scenarios
    return {
        "constellation": c.name,
        "scenario": c.name,
        "units": units_json(first),
        "solver": report.solver,
        "objectives": {m: s.objective for m, s in scenarios.items()},
        "members": [
            {
                "name": m,
                "objective": s.objective,
                "alone": clean(report.alone.objectives[m]),
                "equilibrium": _objective(report.equilibrium, m),
                "coordinated": _objective(report.coordinated, m),
                "portfolio_alone": _portfolio_json(s, report.alone.portfolios[m]),
                "portfolio_equilibrium": _plan(s, report.equilibrium, m),
                "portfolio_coordinated": _plan(s, report.coordinated, m),
                "floors": {rule: clean(floor) for rule, floor in value_floors(s).items()},
                "shortfall_equilibrium": _shortfalls(report.equilibrium, m),
                "shortfall_coordinated": _shortfalls(report.coordinated, m),
            }
            for m, s in scenarios.items()
        ],
        "niches": [
            {
                "niche": n,
                "declared_by": list(c.declared_by[n]),
                "multipliers": {str(k): clean(m) for k, m in c.crowding[n].items()},
                "alone": _holders(c, report.alone, n),
                "equilibrium": _holders(c, report.equilibrium, n),
                "coordinated": _holders(c, report.coordinated, n),
            }
            for n in c.crowding
        ],
        "rounds": d.rounds,
        "converged": d.converged,
        "cycle": None if d.cycle is None else [_state_json(scenarios, state) for state in d.cycle],
        "moves": [
            {
                "round": move.round,
                "member": move.member,
                "before": _portfolio_json(scenarios[move.member], move.before),
                "after": _portfolio_json(scenarios[move.member], move.after),
                "objective": clean(move.objective),
            }
            for move in d.moves
        ],
        "totals": {
            "alone": clean(report.alone.total),
            "equilibrium": None if report.equilibrium is None else clean(report.equilibrium.total),
            "coordinated": clean(report.coordinated.total),
        },
        "price_of_anarchy": None if report.price_of_anarchy is None else clean(report.price_of_anarchy),
        "price_of_anarchy_note": report.price_note,
    }


def _state_json(scenarios: Mapping[str, Scenario], state: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    return {m: _portfolio_json(s, state[m]) for m, s in scenarios.items()}


# --------------------------------------------------------------------------- the report's section


@dataclass(frozen=True)
class RivalsSection:
    """What the report's section "Rivals" is about: the game (None: it could not be played, and
    `problem` says why), the member the report is about, the constellation file as its path was given."""

    report: RivalsReport | None
    member: str
    path: str
    problem: str | None = None


def rivals_markdown(section: RivalsSection) -> str:
    """Return the report's section "Rivals" for one member of a constellation.

    The crowded niches it declares (its level alone and at equilibrium, who
    else holds each at equilibrium, the multiplier it gets or would get
    there), then what the equilibrium changes in its plan against its plan
    alone, its objective alone, at equilibrium and coordinated (what the
    coordinated plan is: `coordinated_words`), and whether its value floors
    hold in each (by how much they fall short where not).
    """
    report, member, path = section.report, section.member, section.path
    if report is None:
        return f"## Rivals\n\nAmong the members of `{path}`: not computed: {section.problem}.\n"
    c = report.constellation
    s = report.scenarios[member]
    others = [m for m in c.members if m != member]
    text = (
        f"## Rivals\n\n{member} among {plural(len(others), 'rival')} ({', '.join(others)}) of "
        f"{c.name} (`{path}`). A crowded niche is worth m(k) of its value to each of its k holders; "
        "the members answer one another's plans in file order until no one changes its own. "
        f"{_sentence(dynamics_line(report))}\n\n"
    )
    final = report.equilibrium
    mine = [n for n, having in c.declared_by.items() if member in having]
    rows = []
    state = None if final is None else final.portfolios
    for n in mine:
        there = [] if state is None else [o for o in occupants(c, state, n) if o != member]
        level_alone = report.alone.portfolios[member].get(n, "-")
        level_eq = "-" if state is None else state[member].get(n, "-")
        rows.append(
            (
                n,
                _multipliers(c, n),
                level_alone,
                level_eq,
                "-" if state is None else (", ".join(there) or "nobody"),
                "-" if state is None else f"{c.multiplier(n, 1 + len(there)):.2f}",
            )
        )
    if rows:
        header = ("niche", "k:m(k)", "alone", "at equilibrium", "rivals there", "its multiplier")
        text += table(header, rows, (5,)) + "\n"
        text += (
            "alone and at equilibrium: its level (- left out); its multiplier: what its value from the "
            "niche is multiplied by with those rivals there (were it to hold the niche).\n\n"
        )
    else:
        text += f"{member} declares none of the crowded niches.\n\n"
    kind = OBJECTIVE_WORDS[s.objective]
    alone = report.alone.portfolios[member]
    if final is not None:
        text += f"At equilibrium {_changes(s, alone, final.portfolios[member])}. "
    text += f"Its {kind} is {value(report.alone.objectives[member])} alone (no rival)"
    if final is not None:
        text += f", {value(final.objectives[member])} at equilibrium"
    text += (
        f", {value(report.coordinated.objectives[member])} in the coordinated plan "
        f"({coordinated_words(report)}), where {_changes(s, alone, report.coordinated.portfolios[member])}. "
    )
    return text + f"{_floors_words(report, member)}{_sentence(price_line(report))}\n"


def _floors_words(report: RivalsReport, member: str) -> str:
    """Return sentences saying whether the member's value floors hold alone, at equilibrium and
    coordinated, with the shortfall where they do not."""
    floors = value_floors(report.scenarios[member])
    if not floors:
        return "It has no value floor. "
    named = " and ".join(f"{rule} {value(floor)}" for rule, floor in floors.items())
    short = floor_sentences(report, member)
    places = ["alone"]
    if report.equilibrium is not None and not report.equilibrium.shortfalls[member]:
        places.append("at equilibrium")
    if not report.coordinated.shortfalls[member]:
        places.append("in the coordinated plan")
    holds = "hold" if len(floors) > 1 else "holds"
    text = f"Its {'floors' if len(floors) > 1 else 'floor'} {named} {holds} {_listed(places)}"
    return text + "".join(f"; {clause}" for clause in short) + ". "


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _changes(scenario: Scenario, alone: Mapping[str, str], plan: Mapping[str, str]) -> str:
    """Return what `plan` changes in the plan alone, as a clause: `it keeps ...` or `its plan ...`."""
    if dict(plan) == dict(alone):
        return "it keeps its plan alone"
    return f"its plan changes against its plan alone: {change_text(scenario, alone, plan)}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
