"""One measured job of one client, in a process of its own (``python -m benchmarks.worker DIR``).

The orchestrator (`benchmarks.launch`) writes ``DIR/job.json``; the worker imports and builds
the client, touches ``DIR/ready`` and waits for ``DIR/go``, so imports never count and several
workers start the timed part together. It then runs the job and writes ``DIR/result.json``.
A crawl also appends one character per release to ``DIR/progress`` (``1`` done, ``0`` failed),
so a worker killed at its deadline still tells how far it got.

Jobs (``job["task"]``):

- ``crawl``: fetch releases ``first``..``last``, one request each; a failure is counted and the
  crawl goes on (a client that gives up on a 429 loses that item).
- ``walk``: walk a whole list (``collection``, ``wantlist`` or ``master_versions``).
- ``fetch_loop``: fetch ``count`` releases after ``warmup`` untimed ones; wall and CPU time.
- ``cache_loop``: fetch ``count`` releases twice with the cache on (misses, then hits); CPU
  time of each pass.

Given ``turns`` (under `benchmarks.launch.run_in_turns`), both loops split each pass into that
many stretches and time one per turn, waiting for ``DIR/turn-N`` and touching ``DIR/turned-N``.
- ``parse``: parse every body of ``bodies`` ``rounds`` times with a client's model; the fastest
  round is reported.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.adapters import ClientOptions, open_client
from benchmarks.parsers import parser_for

__all__ = ["main", "run_job"]

GO_TIMEOUT = 300.0
"""Longest wait for the start signal (or a turn) before a worker gives up."""

TURN_POLL = 0.001
"""Seconds between looks for the next turn file."""


def _wait_for_go(folder: Path) -> None:
    (folder / "ready").touch()
    go = folder / "go"
    deadline = time.monotonic() + GO_TIMEOUT
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no start signal from the orchestrator")
        time.sleep(0.001)


def _crawl(adapter: Any, params: dict[str, Any], folder: Path) -> dict[str, Any]:
    ok, errors = 0, Counter[str]()
    with (folder / "progress").open("a", encoding="ascii") as progress:
        for release_id in range(params["first"], params["last"] + 1):
            try:
                adapter.get_release(release_id)
            except Exception as exc:  # a peer that gives up: record it, keep crawling
                errors[type(exc).__name__] += 1
                progress.write("0")
            else:
                ok += 1
                progress.write("1")
            progress.flush()
    return {"ok": ok, "failed": sum(errors.values()), "errors": dict(errors)}


def _walk(adapter: Any, params: dict[str, Any]) -> dict[str, Any]:
    walkers = {
        "collection": adapter.walk_collection,
        "wantlist": adapter.walk_wantlist,
        "master_versions": adapter.walk_master_versions,
    }
    items = 0
    try:
        for _item in walkers[params["what"]](params["target"]):
            items += 1
    except Exception as exc:
        return {"items": items, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"items": items}


class _Turns:
    """The worker's side of `run_in_turns`: wait for turn N, time it, say it is done."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder  # None: no turns, every stretch runs at once
        self.number = 0

    @contextlib.contextmanager
    def take(self) -> Iterator[None]:
        if self.folder is not None:
            mine = self.folder / f"turn-{self.number}"
            deadline = time.monotonic() + GO_TIMEOUT
            while not mine.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"turn {self.number} never came")
                time.sleep(TURN_POLL)
        try:
            yield
        finally:
            if self.folder is not None:
                (self.folder / f"turned-{self.number}").touch()
            self.number += 1


def _stretches(count: int, turns: int) -> list[int]:
    # ``count`` requests in ``turns`` near-equal stretches.
    return [count // turns + (1 if n < count % turns else 0) for n in range(turns)]


def _timed_pass(
    adapter: Any, taker: _Turns, first: int, count: int, turns: int
) -> tuple[float, float]:
    # Releases first..first+count-1 in `turns` stretches, one per turn: CPU and wall seconds
    # of the stretches alone.
    cpu = wall = 0.0
    next_id = first
    for stretch in _stretches(count, turns):
        with taker.take():
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            for release_id in range(next_id, next_id + stretch):
                adapter.get_release(release_id)
            cpu += time.process_time() - cpu_start
            wall += time.perf_counter() - wall_start
        next_id += stretch
    return cpu, wall


def _fetch_loop(adapter: Any, params: dict[str, Any], folder: Path) -> dict[str, Any]:
    first = params["first"]
    for offset in range(params["warmup"]):
        adapter.get_release(first + offset)
    count, turns = params["count"], params.get("turns")
    taker = _Turns(folder if turns else None)
    cpu, wall = _timed_pass(adapter, taker, first + params["warmup"], count, turns or 1)
    return {"requests": count, "cpu_seconds": cpu, "wall_seconds": wall}


def _cache_loop(adapter: Any, params: dict[str, Any], folder: Path) -> dict[str, Any]:
    # The same releases twice through a client whose cache starts empty: misses, then hits.
    first, count, turns = params["first"], params["count"], params.get("turns")
    for offset in range(params["warmup"]):
        adapter.get_release(first - 1 - offset)
        adapter.get_release(first - 1 - offset)
    taker = _Turns(folder if turns else None)
    miss, _ = _timed_pass(adapter, taker, first, count, turns or 1)
    hit, _ = _timed_pass(adapter, taker, first, count, turns or 1)
    return {"requests": count, "miss_cpu_seconds": miss, "hit_cpu_seconds": hit}


def _parse(params: dict[str, Any]) -> dict[str, Any]:
    parse = parser_for(params["parser"])
    bodies = [body.encode("utf-8") for body in json.loads(Path(params["bodies"]).read_text())]
    for body in bodies[:10]:
        parse(body)  # warm-up: imports, lazy schema builds
    rounds = []
    for _round in range(params["rounds"]):
        started = time.perf_counter()
        for body in bodies:
            parse(body)
        rounds.append(time.perf_counter() - started)
    # The fastest round, as timeit advises: noise from other processes only ever adds time.
    return {"parsed": len(bodies), "seconds": min(rounds), "rounds": len(rounds)}


def run_job(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Build what the job needs, wait for the start signal, run it; the result as a dict."""
    task, params = job["task"], job.get("params", {})
    adapter = None
    if task != "parse":
        adapter = open_client(job["client"], ClientOptions(**job["options"]))
    _wait_for_go(folder)
    started = time.time()
    try:
        if task == "crawl":
            outcome = _crawl(adapter, params, folder)
        elif task == "walk":
            outcome = _walk(adapter, params)
        elif task == "fetch_loop":
            outcome = _fetch_loop(adapter, params, folder)
        elif task == "cache_loop":
            outcome = _cache_loop(adapter, params, folder)
        elif task == "parse":
            outcome = _parse(params)
        else:
            raise ValueError(
                f"task must be crawl, walk, fetch_loop, cache_loop or parse, got {task!r}"
            )
    finally:
        if adapter is not None:
            adapter.close()
    return {**outcome, "started": started, "finished": time.time()}


def main() -> None:
    """Entry point: ``python -m benchmarks.worker JOB_DIR``."""
    folder = Path(sys.argv[1])
    job = json.loads((folder / "job.json").read_text())
    result = run_job(job, folder)
    (folder / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
