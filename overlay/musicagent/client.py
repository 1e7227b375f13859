"""`Discogs` and `AsyncDiscogs`: typed access to every Discogs operation.

Both clients are the generated resource groups (`client.database.get_release(...)`) bound to an
executor that runs each call through the one request loop (`musicagent.request_loop`):

    executor → loop: cache lookup → attempts (httpx signs each one with `auth=`; the wire
    transport paces, bounds, logs and counts it) → retry decision → cache store → parse once

A cache hit never reaches the limiter; a retry waits for the limiter and is signed afresh;
every attempt is logged and counted. Raw `client.http` calls get the same signing (for the API's
own origin only) and the same wire rules, without the loop's cache and retries.
Everything both clients share is decided once, in `ClientConfig`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypedDict, Unpack

import httpx
from discogs_facade import Resources

from musicagent._executor import SyncExecutor
from musicagent.auth import (
    AccessToken,
    KeySecretAuth,
    OAuth1Auth,
    OriginBoundAuth,
    TokenAuth,
    auth_from_credentials,
    check_base_url,
    credential_identity,
)
from musicagent.cache import CachePolicy, CacheStore, LoopCache, loop_cache
from musicagent.cookies import ApiClient
from musicagent.deadline import with_deadlines
from musicagent.errors import InvalidParameterError
from musicagent.pagination import MAX_PAGES
from musicagent.ratelimit import (
    RateLimiter,
    RateLimitStatus,
    RateLimitStore,
    RedisRateLimitStore,
    SqliteRateLimitStore,
)
from musicagent.request_loop import CacheHooks, LoopSettings, SyncIO
from musicagent.retry import CircuitBreaker, RetryPolicy
from musicagent.settings import DiscogsSettings
from musicagent.stats import ClientStats
from musicagent.wire import WireRules, WireTransport

if TYPE_CHECKING:
    from musicagent.recording import Recorder

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
    """Seconds one read may wait for data (default from settings, `DISCOGS_TIMEOUT`)."""
    total_timeout: float | None
    """Seconds one whole attempt may take (default `DISCOGS_TOTAL_TIMEOUT`)."""
    max_response_bytes: int | None
    """Largest body accepted, before and after decompression (`DISCOGS_MAX_RESPONSE_BYTES`)."""
    record_to: str | os.PathLike[str] | None
    """A folder: every response received is written there, scrubbed, with a manifest that
    `musicagent validate-response --manifest` reads (default `DISCOGS_RECORD_DIR`)."""
    max_pages: int | None
    """The most pages one `iter_*` walk follows before `PaginationError` (default 10,000)."""
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
    total_timeout: float
    max_response_bytes: int
    max_pages: int
    recorder: Recorder | None
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
        total_timeout: float | None = None,
        max_response_bytes: int | None = None,
        max_pages: int | None = None,
        record_to: str | os.PathLike[str] | None = None,
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
            total_timeout=_positive(total_timeout, s.total_timeout, "total_timeout"),
            max_response_bytes=int(
                _positive(max_response_bytes, s.max_response_bytes, "max_response_bytes")
            ),
            max_pages=int(_positive(max_pages, MAX_PAGES, "max_pages")),
            recorder=_recorder(record_to if record_to is not None else s.record_dir),
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

    def loop(self, cache: CacheHooks | None) -> LoopSettings:
        """The request loop's settings for a client of this configuration."""
        return LoopSettings(self.retry_policy, self.breaker, self.stats, cache)

    def http_options(self) -> dict[str, Any]:
        """What both `httpx.Client` and `httpx.AsyncClient` are built with."""
        bound = OriginBoundAuth(self.auth, self.base_url) if self.auth is not None else None
        # Only the encodings httpx decodes without extra packages; the loop caps their output.
        headers = {**self.headers(), "Accept-Encoding": "gzip, deflate"}
        return {
            "base_url": self.base_url,
            "headers": headers,
            "timeout": self.timeout,
            "auth": bound,
        }

    def wire_rules(self) -> WireRules:
        """The per-attempt rules of the wire transport."""
        return WireRules(
            limiter=self.limiter,
            stats=self.stats,
            total_timeout=self.total_timeout,
            max_response_bytes=self.max_response_bytes,
        )


def _recorder(folder: str | os.PathLike[str] | None) -> Recorder | None:
    if folder is None:
        return None
    from musicagent.recording import Recorder  # only when recording is asked for

    return Recorder(Path(folder))


def _positive(value: float | None, default: float, parameter: str) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidParameterError(parameter=parameter, allowed="a number above 0", value=value)
    return value


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


def _cache_hooks(config: ClientConfig, cache: CacheStore | bool | None) -> LoopCache | None:
    """The loop's cache, from the `cache=` argument and the settings."""
    return loop_cache(cache, config.cache_policy, config.identity, config.settings)


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
        self._config = config = ClientConfig.resolve(token, **options)
        inner = transport if transport is not None else with_deadlines(httpx.HTTPTransport())
        self.http = ApiClient(
            transport=WireTransport(inner, config.wire_rules()), **config.http_options()
        )
        """The underlying `httpx.Client`: signed for the API's origin only, paced, logged and
        counted like every attempt, but without the loop's cache and retries."""
        self._cache = hooks = _cache_hooks(config, cache)
        self._executor = SyncExecutor(
            self.http,
            config.loop(hooks),
            SyncIO(self.http, max_response_bytes=config.max_response_bytes, cache=hooks),
            strict=config.strict,
            rate_limit=lambda: self.rate_limit,
            max_pages=config.max_pages,
            recorder=config.recorder,
        )
        Resources.__init__(self, self._executor)

    def close(self) -> None:
        """Close connections."""
        self.http.close()
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def __getattr__(name: str) -> Any:
    # `AsyncDiscogs` lives in `musicagent.async_client`: a sync program never imports the
    # async facade (`from musicagent.client import AsyncDiscogs` still works).
    if name == "AsyncDiscogs":
        from musicagent.async_client import AsyncDiscogs

        return AsyncDiscogs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
