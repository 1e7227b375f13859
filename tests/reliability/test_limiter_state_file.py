"""The shared rate-limit state file (`DISCOGS_RATE_LIMIT_STATE_FILE`): per credential, immune to
clock steps, and rebuilt (with one warning) when it is garbage, corrupt or someone else's.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import httpx
import pytest

from musicagent import Discogs
from musicagent.auth import TokenAuth
from musicagent.ratelimit import RateLimiter, SqliteRateLimitStore

ALICE = "alice-state-file-token-5f1b"
BOB = "bob-state-file-token-9c2d"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter_on(path: Path, budget: str, clock: Clock, limit: int = 3) -> RateLimiter:
    return RateLimiter(limit, 60.0, clock=clock, store=SqliteRateLimitStore(path, budget=budget))


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "ratelimit.sqlite3"


# --- one budget per credential -------------------------------------------------------------


def test_two_credentials_on_one_file_have_two_budgets(state_file: Path) -> None:
    clock = Clock(1_700_000_000.0)
    alice = limiter_on(state_file, "alice", clock)
    alice_again = limiter_on(state_file, "alice", clock)
    bob = limiter_on(state_file, "bob", clock)

    assert [alice.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]

    assert alice_again.reserve() == 60.0  # the same credential: the same, now full, budget
    assert bob.reserve() == 0.0  # another credential is not throttled by it


def test_clients_with_different_tokens_share_nothing_but_the_file(
    state_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_STATE_FILE", str(state_file))
    monkeypatch.setenv("DISCOGS_RATE_LIMIT_REQUESTS", "2")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, json={"id": 1, "title": "x", "resource_url": "https://api.discogs.com/releases/1"}
        )
    )
    with (
        Discogs(token=ALICE, transport=transport, cache=False) as alice,
        Discogs(token=BOB, transport=transport, cache=False) as bob,
    ):
        alice.database.get_release(1)
        alice.database.get_release(1)
        assert alice.rate_limit is not None and alice.rate_limit.remaining == 0
        assert bob.rate_limit is not None and bob.rate_limit.remaining == 2


def test_the_file_holds_no_credential_nor_a_plain_hash_of_one(state_file: Path) -> None:
    identity = TokenAuth(ALICE).identity
    clock = Clock(1_700_000_000.0)
    limiter = limiter_on(state_file, identity, clock)
    limiter.reserve()
    limiter.record_response(200, {"X-Discogs-Ratelimit-Used": "2"})

    raw = state_file.read_bytes()
    rows = sqlite3.connect(state_file).execute("SELECT * FROM musicagent_ratelimit_entries")
    stored = " ".join(str(value) for row in rows for value in row)
    plain_hashes = [
        hashlib.sha256(ALICE.encode()).hexdigest()[:12],
        hashlib.sha256(identity.encode()).hexdigest()[:12],
        identity.split(":", 1)[1],
    ]
    for needle in [ALICE, identity, *plain_hashes]:
        assert needle.encode() not in raw
        assert needle not in stored


def test_the_file_is_private(state_file: Path) -> None:
    limiter_on(state_file, "alice", Clock(1_700_000_000.0)).reserve()

    assert state_file.stat().st_mode & 0o077 == 0


# --- clocks --------------------------------------------------------------------------------


def test_entries_dated_in_the_future_by_a_clock_step_stall_nobody(state_file: Path) -> None:
    ahead = limiter_on(state_file, "alice", Clock(1_700_003_600.0))  # an hour ahead
    for _ in range(3):
        ahead.reserve()

    on_time = limiter_on(state_file, "alice", Clock(1_700_000_000.0))

    assert on_time.reserve() == 0.0
    assert on_time.status().next_free_in == 0.0


def test_a_clock_stepped_back_does_not_stall_the_process_either(state_file: Path) -> None:
    clock = Clock(1_700_000_000.0)
    limiter = limiter_on(state_file, "alice", clock)
    limiter.reserve()

    clock.now -= 3600.0  # the wall clock is set back an hour

    assert limiter.reserve() == 0.0


def test_a_long_legitimate_queue_is_kept(state_file: Path) -> None:
    # Nine waiters for a limit of three reach two windows ahead: real reservations, kept.
    clock = Clock(1_700_000_000.0)
    limiter = limiter_on(state_file, "alice", clock)

    waits = [limiter.reserve() for _ in range(9)]

    assert waits == [0.0] * 3 + [60.0] * 3 + [120.0] * 3
    assert limiter.reserve() == 180.0


def test_the_in_process_limiter_uses_the_monotonic_clock() -> None:
    import time

    limiter = RateLimiter(3, 60.0)

    assert limiter._clock is time.monotonic


# --- unusable files ------------------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\x00" * 200)


def _foreign(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (number INTEGER, total REAL)")
    connection.commit()
    connection.close()


def _previous_version(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE request_slots (sent_at REAL NOT NULL)")
    connection.execute("INSERT INTO request_slots VALUES (1700000000.0)")
    connection.commit()
    connection.close()


def _truncated(path: Path) -> None:
    limiter_on(path, "alice", Clock(1_700_000_000.0)).reserve()
    path.write_bytes(path.read_bytes()[:1000])


@pytest.mark.parametrize("spoil", [_garbage, _foreign, _previous_version, _truncated])
def test_an_unusable_file_is_moved_aside_and_rebuilt_with_one_warning(
    state_file: Path, spoil: object, caplog: pytest.LogCaptureFixture
) -> None:
    assert callable(spoil)
    spoil(state_file)
    clock = Clock(1_700_000_000.0)

    with caplog.at_level(logging.WARNING, logger="musicagent"):
        first = limiter_on(state_file, "alice", clock)
        assert first.reserve() == 0.0
        second = limiter_on(state_file, "alice", clock)  # the next command: no new warning
        assert second.reserve() == 0.0

    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "unusable" in message and "\n" not in message
    assert warnings[0].exc_info is None
    assert len(list(state_file.parent.glob("ratelimit.sqlite3.unusable-*"))) == 1
    assert second.status().used == 2


def test_a_file_spoiled_while_in_use_is_rebuilt_on_the_next_request(
    state_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(1_700_000_000.0)
    limiter = limiter_on(state_file, "alice", clock)
    limiter.reserve()
    _garbage(state_file)

    with caplog.at_level(logging.WARNING, logger="musicagent"):
        assert limiter.reserve() == 0.0

    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
