"""`Discogs` and `AsyncDiscogs`: typed access to every Discogs operation.

Both clients are the generated resource groups (`client.database.get_release(...)`) bound to an
executor that sends through one stack of httpx transports, outermost first:

    cache (hishel)  →  retry (tenacity)  →  rate limit  →  auth (signs every attempt)
                    →  logging  →  stats  →  HTTP

A cache hit never reaches the limiter; a retry waits for the limiter and is signed afresh;
every attempt is logged and counted.
Everything both clients share is decided once, in `ClientConfig`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, TypedDict, Unpack

import httpx
from discogs_facade import AsyncResources, Resources

from musicagent._executor import AsyncExecutor, SyncExecutor
from musicagent.auth import (
    AccessToken,
    AsyncAuthTransport,
    AuthTransport,
    KeySecretAuth,
    OAuth1Auth,
    TokenAuth,
    auth_from_credentials,
    check_base_url,
    credential_identity,
)
from musicagent.cache import (
    AsyncCacheStore,
    CachePolicy,
    CacheStore,
    async_cache_transport,
    cache_transport,
)
from musicagent.errors import InvalidParameterError
from musicagent.logging import AsyncLoggingTransport, LoggingTransport
from musicagent.ratelimit import (
    AsyncRateLimitTransport,
    RateLimiter,
    RateLimitStatus,
    RateLimitStore,
    RateLimitTransport,
    RedisRateLimitStore,
    SqliteRateLimitStore,
)
from musicagent.retry import AsyncRetryTransport, CircuitBreaker, RetryPolicy, RetryTransport
from musicagent.settings import DiscogsSettings
from musicagent.stats import AsyncStatsTransport, ClientStats, StatsTransport

TextFormat = Literal["discogs", "html", "plaintext"]
"""How Discogs renders text fields (the `Accept` media type; Docs L193-205)."""

_TEXT_FORMATS = ("discogs", "html", "plaintext")


class ClientOptions(TypedDict, total=False):
    """Keyword arguments `Discogs` and `AsyncDiscogs` share (all optional)."""

    consumer_key: str | None
    """Application consumer key (with `consumer_secret`: key/secret auth, or OAuth)."""
    consumer_secret: str | None
    """Application consumer secret."""
    oauth: OAuth1Auth | AccessToken | None
    """OAuth 1.0a credentials of a user who authorised the application."""
    user_agent: str | None
    """Identifying User-Agent (default `musicagent/<version> +<url>`)."""
    base_url: str | None
    """API root (default `https://api.discogs.com`; http only for loopback hosts)."""
    settings: DiscogsSettings | None
    """Settings to start from (default: `DISCOGS_*` environment variables and `.env`)."""
    rate_limiter: RateLimiter | Literal[False] | None
    """A limiter to share, or False for none (default: one per credential, shared)."""
    retry_policy: RetryPolicy | None
    """Attempts, backoff and what is retried (default from settings)."""
    timeout: float | None
    """Seconds before a request times out (default from settings)."""
    text_format: TextFormat
    """How Discogs renders text fields: discogs (markup), html or plaintext."""
    strict: bool | None
    """Validate every response body against the spec (default from settings)."""
    cache_policy: CachePolicy | None
    """Cache lifetimes per kind of data (default `CachePolicy()`)."""


@dataclass
class ClientConfig:
    """Everything a sync or async client is built from, resolved once from arguments/settings."""

    base_url: str
    user_agent: str
    auth: httpx.Auth | None
    limiter: RateLimiter | None
    retry_policy: RetryPolicy
    breaker: CircuitBreaker
    timeout: float
    accept: str
    strict: bool
    settings: DiscogsSettings
    stats: ClientStats
    cache_policy: CachePolicy | None = None

    @classmethod
    def resolve(
        cls,
        token: str | None = None,
        *,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        oauth: OAuth1Auth | AccessToken | None = None,
        user_agent: str | None = None,
        base_url: str | None = None,
        settings: DiscogsSettings | None = None,
        rate_limiter: RateLimiter | Literal[False] | None = None,
        retry_policy: RetryPolicy | None = None,
        timeout: float | None = None,
        text_format: TextFormat = "discogs",
        strict: bool | None = None,
        cache_policy: CachePolicy | None = None,
    ) -> ClientConfig:
        """Arguments win over settings (environment variables `DISCOGS_*` and `.env`)."""
        s = settings if settings is not None else DiscogsSettings()
        base = check_base_url(base_url or s.base_url).rstrip("/")
        agent = user_agent or s.user_agent
        if not agent.strip() or any(c in agent for c in "\r\n"):
            raise InvalidParameterError(
                "user_agent must be one non-empty line",
                parameter="user_agent",
                allowed="an identifying line such as 'MyApp/1.0 +https://example.com'",
            )
        if text_format not in _TEXT_FORMATS:
            raise InvalidParameterError(
                parameter="text_format", allowed=list(_TEXT_FORMATS), value=text_format
            )
        auth = _credential(token, consumer_key, consumer_secret, oauth, s)
        policy = retry_policy or RetryPolicy(
            max_attempts=s.max_retries + 1,
            backoff_factor=s.retry_backoff_factor,
            max_backoff=s.retry_max_backoff,
            max_total_time=s.retry_max_total_time,
        )
        return cls(
            base_url=base,
            user_agent=agent,
            auth=auth,
            limiter=_limiter(rate_limiter, auth, base, s),
            retry_policy=policy,
            breaker=CircuitBreaker(s.circuit_breaker_threshold, s.circuit_breaker_reset),
            timeout=timeout if timeout is not None else s.timeout,
            accept=f"application/vnd.discogs.v2.{text_format}+json",
            strict=s.strict_validation if strict is None else strict,
            settings=s,
            stats=ClientStats(),
            cache_policy=cache_policy,
        )

    def headers(self) -> dict[str, str]:
        """Headers sent with every request."""
        return {"User-Agent": self.user_agent, "Accept": self.accept}

    def identity(self) -> str:
        """The credential fingerprint now (follows `client.token = ...`); keys the cache."""
        return credential_identity(self.auth)

    def transport(
        self, inner: httpx.BaseTransport | None, cache: CacheStore | bool | None = None
    ) -> httpx.BaseTransport:
        """The sync transport stack around `inner` (a fresh `httpx.HTTPTransport` by default)."""
        stack: httpx.BaseTransport = self._stack(inner or httpx.HTTPTransport(), _SYNC, cache)
        return stack

    def async_transport(
        self, inner: httpx.AsyncBaseTransport | None, cache: AsyncCacheStore | bool | None = None
    ) -> httpx.AsyncBaseTransport:
        """The async transport stack around `inner` (an `httpx.AsyncHTTPTransport` by default)."""
        stack: httpx.AsyncBaseTransport = self._stack(
            inner or httpx.AsyncHTTPTransport(), _ASYNC, cache
        )
        return stack

    def _stack(self, inner: Any, layers: _Layers, cache: Any) -> Any:
        # Innermost first; the order is the request path described in the module docstring.
        transport = layers.logging(layers.stats(inner, self.stats))
        if self.auth is not None:
            transport = layers.auth(transport, self.auth)
        if self.limiter is not None:
            transport = layers.rate(transport, self.limiter)
        transport = layers.retry(transport, self.retry_policy, breaker=self.breaker)
        return layers.cache(
            transport,
            self.cache_policy,
            identity=self.identity,
            store=cache,
            settings=self.settings,
            on_hit=lambda _response: self.stats.record_cache_hit(),
        )


@dataclass(frozen=True)
class _Layers:
    """The transport classes of one flavour (sync or async), innermost first."""

    stats: Callable[..., Any]
    logging: Callable[..., Any]
    auth: Callable[..., Any]
    rate: Callable[..., Any]
    retry: Callable[..., Any]
    cache: Callable[..., Any]


_SYNC = _Layers(
    StatsTransport, LoggingTransport, AuthTransport, RateLimitTransport, RetryTransport,
    cache_transport,
)  # fmt: skip
_ASYNC = _Layers(
    AsyncStatsTransport, AsyncLoggingTransport, AsyncAuthTransport, AsyncRateLimitTransport,
    AsyncRetryTransport, async_cache_transport,
)  # fmt: skip


def _credential(
    token: str | None,
    consumer_key: str | None,
    consumer_secret: str | None,
    oauth: OAuth1Auth | AccessToken | None,
    s: DiscogsSettings,
) -> httpx.Auth | None:
    key = consumer_key or _reveal(s.consumer_key)
    secret = consumer_secret or _reveal(s.consumer_secret)
    if isinstance(oauth, OAuth1Auth):
        return oauth
    if isinstance(oauth, AccessToken):
        if not (key and secret):
            raise InvalidParameterError(
                "an OAuth access token needs the application's consumer_key and consumer_secret",
                parameter="consumer_key",
                allowed="the key and secret of the application the user authorised",
            )
        return OAuth1Auth(key, secret, oauth.token, oauth.token_secret)
    if token is not None:
        return TokenAuth(token)
    if consumer_key is not None or consumer_secret is not None:
        if not (consumer_key and consumer_secret):
            raise InvalidParameterError(
                "consumer_key and consumer_secret go together",
                parameter="consumer_secret" if consumer_key else "consumer_key",
                allowed="both the application's key and secret",
            )
        return KeySecretAuth(consumer_key, consumer_secret)
    return auth_from_credentials(
        token=_reveal(s.token),
        consumer_key=key,
        consumer_secret=secret,
        oauth_token=_reveal(s.oauth_token),
        oauth_token_secret=_reveal(s.oauth_token_secret),
    )


def _reveal(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _limiter(
    choice: RateLimiter | Literal[False] | None,
    auth: httpx.Auth | None,
    base_url: str,
    s: DiscogsSettings,
) -> RateLimiter | None:
    if choice is False:
        return None
    if choice is not None:
        return choice
    limit = s.rate_limit_requests if auth is not None else s.rate_limit_requests_anonymous
    # Discogs counts per credential and source; one budget per credential and server, unless
    # a budget name is shared on purpose (several credentials behind one address).
    host = httpx.URL(base_url).host
    if s.rate_limit_budget:
        budget = f"budget:{s.rate_limit_budget}@{host}"
    else:
        budget = f"{credential_identity(auth)}@{host}"
    store: RateLimitStore | None = None
    redis_url = s.redis_url_value()
    if s.rate_limit_backend == "redis" and redis_url:
        store = RedisRateLimitStore(redis_url, budget=budget)
    elif s.rate_limit_state_file:
        store = SqliteRateLimitStore(s.rate_limit_state_file, budget=budget)
    # Stores connect on first use, so one made here for an existing shared limiter costs nothing.
    return RateLimiter.shared(
        budget, limit, s.rate_limit_window, store=store, margin=s.rate_limit_margin
    )


class _ClientMixin:
    """Behaviour both clients expose identically (properties only: no I/O)."""

    _config: ClientConfig

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._config.base_url

    @property
    def user_agent(self) -> str:
        """The User-Agent sent with every request."""
        return self._config.user_agent

    @property
    def settings(self) -> DiscogsSettings:
        """The settings this client was built from."""
        return self._config.settings

    @property
    def rate_limit(self) -> RateLimitStatus | None:
        """The rate budget now: limit, used, remaining and seconds until the next free slot."""
        return self._config.limiter.status() if self._config.limiter else None

    @property
    def stats(self) -> ClientStats:
        """What this client sent so far: requests on the wire, statuses, 429s, cache hits."""
        return self._config.stats

    @property
    def limiter(self) -> RateLimiter | None:
        """The rate limiter shared by every client using this credential."""
        return self._config.limiter

    @property
    def auth(self) -> httpx.Auth | None:
        """The credential in use (its repr never shows secrets)."""
        return self._config.auth

    @property
    def token(self) -> str | None:
        """Personal token in use, or None; assign a new one to replace it on the live client."""
        auth = self._config.auth
        return auth.token if isinstance(auth, TokenAuth) else None

    @token.setter
    def token(self, value: str) -> None:
        auth = self._config.auth
        if not isinstance(auth, TokenAuth):
            raise InvalidParameterError(
                "this client does not use a personal token; build a new client instead",
                parameter="token",
                allowed="a client created with token=...",
            )
        auth.token = value

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"credential={credential_identity(self._config.auth)!r})"
        )


class Discogs(_ClientMixin, Resources):
    """Synchronous Discogs client.

    ::

        from musicagent import Discogs

        with Discogs(token="...") as client:
            release = client.database.get_release(249504)
            for item in client.collection.iter_collection_items_by_folder("me", 0):
                print(item.basic_information.title)

    Credentials: `token` (personal access token), or `consumer_key` + `consumer_secret`
    (application), or `oauth` (an `OAuth1Auth`, or an `AccessToken` with the consumer key and
    secret). Unset arguments come from settings: `DISCOGS_*` environment variables and `.env`.
    `transport` replaces the innermost HTTP transport (tests, proxies); `strict=True` validates
    every response body against the spec. Responses are cached per credential (`cache=False` or
    `DISCOGS_CACHE=off` to disable; `cache_policy` sets the lifetimes per kind of data).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        cache: CacheStore | bool | None = None,
        transport: httpx.BaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self._config = ClientConfig.resolve(token, **options)
        self.http = httpx.Client(
            base_url=self._config.base_url,
            headers=self._config.headers(),
            timeout=self._config.timeout,
            transport=self._config.transport(transport, cache),
        )
        """The underlying `httpx.Client` (raw access; requests pass through the same stack)."""
        self._executor = SyncExecutor(
            self.http, strict=self._config.strict, rate_limit=lambda: self.rate_limit
        )
        Resources.__init__(self, self._executor)

    def close(self) -> None:
        """Close connections."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncDiscogs(_ClientMixin, AsyncResources):
    """Asyncio Discogs client: the same methods as `Discogs`, awaited (`async for` for `iter_*`).

    ::

        async with AsyncDiscogs(token="...") as client:
            release = await client.database.get_release(249504)
            async for want in client.wantlist.iter_wantlist("me"):
                ...
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        cache: AsyncCacheStore | bool | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self._config = ClientConfig.resolve(token, **options)
        self.http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=self._config.headers(),
            timeout=self._config.timeout,
            transport=self._config.async_transport(transport, cache),
        )
        """The underlying `httpx.AsyncClient` (raw access; requests pass through the same stack)."""
        self._executor = AsyncExecutor(
            self.http, strict=self._config.strict, rate_limit=lambda: self.rate_limit
        )
        AsyncResources.__init__(self, self._executor)

    async def aclose(self) -> None:
        """Close connections."""
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
