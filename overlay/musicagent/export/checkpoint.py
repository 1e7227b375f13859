"""The checkpoint of a resumable export: `<destination>.checkpoint.json`.

At most once a second (see `musicagent.export.job.CHECKPOINT_INTERVAL`), after the last page
and when a run stops, `ExportJob` records what it has done beside the destination: the export
kind and query, the format and a hash of its options, the last completed page, the
number of items written, the partial output file and how many of its bytes are complete, and
the layout chosen at the start (the CSV header). The partial file is synced before the
checkpoint that points into it is written, and the checkpoint is replaced atomically, so it
always describes a consistent state; bytes written after the last checkpoint are cut off when
the export resumes and their pages fetched again, which is why a resumed file has no lost and
no duplicated rows.

Just before the finished file is renamed over the destination, the checkpoint records which
file that is (`finishing`: device, inode and size). A run killed after the rename but before
the checkpoint is removed finds the destination to be that very file, and resumes by simply
tidying up: the file is already complete, byte for byte.

Checkpoints are created `0600` and read without following links, from regular files of this
user only (see `musicagent.export.atomic.open_owned`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musicagent.errors import CheckpointError, CheckpointMismatchError
from musicagent.export.atomic import (
    discard,
    open_new,
    open_owned,
    replace_into_place,
    temporary_path_beside,
)
from musicagent.export.base import Layout
from musicagent.export.records import dump_json

__all__ = [
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "checkpoint_path_for",
    "options_hash",
    "partial_path_for",
    "plain_json",
]

#: Bumped when the checkpoint layout changes; an older checkpoint is refused, not misread.
CHECKPOINT_VERSION = 1


def checkpoint_path_for(destination: Path) -> Path:
    """Where the checkpoint of an export to `destination` lives: `<destination>.checkpoint.json`."""
    return destination.with_name(destination.name + ".checkpoint.json")


def partial_path_for(destination: Path) -> Path:
    """Where the partial output of a resumable export lives: `<destination>.partial`."""
    return destination.with_name(destination.name + ".partial")


def options_hash(format_name: str, options: dict[str, Any]) -> str:
    """A stable SHA-256 of a format and its options, to tell whether a checkpoint still fits."""
    canonical = json.dumps(
        {"format": format_name, "options": options},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def plain_json(value: Any) -> Any:
    """A value as it reads back from JSON (tuples become lists, odd types their text), so a
    query compares equal to the one stored in a checkpoint."""
    return json.loads(dump_json(value))


@dataclass
class Checkpoint:
    """State of a resumable export after its last completed page."""

    kind: str
    query: dict[str, Any]
    format: str
    options_hash: str
    destination: str
    partial_path: str
    layout: Layout = field(default_factory=dict)
    last_page: int = 0
    total_pages: int = 0
    items_written: int = 0
    items_total: int | None = None
    partial_bytes: int = 0
    version: int = CHECKPOINT_VERSION
    #: `{"device", "inode", "size"}` (and `file`, its name, when it is not the partial file)
    #: of the finished file about to be renamed over the
    #: destination; None until the export is finishing.
    finishing: dict[str, Any] | None = None

    def differences(self, other: Checkpoint) -> list[str]:
        """Which of kind, query, format and options differ between two exports."""
        names = (("kind", "kind"), ("query", "query"), ("format", "format"))
        found = [label for attr, label in names if getattr(self, attr) != getattr(other, attr)]
        if self.options_hash != other.options_hash:
            found.append("options")
        return found

    def save(self, path: Path, *, durable: bool = True) -> None:
        """Write the checkpoint atomically (temporary file, then rename)."""
        staged = temporary_path_beside(path)
        text = json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False) + "\n"
        try:
            with open_new(staged) as handle:
                handle.write(text.encode("utf-8"))
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            if durable:
                replace_into_place(staged, path)
            else:
                os.replace(staged, path)
        except BaseException:
            discard(staged)
            raise

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """Read a checkpoint.

        Raises:
            CheckpointError: when it is unreadable or was written by another version.
            FileNotFoundError: when there is none.
            UnsafeFileError: when it is a link or not this user's regular file.
        """
        with open_owned(path, write=False) as handle:
            raw = handle.read()
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            message = f"cannot read checkpoint {str(path)!r}: {exc}"
            raise CheckpointError(message, path=path) from exc
        if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(
                f"checkpoint {str(path)!r} was written by another version of musicagent",
                path=path,
            )
        known = {item.name for item in dataclasses.fields(cls)}
        try:
            return cls(**{name: value for name, value in data.items() if name in known})
        except TypeError as exc:
            raise CheckpointError(
                f"checkpoint {str(path)!r} is incomplete: {exc}", path=path
            ) from exc
