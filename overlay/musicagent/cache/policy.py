"""What is cached for how long, and the key a response is stored under.

Lifetimes come from the per-operation kind in the spec (``x-musicagent-cache``) and the
`CachePolicy` below, never from the server's HTTP caching headers: Discogs sends none that
describe how long its data stays valid.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import httpx

from musicagent.errors import InvalidParameterError
from musicagent.masking import is_secret_name

__all__ = [
    "KINDS",
    "CacheKind",
    "CachePolicy",
    "CacheScope",
    "cache_key",
    "key_url",
    "scope_fingerprint",
]

CacheKind = Literal["database", "search", "user", "marketplace"]
"""The kinds of Discogs data that get their own lifetime in `CachePolicy`."""

KINDS: tuple[CacheKind, ...] = ("database", "search", "user", "marketplace")

# Bumped whenever the key material changes, so an old entry is never misread.
_KEY_VERSION = "musicagent-cache-2"


@dataclass(frozen=True)
class CachePolicy:
    """How long each kind of Discogs data is served from the cache, in seconds.

    ``None`` or ``0`` means that kind is never cached. Writes are never cached whatever the
    policy. ::

        CachePolicy()                          # 24 h / 1 h / 5 min / 5 min
        CachePolicy(user=None)                 # always fetch collections and wantlists fresh
        CachePolicy(database=7 * 24 * 3600)    # keep releases for a week

    Attributes:
        database: releases, masters, artists, labels, their version and release lists,
            ratings and stats.
        search: ``/database/search`` results.
        user: collection, wantlist, inventory, orders, profile, lists, identity, inventory
            exports and uploads.
        marketplace: listings, marketplace stats, fees and price suggestions.
    """

    database: float | None = 24 * 60 * 60
    search: float | None = 60 * 60
    user: float | None = 5 * 60
    marketplace: float | None = 5 * 60

    def __post_init__(self) -> None:
        for kind in KINDS:
            value = getattr(self, kind)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise InvalidParameterError(
                    parameter=kind, allowed="seconds >= 0, or None to never cache", value=value
                )

    def ttl_for(self, kind: str) -> float | None:
        """Seconds a response of this kind stays fresh, or None when it is not cached."""
        if kind not in KINDS:
            return None
        ttl: float | None = getattr(self, kind)
        return float(ttl) if ttl else None


@dataclass(frozen=True, slots=True)
class CacheScope:
    """The part of every cache key that tells one credential's entries from another's.

    ``fingerprint`` is an HMAC of the credential's identity under a random salt kept with the
    store (`CacheStore.scope`): two credentials never share an entry, and nothing stored lets
    anyone tell which credential an entry belongs to, let alone recover it. ``None`` means the
    store could not be reached to read its salt; such a scope bypasses the cache.
    """

    fingerprint: str | None

    def __repr__(self) -> str:
        return f"CacheScope({'unavailable' if self.fingerprint is None else 'keyed'})"


def scope_fingerprint(salt: bytes, identity: str) -> str:
    """The keyed fingerprint of a credential identity: HMAC-SHA256 under the store's salt."""
    return hmac.new(salt, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def key_url(url: httpx.URL | str) -> str:
    """The URL as it enters the cache key: query sorted, fragment dropped, no secrets.

    Values of credential parameters (``token``, ``key``, ``secret``, ``oauth_*``…) are replaced
    by a short SHA-256 fingerprint, so two tokens still give two keys but no key material
    holds a secret.
    """
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    port = f":{parsed.port}" if parsed.port is not None else ""
    base = f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
    if not parsed.query:
        return base
    pairs = sorted(parsed.params.multi_items(), key=lambda pair: pair[0])
    safe = [(name, _fingerprint(value) if is_secret_name(name) else value) for name, value in pairs]
    return f"{base}?{urlencode(safe)}"


def cache_key(method: str, url: httpx.URL | str, identity: str, accept: str) -> str:
    """The key a response is stored under: SHA-256 of method, URL, identity and Accept.

    ``identity`` is the scope's keyed fingerprint (`CacheStore.scope`), so users never share
    entries; ``accept`` separates the text formats Discogs can render.
    """
    material = "\n".join((_KEY_VERSION, method.upper(), key_url(url), identity, accept))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
