"""Each benchmarked Discogs client behind one small interface, used the way its docs show.

The benchmarks compare clients doing the same jobs, each in its own natural way: its default
page size, its own way to reach a list (python3-discogs-client looks the user up before it
knows the collection's URL), its own retries and pacing. An adapter only translates "fetch
release 7" or "walk this collection" into that client's idiom; it adds no pacing, retry or
caching of its own.

Clients:

- ``musicagent`` — this project (`musicagent.Discogs`); settings come from ``DISCOGS_*``
  variables the way a user sets them (rate limit, shared limiter state file, cache dir).
- ``python3-discogs-client`` — module ``discogs_client``.
- ``discogs-sdk`` — module ``discogs_sdk``.
- ``httpx`` — plain ``httpx.Client`` + ``response.json()``: the floor for per-request cost.
- ``httpx+model`` — the same, parsing into musicagent's ``discogs_models.Release`` instead: the
  floor for a client that returns typed models.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "CLIENTS",
    "PEERS",
    "USER_AGENT",
    "ClientAdapter",
    "ClientOptions",
    "client_version",
    "is_installed",
    "open_client",
]

USER_AGENT = "musicagent-benchmarks/1.0"
"""User-Agent every client sends (Discogs turns away requests without one)."""

PEERS = ("python3-discogs-client", "discogs-sdk")
"""The other Discogs clients measured against musicagent."""

CLIENTS = ("musicagent", *PEERS)
"""Every Discogs client the benchmarks run, musicagent first."""

_MODULES = {
    "musicagent": "musicagent",
    "python3-discogs-client": "discogs_client",
    "discogs-sdk": "discogs_sdk",
    "httpx": "httpx",
    "httpx+model": "discogs_models",
}


@dataclass(frozen=True)
class ClientOptions:
    """How to build a client for one run.

    Attributes:
        base_url: the sandbox (always ``http://127.0.0.1:PORT``).
        token: the personal token to send.
        paced: whether musicagent paces itself under the rate limit (False: ``rate_limiter=False``
            for the overhead runs). Peers have no pacing to switch.
        cache_dir: turn the client's response cache on, stored in this folder (clients without a
            persistent cache ignore it); None: cache off.
    """

    base_url: str
    token: str
    paced: bool = True
    cache_dir: str | None = None


class ClientAdapter(Protocol):
    """One Discogs client, reduced to the jobs the benchmarks time."""

    name: str

    def get_release(self, release_id: int) -> Any:
        """Fetch one release (exactly one request when nothing fails)."""

    def walk_collection(self, username: str) -> Iterator[Any]:
        """Every item of the user's whole collection (folder 0), page after page."""

    def walk_wantlist(self, username: str) -> Iterator[Any]:
        """Every item of the user's wantlist."""

    def walk_master_versions(self, master_id: int) -> Iterator[Any]:
        """Every version of a master release."""

    def close(self) -> None:
        """Release connections and files."""


def is_installed(name: str) -> bool:
    """Whether the client's module can be imported in this environment."""
    try:
        importlib.import_module(_MODULES[name])
    except ImportError:
        return False
    return True


def client_version(name: str) -> str:
    """The installed distribution version of a client, or ``not installed``."""
    distribution = {"musicagent": "musicagent"}.get(name, name)
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def open_client(name: str, options: ClientOptions) -> ClientAdapter:
    """Build the named client for the sandbox at ``options.base_url``."""
    if not options.base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        # The benchmarks must never send traffic anywhere but loopback.
        raise ValueError(f"base_url must be a loopback sandbox URL, got {options.base_url!r}")
    builders: dict[str, Callable[[ClientOptions], ClientAdapter]] = {
        "musicagent": MusicagentAdapter,
        "python3-discogs-client": DiscogsClientAdapter,
        "discogs-sdk": DiscogsSdkAdapter,
        "httpx": PlainHttpxAdapter,
        "httpx+model": TypedHttpxAdapter,
    }
    if name not in builders:
        raise ValueError(f"client must be one of {', '.join(builders)}, got {name!r}")
    return builders[name](options)


class MusicagentAdapter:
    """`musicagent.Discogs`, configured from ``DISCOGS_*`` like a user's program."""

    name = "musicagent"

    def __init__(self, options: ClientOptions) -> None:
        from musicagent import Discogs

        extra: dict[str, Any] = {}
        if not options.paced:
            extra["rate_limiter"] = False
        if options.cache_dir is not None:
            from musicagent.settings import DiscogsSettings

            extra["settings"] = DiscogsSettings(cache="on", cache_dir=Path(options.cache_dir))
            extra["cache"] = True
        else:
            extra["cache"] = False
        self.client = Discogs(
            token=options.token, base_url=options.base_url, user_agent=USER_AGENT, **extra
        )

    def get_release(self, release_id: int) -> Any:
        return self.client.database.get_release(release_id)

    def walk_collection(self, username: str) -> Iterator[Any]:
        return iter(self.client.collection.iter_collection_items_by_folder(username, 0))

    def walk_wantlist(self, username: str) -> Iterator[Any]:
        return iter(self.client.wantlist.iter_wantlist(username))

    def walk_master_versions(self, master_id: int) -> Iterator[Any]:
        return iter(self.client.database.iter_master_versions(master_id))

    def close(self) -> None:
        self.client.close()


class DiscogsClientAdapter:
    """python3-discogs-client: `Client(user_agent, user_token=...)`, lazy dict-backed objects."""

    name = "python3-discogs-client"

    def __init__(self, options: ClientOptions) -> None:
        import discogs_client  # type: ignore[import-untyped, import-not-found, unused-ignore]

        self.client = discogs_client.Client(USER_AGENT, user_token=options.token)
        # The documented way to point it elsewhere is this class attribute, per instance.
        self.client._base_url = options.base_url

    def get_release(self, release_id: int) -> Any:
        release = self.client.release(release_id)
        _ = release.title  # objects are lazy: reading a field sends the GET
        return release

    def walk_collection(self, username: str) -> Iterator[Any]:
        # Its documented path: the user (1 request) -> folders (1 request) -> folder 0's pages.
        folders = self.client.user(username).collection_folders
        return iter(folders[0].releases)

    def walk_wantlist(self, username: str) -> Iterator[Any]:
        return iter(self.client.user(username).wantlist)

    def walk_master_versions(self, master_id: int) -> Iterator[Any]:
        return iter(self.client.master(master_id).versions)

    def close(self) -> None:
        """Nothing to close: it opens a new connection per request."""


class DiscogsSdkAdapter:
    """discogs-sdk: `Discogs(token=..., base_url=...)`, lazy proxies, `.list()` pagers."""

    name = "discogs-sdk"

    def __init__(self, options: ClientOptions) -> None:
        import discogs_sdk  # type: ignore[import-not-found, unused-ignore]

        extra: dict[str, Any] = {}
        if options.cache_dir is not None:
            extra = {"cache": True, "cache_dir": options.cache_dir}
        self.client = discogs_sdk.Discogs(
            token=options.token, base_url=options.base_url, user_agent=USER_AGENT, **extra
        )

    def get_release(self, release_id: int) -> Any:
        release = self.client.releases.get(release_id)
        _ = release.title  # proxies are lazy: reading a field sends the GET
        return release

    def walk_collection(self, username: str) -> Iterator[Any]:
        folder = self.client.users.get(username).collection.folders.get(0)
        return iter(folder.releases.list())

    def walk_wantlist(self, username: str) -> Iterator[Any]:
        return iter(self.client.users.get(username).wantlist.list())

    def walk_master_versions(self, master_id: int) -> Iterator[Any]:
        return iter(self.client.masters.get(master_id).versions.list())

    def close(self) -> None:
        self.client.close()


class PlainHttpxAdapter:
    """A bare `httpx.Client` decoding JSON to dicts: what any client costs at least."""

    name = "httpx"

    def __init__(self, options: ClientOptions) -> None:
        import httpx

        self.client = httpx.Client(
            base_url=options.base_url,
            headers={
                "Authorization": f"Discogs token={options.token}",
                "User-Agent": USER_AGENT,
            },
        )

    def get_release(self, release_id: int) -> Any:
        response = self.client.get(f"/releases/{release_id}")
        response.raise_for_status()
        return response.json()

    def _walk(self, path: str, key: str) -> Iterator[Any]:
        page, pages = 1, 1
        while page <= pages:
            response = self.client.get(path, params={"page": page, "per_page": 100})
            response.raise_for_status()
            body = response.json()
            pages = int(body["pagination"]["pages"])
            yield from body[key]
            page += 1

    def walk_collection(self, username: str) -> Iterator[Any]:
        return self._walk(f"/users/{username}/collection/folders/0/releases", "releases")

    def walk_wantlist(self, username: str) -> Iterator[Any]:
        return self._walk(f"/users/{username}/wants", "wants")

    def walk_master_versions(self, master_id: int) -> Iterator[Any]:
        return self._walk(f"/masters/{master_id}/versions", "versions")

    def close(self) -> None:
        self.client.close()


class TypedHttpxAdapter(PlainHttpxAdapter):
    """A bare `httpx.Client` parsing each release into musicagent's Pydantic model, from bytes."""

    name = "httpx+model"

    def get_release(self, release_id: int) -> Any:
        from discogs_models import Release

        response = self.client.get(f"/releases/{release_id}")
        response.raise_for_status()
        return Release.model_validate_json(response.content)
