"""Resumable exports: drive a page source, write page by page, checkpoint, resume.

An `ExportJob` asks `fetch_page(n)` for pages 1, 2, … until the last one, writes each page's
items to `<destination>.partial` and records a checkpoint in `<destination>.checkpoint.json`
(see `musicagent.export.checkpoint`): after the first page, then after the first page that
completes at least `CHECKPOINT_INTERVAL` (one second) after the previous checkpoint, after the
last page, and when the run stops on an error or Ctrl-C. Each checkpoint first syncs the
partial file, then records how many of its bytes are complete, so a checkpoint never points
past what is on disk; a kill between two checkpoints only costs the pages written since the
last one, fetched again on resume. When the last page is written the partial file is finished
(the JSON array closed; SQLite loaded) and renamed over the destination; checkpoint and
partial file are removed.

If the export is interrupted — Ctrl-C, a killed process, a network failure that outlasts the
retries — run it again with `resume=True`: it cuts the partial file back to the last
checkpoint and continues with the next page. The finished file is byte for byte the file an
uninterrupted run writes: the layout (CSV header) chosen at the start is reused, and no row is
lost or written twice. A checkpoint of another export (other kind, query, format or options)
is refused with `CheckpointMismatchError`; `resume=False` ignores any checkpoint and starts over.

Safety: the destination is locked for the whole run (`musicagent.export.lock`; a second run
fails at once with `ExportLockedError`). The partial file is finished from the handle the run
holds, never reopened by name, and a run refuses to finish when its name no longer leads to
that file. Partial and checkpoint are created `0600` without following links, and a resumed run
accepts them only as regular files of this user. The finished file of a private kind
(`PRIVATE_KINDS`: collection, wantlist, inventory, orders) stays `0600`; others get the usual
mode. A destination that is a stream (`-`, a device, a FIFO) is written through, without a
checkpoint, and cannot be resumed. A local failure (disk full) raises `LocalIOError` naming the
file, with `checkpoint` set when the export can be resumed.

    job = ExportJob(
        fetch_page=page_source(client.collection.get_collection_items_by_folder,
                               "rodney", 0, items_key="releases"),
        exporter=exporter_for("csv", item_model=CollectionItem),
        destination="collection.csv",
        kind="collection",
        query={"username": "rodney", "folder_id": 0},
        on_progress=lambda done, total, page, pages: print(f"{done}/{total}"),
    )
    job.run(resume=True)

The pages themselves are fetched by the caller's function, so the same engine serves the sync
client (`ExportJob`) and the async one (`AsyncExportJob`); everything else is shared.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from musicagent.errors import (
    CheckpointError,
    CheckpointMismatchError,
    InvalidParameterError,
    LocalIOError,
    PaginationError,
)
from musicagent.export.atomic import (
    discard,
    io_error,
    open_new,
    open_owned,
    same_file,
    sweep_temporaries,
)
from musicagent.export.base import (
    Exporter,
    ExportResult,
    RecordEncoder,
    Staged,
    stream_result,
    write_records,
)
from musicagent.export.checkpoint import (
    Checkpoint,
    checkpoint_path_for,
    options_hash,
    partial_path_for,
    plain_json,
)
from musicagent.export.destination import Destination, open_stream, resolve_destination
from musicagent.export.lock import ExportLock
from musicagent.export.records import as_record
from musicagent.pagination import MAX_PAGES, item_identity

__all__ = [
    "CHECKPOINT_INTERVAL",
    "FINISH_STEPS",
    "PRIVATE_KINDS",
    "AsyncExportJob",
    "AsyncFetchPage",
    "ExportJob",
    "FetchPage",
    "PageResult",
    "ProgressCallback",
]


class PageResult(NamedTuple):
    """One page from the page source: its items, and the totals the API reports."""

    items: Iterable[object]
    total_pages: int
    total_items: int | None


#: `fetch_page(page_number) -> (items, total_pages, total_items)`, pages counted from 1.
FetchPage = Callable[[int], tuple[Iterable[object], int, int | None]]
#: The async twin of `FetchPage`.
AsyncFetchPage = Callable[[int], Awaitable[tuple[Iterable[object], int, int | None]]]
#: `on_progress(items_done, items_total, pages_done, pages_total)`, called after every page
#: (and once when a resumed export starts); `items_total` is None when the API does not say.
ProgressCallback = Callable[[int, int | None, int, int], None]


#: Export kinds holding a user's own data (addresses, prices, notes): their files stay 0600.
PRIVATE_KINDS = frozenset({"collection", "wantlist", "inventory", "orders"})

#: Seconds between two checkpoints (each one an fsync of the partial file and of the
#: checkpoint, and a rename): syncing after every page of 100 items would cost more than
#: writing it. A kill loses at most the pages of the last interval; they are fetched again.
CHECKPOINT_INTERVAL = 1.0

#: The clock of the checkpoint interval (a seam for tests).
_clock = time.monotonic

#: The steps of finishing an export, in order. A run killed after any of them resumes to the
#: same file (the kill-and-resume tests stop the process at each).
FINISH_STEPS = ("written", "recorded", "replaced", "partial-removed", "checkpoint-removed")


def _step(name: str) -> None:
    """Marks a step of finishing (see `FINISH_STEPS`); does nothing. A seam for tests that
    kill the process at that very point."""


def _page_result(number: int, result: object) -> PageResult:
    items: object
    total_pages: object
    total_items: object
    try:
        items, total_pages, total_items = result  # type: ignore[misc]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"fetch_page({number}) must return (items, total_pages, total_items), "
            f"not {type(result).__name__}",
            parameter="fetch_page",
        ) from exc
    if not isinstance(total_pages, int) or (
        total_items is not None and not isinstance(total_items, int)
    ):
        raise InvalidParameterError(
            f"fetch_page({number}) returned non-integer totals "
            f"({total_pages!r} pages, {total_items!r} items)",
            parameter="fetch_page",
        )
    if not isinstance(items, Iterable):
        raise InvalidParameterError(
            f"fetch_page({number}) returned items that are not iterable: {type(items).__name__}",
            parameter="fetch_page",
        )
    return PageResult(items, total_pages, total_items)


class _ExportJobBase:
    """What the sync and async jobs share: configuration and the page-by-page state machine."""

    def __init__(
        self,
        *,
        exporter: Exporter,
        destination: str | os.PathLike[str] | Destination,
        kind: str,
        query: Mapping[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
        durable: bool = True,
        private: bool | None = None,
    ) -> None:
        self.exporter = exporter
        self.target = resolve_destination(destination)
        self.destination = self.target.path
        self.kind = kind
        self.query: dict[str, Any] = plain_json(dict(query or {}))
        self.on_progress = on_progress
        self.durable = durable
        self.private = kind in PRIVATE_KINDS if private is None else private

    @property
    def checkpoint_path(self) -> Path:
        """`<destination>.checkpoint.json`."""
        return checkpoint_path_for(self.destination)

    @property
    def partial_path(self) -> Path:
        """`<destination>.partial`: the output so far."""
        return partial_path_for(self.destination)

    def _fresh_checkpoint(self) -> Checkpoint:
        return Checkpoint(
            kind=self.kind,
            query=self.query,
            format=self.exporter.format_name,
            options_hash=options_hash(self.exporter.format_name, self.exporter.options()),
            destination=str(self.destination),
            partial_path=str(self.partial_path),
        )


class _JobRun:
    """One run of a job. Fetching is the caller's; this does the writing and bookkeeping."""

    def __init__(self, job: _ExportJobBase, *, resume: bool) -> None:
        self.job = job
        self.exporter = job.exporter
        self.target = job.target
        self.destination = job.destination
        self.handle: BinaryIO | None = None
        self.encoder: RecordEncoder | None = None
        self.state = job._fresh_checkpoint()
        self.started = False
        self.finished: ExportResult | None = None
        self.lock: ExportLock | None = None
        self._last: tuple[object, ...] = ()
        #: When the last checkpoint was saved (None: not yet in this run).
        self._saved_at: float | None = None
        #: Pages written since the last checkpoint.
        self._unsaved = False
        self.exporter.check_destination(self.target)
        if self.target.stream:
            if resume:
                raise InvalidParameterError(
                    f"an export to {self.target.label} cannot be resumed: it is written "
                    "through as it goes, with no checkpoint",
                    parameter="resume",
                    value=True,
                )
            return
        self.lock = ExportLock(self.destination)
        self.lock.acquire()
        try:
            sweep_temporaries(self.destination)
            stored = self._stored_checkpoint() if resume else None
            if stored is None:
                discard(job.checkpoint_path)
                discard(job.partial_path)
            elif not self._already_finished(stored):
                self._reopen(stored)
        except BaseException:
            self.close()
            raise

    def _stored_checkpoint(self) -> Checkpoint | None:
        path = self.job.checkpoint_path
        try:
            stored = Checkpoint.load(path)
        except FileNotFoundError:
            return None
        differences = stored.differences(self.state)
        if differences:
            raise CheckpointMismatchError(
                f"checkpoint {str(path)!r} belongs to another export ({', '.join(differences)} "
                "differ); start over, or export to another file",
                path=path,
                differences=differences,
            )
        return stored

    def _already_finished(self, stored: Checkpoint) -> bool:
        """Whether the last run was killed after renaming the finished file into place (the
        destination is the very file it recorded): then only the tidying is left."""
        finishing = stored.finishing or {}
        try:
            info = os.lstat(self.destination)
        except OSError:
            info = None
        if (
            info is not None
            and finishing
            and (info.st_dev, info.st_ino, info.st_size)
            == (
                finishing.get("device"),
                finishing.get("inode"),
                finishing.get("size"),
            )
        ):
            self.state = stored
            self.started = True
            self.finished = ExportResult(
                destination=self.destination,
                format=self.exporter.format_name,
                items_written=stored.items_written,
                bytes_written=info.st_size,
                columns=tuple(stored.layout.get("columns", ())),
                pages=stored.last_page,
                rows=finishing.get("rows"),
            )
            self._report()
            return True
        # Killed before the rename: a half-built file of that attempt may be left; the
        # export is finished again from the partial output.
        leftover = finishing.get("file")
        if isinstance(leftover, str) and "/" not in leftover and leftover.startswith("."):
            discard(self.destination.with_name(leftover))
        stored.finishing = None
        return False

    def _reopen(self, stored: Checkpoint) -> None:
        # The partial file is always beside the destination: a moved folder still resumes.
        partial = self.job.partial_path
        stored.partial_path = str(partial)
        try:
            handle = open_owned(partial, write=True)
        except FileNotFoundError:
            raise CheckpointError(
                f"cannot resume: partial output {str(partial)!r} is missing", path=partial
            ) from None
        size = os.fstat(handle.fileno()).st_size
        if size < stored.partial_bytes:
            handle.close()
            raise CheckpointError(
                f"cannot resume: partial output {str(partial)!r} holds {size} bytes, the "
                f"checkpoint recorded {stored.partial_bytes}",
                path=partial,
            )
        # Bytes past the checkpoint are a page cut short by the interruption (or the trailer
        # of a finish cut short): drop them, the page is fetched and written again.
        handle.truncate(stored.partial_bytes)
        handle.seek(stored.partial_bytes)
        self.handle = handle
        self.encoder = self.exporter.staging_encoder(stored.layout)
        self.state = stored
        self.started = True
        self._report()

    def next_page(self) -> int | None:
        """The page to fetch next, or None when every page is written."""
        if not self.started:
            return 1
        if self.finished is not None or self.state.last_page >= self.state.total_pages:
            return None
        return self.state.last_page + 1

    def accept(self, number: int, page: PageResult) -> None:
        """Write one fetched page and record the checkpoint.

        The server is not trusted to end the walk (see `musicagent.pagination.PageWalk`): the
        page count is the first page's, an empty page or a page repeating the previous one's
        items ends the export, and no export goes past `MAX_PAGES`.
        """
        records = list(self.exporter.prepare(page.items))
        if number > MAX_PAGES:
            raise PaginationError(
                f"stopped after {MAX_PAGES} pages; the server keeps announcing more",
                pointer="/pagination",
            )
        if self.started and number > 1:
            identities = tuple(item_identity(record) for record in records)
            repeated = bool(identities) and None not in identities and identities == self._last
            if not records or repeated:
                self.state.total_pages = self.state.last_page
                return
            self._last = identities
            page = PageResult(page.items, self.state.total_pages, page.total_items)
        else:
            self._last = tuple(item_identity(record) for record in records)
        if not self.started:
            self._start(records)
        assert self.handle is not None and self.encoder is not None
        try:
            written = write_records(
                self.handle, self.encoder, records, start=self.state.items_written
            )
            self.handle.flush()
        except OSError as exc:
            where = self.target.path if self.target.stream else self.job.partial_path
            raise io_error(exc, where, "write") from exc
        self.state.last_page = number
        self.state.total_pages = page.total_pages
        self.state.items_written = written
        self.state.items_total = page.total_items
        if not self.target.stream:
            self.state.partial_bytes = self.handle.tell()
            self._unsaved = True
            if self._saved_at is None or _clock() - self._saved_at >= CHECKPOINT_INTERVAL:
                self._checkpoint()
        self._report()

    def _checkpoint(self) -> None:
        """Sync the partial file, then record the checkpoint that points into it."""
        assert self.handle is not None
        try:
            self.handle.flush()
            if self.job.durable:
                os.fsync(self.handle.fileno())
        except OSError as exc:
            raise io_error(exc, self.job.partial_path, "write") from exc
        self._save()

    def save_progress(self) -> None:
        """Checkpoint the pages written since the last checkpoint, when the run stops early
        (an error, Ctrl-C): the resume then starts right after them. Best effort: if the
        partial file cannot be synced (a full disk), the last checkpoint stands."""
        if self._unsaved and self.handle is not None and self.finished is None:
            with contextlib.suppress(OSError, LocalIOError):
                self._checkpoint()

    def _save(self) -> None:
        try:
            self.state.save(self.job.checkpoint_path, durable=self.job.durable)
        except OSError as exc:
            raise io_error(exc, self.job.checkpoint_path, "write") from exc
        self._unsaved = False
        self._saved_at = _clock()

    def _start(self, first_page: list[Any]) -> None:
        sample = first_page[: self.exporter.sample_size]
        layout = self.exporter.plan([as_record(item) for item in sample])
        self.state.layout = layout
        self.encoder = self.exporter.staging_encoder(layout)
        if self.target.stream:
            self.handle = open_stream(self.target)
        else:
            self.handle = open_new(self.job.partial_path)
        try:
            self.handle.write(self.encoder.preamble())
        except OSError as exc:
            raise io_error(exc, self.job.partial_path, "write") from exc
        self.started = True

    def finish(self) -> ExportResult:
        """Turn the complete partial file into the destination, from the handle this run
        holds; remove checkpoint and partial. See `FINISH_STEPS`."""
        if self.finished is not None:
            discard(self.job.partial_path)
            discard(self.job.checkpoint_path)
            return self.finished
        if not self.started:  # an export of nothing: write the empty file all the same
            self._start([])
        assert self.handle is not None and self.encoder is not None
        if self.target.stream:
            return self._finish_stream()
        if self._unsaved:  # every page on disk and recorded before finishing begins
            self._checkpoint()
        staged = Staged(self.job.partial_path, self.handle)

        def record(final: BinaryIO, path: Path) -> None:
            _step("written")
            info = os.fstat(final.fileno())
            self.state.finishing = {
                "device": info.st_dev,
                "inode": info.st_ino,
                "size": info.st_size,
            }
            if path != staged.path:  # a file of its own (SQLite): tidied if this attempt dies
                self.state.finishing["file"] = path.name
            self._save()
            _step("recorded")

        result = self.exporter.finish(
            staged,
            self.destination,
            layout=self.state.layout,
            items_written=self.state.items_written,
            private=self.job.private,
            before_replace=record,
        )
        _step("replaced")
        if same_file(self.handle, staged.path):  # loaded elsewhere (SQLite), not renamed
            discard(staged.path)
            _step("partial-removed")
        discard(self.job.checkpoint_path)
        _step("checkpoint-removed")
        return dataclasses.replace(result, pages=self.state.last_page)

    def _finish_stream(self) -> ExportResult:
        assert self.handle is not None and self.encoder is not None
        try:
            self.handle.write(self.encoder.trailer(self.state.items_written))
            self.handle.flush()
        except OSError as exc:
            raise io_error(exc, self.target.path, "write") from exc
        result = stream_result(
            self.exporter, self.target, self.handle, self.state.layout, self.state.items_written
        )
        return dataclasses.replace(result, pages=self.state.last_page)

    def stopped(self, error: BaseException) -> None:
        """The run stops on `error`: checkpoint what was written; tell a local failure
        whether a checkpoint lets the export resume."""
        self.save_progress()
        if isinstance(error, LocalIOError):
            stream = self.target.stream
            if error.checkpoint is None and not stream and self.job.checkpoint_path.exists():
                error.checkpoint = str(self.job.checkpoint_path)

    def close(self) -> None:
        """Close the partial file (it stays on disk for a resume) and release the lock."""
        if self.handle is not None:
            # Everything kept was flushed already; a close that fails again (a full disk
            # after a failed write) must not hide the first error.
            with contextlib.suppress(OSError):
                self.handle.close()
            self.handle = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def _report(self) -> None:
        if self.job.on_progress is not None:
            state = self.state
            pages_total = max(state.total_pages, state.last_page)
            self.job.on_progress(
                state.items_written, state.items_total, state.last_page, pages_total
            )


class ExportJob(_ExportJobBase):
    """A resumable export of a paginated list to a file (see the module documentation).

    Args:
        fetch_page: returns `(items, total_pages, total_items)` for a page number (from 1);
            `page_source` builds one from a client method.
        exporter: the format, from `exporter_for(...)`.
        destination: the file to write.
        kind: what is exported (`collection`, `wantlist`, `inventory`, …), recorded in the
            checkpoint so a resume never mixes exports.
        query: the arguments of the export (user, folder, sort…), recorded likewise.
        on_progress: `on_progress(items_done, items_total, pages_done, pages_total)`.
        durable: sync the partial file and the checkpoint to disk at every checkpoint
            (default; see `CHECKPOINT_INTERVAL`), so even a power cut loses at most the pages
            of the last second, which a resume fetches again.
        private: keep the finished file `0600` (default: for the kinds in `PRIVATE_KINDS`).
    """

    def __init__(
        self,
        *,
        fetch_page: FetchPage,
        exporter: Exporter,
        destination: str | os.PathLike[str] | Destination,
        kind: str,
        query: Mapping[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
        durable: bool = True,
        private: bool | None = None,
    ) -> None:
        super().__init__(
            exporter=exporter,
            destination=destination,
            kind=kind,
            query=query,
            on_progress=on_progress,
            durable=durable,
            private=private,
        )
        self.fetch_page = fetch_page

    def run(self, *, resume: bool = False) -> ExportResult:
        """Export every page; with `resume=True`, continue from the checkpoint if there is one.

        Raises:
            ExportLockedError: another export is writing the same destination.
            CheckpointMismatchError: `resume=True` and the checkpoint is of another export.
            CheckpointError: `resume=True` and the checkpoint or partial file is unusable.
            UnsafeFileError: the partial file or checkpoint is a link or another user's.
            LocalIOError: a file could not be written (`checkpoint` says if it can resume).
            InvalidParameterError: (`destination`) when the file cannot be written there.
            Whatever `fetch_page` raises; the checkpoint then allows a resume.
        """
        run = _JobRun(self, resume=resume)
        try:
            while (number := run.next_page()) is not None:
                run.accept(number, _page_result(number, self.fetch_page(number)))
            return run.finish()
        except BaseException as exc:
            run.stopped(exc)
            raise
        finally:
            run.close()


class AsyncExportJob(_ExportJobBase):
    """The asyncio twin of `ExportJob`: `fetch_page` is awaited; writing is shared with it."""

    def __init__(
        self,
        *,
        fetch_page: AsyncFetchPage,
        exporter: Exporter,
        destination: str | os.PathLike[str] | Destination,
        kind: str,
        query: Mapping[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
        durable: bool = True,
        private: bool | None = None,
    ) -> None:
        super().__init__(
            exporter=exporter,
            destination=destination,
            kind=kind,
            query=query,
            on_progress=on_progress,
            durable=durable,
            private=private,
        )
        self.fetch_page = fetch_page

    async def run(self, *, resume: bool = False) -> ExportResult:
        """Export every page, awaiting each; see `ExportJob.run`."""
        run = _JobRun(self, resume=resume)
        try:
            while (number := run.next_page()) is not None:
                run.accept(number, _page_result(number, await self.fetch_page(number)))
            return run.finish()
        except BaseException as exc:
            run.stopped(exc)
            raise
        finally:
            run.close()
