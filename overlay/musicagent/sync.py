"""`musicagent.sync`: the account mirror's Python API (`Mirror`, `AsyncMirror`, `SyncReport`).

The same job as `musicagent sync USER`, for a notebook or a program::

    from musicagent import Discogs
    from musicagent.sync import Mirror

    with Discogs(token="...") as client, Mirror(client, "mirror.db") as mirror:
        report = mirror.sync("rodney", only="collection,wantlist", hydrate="releases")

With `AsyncDiscogs`, `AsyncMirror` runs the same sync with several hydration calls in flight::

    async with AsyncDiscogs(token="...") as client:
        with AsyncMirror(client, "mirror.db", concurrency=4) as mirror:
            report = await mirror.sync("rodney", hydrate="releases")
"""

from musicagent.mirror import (
    DEFAULT_CONCURRENCY,
    DEFAULT_KINDS,
    HYDRATE_KINDS,
    KINDS,
    AsyncMirror,
    Mirror,
    SyncReport,
    default_path,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_KINDS",
    "HYDRATE_KINDS",
    "KINDS",
    "AsyncMirror",
    "Mirror",
    "SyncReport",
    "default_path",
]
