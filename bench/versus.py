"""Whole commands side by side: a baseline revision of niches against this tree, in one run.

    python bench/versus.py [--baseline 68656bf] [--cap 300] [--only default,30]
    python bench/versus.py --baseline 21dcdc6 --only v1,timed   # planning in time: v1 files, and starts

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


def cell(seconds: float | None, cap: float) -> str:
    return f"> {cap:g}" if seconds is None else f"{seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="68656bf")
    parser.add_argument("--cap", type=float, default=300.0)
    parser.add_argument(
        "--only", default="", help="comma-separated groups: v1,timed,default,30,60,100,200,limit"
    )
    args = parser.parse_args()
    groups = set(filter(None, args.only.split(","))) or {"default", "30", "60", "100", "200", "limit"}
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
        cases: list[tuple[str, str, list[str] | None, list[str]]] = [
            *[
                ("v1", f"{name} (the baseline's default, both)", [name, kz_v1], [name, kz_v1])
                for name in ("solve", "report", "sensitivity", "frontier", "worlds")
            ],
            *[
                ("timed", f"{name} (each its own default; this tree's has start)", [name, kz_v1], [name, kz])
                for name in ("solve", "report", "sensitivity", "frontier", "worlds")
            ],
            ("default", "report", ["report", kz], ["report", kz]),
            ("default", "solve", ["solve", kz], ["solve", kz]),
            ("default", "frontier --axis budget", ["frontier", kz], ["frontier", kz]),
            ("default", "sensitivity", ["sensitivity", kz], ["sensitivity", kz]),
            ("default", "worlds", ["worlds", kz], ["worlds", kz]),
            ("default", "diff kazakhstan canada", ["diff", kz, ca], ["diff", kz, ca]),
            ("30", "solve", ["solve", str(files["30"])], ["solve", str(files["30"])]),
            ("30", "sensitivity", ["sensitivity", str(files["30"])], ["sensitivity", str(files["30"])]),
            ("30", "report", ["report", str(files["30"])], ["report", str(files["30"])]),
            ("60", "sensitivity", ["sensitivity", str(files["60"])], ["sensitivity", str(files["60"])]),
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
            if t_old is None and t_new is not None:
                ratio = f"> {args.cap / t_new:.1f}"
            name = {"default": "default", "v1": "default", "timed": "default"}.get(
                group, f"synthetic {group}"
            )
            print(f"| {name} | {label} | {cell(t_old, args.cap)} | {cell(t_new, args.cap * 4)} | {ratio} |")
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
