"""Command-line usage errors in the house style: `niches: error: ...; see niches CMD --help`.

The command-line library's own wording (which changes between its releases)
never reaches the user: each kind of usage error is said again here, naming
the option, the value given and what it takes.
"""

from __future__ import annotations

import difflib
import enum
import sys
from collections.abc import Sequence
from typing import Any

import typer.core

from niches.limits import MAX_SAMPLES, MAX_SEED

PREFIX = "niches: error: "


def _click_exception() -> type[BaseException]:
    """The command-line library's base error (typer vendors click from 0.2x; found from typer's own)."""
    return next(k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException")


def _command(ctx: Any, argv: Sequence[str], names: Sequence[str]) -> str:
    """`niches CMD` for the command in hand (whatever the program was called as)."""
    last = str(getattr(ctx, "command_path", None) or "niches").split()[-1]
    word = last if last in names else next((a for a in argv if a in names), None)
    return "niches" if word is None else f"niches {word}"


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return getattr(descriptor, "annotation", None)
    return getattr(param, "type", None)


def _bounds(param: Any) -> tuple[Any, Any]:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    kind = getattr(param, "type", None)
    if low is None and high is None and kind is not None:
        low, high = getattr(kind, "min", None), getattr(kind, "max", None)
    return low, high


def _number(value: Any) -> str:
    if value == MAX_SEED:
        return "2^63-1"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


SAMPLES_METAVAR = "N|auto"
"""The metavar of `--samples`, which takes a count or `auto`."""


def takes(param: Any) -> str:
    """What an option or argument takes, in words: `a whole number from 1 to 1,000,000`."""
    if getattr(param, "metavar", None) == SAMPLES_METAVAR:
        return f"a whole number from 1 to {MAX_SAMPLES:,}, or auto"
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(str(member.value) for member in annotation)
    choices = getattr(annotation, "choices", None)
    if choices:
        return "one of " + ", ".join(str(c) for c in choices)
    whole = annotation is int or "int" in type(annotation).__name__.lower()
    what = "a whole number" if whole else "a number"
    low, high = _bounds(param)
    if low is not None and high is not None:
        return f"{what} from {_number(low)} to {_number(high)}"
    if low is not None:
        return f"{what} of at least {_number(low)}"
    if high is not None:  # pragma: no cover - no option has only an upper bound
        return f"{what} of at most {_number(high)}"
    return what if annotation in (int, float) or whole else "a valid value"


def _name(param: Any) -> str:
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    if opts:
        return str(opts[0])
    return str(getattr(param, "human_readable_name", None) or getattr(param, "name", "argument")).upper()


def given(param: Any, argv: Sequence[str]) -> str | None:
    """The value the command line gave `param` (the last one), when it can be found."""
    found = None
    opts = list(getattr(param, "opts", []))
    for i, token in enumerate(argv):
        for opt in opts:
            if not opt.startswith("-"):
                continue
            if token == opt and i + 1 < len(argv):
                found = argv[i + 1]
            elif opt.startswith("--") and token.startswith(opt + "="):
                found = token[len(opt) + 1 :]
    return found


def message(exc: BaseException, argv: Sequence[str], names: Sequence[str]) -> str:
    """One line for a usage error: what is wrong, and how to fix it.

    `argv` is the command line after `niches`; `names` are the commands.
    """
    ctx = getattr(exc, "ctx", None)
    command = _command(ctx, argv, names)
    see = f"see {command} --help"
    kind = type(exc).__name__
    if kind == "NoSuchOption":
        option = getattr(exc, "option_name", "?")
        near = sorted(getattr(exc, "possibilities", None) or [])
        hint = f" (did you mean {' or '.join(near)}?)" if near else ""
        return f"{PREFIX}{command.removeprefix('niches ')} has no option {option}{hint}; {see}"
    if kind == "BadOptionUsage":
        option = getattr(exc, "option_name", "?")
        return f"{PREFIX}{option} needs a value; {see}"
    param = getattr(exc, "param", None)
    if kind == "MissingParameter" and param is not None:
        return f"{PREFIX}give {_name(param)}; {see}"
    if param is not None:
        value = given(param, argv)
        shown = f" {value!r}" if value is not None else ""
        return f"{PREFIX}{_name(param)}{shown}: expected {takes(param)}; {see}"
    text = str(getattr(exc, "message", exc))
    if text.startswith("No such command"):
        wanted = text.split("'")[1] if "'" in text else "?"
        near = difflib.get_close_matches(wanted, sorted(names), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        return f"{PREFIX}no command {wanted!r}{hint}; see niches --help"
    if text.startswith("Got unexpected extra argument"):
        extra = text[text.rfind("(") + 1 : text.rfind(")")] if text.endswith(")") else ""
        return f"{PREFIX}unexpected extra argument {extra}; {see}".replace("argument ;", "argument;")
    return f"{PREFIX}{text[:1].lower()}{text[1:].rstrip('.')}; {see}"


class Group(typer.core.TyperGroup):
    """The `niches` command group: usage errors in the house style, exit 2."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        if extra.get("standalone_mode", True) is False:
            return super().main(args, *rest, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        extra["standalone_mode"] = False
        try:
            code = super().main(argv, *rest, **extra)
        except _click_exception() as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `niches` alone: the help, exit 2
                exc.show()  # type: ignore[attr-defined]
                sys.exit(2)
            sys.stderr.write(message(exc, argv, sorted(self.commands)) + "\n")
            sys.exit(getattr(exc, "exit_code", 2))
        except typer.Abort:
            sys.stderr.write(f"{PREFIX}aborted\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
