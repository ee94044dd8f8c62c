"""An elicitation session: one judge compares the criteria pair by pair, then scores chosen niches.

The session is a function of an `ask` callable (a prompt -> the line typed),
so a terminal, a pipe or a test drive it alike. Pairs are asked criterion by
criterion (the second against the first, the third against the first two,
...), so after each criterion the comparisons made so far are complete and
their consistency ratio is shown. When the whole set is inconsistent
(CR > 0.1), the comparison to revisit is named with the value that agrees
with the rest, until the judge accepts the set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from niches.scenario import Scenario, ahp

Ask = Callable[[str], str]
Say = Callable[[str], None]


class Abandoned(Exception):
    """The input ended before the session did (nothing is written)."""


@dataclass
class Answers:
    """What a judge has said: name, comparisons (a, b) -> x, and scores (niche.level, criterion) -> score."""

    judge: str = ""
    pairs: dict[tuple[str, str], float] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def ratio_text(x: float) -> str:
    """Return a comparison as a judge writes it: `3`, `1/3`, or two decimals."""
    for whole in range(1, 10):
        if abs(x - whole) < 1e-9:
            return str(whole)
        if abs(x - 1.0 / whole) < 1e-9:
            return f"1/{whole}"
    return f"{x:.2f}"


def resumed(data: Mapping[str, Any], ids: list[str]) -> Answers:
    """Return the answers a judgement file (as plain data) already holds."""
    answers = Answers(str(data.get("judge", "")))
    weights = data.get("weights") or {}
    for item in weights.get("pairwise", []) if isinstance(weights, dict) else []:
        a, b, x = (str(v) for v in item)
        value = ahp.ratio(x)
        if a in ids and b in ids and value is not None:
            answers.pairs[a, b] = value
    for key, by_criterion in (data.get("scores") or {}).items():
        answers.scores[str(key)] = {str(c): float(v) for c, v in by_criterion.items()}
    return answers


def _given(answers: Answers, a: str, b: str) -> float | None:
    if (a, b) in answers.pairs:
        return answers.pairs[a, b]
    if (b, a) in answers.pairs:
        return 1.0 / answers.pairs[b, a]
    return None


def _read_ratio(ask: Ask, say: Say, prompt: str, keep: float | None) -> float:
    while True:
        line = ask(prompt).strip()
        if not line and keep is not None:
            return keep
        value = ahp.ratio(line)
        if value is not None and ahp.on_scale(value):
            return value
        say("  give a number from 1/9 to 9 (1 equal, 3 moderately, 5 strongly, 7 very strongly, 9 extremely)")


def _matrix(answers: Answers, ids: list[str]) -> ahp.Matrix:
    pairs = []
    for i, a in enumerate(ids):
        for j in range(i + 1, len(ids)):
            x = _given(answers, a, ids[j])
            assert x is not None
            pairs.append((i, j, x))
    return ahp.matrix(len(ids), pairs)


def session(scenario: Scenario, ask: Ask, say: Say, answers: Answers | None = None) -> Answers:
    """Run one elicitation: the judge's name, every comparison of the criteria, then optional scores."""
    answers = answers or Answers()
    ids = [c.id for c in scenario.criteria]
    name = ask(f"Your name as a judge{f' [{answers.judge}]' if answers.judge else ''}: ").strip()
    answers.judge = name or answers.judge
    while not answers.judge:
        answers.judge = ask("A name is needed (it goes in the file): ").strip()
    say(f"Compare the {len(ids)} criteria pair by pair: how many times as important is the first?")
    say("1 equal, 3 moderately, 5 strongly, 7 very strongly, 9 extremely; 1/3 ... 1/9 the other way.")
    for k in range(1, len(ids)):
        for i in range(k):
            a, b = ids[i], ids[k]
            keep = _given(answers, a, b)
            hint = f" [{ratio_text(keep)}]" if keep is not None else ""
            value = _read_ratio(ask, say, f"{a} vs {b}{hint}: ", keep)
            answers.pairs.pop((b, a), None)
            answers.pairs[a, b] = value
        if k >= 2:
            done = ahp.priorities(_matrix(answers, ids[: k + 1]))
            say(f"  consistency ratio of the first {k + 1} criteria: {done.cr:.2f}")
    while len(ids) > 2:
        a_matrix = _matrix(answers, ids)
        found = ahp.priorities(a_matrix)
        weights = ", ".join(f"{c} {w * 100:.1f}%" for c, w in zip(ids, found.weights, strict=True))
        say(f"Weights: {weights}; consistency ratio {found.cr:.2f}")
        change = ahp.revisit(a_matrix)
        if found.cr <= ahp.CR_LIMIT or change is None:
            break
        a, b = ids[change.a], ids[change.b]
        say(
            f"  CR above 0.10: revisit {a} vs {b} (given {ratio_text(change.given)}); "
            f"{ratio_text(change.consistent)} agrees with the rest (CR {change.cr_after:.2f})"
        )
        line = _optional(ask, f"{a} vs {b}, a new value, or Enter to keep the set as it is: ")
        if not line:
            break
        revised = ahp.ratio(line)
        if revised is None or not ahp.on_scale(revised):
            say("  give a number from 1/9 to 9")
            continue
        answers.pairs.pop((b, a), None)
        answers.pairs[a, b] = revised
    chosen = _optional(ask, "Niches to score (niche or niche.level, comma-separated; Enter to skip): ")
    levels = {n.id: list(dict.fromkeys(lv.base for lv in n.levels)) for n in scenario.niches}
    for key in filter(None, (k.strip() for k in chosen.split(","))):
        nid, _, lid = key.partition(".")
        if nid not in levels or (lid and lid not in levels[nid]) or (not lid and len(levels[nid]) > 1):
            say(f"  {key}: not a niche with one level or a niche.level of this scenario; skipped")
            continue
        for criterion in ids:
            keep_score = answers.scores.get(key, {}).get(criterion)
            hint = f" [{keep_score:g}]" if keep_score is not None else ""
            while True:
                line = _optional(ask, f"{key} on {criterion}{hint} (Enter to skip): ")
                if not line:
                    break
                try:
                    answers.scores.setdefault(key, {})[criterion] = float(line)
                    break
                except ValueError:
                    say("  give a number")
    return answers


def _optional(ask: Ask, prompt: str) -> str:
    """Ask a question whose answer may be skipped: the end of the input skips it too."""
    try:
        return ask(prompt).strip()
    except Abandoned:
        return ""


def judgement_yaml(answers: Answers) -> str:
    """Return the judgement file of `answers` (comparisons as typed, fractions as `1/3`)."""
    lines = [f"judge: {_quoted(answers.judge)}", "weights:", "  pairwise:"]
    for (a, b), x in answers.pairs.items():
        lines.append(f"    - [{a}, {b}, {ratio_text(x)}]")
    if answers.scores:
        lines.append("scores:")
        for key, by_criterion in answers.scores.items():
            items = ", ".join(f"{c}: {v:g}" for c, v in by_criterion.items())
            lines.append(f"  {key}: {{{items}}}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
