"""Resumable exports: checkpoints at most once a second (and when a run stops), a resumed
export byte-identical to an uninterrupted one in every format, refusal of foreign checkpoints,
progress and cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from musicagent.errors import DiscogsAPIError, InvalidParameterError
from musicagent.export import (
    EXTRA_COLUMN,
    FORMATS,
    AsyncExportJob,
    CheckpointError,
    CheckpointMismatchError,
    ExportJob,
    exporter_for,
    page_contents,
    page_source,
)
from musicagent.export.sqlite_exporter import read_rows

ROOT = Path(__file__).resolve().parents[2]
PAGE_SIZE = 10
PAGE_COUNT = 5
QUERY = {"username": "rodney", "folder_id": 0}


def item(number: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 1000 + number,
        "instance_id": number + 1,
        "basic_information": {
            "title": f'Title {number}, "quoted"\nsecond line',
            "artists": [{"name": f"A{number}", "join": "&"}, {"name": "B"}],
            "genres": ["Electronic", "Jazz"],
        },
        "notes": [{"field_id": 1, "value": f"note {number}"}],
    }
    if number >= 3 * PAGE_SIZE:
        record["late_field"] = {"first": "seen on page 4"}  # not in the CSV header
    return record


PAGES = [[item(n) for n in range(p * PAGE_SIZE, (p + 1) * PAGE_SIZE)] for p in range(PAGE_COUNT)]
TOTAL = PAGE_SIZE * PAGE_COUNT


class NetworkDown(Exception):
    """A failure that outlasted the retries."""


class Source:
    """A page source over PAGES that can fail at one page, and counts what it was asked for."""

    def __init__(self, *, fail_at: int | None = None, pages: list[list[Any]] | None = None) -> None:
        self.fail_at = fail_at
        self.pages = PAGES if pages is None else pages
        self.asked: list[int] = []

    def __call__(self, number: int) -> tuple[list[Any], int, int]:
        self.asked.append(number)
        if number == self.fail_at:
            raise NetworkDown(f"page {number}")
        total = sum(len(page) for page in self.pages)
        return self.pages[number - 1], len(self.pages), total


def make_job(
    folder: Path,
    format_name: str,
    source: Callable[[int], Any],
    *,
    query: dict[str, Any] | None = None,
    on_progress: Any = None,
    **options: Any,
) -> ExportJob:
    if format_name == "sqlite":
        options.setdefault("table", "collection")
    return ExportJob(
        fetch_page=source,
        exporter=exporter_for(format_name, **options),
        destination=folder / f"collection.{format_name}",
        kind="collection",
        query=QUERY if query is None else query,
        on_progress=on_progress,
        durable=False,
    )


def uninterrupted_bytes(tmp_path: Path, format_name: str, **options: Any) -> bytes:
    folder = tmp_path / "reference"
    folder.mkdir(exist_ok=True)
    result = make_job(folder, format_name, Source(), **options).run()
    return result.destination.read_bytes()


def interrupted(tmp_path: Path, format_name: str, *, fail_at: int = 3, **options: Any) -> Path:
    folder = tmp_path / "resumed"
    folder.mkdir(exist_ok=True)
    with pytest.raises(NetworkDown):
        make_job(folder, format_name, Source(fail_at=fail_at), **options).run()
    return folder


def checkpoint_of(folder: Path, format_name: str) -> dict[str, Any]:
    text = (folder / f"collection.{format_name}.checkpoint.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_an_interruption_leaves_a_checkpoint_of_the_last_completed_page(
    tmp_path: Path, format_name: str
) -> None:
    folder = interrupted(tmp_path, format_name, fail_at=4)

    checkpoint = checkpoint_of(folder, format_name)
    assert checkpoint["last_page"] == 3
    assert checkpoint["items_written"] == 3 * PAGE_SIZE
    assert checkpoint["kind"] == "collection"
    assert checkpoint["query"] == QUERY
    assert checkpoint["format"] == format_name
    assert len(checkpoint["options_hash"]) == 64
    assert Path(checkpoint["partial_path"]) == folder / f"collection.{format_name}.partial"
    assert Path(checkpoint["partial_path"]).stat().st_size == checkpoint["partial_bytes"]
    assert not (folder / f"collection.{format_name}").exists()


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_resumed_export_is_byte_identical_to_an_uninterrupted_one(
    tmp_path: Path, format_name: str
) -> None:
    expected = uninterrupted_bytes(tmp_path, format_name)
    folder = interrupted(tmp_path, format_name, fail_at=3)
    source = Source()

    result = make_job(folder, format_name, source).run(resume=True)

    assert source.asked == [3, 4, 5]
    assert result.destination.read_bytes() == expected
    assert result.items_written == TOTAL
    assert result.pages == PAGE_COUNT


class Bomb:
    """An item whose text cannot be produced: writing stops in the middle of a page."""

    def __str__(self) -> str:
        raise KeyboardInterrupt


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_ctrl_c_in_the_middle_of_a_page_loses_and_duplicates_nothing(
    tmp_path: Path, format_name: str
) -> None:
    expected = uninterrupted_bytes(tmp_path, format_name)
    folder = tmp_path / "resumed"
    folder.mkdir()
    broken = [*PAGES[:2], [*PAGES[2][:6], {"id": 1, "bad": Bomb()}, *PAGES[2][6:]], *PAGES[3:]]
    with pytest.raises(KeyboardInterrupt):
        make_job(folder, format_name, Source(pages=broken)).run()
    # A page is encoded whole before any of it is written: the interrupted page left nothing
    # behind, and the checkpoint saved on the way out covers every page written before it.
    partial = folder / f"collection.{format_name}.partial"
    assert partial.stat().st_size == checkpoint_of(folder, format_name)["partial_bytes"]
    assert checkpoint_of(folder, format_name)["last_page"] == 2

    result = make_job(folder, format_name, Source()).run(resume=True)

    assert result.destination.read_bytes() == expected


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_bytes_of_a_page_cut_short_by_a_kill_are_dropped_on_resume(
    tmp_path: Path, format_name: str
) -> None:
    expected = uninterrupted_bytes(tmp_path, format_name)
    folder = interrupted(tmp_path, format_name, fail_at=PAGE_COUNT)
    with (folder / f"collection.{format_name}.partial").open("ab") as handle:
        # More than the rest of the export: overwriting alone would leave some behind.
        handle.write(b'half a row, "never finished\n{"id": 10' * 1000)

    result = make_job(folder, format_name, Source()).run(resume=True)

    assert result.destination.read_bytes() == expected


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_process_resumes_to_the_same_file(tmp_path: Path) -> None:
    expected = uninterrupted_bytes(tmp_path, "csv")
    folder = tmp_path / "resumed"
    folder.mkdir()
    script = textwrap.dedent(
        f"""
        import os, signal
        from tests.unit.test_export_job import PAGES, QUERY
        from musicagent.export import ExportJob, exporter_for

        def fetch_page(number):
            if number == 4:
                os.kill(os.getpid(), signal.SIGKILL)  # no cleanup code runs after this
            return PAGES[number - 1], len(PAGES), sum(map(len, PAGES))

        ExportJob(fetch_page=fetch_page, exporter=exporter_for("csv"),
                  destination={str(folder / "collection.csv")!r}, kind="collection",
                  query=QUERY, durable=False).run()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=False, cwd=ROOT
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    # Killed between checkpoints: the last one is the first page's (the next was a second
    # away); pages 2 and 3 are in the partial file past it, and are fetched again.
    checkpoint = checkpoint_of(folder, "csv")
    assert checkpoint["last_page"] == 1
    assert (folder / "collection.csv.partial").stat().st_size > checkpoint["partial_bytes"]
    source = Source()

    result = make_job(folder, "csv", source).run(resume=True)

    assert source.asked == [2, 3, 4, 5]
    assert result.destination.read_bytes() == expected
    assert result.items_written == TOTAL


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_a_finished_export_removes_its_checkpoint_and_partial_file(
    tmp_path: Path, format_name: str
) -> None:
    folder = interrupted(tmp_path, format_name)

    make_job(folder, format_name, Source()).run(resume=True)

    assert sorted(p.name for p in folder.iterdir()) == [f"collection.{format_name}"]


def test_the_csv_header_chosen_at_the_start_is_kept_in_the_checkpoint(tmp_path: Path) -> None:
    folder = interrupted(tmp_path, "csv", fail_at=5)
    header = checkpoint_of(folder, "csv")["layout"]["columns"]

    result = make_job(folder, "csv", Source()).run(resume=True)

    lines = result.destination.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(header)
    assert header[-1] == EXTRA_COLUMN
    assert "late_field.first" not in header
    assert '"{""late_field.first"":""seen on page 4""}"' in lines[-1]


def test_a_checkpoint_of_another_query_is_refused(tmp_path: Path) -> None:
    folder = interrupted(tmp_path, "csv")
    other = {"username": "someone-else", "folder_id": 0}

    with pytest.raises(CheckpointMismatchError) as caught:
        make_job(folder, "csv", Source(), query=other).run(resume=True)

    assert caught.value.differences == ["query"]
    assert not isinstance(caught.value, DiscogsAPIError)  # a local file problem, not Discogs'
    assert caught.value.path == str(folder / "collection.csv.checkpoint.json")
    assert "resume=False" not in str(caught.value)
    assert checkpoint_of(folder, "csv")["last_page"] == 2  # refused, and nothing touched


def test_a_checkpoint_of_other_options_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "resumed"
    folder.mkdir()
    with pytest.raises(NetworkDown):
        make_job(folder, "json", Source(fail_at=2), pretty=True).run()

    with pytest.raises(CheckpointMismatchError) as caught:
        make_job(folder, "json", Source(), pretty=False).run(resume=True)

    assert caught.value.differences == ["options"]


def test_resume_false_ignores_a_foreign_checkpoint_and_starts_over(tmp_path: Path) -> None:
    expected = uninterrupted_bytes(tmp_path, "jsonl")
    folder = tmp_path / "resumed"
    folder.mkdir()
    with pytest.raises(NetworkDown):
        make_job(folder, "jsonl", Source(fail_at=3), query={"username": "x"}).run()
    source = Source()

    result = make_job(folder, "jsonl", source).run(resume=False)

    assert source.asked == [1, 2, 3, 4, 5]
    assert result.destination.read_bytes() == expected


def test_resume_without_a_checkpoint_runs_the_whole_export(tmp_path: Path) -> None:
    source = Source()

    result = make_job(tmp_path, "csv", source).run(resume=True)

    assert source.asked == [1, 2, 3, 4, 5]
    assert result.items_written == TOTAL


def test_resume_with_the_partial_file_gone_is_refused(tmp_path: Path) -> None:
    folder = interrupted(tmp_path, "csv")
    (folder / "collection.csv.partial").unlink()

    with pytest.raises(CheckpointError) as caught:
        make_job(folder, "csv", Source()).run(resume=True)

    assert "missing" in str(caught.value)


def test_resume_with_a_truncated_partial_file_is_refused(tmp_path: Path) -> None:
    folder = interrupted(tmp_path, "csv")
    partial = folder / "collection.csv.partial"
    partial.write_bytes(partial.read_bytes()[:10])

    with pytest.raises(CheckpointError):
        make_job(folder, "csv", Source()).run(resume=True)


def test_an_unreadable_checkpoint_is_refused(tmp_path: Path) -> None:
    folder = interrupted(tmp_path, "csv")
    (folder / "collection.csv.checkpoint.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(CheckpointError):
        make_job(folder, "csv", Source()).run(resume=True)


def test_progress_is_reported_after_every_page_and_when_resuming(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None, int, int]] = []
    folder = tmp_path / "resumed"
    folder.mkdir()
    with pytest.raises(NetworkDown):
        make_job(folder, "csv", Source(fail_at=3), on_progress=lambda *a: calls.append(a)).run()
    make_job(folder, "csv", Source(), on_progress=lambda *a: calls.append(a)).run(resume=True)

    assert calls == [
        (10, TOTAL, 1, 5),
        (20, TOTAL, 2, 5),
        (20, TOTAL, 2, 5),  # the resumed run starts where the first one stopped
        (30, TOTAL, 3, 5),
        (40, TOTAL, 4, 5),
        (50, TOTAL, 5, 5),
    ]


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_an_empty_list_exports_an_empty_file(tmp_path: Path, format_name: str) -> None:
    result = make_job(tmp_path, format_name, lambda n: ([], 1, 0)).run()

    assert result.items_written == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"collection.{format_name}"]
    if format_name == "json":
        assert result.destination.read_text(encoding="utf-8") == "[]\n"


def test_a_sqlite_export_job_upserts_into_an_existing_database(tmp_path: Path) -> None:
    make_job(tmp_path, "sqlite", Source(pages=[PAGES[0]])).run()

    make_job(tmp_path, "sqlite", Source(pages=PAGES[:2])).run()

    rows = read_rows(tmp_path / "collection.sqlite", "collection")
    assert len(rows) == 2 * PAGE_SIZE


def test_an_unwritable_destination_is_refused_before_any_page_is_fetched(tmp_path: Path) -> None:
    source = Source()

    with pytest.raises(InvalidParameterError) as caught:
        make_job(tmp_path / "missing", "csv", source).run()

    assert caught.value.parameter == "destination"
    assert source.asked == []


def test_a_page_source_returning_something_else_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        make_job(tmp_path, "csv", lambda n: {"items": []}).run()

    assert caught.value.parameter == "fetch_page"


@pytest.mark.anyio
@pytest.mark.parametrize("format_name", ["csv", "sqlite"])
async def test_the_async_job_writes_the_same_file_as_the_sync_one(
    tmp_path: Path, format_name: str
) -> None:
    expected = uninterrupted_bytes(tmp_path, format_name)
    source = Source()

    async def fetch_page(number: int) -> tuple[list[Any], int, int]:
        return source(number)

    options = {"table": "collection"} if format_name == "sqlite" else {}
    result = await AsyncExportJob(
        fetch_page=fetch_page,
        exporter=exporter_for(format_name, **options),
        destination=tmp_path / f"collection.{format_name}",
        kind="collection",
        query=QUERY,
        durable=False,
    ).run()

    assert result.destination.read_bytes() == expected


def test_page_source_asks_for_full_pages_and_reads_the_pagination_block() -> None:
    calls: list[tuple[Any, ...]] = []

    def get_items(username: str, folder_id: int, *, page: int, per_page: int) -> dict[str, Any]:
        calls.append((username, folder_id, page, per_page))
        return {"pagination": {"page": page, "pages": 7, "items": 650}, "releases": [{"id": 1}]}

    fetch_page = page_source(get_items, "rodney", 0, items_key="releases")

    assert fetch_page(3) == ([{"id": 1}], 7, 650)
    assert calls == [("rodney", 0, 3, 100)]


def test_a_page_without_pagination_counts_as_the_only_page() -> None:
    assert page_contents({"wants": [{"id": 1}]}, "wants") == ([{"id": 1}], 1, None)


class Clock:
    """The checkpoint clock of a job, moved on by the page source: `step` seconds a page."""

    def __init__(self, step: float) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        return self.now


def _paged_source(clock: Clock, pages: list[list[Any]]) -> Callable[[int], Any]:
    def fetch(number: int) -> tuple[list[Any], int, int]:
        clock.now += clock.step
        return pages[number - 1], len(pages), sum(map(len, pages))

    return fetch


def test_checkpoints_are_saved_at_most_once_a_second_and_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from musicagent.export import job as job_module
    from musicagent.export.checkpoint import Checkpoint

    clock = Clock(step=0.3)
    monkeypatch.setattr(job_module, "_clock", clock)
    saved: list[tuple[int, bool]] = []
    real_save = Checkpoint.save

    def recording_save(self: Checkpoint, path: Path, *, durable: bool = True) -> None:
        saved.append((self.last_page, self.finishing is not None))
        real_save(self, path, durable=durable)

    monkeypatch.setattr(Checkpoint, "save", recording_save)
    pages = [[item(n)] for n in range(10)]
    expected = make_job(tmp_path, "jsonl", Source(pages=pages)).run().destination.read_bytes()
    saved.clear()
    (tmp_path / "throttled").mkdir()

    result = make_job(tmp_path / "throttled", "jsonl", _paged_source(clock, pages)).run()

    # Page 1 at once; then the first page a second or more later (pages 5 and 9, 0.3 s
    # apart); the last page before finishing; then the finishing record.
    assert saved == [(1, False), (5, False), (9, False), (10, False), (10, True)]
    assert result.destination.read_bytes() == expected


def test_each_checkpoint_syncs_the_partial_file_before_recording_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from musicagent.export import job as job_module
    from musicagent.export.checkpoint import Checkpoint

    clock = Clock(step=0.6)
    monkeypatch.setattr(job_module, "_clock", clock)
    events: list[str] = []
    real_fsync, real_save = os.fsync, Checkpoint.save
    partial = tmp_path / "collection.jsonl.partial"

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        on_disk = partial.stat() if partial.exists() else None
        is_partial = on_disk is not None and (on_disk.st_dev, on_disk.st_ino) == (
            info.st_dev,
            info.st_ino,
        )
        events.append(f"sync {info.st_size}" if is_partial else "sync other")
        real_fsync(fd)

    def save(self: Checkpoint, path: Path, *, durable: bool = True) -> None:
        events.append(f"save {self.partial_bytes}")
        real_save(self, path, durable=durable)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Checkpoint, "save", save)
    job = make_job(tmp_path, "jsonl", _paged_source(clock, PAGES))
    job.durable = True

    job.run()

    saves = [index for index, event in enumerate(events) if event.startswith("save")]
    partial_syncs = [
        event for event in events if event.startswith("sync ") and "other" not in event
    ]
    assert 2 <= len(saves) < PAGE_COUNT + 1  # not one per page
    for index in saves[:-1]:  # the last is the finishing record, after the trailer's sync
        recorded = int(events[index].split()[1])
        synced = events[index - 1]
        assert synced.startswith("sync ") and synced != "sync other"
        assert int(synced.split()[1]) >= recorded  # the bytes it points to are on disk
    assert len(partial_syncs) <= len(saves) + 1


def test_an_error_between_checkpoints_checkpoints_the_pages_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from musicagent.export import job as job_module

    clock = Clock(step=0.01)
    monkeypatch.setattr(job_module, "_clock", clock)
    fetch = _paged_source(clock, PAGES)

    def failing(number: int) -> Any:
        if number == 4:
            raise NetworkDown("page 4")
        return fetch(number)

    with pytest.raises(NetworkDown):
        make_job(tmp_path, "csv", failing).run()

    checkpoint = checkpoint_of(tmp_path, "csv")
    assert checkpoint["last_page"] == 3  # not 1: the stop itself saved the progress
    assert (tmp_path / "collection.csv.partial").stat().st_size == checkpoint["partial_bytes"]


# --- a server cannot make an export endless ------------------------------------------------------


def test_a_billion_announced_pages_end_at_the_first_empty_page(tmp_path: Path) -> None:
    asked: list[int] = []

    def endless(number: int) -> tuple[list[Any], int, int]:
        asked.append(number)
        return (PAGES[0] if number == 1 else []), 10**9, 10**9

    result = make_job(tmp_path, "jsonl", endless).run()
    assert asked == [1, 2]
    assert result.items_written == len(PAGES[0])


def test_the_same_items_again_end_the_export_without_duplicates(tmp_path: Path) -> None:
    asked: list[int] = []

    def repeating(number: int) -> tuple[list[Any], int, int]:
        asked.append(number)
        return PAGES[0], 10**9, 10**9

    result = make_job(tmp_path, "jsonl", repeating).run()
    assert asked == [1, 2]
    lines = result.destination.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(PAGES[0])


def test_later_pages_cannot_extend_the_page_count_of_the_first(tmp_path: Path) -> None:
    asked: list[int] = []

    def growing(number: int) -> tuple[list[Any], int, int]:
        asked.append(number)
        return PAGES[number - 1], (2 if number == 1 else 10**6), 10**9

    make_job(tmp_path, "jsonl", growing).run()
    assert asked == [1, 2]
