"""The SQLite cache writes stored responses in groups (one transaction for many misses).

What a user relies on: the process that stored a response finds it at once; another process
sharing the file finds it within about a second, or as soon as the first one closes or ends;
a write to Discogs, here or in another process, leaves no stale answer behind, even one still
waiting in memory; a group the disk cannot take is forgotten, never kept growing.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from musicagent.cache import CACHE_FILE_NAME, CachePlan, CachePolicy, CacheStore, plan_call
from musicagent.cache import sqlite_store as sqlite_module
from musicagent.cache.plan import match_operation

BASE = "https://api.discogs.com"
JSON = httpx.Headers({"Content-Type": "application/json"})


def plan_for(store: CacheStore, path: str, method: str = "GET") -> CachePlan:
    matched = match_operation(method, path)
    assert matched is not None, path
    op, arguments = matched
    request = httpx.Request(method, BASE + path)
    return plan_call(op, request, arguments, CachePolicy(), store.scope("token:alice"))


def open_store(folder: Path) -> CacheStore:
    return CacheStore.sqlite(folder / "cache" / CACHE_FILE_NAME)


def rows_in_file(folder: Path) -> int:
    # What another process sees: a connection of its own to the same file.
    with sqlite3.connect(folder / "cache" / CACHE_FILE_NAME) as db:
        return int(db.execute("SELECT COUNT(*) FROM musicagent_responses").fetchone()[0])


def test_a_group_of_misses_costs_one_transaction(tmp_path: Path) -> None:
    group = sqlite_module._GROUP_ROWS
    with open_store(tmp_path) as store:
        plans = [plan_for(store, f"/releases/{n}") for n in range(1, group + 1)]
        store.get(plans[0])  # opens the file
        db = store._backend._db()  # type: ignore[attr-defined]
        statements: list[str] = []
        db.set_trace_callback(statements.append)
        for plan in plans[:-1]:
            assert store.get(plan) is None
            assert store.put(plan, 200, JSON, b"{}")
        before_last = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
        store.put(plans[-1], 200, JSON, b"{}")
        db.set_trace_callback(None)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    assert before_last == []
    assert writes[0] == "BEGIN IMMEDIATE" and writes[-1] == "COMMIT", writes
    inserts = [s for s in writes[1:-1] if s.startswith("INSERT OR REPLACE")]
    assert len(inserts) == group and len(writes) == group + 2, writes


def test_the_storing_process_finds_a_waiting_response_at_once(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        plan = plan_for(store, "/releases/1")
        store.put(plan, 200, JSON, b'{"id": 1}')
        hit = store.get(plan)
        assert hit is not None and hit.body == b'{"id": 1}'
        assert dict(hit.headers)["Content-Type"] == "application/json"
        assert rows_in_file(tmp_path) == 0  # still waiting in memory
        store.flush()
        assert rows_in_file(tmp_path) == 1


def test_a_waiting_response_reaches_the_file_within_about_a_second(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.put(plan_for(store, "/releases/1"), 200, JSON, b"{}")
        # No further call: the timer writes it. Generous, for a loaded machine.
        deadline = time.monotonic() + 30
        while rows_in_file(tmp_path) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rows_in_file(tmp_path) == 1


def test_a_megabyte_of_bodies_is_written_without_waiting(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        big = b"x" * (sqlite_module._GROUP_BYTES // 2 + 1)
        store.put(plan_for(store, "/releases/1"), 200, JSON, big)
        assert rows_in_file(tmp_path) == 0
        store.put(plan_for(store, "/releases/2"), 200, JSON, big)
        assert rows_in_file(tmp_path) == 2


def test_closing_the_store_writes_what_waits(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        plan = plan_for(store, "/releases/1")
        store.put(plan, 200, JSON, b"kept")
    with open_store(tmp_path) as again:
        hit = again.get(plan_for(again, "/releases/1"))
    assert hit is not None and hit.body == b"kept"


def test_a_program_that_never_closes_its_client_still_keeps_its_last_responses(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        f"""
        import httpx
        from musicagent.cache import CacheStore, CachePolicy, plan_call
        from musicagent.cache.plan import match_operation
        store = CacheStore.sqlite({str(tmp_path / "cache" / CACHE_FILE_NAME)!r})
        op, args = match_operation("GET", "/releases/7")
        request = httpx.Request("GET", "https://api.discogs.com/releases/7")
        plan = plan_call(op, request, args, CachePolicy(), store.scope("token:alice"))
        assert store.put(plan, 200, {{"Content-Type": "application/json"}}, b"{{}}")
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    assert rows_in_file(tmp_path) == 1


def test_a_write_here_drops_responses_still_waiting(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        items = plan_for(store, "/users/alice/collection/folders/0/releases")
        store.put(items, 200, JSON, b"[]")
        add = plan_for(store, "/users/alice/collection/folders/1/releases/5", "POST")
        assert add.action == "invalidate" and add.patterns
        assert store.invalidate(add.patterns) >= 1
        assert store.get(items) is None
    assert rows_in_file(tmp_path) == 0


def test_a_write_in_another_process_drops_what_waited_here_before_it(tmp_path: Path) -> None:
    here = open_store(tmp_path)
    elsewhere = open_store(tmp_path)
    try:
        items = plan_for(here, "/users/alice/collection/folders/0/releases")
        release = plan_for(here, "/releases/1")
        here.put(items, 200, JSON, b"[] before the write")
        here.put(release, 200, JSON, b"{}")
        add = plan_for(elsewhere, "/users/alice/collection/folders/1/releases/5", "POST")
        time.sleep(0.01)  # the write comes after the answer was received, on the wall clock
        elsewhere.invalidate(add.patterns)
        here.flush()
        assert here.get(items) is None
        assert (
            elsewhere.get(plan_for(elsewhere, "/users/alice/collection/folders/0/releases")) is None
        )
        assert here.get(release) is not None  # a path the write did not touch stays
        # An answer received after the write is kept.
        time.sleep(0.01)
        here.put(items, 200, JSON, b"[] after the write")
        here.flush()
        hit = elsewhere.get(plan_for(elsewhere, "/users/alice/collection/folders/0/releases"))
        assert hit is not None and hit.body == b"[] after the write"
    finally:
        here.close()
        elsewhere.close()


def test_a_refresh_that_is_not_stored_drops_the_waiting_answer_too(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        plan = plan_for(store, "/releases/1")
        store.put(plan, 200, JSON, b"{}")
        store._backend.delete(plan.key)  # type: ignore[attr-defined,arg-type]
        assert store.get(plan) is None
    assert rows_in_file(tmp_path) == 0


def test_info_counts_waiting_responses_and_clear_removes_them(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        for n in (1, 2, 3):
            store.put(plan_for(store, f"/releases/{n}"), 200, JSON, b"{}")
        assert store.info().entries == 3
        assert store.clear() == 3
        assert store.get(plan_for(store, "/releases/1")) is None
        assert store.info().entries == 0


def test_expired_rows_are_swept_as_groups_are_written(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = CacheStore.sqlite(tmp_path / "cache" / CACHE_FILE_NAME, clock=lambda: now[0])
    with store:
        for n in range(1, 4):
            store.put(plan_for(store, f"/releases/{n}"), 200, JSON, b"{}")
        store.flush()
        now[0] += 10 * 24 * 3600.0  # far past the database lifetime
        for n in range(100, 100 + sqlite_module._SWEEP_EVERY):
            store.put(plan_for(store, f"/releases/{n}"), 200, JSON, b"{}")
        store.flush()
        assert rows_in_file(tmp_path) == sqlite_module._SWEEP_EVERY


def test_a_group_the_file_cannot_take_is_forgotten_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_store(tmp_path) as store:
        backend = store._backend
        store.put(plan_for(store, "/releases/1"), 200, JSON, b"{}")
        db = backend._db()  # type: ignore[attr-defined]
        blocker = sqlite3.connect(tmp_path / "cache" / CACHE_FILE_NAME, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        db.execute("PRAGMA busy_timeout=0")
        backend._pending_since = time.monotonic() - 10  # type: ignore[attr-defined]
        try:
            with caplog.at_level(logging.WARNING, logger="musicagent.cache"):
                backend._write_when_due()  # type: ignore[attr-defined]
                store.put(plan_for(store, "/releases/2"), 200, JSON, b"{}")
                backend._pending_since = time.monotonic() - 10  # type: ignore[attr-defined]
                backend._write_when_due()  # type: ignore[attr-defined]
        finally:
            blocker.rollback()
            blocker.close()
        waited = backend._pending  # type: ignore[attr-defined]
        assert waited == {}
        assert store.get(plan_for(store, "/releases/1")) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not write stored responses" in warnings[0], warnings


def test_a_server_sending_endless_new_header_names_cannot_grow_memory() -> None:
    # Verdicts on header names are remembered to make a miss cheap; a hostile server must
    # not turn that memory into a leak, and names seen past the bound are still judged.
    from musicagent.cache import store as store_module
    from musicagent.ratelimit import headers as rate_headers

    for n in range(2000):
        headers = httpx.Headers(
            [(f"X-Junk-{n}", "1"), (f"X-Auth-Token-{n}", "secret"), ("X-Discogs-Ratelimit", "60")]
        )
        kept = store_module.storable_headers(headers)
        assert [name for name, _ in kept] == [f"X-Junk-{n}", "X-Discogs-Ratelimit"]
        reported = rate_headers.parse_rate_limit_headers(headers)
        assert reported is not None and reported.limit == 60
    assert len(store_module._RAW_VERDICTS) <= store_module._RAW_VERDICTS_MAX
    assert len(rate_headers._RAW_INDEX) <= rate_headers._RAW_INDEX_MAX


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_stores_its_own_responses_and_not_its_parents(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.put(plan_for(store, "/releases/1"), 200, JSON, b"parent")
        pid = os.fork()
        if pid == 0:  # the child: a connection of its own, none of the parent's waiting rows
            code = 1
            try:
                store.put(plan_for(store, "/releases/2"), 200, JSON, b"child")
                code = 0 if store.get(plan_for(store, "/releases/1")) is None else 2
                store.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        hit = store.get(plan_for(store, "/releases/1"))
        assert hit is not None and hit.body == b"parent"
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE_NAME) as db:
        bodies = sorted(bytes(b) for (b,) in db.execute("SELECT body FROM musicagent_responses"))
    assert bodies == [b"child", b"parent"]


def test_a_new_cache_file_uses_16_kib_pages_and_an_older_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    with open_store(tmp_path) as store:
        store.put(plan_for(store, "/releases/1"), 200, JSON, b"x" * 100_000)
        db = store._backend._db()  # type: ignore[attr-defined]
        assert db.execute("PRAGMA page_size").fetchone()[0] == 16384
    older = tmp_path / "older"
    older.mkdir(mode=0o700)
    with sqlite3.connect(older / CACHE_FILE_NAME) as db:
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE unrelated (x)")
    with CacheStore.sqlite(older / CACHE_FILE_NAME) as store:
        plan = plan_for(store, "/releases/1")
        store.put(plan, 200, JSON, b"kept")
        store.flush()
        hit = store.get(plan)
        db = store._backend._db()  # type: ignore[attr-defined]
        assert db.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert hit is not None and hit.body == b"kept"
