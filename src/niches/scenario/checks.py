"""The shared checks of the reader (mappings, keys, numbers, text, ids, references, scores)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

from niches.numbers import plural, plural_of
from niches.scenario import inputs
from niches.scenario.keys import NUMBER_MAX
from niches.scenario.types import BASELINE, Score
from niches.scenario.yamlsource import Location, Problem, YNode


def _describe(node: YNode, high: float | None = None) -> str:
    """What a node holds, in words, with how to write it as a number when it looks like one.

    `high` is the largest value allowed, when known (1 for a share).
    """
    value = node.value
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {node.text}"
    if isinstance(value, (int, float)):
        return f"number {node.text}"
    if isinstance(value, str) and _looks_numeric(value):  # YAML 1.1 reads 1e5 and 1.0e5 as text
        return f"text '{value}' (YAML reads an exponent without a sign as text; write {_signed(value)})"
    return f"text '{value}'{_text_hint(value, high)}"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "e" in text.lower()


def _signed(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}e{exponent if exponent.startswith(('+', '-')) else '+' + exponent}"


def _hint(word: str, known: Iterable[str]) -> str:
    choices = list(known)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not choices:
        return ""
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"; expected one of: {shown}"


def _num(x: float) -> str:
    return f"{x:g}"


def _text_hint(value: object, high: float | None) -> str:
    """How to write as a number the text a number belongs in ('50%', '0.5', '1,000'), or ''."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if text.endswith("%") and _is_number(text[:-1]):
        percent = float(text[:-1])
        if high == 1:
            return f"; a share is a fraction: write {_num(percent / 100)}"
        return f"; write {text[:-1].strip()} without %"
    if "," in text and _is_number(text.replace(",", "")):
        return f"; write numbers without separators: {text.replace(',', '')}"
    if _is_number(text) and not _looks_numeric(text):
        return f"; drop the quotes: {text}"
    return ""


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _range_message(what: str, number: float, low: float | None, high: float | None, low_open: bool) -> str:
    if low is not None and high is not None:
        bracket = "(" if low_open else "["
        return f"{what} must be in {bracket}{_num(low)}, {_num(high)}], got {_num(number)}"
    if low is not None:
        return f"{what} must be {'>' if low_open else '>='} {_num(low)}, got {_num(number)}"
    return f"{what} must be <= {_num(high or 0)}, got {_num(number)}"


class _Checks:
    """The reader's state (file, problems, locations, what is declared) and the checks every section uses."""

    def __init__(self, file: str, problems: list[Problem], files: inputs.Files = inputs.FILES) -> None:
        self.file = file
        self.files = files
        self.problems = problems
        self.locations: dict[str, Location] = {}
        self.declared_criteria: list[str] = []
        self.scales: dict[str, tuple[float, float]] = {}
        self.weights_cr: float | None = None
        self.declared_worlds: list[str] = [BASELINE]

    def error(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def warn(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc, message, "warning"))

    def mapping(self, node: YNode, what: str) -> dict[str, YNode] | None:
        if isinstance(node.value, dict):
            return node.value
        self.error(node.loc, f"{what} must be a mapping, got {_describe(node)}")
        return None

    def check_keys(self, items: dict[str, YNode], allowed: Iterable[str], where: str) -> set[str]:
        """Report unknown keys; return the allowed keys the misspelt ones were meant to be."""
        allowed = list(allowed)
        meant: set[str] = set()
        for key, child in items.items():
            if key not in allowed:
                self.error(child.at_key, f"unknown key '{key}' in {where}{_hint(key, allowed)}")
                meant.update(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6))
        return meant

    def require(self, items: dict[str, YNode], key: str, node: YNode, where: str) -> YNode | None:
        if key in items:
            return items[key]
        self.error(node.at_key, f"{where} is missing required key '{key}'")
        return None

    def number(
        self,
        node: YNode,
        what: str,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
    ) -> float | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(node.loc, f"{what} must be a number, got {_describe(node, high)}")
            return None
        if isinstance(value, int) and abs(value) > NUMBER_MAX:  # also keeps huge integers from float()
            number = math.inf if value > 0 else -math.inf
        else:
            number = float(value)
            if not math.isfinite(number):
                self.error(node.loc, f"{what} must be a finite number, got {node.text}")
                return None
        if low is not None and (number < low or (low_open and number <= low)):
            self.error(node.loc, _range_message(what, number, low, high, low_open))
            return None
        if high is not None and number > high:
            hint = f"; a share is a fraction: write {_num(number / 100)} for {_num(number)}%"
            shown = _range_message(what, number, low, high, low_open)
            self.error(
                node.loc, shown + (hint if high == 1 and 2 <= number <= 100 else "")
            )  # 50 meant as 50%
            return None
        if abs(number) > NUMBER_MAX:
            shown = _num(number) if math.isfinite(number) else "a number of over 300 digits"
            self.error(
                node.loc,
                f"{what} must be between {_num(-NUMBER_MAX)} and {_num(NUMBER_MAX)} (the range of every "
                f"number in a scenario; see the README), got {shown}",
            )
            return None
        return number

    def integer(self, node: YNode, what: str) -> int | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(node.loc, f"{what} must be a whole number >= 0, got {_describe(node)}")
            return None
        return value

    def text(self, node: YNode, what: str) -> str | None:
        if node.value is None or isinstance(node.value, (dict, list)):
            self.error(node.loc, f"{what} must be text, got {_describe(node)}")
            return None
        return node.text

    def id_list(self, node: YNode, what: str) -> list[YNode]:
        if isinstance(node.value, list):
            good = []
            for item in node.value:
                if item.is_scalar() and item.value is not None:
                    good.append(item)
                else:
                    self.error(item.loc, f"{what} must list ids, got {_describe(item)}")
            return good
        if node.is_scalar() and node.value is not None:
            return [node]  # a single id is accepted as a one-item list
        self.error(node.loc, f"{what} must be a list of ids, got {_describe(node)}")
        return []

    def ref(self, node: YNode, known: Iterable[str], kind: str, where: str) -> bool:
        known = list(known)
        if node.text in known:
            return True
        if not known:
            self.error(
                node.loc, f"unknown {kind} '{node.text}' in {where}: no {plural_of(kind)} are declared"
            )
        else:
            self.error(node.loc, f"unknown {kind} '{node.text}' in {where}{_hint(node.text, known)}")
        return False

    def key_ref(self, key: str, child: YNode, known: Iterable[str] | None, kind: str, where: str) -> bool:
        if known is None:  # the declarations themselves are broken (reported there): say nothing more
            return True
        known = list(known)
        if key in known:
            return True
        if not known:
            self.error(child.at_key, f"unknown {kind} '{key}' in {where}: no {plural_of(kind)} are declared")
        else:
            self.error(child.at_key, f"unknown {kind} '{key}' in {where}{_hint(key, known)}")
        return False

    def score(self, node: YNode, what: str) -> Score | None:
        value = node.value
        if isinstance(value, list):
            if len(value) != 2:
                self.error(node.loc, f"{what} range must be [low, high], got {plural(len(value), 'item')}")
                return None
            low = self.number(value[0], f"{what} low")
            high = self.number(value[1], f"{what} high")
            if low is None or high is None:
                return None
            if low > high:
                self.error(node.loc, f"{what} range must have low <= high, got [{_num(low)}, {_num(high)}]")
                return None
            return Score(low, high, None, "uniform")
        if isinstance(value, dict):
            self.check_keys(value, ("low", "mode", "high"), what)
            parts: dict[str, float | None] = {}
            for key in ("low", "mode", "high"):
                if key in value:
                    parts[key] = self.number(value[key], f"{what} {key}")
                elif key != "mode":
                    self.error(node.loc, f"{what} is missing '{key}'; write {{low: .., mode: .., high: ..}}")
                    parts[key] = None
            low, high, mode = parts.get("low"), parts.get("high"), parts.get("mode")
            if low is None or high is None or ("mode" in value and mode is None):
                return None
            if mode is None:
                if low > high:
                    self.error(
                        node.loc, f"{what} must have low <= high, got low={_num(low)}, high={_num(high)}"
                    )
                    return None
                return Score(low, high, None, "uniform")
            if not low <= mode <= high:
                self.error(
                    node.loc,
                    f"{what} must satisfy low <= mode <= high, got low={_num(low)}, "
                    f"mode={_num(mode)}, high={_num(high)}",
                )
                return None
            return Score(low, high, mode, "triangular")
        number = self.number(node, what)
        return None if number is None else Score.point(number)
