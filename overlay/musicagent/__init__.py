"""MusicAgent: a typed, spec-driven Python client for the Discogs API v2.

::

    from musicagent import Discogs

    with Discogs(token="...") as client:
        print(client.database.get_release(249504).title)

Every public name is imported on first use (`from musicagent import Discogs` loads the client
and what it needs, nothing else), so `import musicagent` costs almost nothing.
"""

from __future__ import annotations

import importlib
import logging as _stdlib_logging
from typing import TYPE_CHECKING, Any

from musicagent._version import __version__

if TYPE_CHECKING:
    from musicagent.async_client import AsyncDiscogs
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
    from musicagent.client import ClientConfig, ClientOptions, Discogs
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

# A library installs no handler of its own but this one, so an application without logging
# configured does not see "No handlers could be found" (musicagent.logging adds the same one;
# adding it here keeps that promise without importing the log formatters).
_library_logger = _stdlib_logging.getLogger("musicagent")
if not any(isinstance(h, _stdlib_logging.NullHandler) for h in _library_logger.handlers):
    _library_logger.addHandler(_stdlib_logging.NullHandler())

_EXPORTS: dict[str, str] = {
    "AccessToken": "musicagent.auth",
    "AsyncOAuthFlow": "musicagent.auth",
    "KeySecretAuth": "musicagent.auth",
    "OAuth1Auth": "musicagent.auth",
    "OAuthFlow": "musicagent.auth",
    "TokenAuth": "musicagent.auth",
    "TokenStore": "musicagent.auth",
    "AsyncCacheStore": "musicagent.cache",
    "CacheInfo": "musicagent.cache",
    "CachePolicy": "musicagent.cache",
    "CacheStore": "musicagent.cache",
    "AsyncDiscogs": "musicagent.async_client",
    "ClientConfig": "musicagent.client",
    "ClientOptions": "musicagent.client",
    "Discogs": "musicagent.client",
    "AuthenticationError": "musicagent.errors",
    "BadRequestError": "musicagent.errors",
    "DiscogsAPIError": "musicagent.errors",
    "ForbiddenError": "musicagent.errors",
    "InvalidParameterError": "musicagent.errors",
    "NetworkError": "musicagent.errors",
    "RateLimitError": "musicagent.errors",
    "ResourceNotFoundError": "musicagent.errors",
    "ResponseValidationError": "musicagent.errors",
    "ServerError": "musicagent.errors",
    "RateLimiter": "musicagent.ratelimit",
    "RateLimitStatus": "musicagent.ratelimit",
    "CircuitBreaker": "musicagent.retry",
    "RetryPolicy": "musicagent.retry",
    "DiscogsSettings": "musicagent.settings",
}
"""Where each public name lives; `__getattr__` imports the module on first access."""


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access and keep the name here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'musicagent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
