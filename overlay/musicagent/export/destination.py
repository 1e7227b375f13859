"""Where an export goes: a regular file (replaced atomically) or a stream (written through).

The rule, applied before the first request:

- `-` is standard output;
- a character device, FIFO or other special file (a terminal, `/dev/null`, a named pipe) is
  *written through*: opened for writing and fed the bytes as they come, never replaced;
- a name under `/dev/fd/`, `/proc/self/fd/`, `/dev/stdout` or `/dev/stderr` writes to that open
  descriptor, whatever it is connected to (a pipe, a terminal, a file the shell redirected);
- any other symbolic link is **refused**: replacing it would drop the link, and writing through
  it would rename files in another folder; the error names the link's target to use instead;
- anything else is a regular file, written to a temporary file beside it and renamed into
  place at the end (see `musicagent.export.atomic`).

A stream cannot be resumed (there is nothing to cut back and continue), and SQLite, which needs
a seekable file of its own, cannot be written to one.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from musicagent.errors import InvalidParameterError
from musicagent.export.atomic import checked_destination, io_error

__all__ = ["STDOUT", "Destination", "open_stream", "resolve_destination"]

#: The name that means standard output.
STDOUT = "-"
_DESCRIPTOR_NAME = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STANDARD_NAMES = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


@dataclass(frozen=True)
class Destination:
    """A resolved destination.

    Attributes:
        path: the file named (`Path("-")` for standard output).
        stream: written through (standard output, a device, a FIFO): no temporary file, no
            rename, no checkpoint.
        descriptor: the open descriptor a stream writes to (1 for standard output), if any.
    """

    path: Path
    stream: bool = False
    descriptor: int | None = None

    @property
    def label(self) -> str:
        """How messages name it."""
        return "standard output" if self.descriptor == 1 else str(self.path)


def resolve_destination(destination: str | os.PathLike[str] | Destination) -> Destination:
    """Apply the destination rule of the module documentation.

    Raises:
        InvalidParameterError: (`destination`) for a symbolic link to a file, a folder, or a
            file in a folder that does not exist.
    """
    if isinstance(destination, Destination):
        return destination
    if os.fspath(destination) == STDOUT:
        return Destination(Path(STDOUT), stream=True, descriptor=1)
    path = Path(destination).expanduser()
    text = str(path)
    match = _DESCRIPTOR_NAME.match(text)
    if match or text in _STANDARD_NAMES:
        number = int(match.group(1)) if match else _STANDARD_NAMES[text]
        return Destination(path, stream=True, descriptor=number)
    try:
        info = os.lstat(path)
    except OSError:
        return Destination(checked_destination(path))
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.stat(path)
        except OSError:
            target = None
        if target is not None and _is_special(target):
            return Destination(path, stream=True)
        raise InvalidParameterError(
            f"destination {text!r} is a symbolic link (to {os.path.realpath(path)!r}); "
            "give the target's own path, or remove the link",
            parameter="destination",
            allowed="a regular file, -, or a device or FIFO",
            value=text,
        )
    if _is_special(info):
        return Destination(path, stream=True)
    return Destination(checked_destination(path))


def _is_special(info: os.stat_result) -> bool:
    return not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode)


class _StandardOutput:
    """Standard output as the export's handle: counts what is written, flushes on close,
    never closes it (the program still prints after the export)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._written = 0

    def write(self, data: bytes) -> int:
        self._stream.write(data)
        self._written += len(data)
        return len(data)

    def flush(self) -> None:
        self._stream.flush()

    def tell(self) -> int:
        return self._written

    def close(self) -> None:
        self._stream.flush()

    def __enter__(self) -> _StandardOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stream(destination: Destination) -> BinaryIO:
    """Open a stream destination for writing (closing it never closes standard output).

    Raises:
        LocalIOError: when it cannot be opened.
    """
    if str(destination.path) == STDOUT:
        return cast(BinaryIO, _StandardOutput(sys.stdout.buffer))
    try:
        if destination.descriptor is not None:
            fd = os.dup(destination.descriptor)
        else:
            fd = os.open(destination.path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise io_error(exc, destination.path, "open") from exc
    return os.fdopen(fd, "wb")
