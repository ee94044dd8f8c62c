"""A report's provenance block: the scenario by content, written as a table and read back."""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from niches import __version__
from niches.numbers import plural
from niches.optimize.model import solver_version
from niches.render.markdown import table


@dataclass(frozen=True)
class Provenance:
    """The scenario a report was made from, by content: path as given, SHA-256 and git blob id."""

    path: str
    sha256: str
    blob: str


def provenance(path: str, data: bytes) -> Provenance:
    """Return the provenance of the scenario shown as `path` whose bytes are `data` (no git needed).

    The blob id is the SHA-1 of `blob <length>\\0` and the bytes, as `git hash-object` computes it:
    a scenario committed as it is (no git filters) shows the same id in `git ls-files -s`. Nothing
    depends on the commit, so a report committed with its scenario regenerates to the same bytes.
    """
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    return Provenance(path, hashlib.sha256(data).hexdigest(), blob)


@dataclass(frozen=True)
class Recorded:
    """What a report's provenance block records about how it was made (None: not recorded)."""

    scenario: str | None = None
    sha256: str | None = None
    samples: int | None = None
    seed: int | None = None
    solver: str | None = None
    timestamp: str | None = None
    commitments: tuple[str, ...] = ()
    """The command line's commitments as options: `("--pin", "logistics=corridor", "--exclude", "ai")`."""
    constellation: str | None = None
    """The constellation file of `--constellation` (the section "Rivals"), as its path was given."""


_CELL = re.compile(r"(?<!\\)\|")
_MONTE_CARLO = re.compile(r"(\d+) samples, seed (-?\d+)")


def recorded(text: str) -> Recorded:
    """Return the scenario, Monte Carlo options, solver and timestamp the report `text` records."""
    _, found, block = ("\n" + text).rpartition("\n## Provenance\n")
    if not found:
        return Recorded()
    rows: dict[str, str] = {}
    for line in block.splitlines():
        cells = [c.strip().replace("\\|", "|") for c in _CELL.split(line)]
        if len(cells) == 4 and cells[0] == cells[3] == "":
            rows.setdefault(cells[1], cells[2])
    monte_carlo = _MONTE_CARLO.fullmatch(rows.get("Monte Carlo", ""))
    solver = rows.get("solver", "")
    try:
        commitments = tuple(shlex.split(rows.get("commitments", "")))
    except ValueError:  # unbalanced quotes: a block edited by hand records no commitments
        commitments = ()
    return Recorded(
        scenario=rows.get("scenario") or None,
        sha256=rows.get("SHA-256 of the scenario") or None,
        samples=_whole(monte_carlo.group(1)) if monte_carlo else None,
        seed=_whole(monte_carlo.group(2)) if monte_carlo else None,
        solver="cbc" if solver.startswith("CBC") else "highs" if solver.startswith("HiGHS") else None,
        timestamp=rows.get("generated") or None,
        commitments=commitments,
        constellation=rows.get("constellation") or None,
    )


def _whole(text: str) -> int:
    """Return the whole number `text` records; past 30 digits, 10**30 (out of every range: refused)."""
    return int(text) if len(text) <= 30 else 10**30


def _provenance_text(
    source: Provenance,
    solver: str,
    samples: int,
    seed: int,
    timestamp: str | None,
    commitments: Sequence[str],
    constellation: str | None = None,
) -> str:
    rows = [
        ("scenario", source.path),
        ("SHA-256 of the scenario", source.sha256),
        ("git blob id of the scenario", source.blob),
        ("niches", __version__),
        ("solver", solver_version(solver)),
        ("Monte Carlo", f"{plural(samples, 'sample')}, seed {seed}"),
    ]
    if commitments:
        rows.append(("commitments", shlex.join(commitments)))
    if constellation is not None:
        rows.append(("constellation", constellation))
    if timestamp:
        rows.append(("generated", timestamp))
    return "## Provenance\n\n" + table(("what", "value"), rows)
