"""A local mirror of a Discogs account: incremental, hydrated, resumable, with price history.

`Mirror(client, path).sync(username, ...)` (or `await AsyncMirror(...).sync(...)`) keeps one
SQLite database in step with the account's collection, wantlist, inventory, orders and lists;
see `musicagent.mirror.schema` for the tables, `musicagent.mirror.listsync` for how a second
sync reads only what changed, and `musicagent.mirror.flow` for how one sync runs on either client.
Not imported by `import musicagent`.
"""

from musicagent.mirror.hydrate import HYDRATE_KINDS
from musicagent.mirror.kinds import KINDS
from musicagent.mirror.listsync import ListResult
from musicagent.mirror.mirror import (
    DEFAULT_CONCURRENCY,
    DEFAULT_KINDS,
    AsyncMirror,
    Mirror,
    SyncReport,
)
from musicagent.mirror.schema import SCHEMA_VERSION, default_path, open_database

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_KINDS",
    "HYDRATE_KINDS",
    "KINDS",
    "SCHEMA_VERSION",
    "AsyncMirror",
    "ListResult",
    "Mirror",
    "SyncReport",
    "default_path",
    "open_database",
]
