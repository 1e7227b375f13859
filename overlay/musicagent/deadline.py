"""One overall deadline per attempt, on top of httpx's per-read timeout.

httpx's `timeout` bounds each socket read, so a server that trickles one byte every half second,
or never finishes its headers, keeps a call alive forever. Every attempt therefore also gets a
deadline (`DISCOGS_TOTAL_TIMEOUT`): the wire transport sets it when the attempt starts, the
network streams below httpcore shorten each read and write to the time left, and the body reader
checks it between chunks. Past it the attempt fails with `httpx.ReadTimeout`, which the wire
layer reports as `DeadlineExceededError`.

The deadline travels in a context variable: it is set and read in the same thread (sync) or the
same task (async), so concurrent calls never see each other's deadline.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from collections.abc import Iterable

import httpcore
import httpx

__all__ = [
    "attempt_deadline",
    "set_attempt_deadline",
    "with_async_deadlines",
    "with_deadlines",
]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "musicagent_attempt_deadline", default=None
)


def set_attempt_deadline(seconds: float | None) -> float | None:
    """Start the deadline of a new attempt in this context; returns it (monotonic time)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    _DEADLINE.set(deadline)
    return deadline


def attempt_deadline() -> float | None:
    """The deadline of the attempt running in this context, if any (monotonic time)."""
    return _DEADLINE.get()


def _shorter(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        # httpcore maps its own exceptions to httpx's; raise its kind from below it.
        raise httpcore.ReadTimeout("the attempt ran out of its total time")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _shorter(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _shorter(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _shorter(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _shorter(timeout), local_address, socket_options
        )
        return _Stream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _shorter(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _shorter(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _shorter(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _shorter(timeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, _shorter(timeout), local_address, socket_options
        )
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, _shorter(timeout), socket_options)
        return _AsyncStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def with_deadlines(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """The transport with its connections' reads and writes bounded by the attempt deadline.

    httpx builds its connection pool in the constructor and offers no public way to give it a
    network backend, so the pool's backend is wrapped in place. httpx is pinned below 0.29;
    the trickle tests in tests/reliability fail if a new version moves these attributes.
    """
    pool = transport._pool
    pool._network_backend = _Backend(pool._network_backend)
    return transport


def with_async_deadlines(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    """The async twin of `with_deadlines`."""
    pool = transport._pool
    pool._network_backend = _AsyncBackend(pool._network_backend)
    return transport
