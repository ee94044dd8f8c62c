"""Open every input the same way: a scenario, a judgement file, a coalition and its members,
a report to check, an elicitation to resume, standard input.

- Only a regular file or standard input (`-`) is read: a directory, a device
  (`/dev/zero`), a FIFO or a socket is refused before any byte is read (a FIFO
  is opened without waiting for a writer).
- At most `MAX_BYTES` are read, counted while reading (standard input too), so
  an endless stream stops at the limit.
- A path written *inside* a file (a judge, a coalition member, the scenario a
  report's provenance names) is relative to that file, and is read only when it
  resolves inside the folder the command runs in, the folder of the file that
  names it, or a folder the user allowed (`--allow-path DIR`, `allowed_paths`).
  Paths the user types on the command line are the user's choice and are read
  as given.

Every refusal is an `InputError` naming the path and what to do; no message
quotes a byte of the file.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath
from typing import BinaryIO

from niches.scenario.yamlsource import MAX_BYTES

STDIN = "-"
"""The path that means standard input."""

CHUNK = 1 << 16

_ALLOWED: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("allowed", default=())


class InputError(Exception):
    """An input that cannot be read: `path` (as the user knows it) and what is wrong with it."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


@contextlib.contextmanager
def allowed_paths(folders: Iterable[str | Path]) -> Iterator[None]:
    """Also accept paths named inside files that resolve inside `folders` (`--allow-path`)."""
    token = _ALLOWED.set(tuple(Path(f).resolve() for f in folders))
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def shown(path: str | Path) -> str:
    """Return how a path is named in messages (`<stdin>` for standard input)."""
    return "<stdin>" if str(path) == STDIN else str(path)


def _limit_message(size: float) -> str:
    return f"the file is {size / 1e6:.1f} MB; scenarios are limited to {MAX_BYTES / 1e6:g} MB"


def _read_capped(stream: BinaryIO | int, name: str) -> bytes:
    """Read at most MAX_BYTES from a binary stream or file descriptor; refuse a longer one."""
    parts: list[bytes] = []
    total = 0
    while True:
        want = min(CHUNK, MAX_BYTES + 1 - total)
        chunk = os.read(stream, want) if isinstance(stream, int) else stream.read(want)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > MAX_BYTES:
            if name == STDIN:
                raise InputError(
                    "<stdin>",
                    f"more than {MAX_BYTES / 1e6:g} MB on standard input; scenarios are limited to "
                    f"{MAX_BYTES / 1e6:g} MB",
                )
            raise InputError(
                name, f"more than {MAX_BYTES / 1e6:g} MB; scenarios are limited to {MAX_BYTES / 1e6:g} MB"
            )


def read_bytes(path: str | Path) -> bytes:
    """Return the bytes of the regular file at `path` (or of standard input for `-`), capped."""
    name = str(path)
    if name == STDIN:
        return _read_capped(sys.stdin.buffer, STDIN)
    if "\0" in name:
        raise InputError(name.replace("\0", "\\0"), "the path holds a NUL byte; give a file name")
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(name, "no such file; check the path") from None
    except IsADirectoryError:
        raise InputError(name, "is a directory; give a file") from None
    except OSError as exc:
        raise InputError(name, f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(name, "is a directory; give a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(name, "is not a regular file (a device, FIFO or socket); give a file")
        if info.st_size > MAX_BYTES:
            raise InputError(name, _limit_message(info.st_size))
        try:
            return _read_capped(fd, name)
        except OSError as exc:
            raise InputError(name, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | Path) -> str:
    """Return the UTF-8 text of `path` (see `read_bytes`), every line end (CR, LF, CRLF) as LF."""
    return decoded(read_bytes(path), shown(path))


def decoded(data: bytes, name: str) -> str:
    """Return `data` as UTF-8 text with every line end (CR, LF, CRLF) as LF; `name` is for the message."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(name, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_inside(path: Path, folder: Path) -> bool:
    """Return whether `path` (resolved) lies in `folder` (resolved) or below it."""
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def allowed_folders(naming: str | Path | None) -> list[Path]:
    """Return the folders a path named inside the file `naming` may resolve into."""
    folders = [Path.cwd().resolve()]
    if naming is not None and str(naming) not in (STDIN, "<stdin>"):
        folders.append(Path(str(naming)).resolve().parent)
    return folders + list(_ALLOWED.get())


def allow(folders: Iterable[str | Path]) -> None:
    """Also accept, for the rest of this run, paths named inside files that resolve inside `folders`."""
    _ALLOWED.set(tuple(Path(f).resolve() for f in folders))


def named_path(written: str, naming: str | Path | None, relative_to_file: bool = True) -> Path:
    """Return the path `written` inside the file `naming` (relative to it), if it may be read.

    `relative_to_file` False: the path is relative to the folder the command
    runs in (a report's provenance records the path `report` was given).
    Raise InputError when the path resolves outside every allowed folder.
    """
    if "\0" in written:
        raise InputError(written.replace("\0", "\\0"), "the path holds a NUL byte; give a file name")
    outside = naming is None or str(naming) in (STDIN, "<stdin>") or not relative_to_file
    base = Path.cwd() if outside else Path(str(naming)).parent
    path = base / written
    resolved = path.resolve()
    if not any(is_inside(resolved, folder) for folder in allowed_folders(naming)):
        own = f" and the folder of {shown(naming)}" if naming is not None and not outside else ""
        raise InputError(
            written,
            f"is outside the folder niches runs in{own}; move it there or allow its folder with "
            "`niches --allow-path DIR`",
        )
    return path


def matching(pattern: Path, naming: str | Path | None) -> list[Path]:
    """Return the files a glob `pattern` (already joined to its base) matches, inside the allowed folders."""
    import glob

    folders = allowed_folders(naming)
    found = [Path(p) for p in glob.glob(str(pattern))]
    return sorted(p for p in found if any(is_inside(p.resolve(), f) for f in folders))


class Files:
    """Where the files a scenario names (its judges) are read from: the file system, by the rules above.

    `niches diff REV:PATH` reads them from the same git revision instead (`analysis.diff.GitFiles`).
    Paths are `PurePath`s so that a revision's paths need no file system.
    """

    def named(self, written: str, naming: str | None) -> PurePath:
        """Return the path `written` in the file `naming`, if it may be read (InputError if not)."""
        return named_path(written, naming)

    def matching(self, pattern: PurePath, naming: str | None) -> list[PurePath]:
        """Return the files the glob `pattern` matches, in a stable order."""
        return list(matching(Path(pattern), naming))

    def exists(self, path: PurePath) -> bool:
        return Path(path).exists()

    def read_text(self, path: PurePath) -> str:
        return read_text(Path(path))


FILES = Files()
"""The file system."""
