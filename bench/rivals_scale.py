"""Wall time of `niches rivals` on a constellation of the library's four scenarios repeated.

    python bench/rivals_scale.py [--members 11] [--solver highs] [--harsh]

The members are copies of options/kazakhstan.yaml (9 niches), canada.yaml (6),
turkey.yaml (5) and azerbaijan.yaml (4 niches, 3 deals), in that order, under
their own file names in a temporary folder (kazakhstan's judges beside
them); six niches are crowded (mediation, education, logistics, ai, energy,
minerals). `--harsh` uses the steeper multipliers. Prints each stage's time
(the plans alone, the best responses, the coordinated plan), the rounds and
the price of anarchy.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ["kazakhstan", "canada", "turkey", "azerbaijan"]
MILD = {
    "mediation": "{2: 0.97, 4: 0.95, 8: 0.9}",
    "education": "{2: 0.97, 4: 0.95}",
    "logistics": "{2: 0.98, 4: 0.95, 6: 0.92}",
    "ai": "{2: 0.97, 4: 0.94}",
    "energy": "{3: 0.97, 6: 0.94}",
    "minerals": "{2: 0.98, 4: 0.95}",
}
HARSH = {
    "mediation": "{2: 0.95, 4: 0.9, 7: 0.85}",
    "education": "{2: 0.95, 4: 0.9}",
    "logistics": "{2: 0.9, 4: 0.8, 6: 0.7}",
    "ai": "{2: 0.95, 4: 0.9}",
    "energy": "{3: 0.9, 5: 0.8}",
    "minerals": "{2: 0.95, 4: 0.85}",
}


def constellation(folder: Path, members: int, harsh: bool) -> Path:
    """Write the members and the constellation file into `folder`; return the file."""
    shutil.copytree(ROOT / "options" / "kazakhstan", folder / "kazakhstan")
    names = []
    for i in range(members):
        source = LIBRARY[i % len(LIBRARY)]
        name = f"{source[:2]}{i // len(LIBRARY) + 1}.yaml"
        shutil.copy(ROOT / "options" / f"{source}.yaml", folder / name)
        names.append(name)
    crowding = "".join(f"    {n}: {m}\n" for n, m in (HARSH if harsh else MILD).items())
    path = folder / "rivals.yaml"
    path.write_text(
        f"constellation:\n  name: {members} rivals\n  members: [{', '.join(names)}]\n  crowding:\n{crowding}"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=11)
    parser.add_argument("--solver", default="highs")
    parser.add_argument("--harsh", action="store_true")
    args = parser.parse_args()

    import niches.analysis.rivals as rivals
    from niches.scenario.constellation import load_constellation

    with tempfile.TemporaryDirectory() as tmp:
        path = constellation(Path(tmp), args.members, args.harsh)
        loaded = load_constellation(path)
        stages: dict[str, float] = {}
        real_coordinate, real_dynamics = rivals.coordinate, rivals.best_response_dynamics

        def coordinate(*a: object, **k: object) -> object:
            start = time.perf_counter()
            found = real_coordinate(*a, **k)  # type: ignore[arg-type]
            stages["coordinated plan"] = time.perf_counter() - start
            return found

        def dynamics(*a: object, **k: object) -> object:
            start = time.perf_counter()
            found = real_dynamics(*a, **k)  # type: ignore[arg-type]
            stages["best responses"] = time.perf_counter() - start
            return found

        rivals.coordinate, rivals.best_response_dynamics = coordinate, dynamics  # type: ignore[assignment]
        start = time.perf_counter()
        report = rivals.study_rivals(loaded, args.solver)
        total = time.perf_counter() - start
    niches = sum(len(s.niches) for s in loaded.members.values())
    print(f"{args.members} members, {niches} niches in all, {len(loaded.crowding)} crowded, {args.solver}")
    print(f"plans alone and floors: {total - sum(stages.values()):.1f} s")
    for stage, seconds in stages.items():
        print(f"{stage}: {seconds:.1f} s")
    d = report.dynamics
    print(f"total: {total:.1f} s; rounds {d.rounds}, converged {d.converged}, moves {len(d.moves)}")
    print(f"price of anarchy: {report.price_of_anarchy} ({report.price_note or 'defined'})")


if __name__ == "__main__":
    main()
