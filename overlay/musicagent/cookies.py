"""The httpx clients the facade builds: cookies kept as httpx keeps them, parsed only when set.

httpx hands every response to its cookie jar, which first copies all the headers into an
`email.message.Message` and wraps the request for `http.cookiejar`, only to find no
``Set-Cookie`` header: a Discogs answer sets none, and that copy was a sixth of the client's
own work per request. These clients skip the jar for a response without ``Set-Cookie`` or
``Set-Cookie2`` (where the jar would store nothing) and give it every other response, so the
cookies a server sets are kept and sent back exactly as before.

httpx keeps its cookies in ``Client._cookies`` and reads them through the ``cookies``
property; the property is overridden here. httpx is pinned below 0.29;
tests/unit/test_cookies.py fails if a new version stops going through it.
"""

from __future__ import annotations

import httpx

__all__ = ["ApiAsyncClient", "ApiClient", "ResponseCookies"]


class ResponseCookies(httpx.Cookies):
    """`httpx.Cookies` (sharing the jar it is built from) that only parses responses setting one."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Store the cookies the response sets; a response setting none is not parsed."""
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


def _ours(cookies: httpx.Cookies) -> ResponseCookies:
    # Built from an httpx.Cookies, it keeps that object's jar: nothing is copied.
    return cookies if isinstance(cookies, ResponseCookies) else ResponseCookies(cookies)


class _ResponseCookiesClient(httpx._client.BaseClient):
    """The `cookies` property of both httpx clients, answering `ResponseCookies`.

    httpx defines the property once on the base both clients share; overriding it once here
    serves the sync and the async client alike.
    """

    @property
    def cookies(self) -> httpx.Cookies:
        """Cookie values to include when sending requests (as `httpx.Client.cookies`)."""
        self._cookies = cookies = _ours(self._cookies)
        return cookies

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._cookies = ResponseCookies(cookies)


class ApiClient(_ResponseCookiesClient, httpx.Client):
    """`httpx.Client` whose cookies are `ResponseCookies`."""


class ApiAsyncClient(_ResponseCookiesClient, httpx.AsyncClient):
    """`httpx.AsyncClient` whose cookies are `ResponseCookies`."""
