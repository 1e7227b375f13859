"""A real Redis server for the tests: ``redis-server`` on a free loopback port, no persistence.

Import the fixtures into a test module (``from tests.redis_server import redis_server,
redis_url``). The server starts once per session; ``redis_url`` flushes it before each test.
Where ``redis-server`` is not installed (the Debian package ``redis-server``; ``.ci/run``
installs it) or the ``redis`` package is missing, the tests that need it are skipped, saying
which.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

__all__ = ["redis_server", "redis_url"]

_START_SECONDS = 20.0


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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a ``redis-server`` started for this session (skips when none is installed)."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    pytest.importorskip("redis", reason="the redis package is not installed (pip install redis)")
    with tempfile.TemporaryDirectory(prefix="musicagent-redis-") as folder:
        port = _free_port()
        # No persistence: nothing is written to disk, and nothing outlives the session.
        options = {"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        process = subprocess.Popen(
            [executable, *arguments, "--dir", folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + _START_SECONDS
            while not _answers_ping(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
