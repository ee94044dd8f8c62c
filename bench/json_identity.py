"""Every command's JSON on every library scenario, hashed: the same before and after a refactoring.

    python bench/json_identity.py > after.txt              # this checkout
    python bench/json_identity.py --rev f335f5d > before.txt   # another revision (a git worktree)
    diff before.txt after.txt                               # empty: byte-identical

Each line: the command, the SHA-256 of its standard output and error, its exit code.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [
    "options/kazakhstan.yaml",
    "options/azerbaijan.yaml",
    "options/canada.yaml",
    "options/turkey.yaml",
]
COMMANDS = [
    ["solve"],
    ["solve", "--objective", "cvar"],
    ["frontier"],
    ["frontier", "--axis", "risk"],
    ["frontier", "--axis", "exposure"],
    ["sensitivity"],
    ["worlds"],
    ["robust", "--samples", "60"],
    ["check"],
    ["judges"],
    ["explain"],
]


def runs() -> list[list[str]]:
    """Every (command, scenario) pair, plus the coalition and constellation files and a price of each
    deal-free commitment."""
    found = [[*c, s, "--format", "json"] for s in SCENARIOS for c in COMMANDS]
    found += [
        ["coalition", str(p.relative_to(ROOT)), "--format", "json"]
        for p in sorted((ROOT / "options/coalitions").glob("*.yaml"))
    ]
    found += [
        ["rivals", str(p.relative_to(ROOT)), "--format", "json"]
        for p in sorted((ROOT / "options/constellations").glob("*.yaml"))
    ]
    found += [
        ["price", "options/kazakhstan.yaml", "-ai", "--format", "json"],
        ["price", "options/azerbaijan.yaml", "-eu_gateway", "--format", "json"],
    ]
    found += [["diff", "options/kazakhstan.yaml", "options/azerbaijan.yaml", "--format", "json"]]
    return found


def measure(tree: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "COLUMNS": "100"}
    lines = []
    for args in runs():
        done = subprocess.run([sys.executable, "-m", "niches", *args], cwd=tree, capture_output=True, env=env)
        digest = hashlib.sha256(done.stdout + b"\0" + done.stderr).hexdigest()[:16]
        lines.append(f"{' '.join(args)}  {digest}  exit {done.returncode}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rev", help="measure this git revision instead of the checkout")
    args = parser.parse_args()
    if args.rev is None:
        print("\n".join(measure(ROOT)))
        return
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.rev],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            print("\n".join(measure(tree)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
