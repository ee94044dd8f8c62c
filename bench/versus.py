"""Whole commands side by side: a baseline revision of niches against this tree, in one run.

    python bench/versus.py [--baseline 68656bf] [--cap 300] [--only default,30]
    python bench/versus.py --baseline 21dcdc6 --only v1,timed   # planning in time: v1 files, and starts
    python bench/versus.py --baseline 6519751 --only default,check,30,questions,60,100,persample,200

The baseline is checked out into a temporary git worktree and run from the same
virtual environment (its `src` first on PYTHONPATH); every command runs as a
user would run it (`python -m niches ...`), one after the other, old then new.
Synthetic scenarios come from bench/synthetic.py with seed 1. A baseline that
runs past `--cap` seconds is stopped and shown as "> cap". Where no baseline
command exists (the convex hull, a direct highspy solve) the row says what the
baseline is. Prints a markdown table: seconds old, seconds new, old / new.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import synthetic

ROOT = Path(__file__).resolve().parents[1]


def run(src: Path, args: list[str], cap: float, cwd: Path) -> float | None:
    """Return the wall time of `python -m niches ARGS` with `src` first on the path (None past `cap`)."""
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "120"}
    start = time.perf_counter()
    try:
        subprocess.run(
            [sys.executable, "-m", "niches", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=cap,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start


def direct_highs(lp: Path) -> float:
    """Return the seconds highspy takes to solve `lp` to a proven optimum (its own API, nothing else)."""
    code = (
        "import highspy, time, sys\n"
        "h = highspy.Highs(); h.silent(); h.readModel(sys.argv[1])\n"
        "h.setOptionValue('mip_rel_gap', 0.0); h.setOptionValue('mip_abs_gap', 0.0)\n"
        "t = time.perf_counter(); h.run(); print(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(lp)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def report_check(
    old_src: Path, new_src: Path, scenarios: tuple[str, str], work: Path, cap: float
) -> tuple[float | None, float | None]:
    """Return the wall time of `report --check` on an up-to-date report, old and new (each its own
    scenario and report)."""
    times: list[float | None] = []
    for tag, src, scenario in (("old", old_src, scenarios[0]), ("new", new_src, scenarios[1])):
        out = work / f"check-{tag}-{Path(scenario).stem}.md"
        run(src, ["report", scenario, "-o", str(out)], cap * 4, work)
        times.append(run(src, ["report", "--check", str(out)], cap, work) if out.exists() else None)
    return times[0], times[1]


def solves_per_question(src: Path, scenario: Path, work: Path, cap: float) -> str:
    """Return 'calls / questions = ratio' from `sensitivity --format json` (its solves and questions)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "niches", "sensitivity", str(scenario), "--format", "json"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=cap,
            check=False,
        )
        data = json.loads(done.stdout)
    except (subprocess.TimeoutExpired, json.JSONDecodeError):
        return "-"
    if "questions" not in data or "solves" not in data:
        return f"{data.get('solves', '-')} calls (questions not counted)"
    return f"{data['solves']} / {data['questions']} = {data['solves'] / data['questions']:.1f}"


def per_sample(new_src: Path, scenario: Path, work: Path) -> tuple[float, float]:
    """Return seconds per sample of `robust --samples 1000 --workers 1` (whole command over 1000), and
    of highspy alone solving the first 50 samples' models (written as LP files by niches, same seed)."""
    t_new = run(new_src, ["robust", str(scenario), "--samples", "1000", "--workers", "1"], 3600, work)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from niches.analysis.robust import VARY\n"
        "from niches.analysis.sampling import Sampler\n"
        "from niches.optimize.formulation import KIND_GOAL\n"
        "from niches.optimize.model import PortfolioModel\n"
        "from niches.scenario import load_scenario\n"
        "scenario = load_scenario(sys.argv[1])\n"
        "sampler = Sampler(scenario, VARY, 50.0)\n"
        "for i in range(50):\n"
        "    variant = sampler.scenario_for(*sampler.draw(0, i))\n"
        "    model = PortfolioModel(variant)\n"
        "    model.write_lp(str(Path(sys.argv[2]) / f'sample-{i}.lp'), KIND_GOAL[variant.objective])\n"
    )
    folder = work / "samples"
    folder.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(new_src)}
    subprocess.run([sys.executable, "-c", code, str(scenario), str(folder)], env=env, check=True)
    direct = [direct_highs(folder / f"sample-{i}.lp") for i in range(50)]
    return (t_new or 0.0) / 1000, sum(direct) / len(direct)


def bounds_agree(src: Path, scenario: Path, work: Path) -> str:
    """Return whether the default run flags the rules `--exact` flags as binding, each interval
    containing the exact gain (the JSON's binding[]: gain_if_dropped, gain_bounds)."""
    runs = []
    for extra in ([], ["--exact"]):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "niches",
                "solve",
                str(scenario),
                "--objective",
                "cvar",
                "--format",
                "json",
                *extra,
            ],
            cwd=work,
            env={**os.environ, "PYTHONPATH": str(src)},
            capture_output=True,
            text=True,
            check=False,
        )
        runs.append({b["rule"]: b for b in json.loads(done.stdout)["binding"]})
    default, exact = runs
    if set(default) != set(exact):
        return f"different rules: {sorted(set(default) ^ set(exact))}"
    outside = []
    for rule, b in exact.items():
        gain = b["gain_if_dropped"]
        low, high = default[rule]["gain_bounds"]
        if not low - 1e-6 * max(1.0, abs(gain)) <= gain <= high + 1e-6 * max(1.0, abs(gain)):
            outside.append(rule)
    bounded = sum(1 for b in default.values() if not b["exact"])
    if outside:
        return f"intervals missing the exact gain: {outside}"
    return f"the same {len(exact)} rules; {bounded} bounded, every interval contains the exact gain"


def cell(seconds: float | None, cap: float) -> str:
    return f"> {cap:g}" if seconds is None else f"{seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="68656bf")
    parser.add_argument("--cap", type=float, default=300.0)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated groups: v1,timed,default,check,30,questions,60,100,persample,200,limit",
    )
    args = parser.parse_args()
    groups = set(filter(None, args.only.split(","))) or {
        "default",
        "check",
        "30",
        "questions",
        "60",
        "100",
        "persample",
        "200",
        "limit",
    }
    work = Path(tempfile.mkdtemp(prefix="niches-versus-"))
    old = work / "baseline"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(old), args.baseline],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        files: dict[str, Path] = {}
        for label, n, levels, worlds, periods in (
            ("30", 30, 3, 5, 5),
            ("60", 60, 3, 5, 5),
            ("100", 100, 3, 5, 5),
            ("150", 150, 3, 5, 5),
            ("200", 200, 3, 20, 5),
        ):
            path = work / f"synthetic-{label}.yaml"
            path.write_text(yaml.safe_dump(synthetic(n, levels, worlds, periods, seed=1), sort_keys=False))
            files[label] = path
        new_src, old_src = ROOT / "src", old / "src"
        kz = str(ROOT / "options" / "kazakhstan.yaml")
        ca = str(ROOT / "options" / "canada.yaml")
        kz_v1 = str(old / "options" / "kazakhstan.yaml")  # the baseline's own default scenario
        ca_v1 = str(old / "options" / "canada.yaml")
        cases: list[tuple[str, str, list[str] | None, list[str]]] = [
            *[
                ("v1", f"{name} (the baseline's default, both)", [name, kz_v1], [name, kz_v1])
                for name in ("solve", "report", "sensitivity", "frontier", "worlds")
            ],
            *[
                ("timed", f"{name} (each its own default; this tree's has start)", [name, kz_v1], [name, kz])
                for name in ("solve", "report", "sensitivity", "frontier", "worlds")
            ],
            # each revision on its own bundled files (a newer key is an error to an older reader)
            ("default", "report", ["report", kz_v1], ["report", kz]),
            ("default", "solve", ["solve", kz_v1], ["solve", kz]),
            ("default", "frontier --axis budget", ["frontier", kz_v1], ["frontier", kz]),
            ("default", "sensitivity", ["sensitivity", kz_v1], ["sensitivity", kz]),
            ("default", "worlds", ["worlds", kz_v1], ["worlds", kz]),
            ("default", "diff kazakhstan canada", ["diff", kz_v1, ca_v1], ["diff", kz, ca]),
            ("30", "solve", ["solve", str(files["30"])], ["solve", str(files["30"])]),
            ("30", "sensitivity", ["sensitivity", str(files["30"])], ["sensitivity", str(files["30"])]),
            ("30", "report", ["report", str(files["30"])], ["report", str(files["30"])]),
            *[
                ("60", name, [name, str(files["60"])], [name, str(files["60"])])
                for name in ("solve", "sensitivity", "frontier", "worlds", "robust", "report")
            ],
            ("60", "learn (no baseline: a new command)", None, ["learn", str(files["60"])]),
            (
                "60",
                "adapt --reveal 2028 (no baseline: a new command)",
                None,
                ["adapt", str(files["60"]), "--reveal", "2028"],
            ),
            (
                "60",
                "frontier --axis exposure",
                ["frontier", str(files["60"]), "--axis", "exposure"],
                ["frontier", str(files["60"]), "--axis", "exposure"],
            ),
            (
                "60",
                "frontier --axis hull (baseline: the exact budget frontier 0-1.5)",
                ["frontier", str(files["60"])],
                ["frontier", str(files["60"]), "--axis", "hull"],
            ),
            (
                "100",
                "robust --samples 1000",
                ["robust", str(files["100"]), "--samples", "1000"],
                ["robust", str(files["100"]), "--samples", "1000"],
            ),
        ]
        print(
            f"baseline {args.baseline} vs this tree; seconds of wall time, whole command; "
            f"cap {args.cap:g} s\n"
        )
        print("| scenario | command | baseline s | niches s | baseline / niches |")
        print("|---|---|---:|---:|---:|")
        for group, label, before, after in cases:
            if group not in groups:
                continue
            t_old = run(old_src, before, args.cap, work) if before is not None else None
            t_new = run(new_src, after, args.cap * 4, work)
            ratio = "-" if t_old is None or t_new is None else f"{t_old / t_new:.1f}"
            if before is not None and t_old is None and t_new is not None:
                ratio = f"> {args.cap / t_new:.1f}"
            name = {"default": "default", "v1": "default", "timed": "default"}.get(
                group, f"synthetic {group}"
            )
            old_cell = "-" if before is None else cell(t_old, args.cap)
            print(f"| {name} | {label} | {old_cell} | {cell(t_new, args.cap * 4)} | {ratio} |")
            sys.stdout.flush()
        if "check" in groups:
            for label, scenarios in (("default", (kz_v1, kz)), ("synthetic 30", (str(files["30"]),) * 2)):
                t_old, t_new = report_check(old_src, new_src, scenarios, work, args.cap)
                ratio = "-" if t_old is None or t_new is None else f"{t_old / t_new:.1f}"
                print(
                    f"| {label} | report --check (an up-to-date report) | {cell(t_old, args.cap)} "
                    f"| {cell(t_new, args.cap)} | {ratio} |"
                )
                sys.stdout.flush()
        if "questions" in groups:
            for label, path in (("30", files["30"]), ("60", files["60"])):
                before = solves_per_question(old_src, path, work, args.cap)
                after = solves_per_question(new_src, path, work, args.cap * 4)
                print(
                    f"| synthetic {label} | sensitivity: solver calls / questions | {before} | {after} | - |"
                )
                sys.stdout.flush()
        if "persample" in groups:
            t_new, t_direct = per_sample(new_src, files["100"], work)
            print(
                "| synthetic 100 | robust --samples 1000, wall time per sample "
                "(baseline: highspy alone on the first 50 samples' models, same seed) "
                f"| {t_direct * 1000:.0f} ms | {t_new * 1000:.0f} ms | {t_direct / t_new:.2f} |"
            )
            sys.stdout.flush()
        if "200" in groups:
            lp = work / "synthetic-200.lp"
            t_new = run(
                new_src, ["solve", str(files["200"]), "--objective", "cvar", "--lp", str(lp)], 3600, work
            )
            t_direct = direct_highs(lp)
            print(
                "| synthetic 200x3 w20 p5 | solve --objective cvar "
                "(baseline: highspy alone on its --lp file) "
                f"| {t_direct:.2f} | {cell(t_new, 3600)} | {t_direct / (t_new or 1):.2f} |"
            )
            t_exact = run(new_src, ["solve", str(files["200"]), "--objective", "cvar", "--exact"], 3600, work)
            print(
                "| synthetic 200x3 w20 p5 | solve --objective cvar --exact "
                "(baseline: highspy alone on its --lp file) "
                f"| {t_direct:.2f} | {cell(t_exact, 3600)} | {t_direct / (t_exact or 1):.2f} |"
            )
            print(
                "\n200x3 w20 p5 binding rules, default against --exact: "
                + bounds_agree(new_src, files["200"], work)
            )
        if "limit" in groups:
            for label in ("150", "200"):
                t_new = run(
                    new_src,
                    ["solve", str(files[label]), "--objective", "cvar", "--time-limit", "2"],
                    60,
                    work,
                )
                print(
                    f"| synthetic {label} | solve --objective cvar --time-limit 2 | - "
                    f"| {cell(t_new, 60)} | - |"
                )
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False, capture_output=True
        )


if __name__ == "__main__":
    main()
