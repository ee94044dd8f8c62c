"""The mermaid blocks of `niches report` and `niches frontier`, checked by mermaid itself.

tests/mermaid/check.mjs parses each block with the `mermaid` npm package under node, renders it with
`mermaid.render` in headless Chromium, and counts what each series drew: the vertices of a line's path,
the rects of a bar series. Each series must draw exactly the values its block lists.

Needs node, `npm ci` in tests/mermaid and Debian's chromium. Without them these tests skip, unless
NICHES_REQUIRE_BROWSER=1 (as in CI), where a missing piece fails them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from .conftest import ROOT, run_cli

pytestmark = pytest.mark.mermaid

HARNESS = ROOT / "tests" / "mermaid"
CHECK = HARNESS / "check.mjs"
COMMANDS = {
    "report": ("report", "options/kazakhstan.yaml"),
    "frontier": ("frontier", "options/kazakhstan.yaml", "--format", "markdown"),
}
SERIES = re.compile(r'^\s*(line|bar)\b\s*(?:"[^"\n]*"\s*)?\[([^\]\n]*)\]\s*$', re.MULTILINE)
# Parses and renders, but lists 4 values on 2 x-axis labels: mermaid draws only 2 points.
SHORT_LINE = (
    'xychart-beta\n    x-axis "x" ["a", "b"]\n    y-axis "y" 0 --> 10\n    line [1.00, 5.00, 3.00, 4.00]\n'
)
BROKEN = 'xychart-beta\n    x-axis "x" ["a", "b"]\n    line [1.00, oops]\n'


def _missing(reason: str) -> None:
    if os.environ.get("NICHES_REQUIRE_BROWSER") == "1":
        pytest.fail(f"NICHES_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _chromium() -> str | None:
    named = os.environ.get("NICHES_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


def _require_harness(*, browser: bool) -> None:
    if shutil.which("node") is None:
        _missing("node is not on PATH")
    for package in ("mermaid", "jsdom"):
        if not (HARNESS / "node_modules" / package / "package.json").exists():
            _missing(f"tests/mermaid/node_modules/{package} is missing: run `npm ci` in tests/mermaid")
    if browser and _chromium() is None:
        _missing("no Chromium (/usr/bin/chromium or $NICHES_CHROMIUM): `apt-get install chromium`")


def _check(sources: list[str], *, render: bool) -> dict[str, Any]:
    """Run check.mjs over SOURCES; its JSON report (exit 1, some block failed, still reports)."""
    env = dict(os.environ)
    if (chromium := _chromium()) is not None:
        env["NICHES_CHROMIUM"] = chromium
    done = subprocess.run(
        ["node", str(CHECK), *([] if render else ["--no-render"])],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        cwd=HARNESS,
        env=env,
        timeout=300,
    )
    assert done.returncode in (0, 1), f"check.mjs failed (exit {done.returncode}):\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    assert len(report["blocks"]) == len(sources)
    return report


def mermaid_blocks(markdown: str) -> list[str]:
    """The sources of the ```mermaid fences, as a markdown renderer sees them."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.content for t in tokens if t.type == "fence" and t.info.strip() == "mermaid"]


def listed_series(source: str) -> list[tuple[str, int]]:
    """Each `line [..]` / `bar [..]` of a block with its number of values."""
    return [(kind, sum(1 for v in values.split(",") if v.strip())) for kind, values in SERIES.findall(source)]


def problems(source: str, block: dict[str, Any]) -> list[str]:
    """What is wrong with one block's check.mjs result (nothing when it parsed, rendered and drew all)."""
    if not block["parse"]["ok"]:
        return [f"parse error: {block['parse']['error']}"]
    render = block["render"]
    if render is None or not render["ok"]:
        return [f"render error: {render and render['error']}"]
    if not render["svg"].lstrip().startswith("<svg"):
        return ["render gave no SVG"]
    drawn = [(s["kind"], s["points"]) for s in render["series"]]
    expected = listed_series(source)
    if not expected:
        return ["the block lists no line or bar series"]
    return [] if drawn == expected else [f"drew {drawn}, the block lists {expected}"]


@pytest.fixture(scope="module")
def blocks() -> dict[str, list[str]]:
    found = {}
    for name, args in COMMANDS.items():
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        found[name] = mermaid_blocks(result.stdout)
    return found


@pytest.fixture(scope="module")
def checked(blocks: dict[str, list[str]]) -> dict[str, Any]:
    """One check.mjs run (one Chromium) over every block, and SHORT_LINE last as a control."""
    _require_harness(browser=True)
    sources = [s for name in COMMANDS for s in blocks[name]]
    report = _check([*sources, SHORT_LINE], render=True)
    results = iter(report["blocks"])
    by_command = {name: [next(results) for _ in blocks[name]] for name in COMMANDS}
    return {**by_command, "control": next(results), "versions": (report["mermaid"], report["chromium"])}


def test_report_has_mermaid_blocks(blocks: dict[str, list[str]]) -> None:
    assert len(blocks["report"]) >= 1
    for source in blocks["report"]:
        assert listed_series(source), source


@pytest.mark.parametrize("command", list(COMMANDS))
def test_blocks_parse_and_draw_every_value(
    command: str, blocks: dict[str, list[str]], checked: dict[str, Any]
) -> None:
    if not blocks[command]:
        pytest.skip(f"`niches {' '.join(COMMANDS[command])}` prints no mermaid block")
    pairs = enumerate(zip(blocks[command], checked[command], strict=True))
    wrong = {i: p for i, (source, block) in pairs if (p := problems(source, block))}
    mermaid, chromium = checked["versions"]
    assert not wrong, f"mermaid {mermaid}, {chromium}:\n" + "\n".join(
        f"block {i}:\n{blocks[command][i]}-> {'; '.join(p)}" for i, p in wrong.items()
    )


def test_a_series_drawn_short_is_caught(checked: dict[str, Any]) -> None:
    assert checked["control"]["render"]["ok"]
    assert problems(SHORT_LINE, checked["control"]) == ["drew [('line', 2)], the block lists [('line', 4)]"]


def test_a_broken_block_is_a_parse_error() -> None:
    _require_harness(browser=False)
    report = _check([BROKEN, SHORT_LINE], render=False)
    broken, fine = report["blocks"]
    assert not broken["parse"]["ok"]
    assert "Parse error on line 3" in broken["parse"]["error"]
    assert problems(BROKEN, broken)[0].startswith("parse error: Parse error on line 3")
    assert fine["parse"] == {"ok": True, "type": "xychart"}
