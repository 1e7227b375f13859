"""Four worker processes behind one address sharing one Redis, against the sandbox.

The sandbox counts its moving window per source address, as Discogs does: four workers with
four different tokens on one machine spend one budget. They share it through Redis
(``DISCOGS_RATE_LIMIT_BACKEND=redis`` and one ``DISCOGS_RATE_LIMIT_BUDGET``) and share one
cache (``DISCOGS_CACHE_BACKEND=redis``). Checked: no 429 at all, every item fetched exactly
once, a cached answer served to a worker of the same identity and to no other; and with Redis
killed mid-run, each worker paces alone (from the API's headers) without the cache, warns once,
and the job still completes exactly once, then rejoins the shared state when Redis is back.
How close the job comes to the fastest schedule is measured in ``benchmarks/workers.py``,
not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from musicagent.testing import OTHER_USERNAMES, SANDBOX_TOKEN, Sandbox, token_for
from tests.redis_server import RedisProcess, redis_process  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

redis = pytest.importorskip("redis")

ROOT = Path(__file__).resolve().parents[2]
TOKENS = [SANDBOX_TOKEN, *(token_for(name) for name in OTHER_USERNAMES)]
LIMIT = 10
WINDOW = 2.0
RETRY_INTERVAL = 0.5


@dataclass
class Worker:
    folder: Path
    process: subprocess.Popen[bytes]

    def done(self) -> int:
        progress = self.folder / "progress"
        return len(progress.read_text().split()) if progress.exists() else 0

    def result(self) -> dict[str, Any]:
        self.process.wait(timeout=300)
        stderr = (self.folder / "stderr").read_text(errors="replace")
        assert self.process.returncode == 0, stderr[-3000:]
        loaded: dict[str, Any] = json.loads((self.folder / "result.json").read_text())
        return loaded


def start_workers(
    folder: Path, sandbox: Sandbox, redis_url: str, slices: list[list[int]]
) -> list[Worker]:
    """One process per token, each with its slice of releases; all started together."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DISCOGS_CACHE_BACKEND": "redis",
        "DISCOGS_RATE_LIMIT_BACKEND": "redis",
        "DISCOGS_REDIS_URL": redis_url,
        "DISCOGS_RATE_LIMIT_BUDGET": "office-egress",
        "DISCOGS_RATE_LIMIT_REQUESTS": str(LIMIT),
        "DISCOGS_RATE_LIMIT_WINDOW": str(WINDOW),
        "DISCOGS_CACHE_DIR": str(folder / "unused-cache"),
    }
    workers = []
    for number, (token, ids) in enumerate(zip(TOKENS, slices, strict=True)):
        home = folder / f"worker-{number}"
        home.mkdir(parents=True)
        job = {
            "token": token,
            "base_url": sandbox.base_url,
            "ids": ids,
            "retry_interval": RETRY_INTERVAL,
        }
        (home / "job.json").write_text(json.dumps(job))
        with (home / "stderr").open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.redis_worker", str(home)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        workers.append(Worker(home, process))
    wait_until(lambda: all((w.folder / "ready").exists() for w in workers), workers)
    for worker in workers:
        (worker.folder / "go").touch()
    return workers


def wait_until(condition: Callable[[], bool], workers: list[Worker], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        for worker in workers:
            if worker.process.poll() not in (None, 0):
                pytest.fail((worker.folder / "stderr").read_text(errors="replace")[-3000:])
        assert time.monotonic() < deadline, "the workers stalled"
        time.sleep(0.02)


def slices_of(items: int) -> list[list[int]]:
    share = items // len(TOKENS)
    return [list(range(1 + n * share, 1 + (n + 1) * share)) for n in range(len(TOKENS))]


def releases_served(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["operations"].get("get_release", 0))


def warnings_of(result: dict[str, Any]) -> list[str]:
    """Warnings about Redis, the cache or the rate window (a 429's own log line is not one)."""
    return [
        message
        for level, name, message in result["logged"]
        if level == "WARNING" and name != "musicagent.http"
    ]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Per address (Discogs' rule): the four tokens spend one window.
    with Sandbox(
        rate_limit=LIMIT, rate_window=WINDOW, rate_limit_scope="address", seed=0
    ) as server:
        yield server


def test_four_workers_behind_one_address_share_one_budget_and_one_cache(
    sandbox: Sandbox,
    redis_process: RedisProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    slices = slices_of(40)
    results = [
        w.result() for w in start_workers(tmp_path / "job", sandbox, redis_process.url, slices)
    ]

    stats = sandbox.stats()
    assert stats["status_429"] == 0
    fetched = Counter(i for result in results for i in result["fetched"])
    assert fetched == Counter(range(1, 41))  # every item exactly once
    assert releases_served(sandbox) == 40
    assert all(not result["from_cache"] and not result["failed"] for result in results)
    assert all(warnings_of(result) == [] for result in results)

    # Again, new processes with the same tokens: each worker's slice is a hit for its own
    # identity; one release fetched under another identity is not.
    again = [[*ids, slices[(n + 1) % 4][0]] for n, ids in enumerate(slices)]
    rerun = [
        w.result() for w in start_workers(tmp_path / "again", sandbox, redis_process.url, again)
    ]
    for ids, asked, result in zip(slices, again, rerun, strict=True):
        assert result["fetched"] == asked
        assert result["from_cache"] == ids  # the other identity's release came from the API
    assert releases_served(sandbox) == 44
    assert sandbox.stats()["status_429"] == 0


def test_workers_outlive_a_redis_outage_and_rejoin_when_it_is_back(
    sandbox: Sandbox,
    redis_process: RedisProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    items = 80
    workers = start_workers(tmp_path / "job", sandbox, redis_process.url, slices_of(items))

    def progress() -> int:
        return sum(worker.done() for worker in workers)

    wait_until(lambda: progress() >= 12, workers)
    redis_process.kill()
    killed_at = progress()
    wait_until(lambda: progress() >= killed_at + 16, workers)
    redis_process.start()  # same port, empty
    results = [worker.result() for worker in workers]

    fetched = Counter(i for result in results for i in result["fetched"])
    assert fetched == Counter(range(1, items + 1)), [r["failed"] for r in results]
    statuses = sandbox.stats()["statuses"]
    assert statuses.get("200", 0) == items  # nothing fetched twice, no item repeated
    print(f"429s while Redis was down: {statuses.get('429', 0)}")
    for result in results:
        warnings = warnings_of(result)
        assert len(warnings) == 1, warnings
        assert "rate window of this process" in warnings[0]
        assert "without the cache" in warnings[0]
    # A worker that finished its share while Redis was still down never saw it return (on a
    # loaded machine one may): the rejoin is shown by those that went on, at least one, and
    # each of them ends on the shared window.
    rejoined = [
        result
        for result in results
        if any("answers again" in message for _, _, message in result["logged"])
    ]
    assert rejoined and all(result["shared_at_end"] for result in rejoined)
    # The shared window is back in Redis, with what the workers handed over and sent since.
    server = redis.Redis.from_url(redis_process.url)
    try:
        windows = [
            key
            for key in server.scan_iter(match="musicagent:ratelimit:*")
            if server.type(key) == b"zset"
        ]
        assert len(windows) == 1 and server.zcard(windows[0]) > 0
    finally:
        server.close()
