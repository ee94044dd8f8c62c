"""Read YAML into nodes that remember where they came from (line and column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Scalar = Union[str, int, float, bool, None]  # noqa: UP007 (a runtime alias on 3.10)


@dataclass(frozen=True)
class Location:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
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
        return f"{self.loc}: {prefix}{self.message}"


@dataclass
class YamlParse:
    """The result of reading a YAML text: the root node (if any) and problems."""

    root: YNode | None
    problems: list[Problem] = field(default_factory=list)


def _loc(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _convert(
    node: Node,
    file: str,
    loader: yaml.SafeLoader,
    problems: list[Problem],
    key_loc: Location | None = None,
) -> YNode:
    loc = _loc(file, node)
    if not node.tag.startswith("tag:yaml.org,2002:") or "python" in node.tag:
        problems.append(Problem(loc, f"unsupported YAML tag '{node.tag}'; write a plain value"))
        return YNode(None, loc, key_loc, text="")
    if isinstance(node, MappingNode):
        items: dict[str, YNode] = {}
        first_seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            kloc = _loc(file, key_node)
            if not isinstance(key_node, ScalarNode):
                problems.append(Problem(kloc, "a key must be a plain name, not a list or mapping"))
                continue
            key = str(key_node.value)
            if key in first_seen:
                problems.append(
                    Problem(
                        kloc,
                        f"duplicate key '{key}' (first defined at line {first_seen[key].line}); "
                        "remove one of them",
                    )
                )
                continue
            first_seen[key] = kloc
            items[key] = _convert(value_node, file, loader, problems, kloc)
        return YNode(items, loc, key_loc)
    if isinstance(node, SequenceNode):
        return YNode([_convert(child, file, loader, problems) for child in node.value], loc, key_loc)
    assert isinstance(node, ScalarNode)
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(loc, f"cannot read this value: {getattr(exc, 'problem', exc)}"))
        return YNode(None, loc, key_loc, text=str(node.value))
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        value = str(node.value)  # dates, timestamps, binary: keep the text
    return YNode(value, loc, key_loc, text=str(node.value))


def parse_yaml(text: str, file: str) -> YamlParse:
    """Parse `text` safely into located nodes; report syntax errors and duplicate keys."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        what = exc.problem or exc.context or "cannot be parsed"
        message = f"YAML syntax error: {what}; check indentation, colons and quoting here"
        return YamlParse(None, [Problem(Location(file, line, column), message)])
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors without marks
        return YamlParse(None, [Problem(Location(file, 1, 1), f"YAML error: {exc}")])
    finally:
        loader.dispose()
    if node is None:
        return YamlParse(None, [])
    problems: list[Problem] = []
    root = _convert(node, file, yaml.SafeLoader(""), problems)
    return YamlParse(root, problems)
