"""A report's provenance block: the scenario by content, written as a table and read back."""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from niches import __version__
from niches.limits import AUTO_SAMPLES, SAMPLES
from niches.numbers import plural
from niches.optimize.solvers import solver_version


@dataclass(frozen=True)
class Provenance:
    """The scenario a report was made from, by content: path as given, SHA-256 and git blob id.

    `files` lists the other files the report read, each (what it is and its path as shown, e.g.
    `judge file options/kazakhstan/economy.yaml`, SHA-256 of its bytes), in the order they were read.
    """

    path: str
    sha256: str
    blob: str
    files: tuple[tuple[str, str], ...] = ()


def provenance(path: str, data: bytes, files: Sequence[tuple[str, bytes]] = ()) -> Provenance:
    """Return the provenance of the scenario shown as `path` whose bytes are `data` (no git needed).

    The blob id is the SHA-1 of `blob <length>\\0` and the bytes, as `git hash-object` computes it:
    a scenario committed as it is (no git filters) shows the same id in `git ls-files -s`. Nothing
    depends on the commit, so a report committed with its scenario regenerates to the same bytes.
    """
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    digests = tuple((name, hashlib.sha256(content).hexdigest()) for name, content in files)
    return Provenance(path, hashlib.sha256(data).hexdigest(), blob, digests)


HEADING = "## Provenance\n"
"""The heading of the provenance block: the report's body is everything before it."""


def body_of(text: str) -> str | None:
    """Return the report `text` up to its provenance block (None when it has none)."""
    before, found, _ = ("\n" + text).rpartition("\n" + HEADING)
    return before[1:] + "\n" if found else None


def body_digest(body: str) -> str:
    """Return the SHA-256 of a report's body (its UTF-8 bytes), as the provenance block records it."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Made:
    """How a report is made: the options its provenance block records and `report --check` reads back.

    `commitments` are the command line's options that added rules, as words
    (`("--pin", "logistics=corridor", "--exclude", "ai")`); `exact` is `--exact`; `constellation`
    the file of `--constellation` (the section "Rivals"), as its path was given.
    """

    solver: str = "highs"
    samples: int = SAMPLES
    seed: int = 0
    timestamp: str | None = None
    commitments: tuple[str, ...] = ()
    exact: bool = False
    constellation: str | None = None

    def words(self) -> list[str]:
        """Return these options as `niches report` words (defaults left out)."""
        count = "auto" if self.samples == AUTO_SAMPLES else str(self.samples)
        words = ["--samples", count] if self.samples != SAMPLES else []
        words += ["--seed", str(self.seed)] if self.seed != 0 else []
        words += ["--solver", self.solver] if self.solver != "highs" else []
        words += list(self.commitments)
        words += ["--exact"] if self.exact else []
        words += ["--constellation", self.constellation] if self.constellation is not None else []
        words += ["--timestamp"] if self.timestamp else []
        return words


def with_provenance(body: str, source: Provenance, made: Made) -> str:
    """Return the report `body` followed by its provenance block (which records the body's SHA-256)."""
    return body + _provenance_text(source, made, body_digest(body))


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
    exact: bool = False
    """Whether every figure was solved exactly (`--exact`)."""
    constellation: str | None = None
    """The constellation file of `--constellation` (the section "Rivals"), as its path was given."""


_CELL = re.compile(r"(?<!\\)\|")
_MONTE_CARLO = re.compile(r"(\d+|auto) samples?, seed (-?\d+)")


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
        samples=_samples(monte_carlo.group(1)) if monte_carlo else None,
        seed=_whole(monte_carlo.group(2)) if monte_carlo else None,
        solver="cbc" if solver.startswith("CBC") else "highs" if solver.startswith("HiGHS") else None,
        timestamp=rows.get("generated") or None,
        commitments=commitments,
        exact=rows.get("figures") == EXACT_ROW,
        constellation=rows.get("constellation") or None,
    )


def _samples(text: str) -> int:
    """Return the sample count a provenance block records (`auto`: AUTO_SAMPLES)."""
    return AUTO_SAMPLES if text == "auto" else _whole(text)


def _whole(text: str) -> int:
    """Return the whole number `text` records; past 30 digits, 10**30 (out of every range: refused)."""
    return int(text) if len(text) <= 30 else 10**30


EXACT_ROW = "every one solved exactly (--exact)"
"""What the provenance block's `figures` row says of a report made with `--exact`."""


def _drawn(samples: int) -> str:
    """Return the Monte Carlo's sample count in words: `500 samples`, or `auto samples` (by precision)."""
    return "auto samples" if samples == AUTO_SAMPLES else plural(samples, "sample")


def _provenance_text(source: Provenance, made: Made, body: str) -> str:
    from niches.render.markdown import table  # rendering pulls in the analyses: only when writing

    rows = [
        ("scenario", source.path),
        ("SHA-256 of the scenario", source.sha256),
        ("git blob id of the scenario", source.blob),
        *((f"SHA-256 of {name}", digest) for name, digest in source.files),
        ("SHA-256 of the report above", body),
        ("niches", __version__),
        ("solver", solver_version(made.solver)),
        ("Monte Carlo", f"{_drawn(made.samples)}, seed {made.seed}"),
    ]
    if made.commitments:
        rows.append(("commitments", shlex.join(made.commitments)))
    if made.exact:
        rows.append(("figures", EXACT_ROW))
    if made.constellation is not None:
        rows.append(("constellation", made.constellation))
    if made.timestamp:
        rows.append(("generated", made.timestamp))
    return HEADING + "\n" + table(("what", "value"), rows)
