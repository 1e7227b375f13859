"""Exports against hostile files and a busy destination: the lock, links, file modes, streams,
a vanished partial file, a full disk."""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from musicagent.errors import (
    CheckpointError,
    DiscogsAPIError,
    ExportLockedError,
    InvalidParameterError,
    LocalIOError,
    UnsafeFileError,
)
from musicagent.export import ExportJob, exporter_for
from musicagent.export import base as export_base
from musicagent.export.lock import ExportLock

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file semantics")
PAGES = [[{"id": p * 10 + n, "title": f"t{p}-{n}"} for n in range(3)] for p in range(3)]


class Stop(Exception):
    """Stands in for a network failure after some pages."""


def source(fail_at: int | None = None, hook: Any = None) -> Any:
    def fetch(number: int) -> tuple[list[dict[str, Any]], int, int]:
        if hook is not None:
            hook(number)
        if number == fail_at:
            raise Stop(number)
        return PAGES[number - 1], len(PAGES), 9

    return fetch


def job(destination: Path | str, fmt: str = "jsonl", kind: str = "search", **kw: Any) -> ExportJob:
    options = {"table": "t"} if fmt == "sqlite" else {}
    return ExportJob(
        fetch_page=kw.pop("fetch", source()),
        exporter=exporter_for(fmt, **options),
        destination=destination,
        kind=kind,
        query={"q": "x"},
        durable=False,
        **kw,
    )


def interrupted(folder: Path, fmt: str = "jsonl") -> Path:
    destination = folder / f"out.{fmt}"
    with pytest.raises(Stop):
        job(destination, fmt, fetch=source(fail_at=3)).run()
    return destination


# --- the lock ---------------------------------------------------------------------------------


def test_a_second_export_to_the_same_destination_fails_at_once_naming_the_first(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "out.jsonl"
    caught: list[BaseException] = []

    def second(number: int) -> None:
        if number == 2:
            try:
                job(destination).run()
            except BaseException as exc:
                caught.append(exc)

    result = job(destination, fetch=source(hook=second)).run()

    assert isinstance(caught[0], ExportLockedError)
    assert f"pid {os.getpid()}" in str(caught[0])
    assert not isinstance(caught[0], DiscogsAPIError)
    assert result.items_written == 9
    assert len(destination.read_bytes().splitlines()) == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_a_stale_lock_file_of_a_dead_run_does_not_block(tmp_path: Path) -> None:
    destination = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.lock").write_text("pid 1 on elsewhere since then\n")

    assert job(destination).run().items_written == 9


@posix_only
def test_a_symlink_planted_as_the_lock_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.jsonl.lock").symlink_to(victim)

    with pytest.raises(LocalIOError):
        ExportLock(tmp_path / "out.jsonl").acquire()
    assert victim.read_text() == "precious"


# --- finishing from the handle held -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "sqlite"])
def test_a_partial_removed_during_the_run_is_never_finished(tmp_path: Path, fmt: str) -> None:
    destination = tmp_path / f"out.{fmt}"
    exporter_for(fmt, **({"table": "t"} if fmt == "sqlite" else {})).export(
        [{"id": 1, "title": "the previous good export"}], destination
    )
    before = destination.read_bytes()
    partial = tmp_path / f"out.{fmt}.partial"

    def remove_partial(number: int) -> None:
        if number == 3:
            partial.unlink()

    with pytest.raises(CheckpointError, match="removed or replaced"):
        job(destination, fmt, fetch=source(hook=remove_partial)).run()

    assert destination.read_bytes() == before


# --- links and other users' files ---------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "sqlite"])
def test_resume_refuses_a_partial_that_is_a_symlink(tmp_path: Path, fmt: str) -> None:
    destination = interrupted(tmp_path, fmt)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    partial = tmp_path / f"out.{fmt}.partial"
    partial.unlink()
    partial.symlink_to(victim)

    with pytest.raises(UnsafeFileError, match="symbolic link"):
        job(destination, fmt).run(resume=True)

    assert victim.read_text() == "precious"
    assert not destination.exists()


@posix_only
def test_resume_refuses_a_partial_hard_linked_to_another_file(tmp_path: Path) -> None:
    destination = interrupted(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious" * 100)
    partial = tmp_path / "out.jsonl.partial"
    partial.unlink()
    os.link(victim, partial)

    with pytest.raises(UnsafeFileError, match="hard link"):
        job(destination).run(resume=True)
    assert victim.read_text() == "precious" * 100


@posix_only
def test_resume_refuses_a_checkpoint_that_is_a_symlink(tmp_path: Path) -> None:
    destination = interrupted(tmp_path)
    checkpoint = tmp_path / "out.jsonl.checkpoint.json"
    planted = tmp_path / "planted.json"
    planted.write_bytes(checkpoint.read_bytes())
    checkpoint.unlink()
    checkpoint.symlink_to(planted)

    with pytest.raises(UnsafeFileError):
        job(destination).run(resume=True)


@posix_only
def test_resume_refuses_a_fifo_planted_as_the_partial(tmp_path: Path) -> None:
    destination = interrupted(tmp_path)
    partial = tmp_path / "out.jsonl.partial"
    partial.unlink()
    os.mkfifo(partial)

    with pytest.raises(UnsafeFileError, match="not a regular file"):
        job(destination).run(resume=True)


@posix_only
def test_a_symlinked_destination_is_refused_naming_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere" / "victim.csv"
    victim.parent.mkdir()
    victim.write_text("precious")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)

    for fmt in ("csv", "sqlite"):
        with pytest.raises(InvalidParameterError, match="symbolic link") as caught:
            job(link, fmt)
        assert caught.value.parameter == "destination"
        assert str(victim) in str(caught.value)
    assert victim.read_text() == "precious"
    assert link.is_symlink()


# --- file modes ---------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "sqlite"])
@pytest.mark.parametrize("kind", ["collection", "wantlist", "inventory", "orders"])
def test_exports_of_private_kinds_are_created_0600(
    tmp_path: Path, fmt: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = os.umask(0o022)
    try:
        result = job(tmp_path / f"out.{fmt}", fmt, kind=kind).run()
    finally:
        os.umask(old)
    assert _mode(result.destination) == 0o600


@posix_only
@pytest.mark.parametrize("fmt", ["csv", "sqlite"])
def test_public_kinds_get_the_usual_mode(tmp_path: Path, fmt: str) -> None:
    old = os.umask(0o022)
    try:
        result = job(tmp_path / f"out.{fmt}", fmt, kind="search").run()
    finally:
        os.umask(old)
    assert _mode(result.destination) == 0o644


@posix_only
@pytest.mark.parametrize("fmt", ["csv", "sqlite"])
def test_partial_and_checkpoint_are_0600_whatever_the_umask(tmp_path: Path, fmt: str) -> None:
    old = os.umask(0)
    try:
        interrupted(tmp_path, fmt)
    finally:
        os.umask(old)
    assert _mode(tmp_path / f"out.{fmt}.partial") == 0o600
    assert _mode(tmp_path / f"out.{fmt}.checkpoint.json") == 0o600


# --- streams ------------------------------------------------------------------------------------


def test_dash_is_standard_output(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    result = job("-").run()

    out = capfd.readouterr().out
    assert [json.loads(line)["id"] for line in out.splitlines()] == [
        item["id"] for page in PAGES for item in page
    ]
    assert result.items_written == 9
    assert list(tmp_path.iterdir()) == []  # no file named "-", nothing beside it


@posix_only
def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()

    job(fifo, "csv").run()
    reader.join(timeout=60)

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received[0].startswith(b"id,title,extra_json\n")
    assert received[0].count(b"\n") == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@posix_only
def test_a_character_device_is_written_through_not_replaced() -> None:
    result = job("/dev/null", "json").run()

    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    assert result.items_written == 9


def test_sqlite_to_a_stream_and_resuming_a_stream_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="needs a file of its own"):
        job("-", "sqlite").run()
    with pytest.raises(InvalidParameterError, match="cannot be resumed") as caught:
        job("-", "csv").run(resume=True)
    assert caught.value.parameter == "resume"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_device_is_a_local_error_naming_the_path() -> None:
    with pytest.raises(LocalIOError, match="No space left on device") as caught:
        job("/dev/full").run()
    assert caught.value.path == "/dev/full"
    assert caught.value.checkpoint is None


# --- a full disk ---------------------------------------------------------------------------------


def test_disk_full_names_the_file_and_the_checkpoint_then_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = tmp_path / "ref"
    reference.mkdir()
    expected = job(reference / "out.csv", "csv").run().destination.read_bytes()
    real = export_base.write_records
    calls = {"n": 0}

    def full_on_third_page(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    import musicagent.export.job as job_module

    monkeypatch.setattr(job_module, "write_records", full_on_third_page)
    destination = tmp_path / "out.csv"
    with pytest.raises(LocalIOError) as caught:
        job(destination, "csv").run()
    monkeypatch.setattr(job_module, "write_records", real)

    assert not isinstance(caught.value, DiscogsAPIError)
    assert caught.value.path == str(tmp_path / "out.csv.partial")
    assert "No space left on device" in str(caught.value)
    assert caught.value.checkpoint == str(tmp_path / "out.csv.checkpoint.json")
    assert job(destination, "csv").run(resume=True).destination.read_bytes() == expected
