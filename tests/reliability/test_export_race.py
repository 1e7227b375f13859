"""Two processes exporting to one destination at once: one wins, the other fails at once
naming it; the destination always ends up the whole export, never empty or mixed."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks")

TRIALS = 12
GIVE_UP_AFTER = 120.0
"""A safety net against a hung child; not a performance bound."""

_EXPORT = """
import sys, time
from musicagent.errors import ExportLockedError
from musicagent.export import ExportJob, exporter_for

fmt, destination = sys.argv[1:3]
pages = [[{"id": p * 100 + n, "title": f"t{p}-{n}"} for n in range(100)] for p in range(10)]

def fetch(number):
    time.sleep(0.002)  # the pages of two runs interleave
    return pages[number - 1], len(pages), 1000

options = {"table": "t"} if fmt == "sqlite" else {}
try:
    ExportJob(fetch_page=fetch, exporter=exporter_for(fmt, **options), destination=destination,
              kind="search", durable=False).run(resume="--resume" in sys.argv)
except ExportLockedError as exc:
    print(exc, file=sys.stderr)
    sys.exit(7)
"""


def _rows(path: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return sorted(connection.execute("SELECT * FROM t").fetchall())


def _start(fmt: str, destination: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _EXPORT, fmt, str(destination), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("fmt", ["jsonl", "sqlite"])
def test_two_processes_racing_for_one_destination_never_leave_it_empty(
    tmp_path: Path, fmt: str
) -> None:
    reference = tmp_path / f"reference.{fmt}"
    child = _start(fmt, reference)
    child.communicate(timeout=GIVE_UP_AFTER)
    assert child.returncode == 0
    expected = reference.read_bytes()

    for trial in range(TRIALS):
        folder = tmp_path / f"trial-{trial}"
        folder.mkdir()
        destination = folder / f"out.{fmt}"
        first = _start(fmt, destination)
        second = _start(fmt, destination, *(["--resume"] if trial % 2 else []))
        errors = [child.communicate(timeout=GIVE_UP_AFTER)[1].decode() for child in (first, second)]
        codes = (first.returncode, second.returncode)

        assert set(codes) <= {0, 7}, errors
        assert 0 in codes, errors
        for code, text in zip(codes, errors, strict=True):
            if code == 7:
                assert "another export is writing" in text and "pid " in text
        if fmt == "sqlite":  # a run after the other one upserts: the same rows, new bytes
            assert _rows(destination) == _rows(reference)
        else:
            assert destination.read_bytes() == expected
        assert sorted(p.name for p in folder.iterdir()) == [destination.name]
