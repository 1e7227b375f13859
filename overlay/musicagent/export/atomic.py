"""Writing an export so the destination is never half-written.

Every exporter writes into a temporary file in the destination's own folder (so the final
`os.replace` is a rename on one file system, atomic on POSIX and Windows) and renames it into
place only once the last byte is on disk. A crash, Ctrl-C or a failing item leaves the previous
file at the destination untouched, and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from musicagent.errors import InvalidParameterError

__all__ = [
    "checked_destination",
    "discard",
    "fsync_directory",
    "open_new",
    "replace_into_place",
    "staging_file",
    "temporary_path_beside",
]


def checked_destination(destination: str | os.PathLike[str]) -> Path:
    """The destination as a `Path`, after checking a file can be created there.

    Raises:
        InvalidParameterError: (`destination`) when its folder does not exist, is not a folder,
            or the destination is itself a folder.
    """
    path = Path(destination).expanduser()
    folder = path.parent
    if path.is_dir():
        raise InvalidParameterError(
            f"destination {str(path)!r} is a folder; give a file name inside it",
            parameter="destination",
            value=str(path),
        )
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist"
        raise InvalidParameterError(
            f"cannot write destination {str(path)!r}: folder {str(folder)!r} {reason}",
            parameter="destination",
            value=str(path),
        )
    return path


def temporary_path_beside(destination: Path) -> Path:
    """A fresh hidden file name in the destination's folder, e.g. `.collection.csv.1f3a9c2e.tmp`."""
    return destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.tmp")


def open_new(path: Path) -> BinaryIO:
    """Create `path` for writing (failing if it exists), with the permissions a normal file
    gets (the umask applies), as a binary file object.

    Raises:
        InvalidParameterError: (`destination`) when the folder is not writable.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise InvalidParameterError(
            f"cannot write next to destination {str(path.parent)!r}: {exc.strerror or exc}",
            parameter="destination",
            value=str(path.parent),
        ) from exc
    return os.fdopen(fd, "wb")


def discard(path: Path) -> None:
    """Remove a temporary file if it is there (cleanup must never hide the original error)."""
    with contextlib.suppress(OSError):
        path.unlink()


def fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def replace_into_place(source: Path, destination: Path) -> None:
    """Rename a finished file over the destination, atomically, and make the rename durable."""
    os.replace(source, destination)
    fsync_directory(destination.parent)


@contextlib.contextmanager
def staging_file(destination: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """A new temporary file beside `destination`, open for binary writing.

    On a clean exit the file is flushed, synced to disk and closed (the caller then renames it
    with `replace_into_place`); if the block raises, it is closed and removed.
    """
    path = temporary_path_beside(destination)
    handle = open_new(path)
    try:
        yield path, handle
        handle.flush()
        os.fsync(handle.fileno())
    except BaseException:
        handle.close()
        discard(path)
        raise
    handle.close()
