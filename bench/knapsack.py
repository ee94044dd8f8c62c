"""OR-Library knapsack instances: `niches` against a direct solver call on the same instance.

    python bench/knapsack.py [--data ../shared/data/knapsack] [--solver highs] [--cb 5]

For each instance: the proven optimum, what `niches.optimize.model.solve` finds (full
solve with tie-break stages, and the primary objective alone), and a direct
call of the same solver on the bare knapsack (highspy's own API for HiGHS, a
PuLP model for CBC), both asked for a proven optimum. The ratios show what the
modelling layer and the tie-breaks cost.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tests.orlib import Knapsack, knapsack_scenario, read_mknap, read_mknap2

from niches.optimize.model import solve


def direct(problem: Knapsack, solver: str) -> tuple[float, float]:
    """Solve the bare knapsack with the solver's own interface; return (seconds, objective)."""
    start = time.perf_counter()
    n = len(problem.profits)
    if solver == "highs":
        import highspy
        import numpy as np

        h = highspy.Highs()
        h.silent()
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.0)
        h.setOptionValue("threads", 1)
        h.addVars(n, np.zeros(n), np.ones(n))
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(problem.profits, dtype=float))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        for row, capacity in zip(problem.weights, problem.capacities, strict=True):
            h.addRow(
                -highspy.kHighsInf, capacity, n, np.arange(n, dtype=np.int32), np.array(row, dtype=float)
            )
        h.run()
        return time.perf_counter() - start, h.getInfo().objective_function_value
    import pulp

    model = pulp.LpProblem("knapsack", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n)]
    model += pulp.lpSum(p * v for p, v in zip(problem.profits, x, strict=True))
    for i, row in enumerate(problem.weights):
        model += pulp.lpSum(w * v for w, v in zip(row, x, strict=True)) <= problem.capacities[i], f"c{i}"
    model.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, gapAbs=0.0))
    return time.perf_counter() - start, pulp.value(model.objective)


def main() -> None:
    parser = argparse.ArgumentParser()
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "knapsack"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--solver", default="highs")
    parser.add_argument("--cb", type=int, default=3, help="how many mknapcb1 (5x100) instances")
    args = parser.parse_args()
    problems = read_mknap(args.data / "mknap1.txt") + read_mknap2(args.data / "mknap2.txt")
    problems += read_mknap(args.data / "mknapcb1.txt")[: args.cb]
    print(f"solver: {args.solver}; seconds of wall time; ratio = niches / direct\n")
    print(
        "| instance | n x m | optimum | niches | ok | niches s | primary only s | direct s "
        "| ratio | primary ratio |"
    )
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|")
    totals = [0.0, 0.0, 0.0]
    for problem in problems:
        scenario = knapsack_scenario(problem)
        start = time.perf_counter()
        full = solve(scenario, solver=args.solver)
        t_full = time.perf_counter() - start
        start = time.perf_counter()
        solve(scenario, solver=args.solver, tie_breaks=False)
        t_primary = time.perf_counter() - start
        t_direct, _ = direct(problem, args.solver)
        ok = full.objective is not None and abs(full.objective - problem.optimum) < 1e-6 * max(
            1, problem.optimum
        )
        totals = [totals[0] + t_full, totals[1] + t_primary, totals[2] + t_direct]
        size = f"{len(problem.profits)} x {len(problem.capacities)}"
        print(
            f"| {problem.name} | {size} | {problem.optimum:g} | {full.objective:g} | {ok} | {t_full:.3f} | "
            f"{t_primary:.3f} | {t_direct:.3f} | {t_full / t_direct:.2f} | {t_primary / t_direct:.2f} |"
        )
    print(
        f"| **all {len(problems)}** | | | | | {totals[0]:.2f} | {totals[1]:.2f} | {totals[2]:.2f} | "
        f"{totals[0] / totals[2]:.2f} | {totals[1] / totals[2]:.2f} |"
    )


if __name__ == "__main__":
    main()
