"""The facade's httpx clients keep cookies as httpx does, parsing only responses that set one."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from musicagent import AsyncDiscogs, Discogs
from musicagent.cookies import ResponseCookies

BASE = "https://api.discogs.com"


def _server(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/releases/1":
            return httpx.Response(
                200, json={"id": 1}, headers={"Set-Cookie": "session=abc; Path=/"}
            )
        return httpx.Response(200, json={"id": 2})

    return httpx.MockTransport(answer)


def test_a_cookie_set_by_the_server_is_kept_and_sent_back() -> None:
    seen: list[httpx.Request] = []
    with Discogs(
        token="cookie-token-123", transport=_server(seen), rate_limiter=False, cache=False
    ) as client:
        client.http.get("/releases/1")
        client.http.get("/releases/2")
        assert client.http.cookies.get("session") == "abc"
    assert "cookie" not in seen[0].headers
    assert seen[1].headers["cookie"] == "session=abc"


def test_the_async_client_keeps_cookies_too() -> None:
    seen: list[httpx.Request] = []

    async def run() -> None:
        async with AsyncDiscogs(
            token="cookie-token-123", transport=_server(seen), rate_limiter=False, cache=False
        ) as client:
            await client.http.get("/releases/1")
            await client.http.get("/releases/2")
            assert client.http.cookies.get("session") == "abc"

    asyncio.run(run())
    assert seen[1].headers["cookie"] == "session=abc"


def test_cookies_set_by_hand_are_sent_and_share_one_jar() -> None:
    seen: list[httpx.Request] = []
    with Discogs(
        token="cookie-token-123", transport=_server(seen), rate_limiter=False, cache=False
    ) as client:
        client.http.cookies = {"pref": "1"}
        jar = client.http.cookies.jar
        client.http.get("/releases/1")
        assert isinstance(client.http.cookies, ResponseCookies)
        assert client.http.cookies.jar is jar
        assert dict(client.http.cookies) == {"pref": "1", "session": "abc"}
    assert seen[0].headers["cookie"] == "pref=1"


@pytest.mark.parametrize("header", ["Set-Cookie", "set-cookie", "Set-Cookie2"])
def test_only_responses_setting_a_cookie_reach_the_jar(
    header: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[httpx.Response] = []
    monkeypatch.setattr(httpx.Cookies, "extract_cookies", lambda self, r: parsed.append(r))
    cookies = ResponseCookies()
    request = httpx.Request("GET", BASE)
    cookies.extract_cookies(httpx.Response(200, request=request))
    assert parsed == []
    setting = httpx.Response(200, headers={header: "a=b"}, request=request)
    cookies.extract_cookies(setting)
    assert parsed == [setting]
