"""`musicagent.sync`: the account mirror's Python API (`Mirror`, `SyncReport`).

The same job as `musicagent sync USER`, for a notebook or a program::

    from musicagent import Discogs
    from musicagent.sync import Mirror

    with Discogs(token="...") as client, Mirror(client, "mirror.db") as mirror:
        report = mirror.sync("rodney", only="collection,wantlist", hydrate="releases")
"""

from musicagent.mirror import DEFAULT_KINDS, HYDRATE_KINDS, KINDS, Mirror, SyncReport, default_path

__all__ = ["DEFAULT_KINDS", "HYDRATE_KINDS", "KINDS", "Mirror", "SyncReport", "default_path"]
