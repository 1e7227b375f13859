"""Discogs credentials: personal token, consumer key + secret, and OAuth 1.0a.

Each credential is an ``httpx.Auth`` that writes the ``Authorization`` header. The clients hand
it to httpx as ``auth=``, wrapped in :class:`OriginBoundAuth` so it is attached only to requests
for the configured API origin (raw ``client.http`` calls and redirects included). httpx runs the
auth flow for every ``send``, and the request loop sends each attempt afresh, so every attempt is
signed anew and an OAuth nonce is never replayed. This module also holds the OAuth 1.0a
three-legged flow (:class:`OAuthFlow`, :class:`AsyncOAuthFlow`), a :class:`TokenStore` for the
access tokens it yields, the HTTPS rule for base URLs and the default User-Agent.

    client = httpx.Client(auth=TokenAuth("my-personal-token"))
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import logging
import os
import secrets
import unicodedata
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, get_args
from urllib.parse import parse_qsl

import httpx

from musicagent.errors import DiscogsAPIError, InvalidParameterError, error_class_for_status
from musicagent.masking import mask_text, register_secret

__all__ = [
    "ANONYMOUS_IDENTITY",
    "DEFAULT_AUTHORIZE_URL",
    "DEFAULT_BASE_URL",
    "AccessToken",
    "AsyncOAuthFlow",
    "KeySecretAuth",
    "OAuth1Auth",
    "OAuthFlow",
    "OriginBoundAuth",
    "RequestToken",
    "SavedLogin",
    "SignatureMethod",
    "TokenAuth",
    "TokenStore",
    "auth_from_credentials",
    "check_base_url",
    "credential_fingerprint",
    "credential_identity",
    "default_credentials_path",
    "default_user_agent",
    "is_loopback_host",
    "sign_request",
]

DEFAULT_BASE_URL = "https://api.discogs.com"
DEFAULT_AUTHORIZE_URL = "https://www.discogs.com/oauth/authorize"
ANONYMOUS_IDENTITY = "anonymous"
"""The identity used for rate limiting and cache keys when no credential is configured."""

SignatureMethod = Literal["PLAINTEXT", "HMAC-SHA1"]
"""OAuth 1.0a signature methods Discogs accepts; it recommends PLAINTEXT over HTTPS."""

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_PROJECT_URL = "https://github.com/musicagent/musicagent"
_LOOPBACK_NAMES = frozenset({"localhost"})


class _OAuthlibSigningFilter(logging.Filter):
    """Drops oauthlib's DEBUG records of a signing: they print the signature base string
    (holding the OAuth token) and the signature itself, in clear, to whoever logs DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# The client's signing logs on this logger only (a filter here leaves its children alone).
_oauthlib_signing_logger = logging.getLogger("oauthlib.oauth1.rfc5849")
if not any(isinstance(f, _OAuthlibSigningFilter) for f in _oauthlib_signing_logger.filters):
    _oauthlib_signing_logger.addFilter(_OAuthlibSigningFilter())


# --- identity, User-Agent and base URL ---------------------------------------------------------


def default_user_agent() -> str:
    """The User-Agent Discogs asks every application to send: ``musicagent/<version> +<url>``."""
    # A constant, not importlib.metadata: scanning the installed distributions costs more than
    # the rest of building a client.
    from musicagent._version import __version__

    return f"musicagent/{__version__} +{_PROJECT_URL}"


def check_base_url(url: str | httpx.URL) -> str:
    """Return the API base URL without a trailing slash, or raise if it is unsafe.

    Credentials travel in headers, so plain ``http://`` is refused except for loopback hosts
    (``localhost``, ``127.0.0.0/8``, ``::1``) where a local sandbox runs. Raises
    :class:`~musicagent.errors.InvalidParameterError` naming ``base_url``.
    """
    text = str(url).strip()
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise InvalidParameterError(
            f"base_url {text!r} is not a valid URL: {exc}", parameter="base_url", value=text
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidParameterError(
            f"base_url must be an absolute https:// URL, got {text!r}",
            parameter="base_url",
            allowed="https://<host>, or http:// on a loopback host",
            value=text,
        )
    if parsed.scheme == "http" and not is_loopback_host(parsed.host):
        raise InvalidParameterError(
            f"base_url {text!r} uses plain http; credentials would be sent unencrypted. "
            "Use https://, or http:// only for a loopback host (localhost, 127.0.0.1, ::1).",
            parameter="base_url",
            allowed="https://<host>, or http:// on a loopback host",
            value=text,
        )
    return text.rstrip("/")


def credential_identity(auth: httpx.Auth | None) -> str:
    """A short stable fingerprint of a credential, safe to log and to use in cache keys.

    Returns the ``identity`` of the musicagent credential classes and
    :data:`ANONYMOUS_IDENTITY` for no credential.
    """
    if auth is None:
        return ANONYMOUS_IDENTITY
    identity = getattr(auth, "identity", None)
    return identity if isinstance(identity, str) else f"{type(auth).__name__}:{id(auth):x}"


@functools.lru_cache(maxsize=256)
def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine (localhost, 127.0.0.0/8, ::1)."""
    # Memoised: every attempt asks it about the same few hosts.
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def credential_fingerprint(*parts: str, kind: str = "credential") -> str:
    """A short, one-way hash of a credential: what the credential classes give as `identity`.

    `credential_fingerprint(token, kind="token") == TokenAuth(token).identity`, which is what
    `credential_identity` returns for it; usable as the key of `RateLimiter.shared`. Only the
    hash is kept, so whatever holds it never holds a secret.
    """
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
    return f"{kind}:{digest[:12]}"


def _checked(value: str, parameter: str) -> str:
    """Refuse values that would break or inject into an HTTP header, before any request."""
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(
            f"{parameter} must be a non-empty string", parameter=parameter, allowed="non-empty text"
        )
    if any(unicodedata.category(character) == "Cc" for character in value):
        # The value itself is never echoed: it is a credential.
        raise InvalidParameterError(
            f"{parameter} contains a line break or another control character; "
            "check for a stray newline when it was copied",
            parameter=parameter,
            allowed="printable characters only",
        )
    if value != value.strip():
        # h11 refuses a header value with edge whitespace, which would surface much later as
        # a misleading network error; say what is wrong now.
        raise InvalidParameterError(
            f"{parameter} starts or ends with a space; check how it was copied",
            parameter=parameter,
            allowed="text without leading or trailing spaces",
        )
    return value


def _checked_optional(value: str | None, parameter: str) -> str | None:
    return None if value is None else _checked(value, parameter)


# --- credentials --------------------------------------------------------------------------------


class TokenAuth(httpx.Auth):
    """A Discogs personal access token, sent as ``Authorization: Discogs token=<token>``.

    The token can be replaced on a live object (``auth.token = new_token``); the next request
    uses the new one. ``repr`` and ``identity`` never show the token.
    """

    def __init__(self, token: str) -> None:
        self.token = token

    @property
    def token(self) -> str:
        """The personal access token (from Discogs developer settings)."""
        return self._token

    @token.setter
    def token(self, value: str) -> None:
        self._token = _checked(value, "token")
        # Worked out once per token: the cache asks for it on every call.
        self._identity = credential_fingerprint(self._token, kind="token")
        register_secret(self._token)

    @property
    def identity(self) -> str:
        """``token:`` plus the first 12 hex digits of the token's SHA-256."""
        return self._identity

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the token header to the request."""
        request.headers["Authorization"] = f"Discogs token={self._token}"
        yield request

    def __repr__(self) -> str:
        return f"TokenAuth(identity={self.identity!r})"


class KeySecretAuth(httpx.Auth):
    """An application's consumer key and secret, without a user.

    Sent as ``Authorization: Discogs key=<key>, secret=<secret>``: enough for the high rate tier
    and image URLs, but not for anything that acts as a user.
    """

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self.consumer_key = _checked(consumer_key, "consumer_key")
        self._consumer_secret = _checked(consumer_secret, "consumer_secret")
        register_secret(self._consumer_secret)

    @property
    def identity(self) -> str:
        """``key:`` plus the first 12 hex digits of a SHA-256 over key and secret."""
        return credential_fingerprint(self.consumer_key, self._consumer_secret, kind="key")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the key/secret header to the request."""
        request.headers["Authorization"] = (
            f"Discogs key={self.consumer_key}, secret={self._consumer_secret}"
        )
        yield request

    def __repr__(self) -> str:
        return f"KeySecretAuth(identity={self.identity!r})"


class OAuth1Auth(httpx.Auth):
    """OAuth 1.0a request signing, done by oauthlib.

    Give the consumer key and secret of the application and, once the user has authorised it,
    the access token and token secret. Every call of ``auth_flow`` signs with a fresh nonce and
    timestamp, so a retried request is signed again rather than replayed. Parameters of a
    form-encoded body are part of the signature, as RFC 5849 requires; other bodies are not.
    """

    requires_request_body = True

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        token: str | None = None,
        token_secret: str | None = None,
        *,
        signature_method: SignatureMethod = "PLAINTEXT",
        callback_uri: str | None = None,
        verifier: str | None = None,
    ) -> None:
        if signature_method not in get_args(SignatureMethod):
            raise InvalidParameterError(
                f"signature_method must be one of {', '.join(get_args(SignatureMethod))}",
                parameter="signature_method",
                allowed=list(get_args(SignatureMethod)),
                value=signature_method,
            )
        if (token is None) != (token_secret is None):
            raise InvalidParameterError(
                "token and token_secret must be given together",
                parameter="token_secret" if token_secret is None else "token",
            )
        self.consumer_key = _checked(consumer_key, "consumer_key")
        self._consumer_secret = _checked(consumer_secret, "consumer_secret")
        self._token = _checked_optional(token, "token")
        self._token_secret = _checked_optional(token_secret, "token_secret")
        self.signature_method: SignatureMethod = signature_method
        self.callback_uri = _checked_optional(callback_uri, "callback_uri")
        self._verifier = _checked_optional(verifier, "verifier")
        for secret in (self._consumer_secret, self._token, self._token_secret, self._verifier):
            register_secret(secret)

    @property
    def identity(self) -> str:
        """``oauth:`` plus the first 12 hex digits of a SHA-256 over consumer key and token."""
        return credential_fingerprint(self.consumer_key, self._token or "", kind="oauth")

    def authorization_header(
        self,
        method: str,
        url: str | httpx.URL,
        headers: Mapping[str, str] | httpx.Headers | None = None,
        body: bytes = b"",
    ) -> str:
        """Sign one request and return its ``Authorization: OAuth …`` header value.

        A new nonce and timestamp are drawn on every call.
        """
        # oauthlib loads with the first OAuth signature: token and key/secret clients never need it.
        from oauthlib.oauth1 import Client as OAuthClient  # type: ignore[import-untyped, unused-ignore]

        form_body = _signable_form_body(method, headers or {}, body)
        client = OAuthClient(
            self.consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self._token,
            resource_owner_secret=self._token_secret,
            callback_uri=self.callback_uri,
            signature_method=self.signature_method,
            verifier=self._verifier,
        )
        try:
            _uri, signed_headers, _body = client.sign(
                str(url),
                http_method=method.upper(),  # type: ignore[arg-type]
                body=form_body,
                headers={"Content-Type": _FORM_CONTENT_TYPE} if form_body else None,
            )
        except ValueError as exc:
            raise InvalidParameterError(
                f"request cannot be OAuth-signed: {exc}", parameter="body"
            ) from None
        return str(signed_headers["Authorization"])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign the request with a fresh nonce and timestamp."""
        request.headers["Authorization"] = self.authorization_header(
            request.method, request.url, request.headers, request.content
        )
        yield request

    def __repr__(self) -> str:
        return (
            f"OAuth1Auth(identity={self.identity!r}, "
            f"signature_method={self.signature_method!r}, "
            f"has_token={self._token is not None})"
        )


def _signable_form_body(method: str, headers: Mapping[str, str], body: bytes) -> str | None:
    """The body to include in the signature: only a non-empty form body of a non-GET request."""
    content_type = next(
        (value for name, value in headers.items() if name.lower() == "content-type"), ""
    )
    is_form = content_type.split(";")[0].strip().lower() == _FORM_CONTENT_TYPE
    if not is_form or not body or method.upper() in ("GET", "HEAD"):
        return None
    return body.decode("utf-8")


def auth_from_credentials(
    *,
    token: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    oauth_token: str | None = None,
    oauth_token_secret: str | None = None,
    signature_method: SignatureMethod = "PLAINTEXT",
) -> httpx.Auth | None:
    """Choose the credential to use from whatever is configured.

    OAuth (consumer key + secret + access token + token secret) wins over a personal token,
    which wins over a bare consumer key + secret; nothing configured gives ``None``
    (anonymous, low rate tier).
    """
    if consumer_key and consumer_secret and oauth_token and oauth_token_secret:
        return OAuth1Auth(
            consumer_key,
            consumer_secret,
            oauth_token,
            oauth_token_secret,
            signature_method=signature_method,
        )
    if token:
        return TokenAuth(token)
    if consumer_key and consumer_secret:
        return KeySecretAuth(consumer_key, consumer_secret)
    return None


# --- where credentials may go ------------------------------------------------------------------


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: httpx.URL | str) -> tuple[str, str, int | None]:
    """The (scheme, host, port) a URL belongs to, with default ports made explicit."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    return parsed.scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS.get(parsed.scheme)


class OriginBoundAuth(httpx.Auth):
    """A credential attached only to requests for one origin: the API's base URL.

    A raw ``client.http.get("https://elsewhere/…")`` goes out without ``Authorization``; so does
    any request for another scheme, host or port. httpx itself strips ``Authorization`` from a
    redirect that leaves the origin and never runs the auth flow again for it.
    """

    def __init__(self, auth: httpx.Auth, base_url: str | httpx.URL) -> None:
        self.auth = auth
        self.origin = origin_of(base_url)
        # OAuth signs form bodies: httpx must read the body before the flow runs.
        self.requires_request_body = auth.requires_request_body

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign the request when it is for the bound origin; send it unsigned otherwise."""
        if origin_of(request.url) != self.origin:
            yield request
            return
        yield from self.auth.auth_flow(request)

    def __repr__(self) -> str:
        return f"OriginBoundAuth({self.auth!r}, origin={self.origin!r})"


def sign_request(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    """Run the first step of an auth flow on a request and return the request it yields.

    Works for single-step flows (all musicagent credentials, ``httpx.BasicAuth``); a flow that
    needs to see a response first would only get its first step applied.
    """
    flow = auth.auth_flow(request)
    try:
        return next(flow)
    finally:
        flow.close()


# --- OAuth 1.0a three-legged flow ---------------------------------------------------------------


@dataclass(frozen=True)
class RequestToken:
    """The temporary token of step 1; the user authorises it, and it expires after 15 minutes."""

    token: str
    token_secret: str = field(repr=False)
    callback_confirmed: bool = False


@dataclass(frozen=True)
class AccessToken:
    """The user's OAuth access token and token secret; they do not expire until revoked."""

    token: str
    token_secret: str

    @property
    def identity(self) -> str:
        """A short fingerprint of the token, safe to print."""
        return credential_fingerprint(self.token, kind="access")

    def auth(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        signature_method: SignatureMethod = "PLAINTEXT",
    ) -> OAuth1Auth:
        """The credential that signs requests as this user."""
        return OAuth1Auth(
            consumer_key,
            consumer_secret,
            self.token,
            self.token_secret,
            signature_method=signature_method,
        )

    def __repr__(self) -> str:
        return f"AccessToken(identity={self.identity!r})"


class _OAuthFlowCore:
    """What both flows share: building the signed requests and reading the answers."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        authorize_url: str = DEFAULT_AUTHORIZE_URL,
        callback_uri: str = "oob",
        signature_method: SignatureMethod = "PLAINTEXT",
        user_agent: str | None = None,
    ) -> None:
        self.consumer_key = _checked(consumer_key, "consumer_key")
        self._consumer_secret = _checked(consumer_secret, "consumer_secret")
        register_secret(self._consumer_secret)
        self.base_url = check_base_url(base_url)
        self.authorize_url = check_base_url(authorize_url)
        self.callback_uri = _checked(callback_uri, "callback_uri")
        self.signature_method: SignatureMethod = signature_method
        self.user_agent = _checked(user_agent or default_user_agent(), "user_agent")

    def authorization_url(self, request_token: RequestToken) -> str:
        """The Discogs page where the user approves the application and gets a verifier."""
        return str(httpx.URL(self.authorize_url, params={"oauth_token": request_token.token}))

    def _request_token_request(self) -> tuple[httpx.Request, OAuth1Auth]:
        auth = OAuth1Auth(
            self.consumer_key,
            self._consumer_secret,
            signature_method=self.signature_method,
            callback_uri=self.callback_uri,
        )
        return self._build("GET", "/oauth/request_token"), auth

    def _access_token_request(
        self, request_token: RequestToken, verifier: str
    ) -> tuple[httpx.Request, OAuth1Auth]:
        # Users paste verifiers from a browser page; surrounding whitespace is never part of it.
        auth = OAuth1Auth(
            self.consumer_key,
            self._consumer_secret,
            request_token.token,
            request_token.token_secret,
            signature_method=self.signature_method,
            verifier=verifier.strip(),
        )
        return self._build("POST", "/oauth/access_token"), auth

    def _build(self, method: str, path: str) -> httpx.Request:
        headers = {"User-Agent": self.user_agent, "Content-Type": _FORM_CONTENT_TYPE}
        return httpx.Request(method, f"{self.base_url}{path}", headers=headers)

    def _parse_request_token(self, response: httpx.Response) -> RequestToken:
        fields = self._token_fields(response, "request token")
        return RequestToken(
            token=fields["oauth_token"],
            token_secret=fields["oauth_token_secret"],
            callback_confirmed=fields.get("oauth_callback_confirmed", "").strip("'\"") == "true",
        )

    def _parse_access_token(self, response: httpx.Response) -> AccessToken:
        fields = self._token_fields(response, "access token")
        return AccessToken(token=fields["oauth_token"], token_secret=fields["oauth_token_secret"])

    def _token_fields(self, response: httpx.Response, step: str) -> dict[str, str]:
        if response.status_code != 200:
            raise self._refused(response, step)
        fields = dict(parse_qsl(response.text, keep_blank_values=True))
        # The Discogs documentation shows the tokens as response headers; accept either.
        for name in ("oauth_token", "oauth_token_secret", "oauth_callback_confirmed"):
            if name not in fields and name in response.headers:
                fields[name] = response.headers[name]
        if not fields.get("oauth_token") or not fields.get("oauth_token_secret"):
            raise DiscogsAPIError(
                f"the {step} response has no oauth_token and oauth_token_secret",
                status=response.status_code,
                method=response.request.method,
                url=response.request.url,
                response=response,
            )
        register_secret(fields["oauth_token_secret"])
        return fields

    def _refused(self, response: httpx.Response, step: str) -> DiscogsAPIError:
        detail = mask_text(response.text.strip()[:200], [self._consumer_secret])
        hint = (
            " The request token and verifier expire 15 minutes after the request token "
            "is issued; start again with a new request token."
            if step == "access token"
            else " Check the consumer key and secret."
        )
        message = f"Discogs refused the OAuth {step} request" + (f": {detail}." if detail else ".")
        return error_class_for_status(response.status_code)(
            message + hint,
            status=response.status_code,
            method=response.request.method,
            url=response.request.url,
            response=response,
        )


class OAuthFlow(_OAuthFlowCore):
    """The OAuth 1.0a three-legged flow, step by step.

    ::

        with OAuthFlow(key, secret) as flow:
            request_token = flow.fetch_request_token()
            print("Open", flow.authorization_url(request_token))
            access = flow.fetch_access_token(request_token, input("Verifier: "))
        TokenStore().save(access)

    A refused step (HTTP 400, e.g. an expired verifier) raises
    :class:`~musicagent.errors.BadRequestError` with the server's explanation.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        authorize_url: str = DEFAULT_AUTHORIZE_URL,
        callback_uri: str = "oob",
        client: httpx.Client | None = None,
        signature_method: SignatureMethod = "PLAINTEXT",
        user_agent: str | None = None,
    ) -> None:
        super().__init__(
            consumer_key,
            consumer_secret,
            base_url=base_url,
            authorize_url=authorize_url,
            callback_uri=callback_uri,
            signature_method=signature_method,
            user_agent=user_agent,
        )
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=30.0)

    def fetch_request_token(self) -> RequestToken:
        """Step 1: ask Discogs for a request token (``GET /oauth/request_token``)."""
        request, auth = self._request_token_request()
        return self._parse_request_token(self._client.send(request, auth=auth))

    def fetch_access_token(self, request_token: RequestToken, verifier: str) -> AccessToken:
        """Step 3: trade the authorised request token and verifier for the access token."""
        request, auth = self._access_token_request(request_token, verifier)
        return self._parse_access_token(self._client.send(request, auth=auth))

    def close(self) -> None:
        """Close the HTTP client if this flow created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncOAuthFlow(_OAuthFlowCore):
    """Async twin of :class:`OAuthFlow`; use ``async with`` and ``await`` the fetch methods."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        authorize_url: str = DEFAULT_AUTHORIZE_URL,
        callback_uri: str = "oob",
        client: httpx.AsyncClient | None = None,
        signature_method: SignatureMethod = "PLAINTEXT",
        user_agent: str | None = None,
    ) -> None:
        super().__init__(
            consumer_key,
            consumer_secret,
            base_url=base_url,
            authorize_url=authorize_url,
            callback_uri=callback_uri,
            signature_method=signature_method,
            user_agent=user_agent,
        )
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=30.0)

    async def fetch_request_token(self) -> RequestToken:
        """Step 1: ask Discogs for a request token (``GET /oauth/request_token``)."""
        request, auth = self._request_token_request()
        return self._parse_request_token(await self._client.send(request, auth=auth))

    async def fetch_access_token(self, request_token: RequestToken, verifier: str) -> AccessToken:
        """Step 3: trade the authorised request token and verifier for the access token."""
        request, auth = self._access_token_request(request_token, verifier)
        return self._parse_access_token(await self._client.send(request, auth=auth))

    async def aclose(self) -> None:
        """Close the HTTP client if this flow created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


# --- storing access tokens ----------------------------------------------------------------------


def default_credentials_path() -> Path:
    """``$XDG_CONFIG_HOME/musicagent/credentials.json``, else ``~/.config/musicagent/…``."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "musicagent" / "credentials.json"


@dataclass(frozen=True)
class SavedLogin:
    """What `musicagent auth login` saves: the access token and the application it belongs to.

    The consumer key and secret are kept beside the token (same 0600 file) because every OAuth
    request is signed with all four: without them the saved token cannot be used.
    """

    access: AccessToken
    consumer_key: str | None = None
    consumer_secret: str | None = field(default=None, repr=False)

    def auth(self) -> OAuth1Auth | None:
        """The credential signing as this user, or None without the application's key/secret."""
        if not (self.consumer_key and self.consumer_secret):
            return None
        return self.access.auth(self.consumer_key, self.consumer_secret)


class TokenStore:
    """Saves and loads OAuth access tokens as a JSON file readable only by the user (0600).

    The default location is :func:`default_credentials_path`; pass ``path`` to use another file.
    Writes are atomic: a reader sees either the old file or the new one, never half of one. The
    application's consumer key and secret can be saved beside the token (:meth:`load_login`).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_credentials_path()

    def save(
        self,
        token: AccessToken,
        *,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
    ) -> Path:
        """Write the access token and token secret (and the application's consumer key and
        secret, when given), replacing any saved before."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = {"oauth_token": token.token, "oauth_token_secret": token.token_secret}
        if consumer_key and consumer_secret:
            data |= {"consumer_key": consumer_key, "consumer_secret": consumer_secret}
        payload = json.dumps(data, indent=2)
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        # Created 0600 from the first byte (a chmod after writing would leave a window), and
        # never through a link planted at the temporary name.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(temporary, flags, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return self.path

    def load(self) -> AccessToken | None:
        """The saved access token, or ``None`` when nothing has been saved."""
        login = self.load_login()
        return login.access if login is not None else None

    def load_login(self) -> SavedLogin | None:
        """The saved access token with its application's key and secret (None where an older
        login did not save them), or ``None`` when nothing has been saved."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        data: Any = _parse_json(text, self.path)
        if not isinstance(data, dict):
            data = {}
        token = data.get("oauth_token")
        token_secret = data.get("oauth_token_secret")
        if not isinstance(token, str) or not isinstance(token_secret, str):
            raise ValueError(
                f"credentials file {self.path} lacks oauth_token and oauth_token_secret"
            )
        register_secret(token_secret)
        key, secret = data.get("consumer_key"), data.get("consumer_secret")
        if isinstance(secret, str):
            register_secret(secret)
        return SavedLogin(
            AccessToken(token=token, token_secret=token_secret),
            key if isinstance(key, str) else None,
            secret if isinstance(secret, str) else None,
        )

    def delete(self) -> bool:
        """Remove the saved tokens; returns whether there was anything to remove."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    def __repr__(self) -> str:
        return f"TokenStore(path={str(self.path)!r})"


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        # The parser's message can quote file content, i.e. a secret; do not chain it.
        raise ValueError(f"credentials file {path} is not valid JSON") from None
