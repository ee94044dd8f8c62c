"""Read YAML into nodes that remember where they came from (line and column)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from niches.numbers import plural

Scalar = Union[str, int, float, bool, None]  # noqa: UP007 (a runtime alias on 3.10)


@dataclass(frozen=True)
class Location:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        if self.line == 0:  # not in a file: "command line"
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class YNode:
    """One YAML value with its location.

    `value` is a scalar (str, int, float, bool or None), a list of YNode,
    or a dict of key text -> YNode. `text` is the raw scalar text (for ids:
    `2026` and `'2026'` both read as "2026"). `key_loc` is where the key that
    holds this value starts, when the value sits in a mapping.
    """

    value: Scalar | list[YNode] | dict[str, YNode]
    loc: Location
    key_loc: Location | None = None
    text: str = ""

    @property
    def at_key(self) -> Location:
        """Return the location of the key holding this value, else of the value."""
        return self.key_loc or self.loc

    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))


@dataclass
class Problem:
    """A problem found while reading: where, what, and whether it stops the load."""

    loc: Location
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return _printable(f"{self.loc}: {prefix}{self.message}")


def _printable(text: str) -> str:
    """Return `text` with control and line-breaking characters escaped: one problem, one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class YamlParse:
    """The result of reading a YAML text: the root node (if any) and problems."""

    root: YNode | None
    problems: list[Problem] = field(default_factory=list)


MAX_BYTES = 10_000_000
"""Largest scenario file read, in bytes (UTF-8)."""

MAX_DEPTH = 40
"""Deepest nesting of lists and mappings accepted (a scenario needs about six)."""

MAX_VALUES = 500_000
"""Most values a document may hold once anchors and aliases are expanded."""


def _loc(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _mark_loc(file: str, mark: object) -> Location:
    line, column = getattr(mark, "line", 0), getattr(mark, "column", 0)
    return Location(file, int(line) + 1, int(column) + 1)


def _text_loc(file: str, text: str, position: int) -> Location:
    """Return the line and column of character `position` of `text`."""
    before = text[:position]
    line = before.count("\n") + 1
    return Location(file, line, position - (before.rfind("\n") + 1) + 1)


class _TooBig(Exception):
    """The document expands past MAX_VALUES or nests past MAX_DEPTH."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


class _Converter:
    """Turn composed YAML nodes into located YNodes, within the depth and size limits.

    An alias is the same composed node as its anchor, so each node is
    converted once and shared: an alias bomb costs no more than its text. Its
    expanded size and depth are measured first (also once per node), and a
    document past the limits is refused before anything walks it.
    """

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.loader = yaml.SafeLoader("")
        self.done: dict[int, YNode] = {}
        self.measured: dict[int, tuple[int, int]] = {}

    def _too_deep(self, node: Node, why: str) -> _TooBig:
        return _TooBig(
            Problem(
                _loc(self.file, node),
                f"values nest more than {plural(MAX_DEPTH, 'level')} deep {why}; "
                "a scenario needs only a few levels",
            )
        )

    def measure(self, node: Node, open_nodes: set[int] | None = None) -> tuple[int, int]:
        """Return (values once aliases expand, nesting height) of `node`; raise _TooBig past the limits."""
        key = id(node)
        if key in self.measured:
            return self.measured[key]
        open_nodes = set() if open_nodes is None else open_nodes
        if key in open_nodes or len(open_nodes) > MAX_DEPTH:
            raise self._too_deep(node, "(a recursive anchor?)")
        open_nodes.add(key)
        children: list[Node] = []
        if isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        size, depth = 1, 0
        for child in children:
            child_size, child_depth = self.measure(child, open_nodes)
            size += child_size
            depth = max(depth, child_depth + 1)
            if size > MAX_VALUES:
                raise _TooBig(
                    Problem(
                        _loc(self.file, node),
                        f"the document holds more than {MAX_VALUES:,} values once its anchors and aliases "
                        "are expanded; write the values out instead of aliasing aliases",
                    )
                )
        if len(open_nodes) + depth > MAX_DEPTH:
            raise self._too_deep(node, "once aliases are expanded")
        open_nodes.discard(key)
        self.measured[key] = (size, depth)
        return size, depth

    def convert(self, node: Node, depth: int = 0, key_loc: Location | None = None) -> YNode:
        key = id(node)
        if key in self.done:  # an alias: the anchor's value, shared
            shared = self.done[key]
            return YNode(shared.value, shared.loc, key_loc, shared.text)
        loc = _loc(self.file, node)
        if not node.tag.startswith("tag:yaml.org,2002:") or "python" in node.tag:
            self.problems.append(Problem(loc, f"unsupported YAML tag '{node.tag}'; write a plain value"))
            result = YNode(None, loc, key_loc, text="")
        elif isinstance(node, MappingNode):
            result = self._mapping(node, loc, depth, key_loc)
        elif isinstance(node, SequenceNode):
            result = YNode([self.convert(child, depth + 1) for child in node.value], loc, key_loc)
        else:
            assert isinstance(node, ScalarNode)
            result = self._scalar(node, loc, key_loc)
        self.done[key] = result
        return result

    def _mapping(self, node: MappingNode, loc: Location, depth: int, key_loc: Location | None) -> YNode:
        items: dict[str, YNode] = {}
        first_seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            kloc = _loc(self.file, key_node)
            if not isinstance(key_node, ScalarNode):
                self.problems.append(Problem(kloc, "a key must be a plain name, not a list or mapping"))
                continue
            key = str(key_node.value)
            self._check_text(key, kloc)
            if key in first_seen:
                self.problems.append(
                    Problem(
                        kloc,
                        f"duplicate key '{key}' (first defined at line {first_seen[key].line}); "
                        "remove one of them",
                    )
                )
                continue
            first_seen[key] = kloc
            items[key] = self.convert(value_node, depth + 1, kloc)
        return YNode(items, loc, key_loc)

    def _scalar(self, node: ScalarNode, loc: Location, key_loc: Location | None) -> YNode:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problems.append(Problem(loc, f"cannot read this value: {getattr(exc, 'problem', exc)}"))
            return YNode(None, loc, key_loc, text=str(node.value))
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            OverflowError,
        ):  # an explicit tag that does not fit
            tag = node.tag.rsplit(":", 1)[-1]
            self.problems.append(
                Problem(loc, f"cannot read '{node.value}' as !!{tag}; remove the tag or correct the value")
            )
            return YNode(None, loc, key_loc, text=str(node.value))
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            value = str(node.value)  # dates, timestamps, binary: keep the text
        if isinstance(value, str):
            self._check_text(value, loc)
        return YNode(value, loc, key_loc, text=str(node.value))

    def _check_text(self, text: str, loc: Location) -> None:
        """Refuse text holding a control character (an escape sequence would reach the terminal)."""
        bad = next((c for c in text if c not in "\n\t" and unicodedata.category(c) == "Cc"), None)
        if bad is not None:
            self.problems.append(
                Problem(loc, f"the text holds a control character (U+{ord(bad):04X}); delete it")
            )


_FAST = getattr(yaml, "CSafeLoader", None)
"""libyaml's loader when PyYAML has it: ten times faster; the pure-Python one words the errors."""


@dataclass
class _Shape:
    """What the event stream says about a document before any node is built."""

    problem: Problem | None = None
    sizes: dict[str, tuple[int, Location]] = field(default_factory=dict)  # top-level key -> (entries, where)


def _prescan(text: str, file: str, loader_class: type = yaml.SafeLoader) -> _Shape:
    """Check nesting depth and size on the event stream (no recursion), and count top-level entries."""
    shape = _Shape()
    depth = 0
    events = 0
    top_key: str | None = None  # the top-level key whose value is being read
    expect_key = False
    counting: tuple[str, Location] | None = None
    entries = 0
    try:
        loader = loader_class(text)
    except yaml.YAMLError as exc:  # the reader checks every character first
        shape.problem = _syntax_problem(exc, text, file)
        return shape
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return shape
            events += 1
            opening = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
            closing = isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent))
            if depth == 2 and counting is not None and not closing:
                entries += 1  # an entry of the top-level collection (keys and values of a mapping)
            if depth == 1 and isinstance(event, yaml.ScalarEvent) and expect_key:
                top_key = str(event.value)
                expect_key = False
            elif depth == 1 and not closing:
                if opening and top_key is not None:
                    counting = (top_key, _mark_loc(file, event.start_mark))
                    entries = 0
                expect_key = not opening
            if opening:
                depth += 1
                if depth == 1:
                    expect_key = True
                if depth > MAX_DEPTH:
                    shape.problem = Problem(
                        _mark_loc(file, event.start_mark),
                        f"values nest more than {plural(MAX_DEPTH, 'level')} deep; "
                        "a scenario needs only a few levels",
                    )
                    return shape
            elif closing:
                depth -= 1
                if depth == 1 and counting is not None:
                    name, where = counting
                    mapping = isinstance(event, yaml.MappingEndEvent)
                    shape.sizes[name] = (entries // 2 if mapping else entries, where)
                    counting = None
                    expect_key = True
            if events > 2 * MAX_VALUES:
                shape.problem = Problem(
                    _mark_loc(file, event.start_mark),
                    f"the document holds more than {MAX_VALUES:,} values; split or shorten it",
                )
                return shape
    except yaml.YAMLError as exc:
        shape.problem = _syntax_problem(exc, text, file)
        return shape
    finally:
        loader.dispose()


def _mixed_hint(what: str, text: str, line: int, column: int) -> str | None:
    """A fix for list items and `key: value` lines mixed at one indentation, or None."""
    if "expected <block end>" not in what:
        return None
    lines = text.split("\n")
    before = [
        row
        for row in lines[: line - 1]
        if row.strip() and not row.lstrip().startswith("#") and len(row) - len(row.lstrip()) == column - 1
    ]
    previous = before[-1].lstrip() if before else ""
    if "found '?'" in what and previous.startswith("- "):
        return (
            "this `key: value` line follows list items (`- ...`) at the same indentation; "
            "in a mapping drop the dashes, in a list start this line with `- `"
        )
    if "found '-'" in what and not previous.startswith("-"):
        return (
            "this list item (`- ...`) follows `key: value` lines at the same indentation; "
            "in a mapping drop the `- `"
        )
    return None


def _syntax_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        code = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return Problem(
            _text_loc(file, text, exc.position),
            f"the file holds a control character ({code}) that YAML does not allow; delete it",
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        what = exc.problem or exc.context or "cannot be parsed"
        hint = _mixed_hint(what, text, line, column) or "check indentation, colons and quoting here"
        return Problem(Location(file, line, column), f"YAML syntax error: {what}; {hint}")
    return Problem(Location(file, 1, 1), f"YAML error: {exc}")  # pragma: no cover - errors without marks


def parse_yaml(text: str, file: str, most: Mapping[str, tuple[int, str]] | None = None) -> YamlParse:
    """Parse `text` safely into located nodes; report syntax errors, duplicate keys and limits broken.

    `most` maps a top-level key to the largest number of entries its value may
    hold and what to say past it; the check runs on the event stream, before
    any node is built, so an oversized file is refused in seconds.
    """
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        return YamlParse(
            None,
            [
                Problem(
                    Location(file, 1, 1),
                    f"the file is {size / 1e6:.1f} MB; scenarios are limited to {MAX_BYTES / 1e6:g} MB",
                )
            ],
        )
    fast = _FAST or yaml.SafeLoader
    shape = _prescan(text, file, fast)
    if shape.problem is not None and fast is not yaml.SafeLoader:
        shape = _prescan(text, file)  # the pure-Python loader words the error, with its position
    if shape.problem is not None:
        return YamlParse(None, [shape.problem])
    for key, (limit, words) in (most or {}).items():
        found = shape.sizes.get(key)
        if found is not None and found[0] > limit:
            message = (
                f"{found[0]:,} {words}; a scenario may declare at most {limit:,} (see Limits in the README)"
            )
            return YamlParse(None, [Problem(found[1], message)])
    node = None
    for loader_class in dict.fromkeys([fast, yaml.SafeLoader]):
        try:
            loader = loader_class(text)
            try:
                node = loader.get_single_node()
            finally:
                loader.dispose()
            break
        except yaml.YAMLError as exc:
            if loader_class is yaml.SafeLoader:
                return YamlParse(None, [_syntax_problem(exc, text, file)])
    if node is None:
        return YamlParse(None, [])
    problems: list[Problem] = []
    converter = _Converter(file, problems)
    try:
        converter.measure(node)
    except _TooBig as exc:
        return YamlParse(None, [exc.problem])
    return YamlParse(converter.convert(node), problems)
