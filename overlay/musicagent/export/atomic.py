"""Writing an export so the destination is never half-written, and never through a link.

Every exporter writes into a temporary file in the destination's own folder (so the final
`os.replace` is a rename on one file system, atomic on POSIX) and renames it into place only
once the last byte is on disk. A crash, Ctrl-C or a failing item leaves the previous file at the
destination untouched, and the temporary file is removed.

Files an export creates (temporary files, partial output, checkpoints, locks) are created
`0600` and without following symbolic links (`O_EXCL | O_NOFOLLOW`); files it reopens to resume
are opened with `O_NOFOLLOW` and must be regular files owned by the user (`open_owned`). A
public export gets the permissions a new file normally gets (`0666` less the umask) just before
it is renamed into place; a private one (collection, wantlist, inventory, orders) stays `0600`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from musicagent.errors import InvalidParameterError, LocalIOError, UnsafeFileError

__all__ = [
    "PRIVATE_MODE",
    "checked_destination",
    "discard",
    "fsync_directory",
    "io_error",
    "open_new",
    "open_owned",
    "public_mode",
    "replace_into_place",
    "same_file",
    "set_mode",
    "staging_file",
    "sweep_temporaries",
    "temporary_path_beside",
]

#: Mode of every file an export creates, and of private exports.
PRIVATE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_umask_lock = threading.Lock()


def io_error(exc: OSError, path: Path, doing: str) -> LocalIOError:
    """A `LocalIOError` for an `OSError`, naming the path and what was being done."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return LocalIOError(f"cannot {doing} {str(path)!r}: {reason}", path=path)


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
    """Create `path` (failing if anything, even a dangling link, is there), mode `0600`, open
    for reading and writing in binary.

    Raises:
        InvalidParameterError: (`destination`) when the folder is missing or not writable.
        LocalIOError: for any other failure (disk full, too many open files).
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
    try:
        fd = os.open(path, flags, PRIVATE_MODE)
    except (PermissionError, FileNotFoundError, NotADirectoryError) as exc:
        raise InvalidParameterError(
            f"cannot write next to destination {str(path.parent)!r}: {exc.strerror or exc}",
            parameter="destination",
            value=str(path.parent),
        ) from exc
    except OSError as exc:
        raise io_error(exc, path, "create") from exc
    return os.fdopen(fd, "r+b")


def open_owned(path: Path, *, write: bool) -> BinaryIO:
    """Open an existing file an export left behind (partial output, checkpoint) to resume.

    The file is opened without following a symbolic link and must be a regular file, owned by
    this user, with one name: otherwise a planted link or hard link would let a resume write
    into a file the export does not own.

    Raises:
        FileNotFoundError: when it is not there.
        UnsafeFileError: when it is a link, not a regular file, or another user's.
        LocalIOError: when it cannot be opened.
    """
    # O_NONBLOCK keeps a FIFO planted at the path from blocking the open (cleared below).
    flags = (os.O_RDWR if write else os.O_RDONLY) | _NOFOLLOW | _BINARY | _NOCTTY | _NONBLOCK
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if path.is_symlink():
            raise UnsafeFileError(
                f"refusing {str(path)!r}: it is a symbolic link, not a file this export wrote",
                path=path,
            ) from None
        raise io_error(exc, path, "open") from exc
    try:
        info = os.fstat(fd)
        problem = _ownership_problem(info)
        if problem:
            raise UnsafeFileError(
                f"refusing {str(path)!r}: {problem}, not a file this export wrote", path=path
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "r+b" if write else "rb")


def _ownership_problem(info: os.stat_result) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return "it belongs to another user"
    if info.st_nlink > 1:
        return "it has other names (a hard link)"
    return None


def same_file(handle: BinaryIO, path: Path) -> bool:
    """Whether `path` still names the file `handle` has open (not removed or replaced)."""
    try:
        on_disk = os.lstat(path)
    except OSError:
        return False
    held = os.fstat(handle.fileno())
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def public_mode() -> int:
    """`0666` less the process umask: the mode a new file normally gets."""
    # The umask can only be read by setting it; the lock keeps exporting threads from seeing
    # the moment it is zero.
    with _umask_lock:
        mask = os.umask(0o077)
        os.umask(mask)
    return 0o666 & ~mask


def set_mode(handle: BinaryIO, *, private: bool) -> None:
    """Give an export its final permissions: `0600` when private, else the usual mode."""
    if hasattr(os, "fchmod"):
        os.fchmod(handle.fileno(), PRIVATE_MODE if private else public_mode())


def sweep_temporaries(destination: Path) -> None:
    """Remove temporary files a killed export left beside `destination` (its own hidden
    `.<name>.<hex>.tmp` files, a checkpoint's, their SQLite journals). Call it only while
    holding the destination's lock: then no other run is writing them."""
    pattern = re.compile(
        re.escape(f".{destination.name}.") + r"(?:checkpoint\.json\.)?[0-9a-f]{8}\.tmp(?:-journal)?"
    )
    with contextlib.suppress(OSError):
        for entry in os.scandir(destination.parent):
            if pattern.fullmatch(entry.name) and not entry.is_dir(follow_symlinks=False):
                discard(Path(entry.path))


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
    """Rename a finished file over the destination, atomically, and make the rename durable.

    Both names are in one folder: nothing outside the destination's folder is ever renamed
    (a symbolic link at the destination is replaced as a name, never followed).
    """
    os.replace(source, destination)
    fsync_directory(destination.parent)


@contextlib.contextmanager
def staging_file(destination: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """A new temporary file beside `destination` (`0600`), open for binary reading and writing.

    The caller finishes it (and closes nothing); if the block raises, the file is closed and
    removed. On a clean exit it is closed.
    """
    path = temporary_path_beside(destination)
    handle = open_new(path)
    try:
        yield path, handle
    except BaseException:
        handle.close()
        discard(path)
        raise
    handle.close()
