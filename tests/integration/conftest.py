"""Integration tests: the client against the Discogs sandbox over real loopback sockets.

The sandbox's pytest plugin (``discogs_sandbox`` fixture) is registered here unless the
installed package already registered it through its entry point.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import discogs_sandbox.pytest_plugin as sandbox_plugin
from discogs_sandbox import Sandbox
from musicagent.ratelimit import RateLimiter


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.is_registered(sandbox_plugin):
        config.pluginmanager.register(sandbox_plugin, "discogs_sandbox.pytest_plugin")


@pytest.fixture(autouse=True)
def _fresh_shared_limiters() -> Iterator[None]:
    # Clients built with the same token share one process-wide limiter; tests must not.
    RateLimiter.reset_shared()
    yield
    RateLimiter.reset_shared()


@dataclass
class Exchange:
    """One request/response pair seen on the wire."""

    method: str
    url: httpx.URL
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class RecordingTransport(httpx.BaseTransport):
    """The innermost HTTP transport, keeping every exchange (bodies read in full)."""

    inner: httpx.BaseTransport = field(default_factory=httpx.HTTPTransport)
    exchanges: list[Exchange] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        content = response.read()
        self.exchanges.append(
            Exchange(
                request.method,
                request.url,
                response.status_code,
                response.headers.get("content-type", ""),
                content,
            )
        )
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def checked_sandbox() -> Iterator[Sandbox]:
    """A sandbox that validates every body it serves against the spec (see stats)."""
    with Sandbox(
        self_check=True, collection_size=120, rate_limit=10_000, export_delay=0
    ) as sandbox:
        yield sandbox
