"""MusicAgent: a typed, spec-driven Python client for the Discogs API v2.

::

    from musicagent import Discogs

    with Discogs(token="...") as client:
        print(client.database.get_release(249504).title)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from musicagent import logging as _logging  # noqa: F401  (installs the library's NullHandler)
from musicagent.auth import (
    AccessToken,
    AsyncOAuthFlow,
    KeySecretAuth,
    OAuth1Auth,
    OAuthFlow,
    TokenAuth,
    TokenStore,
)
from musicagent.cache import AsyncCacheStore, CacheInfo, CachePolicy, CacheStore
from musicagent.client import AsyncDiscogs, ClientConfig, ClientOptions, Discogs
from musicagent.errors import (
    AuthenticationError,
    BadRequestError,
    DiscogsAPIError,
    ForbiddenError,
    InvalidParameterError,
    NetworkError,
    RateLimitError,
    ResourceNotFoundError,
    ResponseValidationError,
    ServerError,
)
from musicagent.ratelimit import RateLimiter, RateLimitStatus
from musicagent.retry import CircuitBreaker, RetryPolicy
from musicagent.settings import DiscogsSettings

try:
    __version__ = version("musicagent")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "AsyncCacheStore",
    "AsyncDiscogs",
    "AsyncOAuthFlow",
    "AuthenticationError",
    "BadRequestError",
    "CacheInfo",
    "CachePolicy",
    "CacheStore",
    "CircuitBreaker",
    "ClientConfig",
    "ClientOptions",
    "Discogs",
    "DiscogsAPIError",
    "DiscogsSettings",
    "ForbiddenError",
    "InvalidParameterError",
    "KeySecretAuth",
    "NetworkError",
    "OAuth1Auth",
    "OAuthFlow",
    "RateLimitError",
    "RateLimitStatus",
    "RateLimiter",
    "ResourceNotFoundError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServerError",
    "TokenAuth",
    "TokenStore",
    "__version__",
]
