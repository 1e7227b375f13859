"""`musicagent cache info|clear`: describe and empty the cache the settings point at.

Neither creates a cache that does not exist, and neither crashes on a broken one: ``info``
reports the problem, ``clear`` removes a corrupt SQLite file so the next run starts afresh.
"""

from __future__ import annotations

from dataclasses import replace

from musicagent.cache.store import CacheInfo, CacheStore, cache_file_path
from musicagent.settings import DiscogsSettings

__all__ = ["cache_info", "clear_cache"]


def cache_info(settings: DiscogsSettings | None = None) -> CacheInfo:
    """Describe the cache the settings point at, without creating it.

    Reports the backend, its location (Redis password masked), fresh entries in total and per
    kind, size in bytes (SQLite), when the oldest and newest fresh entries were stored, and
    ``problem`` when the cache cannot be read.
    """
    s = settings if settings is not None else DiscogsSettings()
    if s.cache_backend == "sqlite" and not cache_file_path(s).exists():
        path = str(cache_file_path(s))
        return CacheInfo("sqlite", path, 0, size_bytes=0, enabled=s.cache_enabled)
    with CacheStore.from_settings(s) as store:
        return replace(store.info(), enabled=s.cache_enabled)


def clear_cache(settings: DiscogsSettings | None = None) -> int:
    """Delete every cached response of the cache the settings point at.

    Returns how many fresh responses were removed (expired leftovers go too). A SQLite file is
    emptied and compacted, not deleted, so running clients keep working; a corrupt one is
    removed.
    """
    s = settings if settings is not None else DiscogsSettings()
    if s.cache_backend == "sqlite" and not cache_file_path(s).exists():
        return 0
    with CacheStore.from_settings(s) as store:
        return store.clear()
