"""Credentials go only to the configured API origin, over https unless the host is loopback.

A raw `client.http` call to another host or port carries no `Authorization`; neither does a
followed redirect (301, 302, 303, 307, 308) that leaves the origin; a plain-http request to a
host other than loopback is refused before anything is sent. Both clients, real sockets.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.errors import InvalidParameterError
from tests.reliability.hostile_server import Received, Sender, hostile_server, respond

pytestmark = pytest.mark.integration

TOKEN = "stay-home-token-1234567890"


def answer_ok(_received: Received, send: Sender) -> None:
    send(respond(200, b'{"id": 1}'))


def raw_get(mode: str, base_url: str, url: str, **kwargs: object) -> int:
    if mode == "sync":
        with Discogs(TOKEN, base_url=base_url, cache=False) as client:
            return client.http.get(url, **kwargs).status_code  # type: ignore[arg-type]

    async def run() -> int:
        async with AsyncDiscogs(TOKEN, base_url=base_url, cache=False) as client:
            response = await client.http.get(url, **kwargs)  # type: ignore[arg-type]
            return response.status_code

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_raw_call_to_another_port_carries_no_credential(mode: str) -> None:
    with hostile_server(answer_ok) as api, hostile_server(answer_ok) as other:
        assert raw_get(mode, api.url, f"{other.url}/collect") == 200
        assert raw_get(mode, api.url, "/releases/1") == 200
    assert "authorization" not in other.received[0].headers
    assert api.received[0].headers["authorization"] == f"Discogs token={TOKEN}"


def test_a_raw_call_to_another_loopback_host_carries_no_credential(mode: str) -> None:
    with hostile_server(answer_ok) as api:
        other = api.url.replace("127.0.0.1", "localhost")
        assert raw_get(mode, api.url, f"{other}/collect") == 200
    assert "authorization" not in api.received[0].headers


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_off_the_origin_carries_no_credential(mode: str, status: int) -> None:
    with hostile_server(answer_ok) as elsewhere:

        def redirect(_received: Received, send: Sender) -> None:
            send(respond(status, b"", {"Location": f"{elsewhere.url}/stolen"}))

        with hostile_server(redirect) as api:
            assert raw_get(mode, api.url, "/releases/1", follow_redirects=True) == 200
        assert api.received[0].headers["authorization"] == f"Discogs token={TOKEN}"
    assert elsewhere.received[0].target == "/stolen"
    assert "authorization" not in elsewhere.received[0].headers


def test_plain_http_to_a_remote_host_is_refused_before_sending(mode: str) -> None:
    with (
        hostile_server(answer_ok) as api,
        pytest.raises(InvalidParameterError, match="plain http") as caught,
    ):
        raw_get(mode, api.url, "http://discogs.example/releases/1")
    assert caught.value.parameter == "url"
    assert api.received == []


def test_a_redirect_to_plain_http_on_a_remote_host_is_refused(mode: str) -> None:
    def redirect(_received: Received, send: Sender) -> None:
        send(respond(302, b"", {"Location": "http://discogs.example/releases/1"}))

    with (
        hostile_server(redirect) as api,
        pytest.raises(InvalidParameterError, match="plain http"),
    ):
        raw_get(mode, api.url, "/releases/1", follow_redirects=True)


def test_operation_calls_never_follow_redirects(mode: str) -> None:
    with hostile_server(answer_ok) as elsewhere:

        def redirect(_received: Received, send: Sender) -> None:
            send(respond(302, b"", {"Location": f"{elsewhere.url}/releases/1"}))

        with hostile_server(redirect) as api:
            if mode == "sync":
                with (
                    Discogs(TOKEN, base_url=api.url, cache=False) as client,
                    pytest.raises(Exception, match="302"),
                ):
                    client.database.get_release(1)
            else:

                async def run() -> None:
                    async with AsyncDiscogs(TOKEN, base_url=api.url, cache=False) as client:
                        with pytest.raises(Exception, match="302"):
                            await client.database.get_release(1)

                asyncio.run(run())
    assert elsewhere.received == []


def test_origin_check_uses_the_default_https_port() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with Discogs(TOKEN, transport=httpx.MockTransport(record), cache=False) as client:
        client.http.get("https://api.discogs.com:443/releases/1")
        client.http.get("https://api.discogs.com:444/releases/1")
    assert seen[0].headers["authorization"] == f"Discogs token={TOKEN}"
    assert "authorization" not in seen[1].headers
