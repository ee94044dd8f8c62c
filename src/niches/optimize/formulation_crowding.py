"""Crowding in a joint model: how many members occupy a niche, and each occupant's value scaled by m(k).

`add_crowding` extends a `Joint` model of several members (`formulation.joint`).
For each crowded niche n declared by K members:

- `occupants[n=k]` (binary, k = 0 .. K): n has k occupants. The rows
  `occupants[n]` (sum_k k occupants[n=k] = the members choosing n at any
  level) and `one_count[n]` (sum_k occupants[n=k] = 1) tie them to the choices.
- The counts 1 .. K fall into bands of consecutive counts that share one
  multiplier (with m(2) = 0.85 and m(3) = 0.7 for three members: 1, 2, 3;
  with only m(2) = 0.9 given: 1, then 2-3). `crowded[m/n.l@b]` (continuous
  in [0, 1]) for each member m declaring n, each of its levels l and each
  band b is the product choose[m/n.l] x W_b (W_b: the band's occupants[n=k]
  added up). It enters m's `value_of[w]` (and `stressed_of[w]`) rows with
  (m(b) - 1) times the level's coefficient there (-(m(b) - 1) v(n, l, w)),
  so m's value from n in every world is m(b) times its value alone.
- The rows `counted[m/n.l]` (a level's `crowded` columns over every band
  add up to its choice: an occupant is counted in exactly one band) and
  `crowded[m/n.l@b].count` (<= W_b) make the products exact: at an integer
  point one count k* holds, every other band's columns are 0 and the column
  in the band of k* is the choice. The rows `occupants[n@b]` (the `crowded`
  columns of band b add up to sum_{k in b} k occupants[n=k]: k occupants
  when the count is k) hold at every integer point too and tighten the LP
  relaxation. The rest of the usual linearisation (z <= choose,
  z >= choose + W_b - 1) follows from `counted`; written out as rows it made
  an 11-member model slower to solve, so it is left implied.
- `holds[m/n]` (binary) is 1 when member m holds n at some level (the row
  `holds_of[m/n]` ties it to m's choices of n's levels); the counts are
  those columns added up. For each band b but the last (its largest count
  t below the number of members declaring n), the member's `crowded`
  columns of bands up to b (its weight in a count of at most t) limit the
  others that hold n: with t = 1, one row `others[m/n@b: o]` per other
  member o (the weight plus `holds[o/n]` at most 1: m alone in n, or o
  not there); with t > 1, one row `others[m/n@b]` (the others' `holds`
  plus (K - t) times the weight at most K - 1). They hold at every integer
  point and cut off fractional plans in which members share a niche by
  halves and each escapes the crowding: an 11-member model whose members
  keep their value floors as far as they can solves several times faster
  with them (and with `holds`, which the solver branches on).
- A deal that funds n at l loses its share of the level's value where it
  breaks; that loss is a value from n too and scales the same way, through
  `crowded[m/d: n.l@b]` = fund[d: n.l] x W_b, with the same `counted` and
  `.count` rows (funds are not occupants: no band row counts them).

Synergy bonuses and a deal's own bonus are not scaled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from niches.optimize.formulation import Joint
from niches.optimize.formulation_matrix import INF


def bands(multipliers: Mapping[int, float], most: int) -> list[list[int]]:
    """Return the counts 1 .. `most` grouped into runs of consecutive counts sharing one multiplier
    (`multipliers` maps k -> m(k); a k left out counts 1)."""
    found: list[list[int]] = []
    for k in range(1, most + 1):
        if found and multipliers.get(k, 1.0) == multipliers.get(found[-1][-1], 1.0):
            found[-1].append(k)
        else:
            found.append([k])
    return found


def add_crowding(
    model: Joint, multipliers: Mapping[str, Mapping[int, float]], declared_by: Mapping[str, Sequence[str]]
) -> dict[str, dict[int, int]]:
    """Add occupancy counts and crowded values to `model`; return niche -> k -> column `occupants[n=k]`.

    `multipliers` maps each crowded niche -> k -> m(k) for every k from 2 to
    the number of members declaring it (a k left out counts as 1);
    `declared_by` maps it -> the members of `model` that declare it.
    """
    counts: dict[str, dict[int, int]] = {}
    for nid, members in declared_by.items():
        most = len(members)
        count = {k: model.add_col(f"occupants[{nid}={k}]", 0, 1, True) for k in range(most + 1)}
        counts[nid] = count
        occupied: dict[int, float] = {col: float(k) for k, col in count.items() if k}
        holds = {}
        for m in members:
            holds[m] = model.add_col(f"holds[{m}/{nid}]", 0, 1, True)
            levels = {model.column(m, col): -1.0 for (n, _), col in model.parts[m].choose.items() if n == nid}
            model.add_row(f"holds_of[{m}/{nid}]", {holds[m]: 1.0, **levels}, 0, 0)
            occupied[holds[m]] = -1.0
        model.add_row(f"occupants[{nid}]", occupied, 0, 0)
        model.add_row(f"one_count[{nid}]", dict.fromkeys(count.values(), 1.0), 1, 1)
        runs = bands(multipliers.get(nid, {}), most)
        members_at: list[dict[int, float]] = [{count[k]: -float(k) for k in run} for run in runs]
        for m in members:
            at = _crowd_member(model, m, nid, count, runs, multipliers.get(nid, {}))
            for b, columns in enumerate(at):
                members_at[b].update(dict.fromkeys(columns, 1.0))
            _limit_others(model, m, nid, runs, at, holds)
        for run, coefficients in zip(runs, members_at, strict=True):
            model.add_row(f"occupants[{nid}@{_band(run)}]", coefficients, 0, 0)
    model.base_rows, model.base_cols = model.rows, model.cols
    return counts


def _limit_others(
    model: Joint,
    member: str,
    nid: str,
    runs: Sequence[Sequence[int]],
    at: Sequence[Sequence[int]],
    holds: Mapping[str, int],
) -> None:
    """Add the rows `others[m/n@b...]`: the member's weight in the bands up to b (its `crowded` columns
    `at` there) allows at most t - 1 others in `nid`, for t the largest count of band b."""
    most = len(holds)
    weight: dict[int, float] = {}
    for run, columns in zip(runs, at, strict=True):
        weight.update(dict.fromkeys(columns, 1.0))
        top = run[-1]
        if top >= most:
            break
        others = [o for o in holds if o != member]
        name = f"others[{member}/{nid}@{_band(run)}"
        if top == 1:
            for o in others:
                model.add_row(f"{name}: {o}]", {**weight, holds[o]: 1.0}, -INF, 1.0)
        else:
            row = {col: float(most - top) for col in weight} | dict.fromkeys((holds[o] for o in others), 1.0)
            model.add_row(f"{name}]", row, -INF, most - 1.0)


def _band(run: Sequence[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def _crowd_member(
    model: Joint,
    member: str,
    nid: str,
    count: Mapping[int, int],
    runs: Sequence[Sequence[int]],
    multipliers: Mapping[int, float],
) -> list[list[int]]:
    """Scale member `member`'s value from niche `nid` by m(k) when `nid` has k occupants; return, for
    each band, the member's `crowded` columns of its levels (for the band's count row)."""
    part = model.parts[member]
    rows = [model.row(member, r) for r in part.value_row.values()]
    if part.scenario.deals:
        rows += [model.row(member, r) for r in part.stressed_row.values()]
    levels = [(model.column(member, c), f"{nid}.{lid}") for (n, lid), c in part.choose.items() if n == nid]
    funds = [
        (model.column(member, c), f"{d}: {nid}.{lid}") for (d, n, lid), c in part.fund.items() if n == nid
    ]
    at: list[list[int]] = [[] for _ in runs]
    for base, label in [*levels, *funds]:
        spread: dict[int, float] = {base: -1.0}
        for b, run in enumerate(runs):
            name = f"crowded[{member}/{label}@{_band(run)}]"
            z = model.add_col(name, 0, 1)
            spread[z] = 1.0
            model.add_row(f"{name}.count", {z: 1.0, **{count[k]: -1.0 for k in run}}, -INF, 0)
            if (base, label) in levels:
                at[b].append(z)
            factor = multipliers.get(run[0], 1.0) - 1.0
            for row in rows if factor else ():
                coefficient = model.row_coef[row].get(base, 0.0)
                if coefficient:
                    model.set_coefficient(row, z, coefficient * factor)
        model.add_row(f"counted[{member}/{label}]", spread, 0, 0)
    return at
