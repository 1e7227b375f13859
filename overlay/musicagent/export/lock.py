"""One export per destination at a time: an exclusive lock held for the whole run.

The lock is `<destination>.lock`, created `0600` without following links, locked with
`flock(LOCK_EX | LOCK_NB)` and holding a line about its holder (`pid 1234 on host since …`), so
a second run fails at once and says which run has the file. The lock belongs to the open file,
so a killed process releases it: a stale lock file on disk never blocks the next run.

Removing a lock file safely: the holder unlinks the name *before* closing, and whoever locks a
file checks afterwards that the name still leads to the file it locked (else it lost a race with
a holder that was just removing it, and tries again). So two runs can never both believe they
hold the lock, even while one of them is cleaning up.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from musicagent.errors import ExportLockedError
from musicagent.export.atomic import PRIVATE_MODE, io_error

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["ExportLock", "lock_path_for"]

_ATTEMPTS = 10
_HOLDER_POLLS = 50
_HOLDER_POLL_SECONDS = 0.01


def lock_path_for(destination: Path) -> Path:
    """`<destination>.lock`."""
    return destination.with_name(destination.name + ".lock")


class ExportLock:
    """The exclusive lock on one destination (a context manager).

    Raises (on entry):
        ExportLockedError: another run holds it; the message names that run.
        LocalIOError: the lock file cannot be created.
    """

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.path = lock_path_for(destination)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or fail at once."""
        for _ in range(_ATTEMPTS):
            fd = self._open()
            if not self._try_lock(fd):
                holder = _wait_for_holder(fd)
                os.close(fd)
                who = f" ({holder})" if holder else ""
                raise ExportLockedError(
                    f"another export is writing {str(self.destination)!r} right now{who}; "
                    "wait for it to finish, or export to another file",
                    path=self.destination,
                    holder=holder,
                )
            if _names_file(self.path, fd):
                self._fd = fd
                self._describe()
                return
            os.close(fd)  # the previous holder removed this name as we locked it: again
        raise ExportLockedError(
            f"could not lock {str(self.path)!r}: other runs keep replacing it",
            path=self.destination,
            holder=None,
        )

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            return os.open(self.path, flags, PRIVATE_MODE)
        except OSError as exc:
            raise io_error(exc, self.path, "create the lock file") from exc

    @staticmethod
    def _try_lock(fd: int) -> bool:
        if fcntl is None:  # pragma: no cover - not POSIX: the lock is advisory at best
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _describe(self) -> None:
        assert self._fd is not None
        since = datetime.now(UTC).isoformat(timespec="seconds")
        text = f"pid {os.getpid()} on {socket.gethostname()} since {since}\n"
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text.encode("utf-8"), 0)

    def release(self) -> None:
        """Remove the lock file and let go of the lock (the name first: see the module)."""
        if self._fd is None:
            return
        if _names_file(self.path, self._fd):
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _names_file(path: Path, fd: int) -> bool:
    try:
        on_disk = os.lstat(path)
    except OSError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _wait_for_holder(fd: int) -> str | None:
    # The holder writes its line just after locking: give it a moment to, so the message can
    # name it (a fraction of a second at most; the refusal itself is immediate).
    for _ in range(_HOLDER_POLLS):
        holder = _read_holder(fd)
        if holder:
            return holder
        time.sleep(_HOLDER_POLL_SECONDS)
    return None


def _read_holder(fd: int) -> str | None:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return None
    # The holder's own line, but never more than one line of it.
    return "".join(c for c in text.splitlines()[0] if c.isprintable()) if text else None
