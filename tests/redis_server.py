"""A real Redis server for the tests: ``redis-server`` on a free loopback port, no persistence.

Import the fixtures into a test module (``from tests.redis_server import redis_server,
redis_url``). The server starts once per session; ``redis_url`` flushes it before each test.
``redis_process`` is a server of the test's own, which the test may kill and start again on
the same port (a Redis outage). Where ``redis-server`` is not installed (the Debian package
``redis-server``; ``.ci/run`` installs it) or the ``redis`` package is missing, the tests that
need it are skipped, saying which (``-ra`` lists the reason in every run's summary).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisProcess", "redis_process", "redis_server", "redis_url"]

_START_SECONDS = 20.0
SKIP_REASON = "redis-server is not installed (apt-get install redis-server)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """One ``redis-server`` on a fixed loopback port, started, killed and started again."""

    def __init__(self, executable: str, folder: Path) -> None:
        self.executable = executable
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # No persistence: nothing is written to disk, and a restarted server starts empty.
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        self.process = subprocess.Popen(
            [self.executable, *arguments, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _START_SECONDS
        while not _answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-conversation, as a crashed one does."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def _executable() -> str:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip(SKIP_REASON)
    pytest.importorskip("redis", reason="the redis package is not installed (pip install redis)")
    return executable


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a ``redis-server`` started for this session (skips when none is installed)."""
    executable = _executable()
    with tempfile.TemporaryDirectory(prefix="musicagent-redis-") as folder:
        server = RedisProcess(executable, Path(folder))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis server, emptied before this test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis server of this test's own, running; the test may kill and restart it."""
    server = RedisProcess(_executable(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
