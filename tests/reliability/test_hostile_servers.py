"""Hostile servers are contained: every call ends, in bounded memory, with a typed error.

Each case runs against a loopback server written to misbehave (`hostile_server`), through the
sync and the async client: a gzip bomb, a body far over the cap (announced or streamed), a
server that trickles its body or its headers a byte at a time, an error body nested 100,000
deep, a refused connection on loopback. Tests assert outcomes, never durations; the hostile
servers stop by themselves, so a regression fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Callable
from typing import Any

import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.errors import (
    DeadlineExceededError,
    NetworkError,
    ResourceNotFoundError,
    ResponseTooLargeError,
    ResponseValidationError,
)
from tests.reliability.hostile_server import Received, Sender, hostile_server, respond

pytestmark = pytest.mark.integration

TOKEN = "hostile-test-token-1234567890"
MiB = 1024 * 1024


def get_release(mode: str, base_url: str, **options: Any) -> Any:
    """`get_release(1)` through a sync or an async client with the cache off."""
    if mode == "sync":
        with Discogs(TOKEN, base_url=base_url, cache=False, **options) as client:
            return client.database.get_release(1)

    async def run() -> Any:
        async with AsyncDiscogs(TOKEN, base_url=base_url, cache=False, **options) as client:
            return await client.database.get_release(1)

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def serve_once(payload: bytes) -> Callable[[Received, Sender], None]:
    def behaviour(_received: Received, send: Sender) -> None:
        send(payload)

    return behaviour


def test_a_gzip_bomb_is_refused_once_it_expands_past_the_cap(mode: str) -> None:
    # 40 MiB of zeros compress to about 40 KB: small on the wire, over the 32 MiB cap inflated.
    bomb = gzip.compress(b"\0" * (40 * MiB), compresslevel=9)
    assert len(bomb) < MiB
    payload = respond(200, bomb, {"Content-Encoding": "gzip"})
    with (
        hostile_server(serve_once(payload)) as server,
        pytest.raises(ResponseTooLargeError, match="decompressed body exceeds") as caught,
    ):
        get_release(mode, server.url)
    assert caught.value.limit == 32 * MiB


def test_a_body_announced_over_the_cap_is_refused_before_it_is_read(mode: str) -> None:
    head = respond(200, b"", {"Content-Length": str(100 * MiB)})
    with (
        hostile_server(serve_once(head)) as server,
        pytest.raises(ResponseTooLargeError, match="body exceeds"),
    ):
        get_release(mode, server.url)


def test_a_streamed_body_over_the_cap_is_cut_off(mode: str) -> None:
    def behaviour(_received: Received, send: Sender) -> None:
        send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(64):  # 4 MiB, over a 1 MiB cap
            if not send(chunk):
                return

    with hostile_server(behaviour) as server, pytest.raises(ResponseTooLargeError):
        get_release(mode, server.url, max_response_bytes=MiB)


def test_a_trickled_body_hits_the_attempt_deadline(mode: str) -> None:
    def behaviour(_received: Received, send: Sender) -> None:
        send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n")
        send.trickle(b"{" + b" " * 499, every=0.2)

    with (
        hostile_server(behaviour) as server,
        pytest.raises(DeadlineExceededError, match="total time"),
    ):
        get_release(mode, server.url, timeout=2, total_timeout=1.5)
    # The deadline is final: a trickling server is not asked again.
    assert len(server.received) == 1


def test_headers_that_never_finish_hit_the_attempt_deadline(mode: str) -> None:
    def behaviour(_received: Received, send: Sender) -> None:
        send.trickle(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 400, every=0.2)

    with hostile_server(behaviour) as server, pytest.raises(DeadlineExceededError):
        get_release(mode, server.url, timeout=2, total_timeout=1.5)


def test_a_deeply_nested_error_body_still_gives_the_typed_error(mode: str) -> None:
    payload = respond(404, b"[" * 100_000)
    with hostile_server(serve_once(payload)) as server, pytest.raises(ResourceNotFoundError):
        get_release(mode, server.url)


def test_a_deeply_nested_success_body_is_a_validation_error(mode: str) -> None:
    payload = respond(200, b'{"id": 1, "title": ' + b"[" * 100_000)
    with hostile_server(serve_once(payload)) as server, pytest.raises(ResponseValidationError):
        get_release(mode, server.url)


def test_a_refused_connection_on_loopback_is_not_retried(mode: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` now: a retry could only wait for nothing.
    if mode == "sync":
        with (
            Discogs(TOKEN, base_url=f"http://127.0.0.1:{port}", cache=False) as client,
            pytest.raises(NetworkError, match="ConnectError"),
        ):
            client.database.get_release(1)
            assert client.stats.requests == 1
        return

    async def run() -> None:
        base = f"http://127.0.0.1:{port}"
        async with AsyncDiscogs(TOKEN, base_url=base, cache=False) as client:
            with pytest.raises(NetworkError, match="ConnectError"):
                await client.database.get_release(1)
            assert client.stats.requests == 1

    asyncio.run(run())
