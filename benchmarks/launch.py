"""Start benchmark workers in processes of their own and give them one start signal.

Every client runs in its own process (`benchmarks.worker`), never in the process hosting the
sandbox, so its CPU time is its own. The workers import and build their client first; the
orchestrator waits until all are ready, runs ``before_go`` (reset the sandbox, spend part of the
budget), then starts them together and waits, killing any that outlive the deadline.

`run_in_turns` runs CPU measurements instead: the workers take turns, one at a time, each
timing a short stretch of its loop per turn (``turn-N`` / ``turned-N`` files), so a slow
moment of a shared machine falls on every client alike instead of on whoever ran then.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "ROOT",
    "WorkerJob",
    "WorkerRun",
    "clean_environment",
    "rotated",
    "run_in_turns",
    "run_workers",
    "turns_for",
]

ROOT = Path(__file__).resolve().parents[1]
"""The project root (``benchmarks`` is importable from here)."""

T = TypeVar("T")

READY_TIMEOUT = 120.0
"""Longest wait for workers to import and build their clients."""

TURN_POLL = 0.001
"""Seconds between looks at a turn file (the waiting side sleeps; no CPU is timed then)."""

TURN_REQUESTS = 100
"""Requests a worker times per turn under `run_in_turns`."""


def turns_for(count: int) -> int:
    """How many turns a loop of ``count`` requests takes (`TURN_REQUESTS` each, at least 1)."""
    return max(1, count // TURN_REQUESTS)


@dataclass(frozen=True)
class WorkerJob:
    """One job for one worker: see `benchmarks.worker` for the tasks and their params."""

    task: str
    client: str
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class WorkerRun:
    """What one worker did: its result (None when it failed or was killed) and its traces."""

    job: WorkerJob
    result: dict[str, Any] | None
    timed_out: bool
    returncode: int | None
    progress: str
    stderr_tail: str

    @property
    def error(self) -> str:
        """Why there is no result, in one line ('' when there is one)."""
        if self.result is not None:
            return ""
        if self.timed_out:
            return "killed at the deadline"
        lines = [line for line in self.stderr_tail.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}"


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any ``DISCOGS_*`` setting, plus ``extra``.

    A user's own token or cache settings must not leak into a measured run, and the project
    root goes on ``PYTHONPATH`` so ``benchmarks`` imports from any working directory.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCOGS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def _wait_until_ready(folders: list[Path], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not all((folder / "ready").exists() for folder in folders):
        for folder, process in zip(folders, processes, strict=True):
            if process.poll() is not None and not (folder / "ready").exists():
                return  # it died while starting; its stderr tells why
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _collect(job: WorkerJob, folder: Path, timed_out: bool, code: int | None) -> WorkerRun:
    result_file = folder / "result.json"
    progress_file = folder / "progress"
    stderr = (folder / "stderr").read_text(errors="replace")
    return WorkerRun(
        job=job,
        result=json.loads(result_file.read_text()) if result_file.exists() else None,
        timed_out=timed_out,
        returncode=code,
        progress=progress_file.read_text() if progress_file.exists() else "",
        stderr_tail=stderr[-2000:],
    )


def _start(jobs: list[WorkerJob], tmp: str) -> tuple[list[Path], list[subprocess.Popen[bytes]]]:
    folders, processes = [], []
    for number, job in enumerate(jobs):
        folder = Path(tmp) / f"worker-{number}"
        folder.mkdir()
        payload = {
            "task": job.task,
            "client": job.client,
            "options": job.options,
            "params": job.params,
        }
        (folder / "job.json").write_text(json.dumps(payload))
        with (folder / "stdout").open("wb") as out, (folder / "stderr").open("wb") as err:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.worker", str(folder)],
                    cwd=folder,
                    env=clean_environment(job.env),
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                )
            )
        folders.append(folder)
    return folders, processes


def _finish(
    jobs: list[WorkerJob],
    folders: list[Path],
    processes: list[subprocess.Popen[bytes]],
    deadline: float,
) -> list[WorkerRun]:
    runs = []
    for job, folder, process in zip(jobs, folders, processes, strict=True):
        timed_out = False
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            process.kill()
            process.wait(timeout=30)
        runs.append(_collect(job, folder, timed_out, process.returncode))
    return runs


def run_workers(
    jobs: list[WorkerJob],
    *,
    timeout: float,
    before_go: Callable[[], None] | None = None,
) -> tuple[float, list[WorkerRun]]:
    """Run `jobs` in parallel processes started together.

    Returns the wall-clock time (``time.time()``) of the start signal and one `WorkerRun` per
    job, in order. A worker still running ``timeout`` seconds after the start is killed.
    """
    with tempfile.TemporaryDirectory(prefix="musicagent-bench-") as tmp:
        folders, processes = _start(jobs, tmp)
        _wait_until_ready(folders, processes)
        if before_go is not None:
            before_go()
        started = time.time()
        for folder in folders:
            (folder / "go").touch()
        runs = _finish(jobs, folders, processes, time.monotonic() + timeout)
        return started, runs


def rotated(items: list[T], by: int) -> list[T]:
    """`items` starting at position ``by`` (modulo its length): who goes first in run ``by``."""
    if not items:
        return items
    shift = by % len(items)
    return items[shift:] + items[:shift]


def run_in_turns(jobs: list[WorkerJob], *, timeout: float) -> list[WorkerRun]:
    """Run `jobs` in processes that take turns until each has taken all of its own.

    Round after round, each worker still working is given one turn (``turn-N``) and finishes
    it (``turned-N``) before the next worker starts its own; only one works at any moment. A
    worker's turns are its job's business (``params["turns"]``, see `benchmarks.worker`): one
    that ends instead of finishing a turn has taken its last. A worker still running at
    ``timeout`` is killed and reports no result.
    """
    with tempfile.TemporaryDirectory(prefix="musicagent-bench-") as tmp:
        folders, processes = _start(jobs, tmp)
        _wait_until_ready(folders, processes)
        for folder in folders:
            (folder / "go").touch()
        deadline = time.monotonic() + timeout
        working = list(range(len(jobs)))
        turn = 0
        while working and time.monotonic() < deadline:
            for number in list(working):
                folder = folders[number]
                (folder / f"turn-{turn}").touch()
                done = folder / f"turned-{turn}"
                while not done.exists():
                    if processes[number].poll() is not None or time.monotonic() > deadline:
                        working.remove(number)
                        break
                    time.sleep(TURN_POLL)
            turn += 1
        return _finish(jobs, folders, processes, deadline)
