"""Write files so that a failed run never leaves a half-written one behind."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class OutputError(Exception):
    """An output file cannot be written there (say why, before any work is done)."""


def check_writable(path: str | Path, make_folder: bool = False) -> Path:
    """Return `path` if a file can be written there; raise OutputError (one line) if not.

    Checked before the work that produces the file, so a run never spends
    minutes on a report it then cannot save. A missing folder is refused
    unless `make_folder` (`--mkdir`) asks for it to be made.
    """
    target = Path(path)
    if str(path).endswith(("/", os.sep)) or target.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not make_folder and not folder.exists():
        raise OutputError(f"{path}: the folder {folder} does not exist; create it, or pass --mkdir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path}: {folder} is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the folder {folder} ({exc.strerror})") from None
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in {folder} ({exc.strerror})") from None
    os.close(handle)
    Path(probe).unlink(missing_ok=True)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{path}: the file is read-only")
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: str | Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename it into place.

    The file gets the mode a new file gets under the umask (0666 less the
    umask), or keeps the mode of the file it replaces. The temporary file is
    removed on every exit path Python sees.
    """
    write_with(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8", newline="\n"))


def write_with(path: str | Path, write: Callable[[str], object]) -> None:
    """Let `write(temporary_path)` write the file, then move it onto `path` (as write_atomically does)."""
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written: {write_error(exc)}") from None
    os.close(handle)
    try:
        write(temporary)
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:  # a full disk, an I/O error: say it in one line, leave nothing behind
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot be written: {write_error(exc)}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_error(exc: OSError) -> str:
    """Return a one-line reason an output could not be written (a full disk, an I/O error, ...)."""
    if exc.errno == errno.ENOSPC:
        return "no space left on the device; free some space and run again"
    if exc.errno == errno.EIO:
        return "an input/output error; check the device and run again"
    return exc.strerror or str(exc)
