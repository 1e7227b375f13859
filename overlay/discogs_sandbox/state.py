"""What a running sandbox remembers: every write made through the API, over the generated data.

The generated collections and wantlists are never copied: the state keeps only what changed
(items added, removed, moved, re-rated, annotated), and lists are built from the generated
positions plus those changes. Everything small (inventory, orders, lists, exports, uploads,
profiles, ratings, OAuth tokens) is held as plain records.

All access goes through one re-entrant lock (:attr:`SandboxState.lock`), so tests may read and
change the state from any thread while the server runs.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from discogs_sandbox.catalogue import Catalogue, past, timestamp
from discogs_sandbox.config import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_USERNAME,
    SandboxConfig,
)
from discogs_sandbox.people import BaseInstance, Holdings, UserSeed, make_users
from discogs_sandbox.search import SearchIndex

__all__ = [
    "AccessTokenRecord",
    "ItemsView",
    "RequestTokenRecord",
    "SandboxState",
    "StateError",
]


class StateError(Exception):
    """A write the rules refuse; ``status`` and ``message`` are what the API answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ItemsView:
    """A list of item references: generated positions (>= 0) and added items (< 0).

    ``head`` holds added items, shown first; then generated positions ``0 … tail_length-1``,
    or the explicit ``tail`` array when some were removed or moved.
    """

    def __init__(
        self, head: Sequence[int], tail_length: int, tail: Sequence[int] | None = None
    ) -> None:
        self.head = list(head)
        self.tail = tail
        self.tail_length = len(tail) if tail is not None else tail_length

    def __len__(self) -> int:
        return len(self.head) + self.tail_length

    def window(self, start: int, stop: int) -> list[int]:
        """References ``start … stop-1``."""
        stop = min(stop, len(self))
        head = self.head[start:stop]
        tail_start, tail_stop = max(0, start - len(self.head)), max(0, stop - len(self.head))
        if self.tail is not None:
            tail = list(self.tail[tail_start:tail_stop])
        else:
            tail = list(range(tail_start, tail_stop))
        return head + tail

    def __iter__(self) -> Iterator[int]:
        yield from self.head
        yield from (self.tail if self.tail is not None else range(self.tail_length))


@dataclass
class CollectionChanges:
    """Changes made to one user's collection through the API."""

    folders: dict[int, str]
    removed: set[int] = field(default_factory=set)
    moved: dict[int, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)
    notes: dict[int, dict[int, str]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    views: dict[tuple[Any, ...], ItemsView] = field(default_factory=dict)

    def changed(self) -> None:
        self.version += 1
        self.views.clear()


@dataclass
class WantlistChanges:
    """Changes made to one user's wantlist through the API."""

    removed: set[int] = field(default_factory=set)
    edits: dict[int, tuple[int, str]] = field(default_factory=dict)
    added: dict[int, dict[str, Any]] = field(default_factory=dict)
    view: ItemsView | None = None


@dataclass
class RequestTokenRecord:
    """An OAuth request token waiting for the user's approval."""

    token: str
    secret: str
    consumer_key: str
    callback: str
    issued: float
    verifier: str | None = None
    username: str | None = None


@dataclass
class AccessTokenRecord:
    """An OAuth access token: acts as ``username`` for the application ``consumer_key``."""

    token: str
    secret: str
    consumer_key: str
    username: str


class SandboxState:
    """Everything a sandbox remembers between requests (thread-safe, see :attr:`lock`)."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.catalogue = Catalogue(config.seed)
        self.search = SearchIndex(self.catalogue)
        """Database search over the catalogue (nothing a write changes)."""
        self.holdings = Holdings(config.seed, self.catalogue, config)
        self.users: dict[str, UserSeed] = make_users(config)
        self.reset()

    def reset(self) -> None:
        """Forget every write: back to the generated data."""
        with self.lock:
            self._ids = itertools.count(900_000_001)
            self.collections = {
                name: CollectionChanges(folders=dict(user.folders))
                for name, user in self.users.items()
            }
            self.wantlists = {name: WantlistChanges() for name in self.users}
            self.listings: dict[int, dict[str, Any]] = {}
            self.inventory_ids: dict[str, list[int]] = {}
            self.orders: dict[str, dict[str, Any]] = {}
            self.order_ids: dict[str, list[str]] = {}
            self.lists: dict[int, dict[str, Any]] = {}
            self.list_ids: dict[str, list[int]] = {}
            everyone = list(self.users.values())
            for name, user in self.users.items():
                records = self.holdings.listings(user)
                self.listings.update((r["id"], r) for r in records)
                self.inventory_ids[name] = [r["id"] for r in records]
                buyers = [u for u in everyone if u.username != user.username]
                orders = self.holdings.orders(user, buyers)
                self.orders.update((o["id"], o) for o in orders)
                self.order_ids[name] = [o["id"] for o in orders]
                lists = self.holdings.lists(user)
                self.lists.update((item["id"], item) for item in lists)
                self.list_ids[name] = [item["id"] for item in lists]
            self.exports: dict[int, dict[str, Any]] = {}
            self.uploads: dict[int, dict[str, Any]] = {}
            self.profiles: dict[str, dict[str, Any]] = {name: {} for name in self.users}
            self.release_ratings: dict[tuple[int, str], int] = {}
            self.request_tokens: dict[str, RequestTokenRecord] = {}
            self.access_tokens: dict[str, AccessTokenRecord] = {
                SANDBOX_OAUTH_TOKEN: AccessTokenRecord(
                    SANDBOX_OAUTH_TOKEN,
                    SANDBOX_OAUTH_TOKEN_SECRET,
                    SANDBOX_CONSUMER_KEY,
                    SANDBOX_USERNAME,
                )
            }
            self.nonces: set[tuple[str, str, str]] = set()

    def next_id(self) -> int:
        """A fresh id for something created through the API."""
        with self.lock:
            return next(self._ids)

    def now(self) -> str:
        """The current time as a Discogs timestamp."""
        return timestamp(datetime.fromtimestamp(self.clock(), tz=UTC))

    # --- users ----------------------------------------------------------------------------------

    def user(self, username: str) -> UserSeed | None:
        """A user by name (case-insensitive, as Discogs matches names)."""
        return self.users.get(username.lower())

    # --- collection -------------------------------------------------------------------------------

    def _base_folder(self, user: UserSeed, changes: CollectionChanges, index: int) -> int:
        return changes.moved.get(index, self.holdings.folder_of(user, index))

    def collection_view(
        self, user: UserSeed, folder_id: int, sort: str | None = None, order: str | None = None
    ) -> ItemsView:
        """The items of a folder (0 = all), newest first unless another sort is asked for."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            key = (folder_id, sort, order)
            view = changes.views.get(key)
            if view is None:
                view = self._build_view(user, changes, folder_id)
                if sort is not None or order is not None:
                    view = self._sorted(user, changes, view, sort or "added", order)
                changes.views[key] = view
            return view

    def _build_view(self, user: UserSeed, changes: CollectionChanges, folder_id: int) -> ItemsView:
        head = [
            -(k + 1)
            for k in range(len(changes.added) - 1, -1, -1)
            if not changes.added[k].get("deleted")
            and folder_id in (0, changes.added[k]["folder_id"])
        ]
        size = self.config.collection_size
        if folder_id == 0 and not changes.removed:
            return ItemsView(head, size)
        tail = array("q")
        folder_of = self.holdings.folder_of
        removed, moved = changes.removed, changes.moved
        for index in range(size):
            if index in removed:
                continue
            if folder_id and moved.get(index, folder_of(user, index)) != folder_id:
                continue
            tail.append(index)
        return ItemsView(head, 0, tail)

    def _sorted(
        self,
        user: UserSeed,
        changes: CollectionChanges,
        view: ItemsView,
        sort: str,
        order: str | None,
    ) -> ItemsView:
        def release_of(ref: int) -> int:
            if ref < 0:
                return int(changes.added[-ref - 1]["release_id"])
            return self.holdings.collection_release(user, ref)

        core = self.catalogue.release_core
        keys: dict[str, Callable[[int], Any]] = {
            "added": lambda ref: ref if ref >= 0 else ref - len(changes.added),
            "rating": lambda ref: self.instance_rating(user, ref),
            "title": lambda ref: core(release_of(ref)).title.casefold(),
            "artist": lambda ref: core(release_of(ref)).artist_name.casefold(),
            "label": lambda ref: core(release_of(ref)).label_name.casefold(),
            "catno": lambda ref: core(release_of(ref)).catno,
            "format": lambda ref: core(release_of(ref)).format_name,
            "year": lambda ref: core(release_of(ref)).year,
        }
        key = keys.get(sort, keys["added"])
        # "added" ascending means oldest first; references grow with age.
        descending = (order == "desc") != (sort == "added")
        refs = sorted(view, key=lambda ref: (key(ref), ref), reverse=descending)
        return ItemsView([], 0, array("q", refs))

    def collection_count(self, user: UserSeed, folder_id: int = 0) -> int:
        """How many items a folder holds."""
        return len(self.collection_view(user, folder_id))

    def instance_rating(self, user: UserSeed, ref: int) -> int:
        """The rating of an instance."""
        changes = self.collections[user.username.lower()]
        if ref < 0:
            return int(changes.added[-ref - 1]["rating"])
        return changes.ratings.get(ref, (ref * 7 + user.index) % 6)

    def instance(self, user: UserSeed, ref: int) -> dict[str, Any]:
        """An instance with every change applied: instance_id, release_id, folder_id, rating,
        date_added, notes (field id -> value)."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            if ref < 0:
                record = changes.added[-ref - 1]
                return {**record, "notes": dict(record["notes"])}
            base: BaseInstance = self.holdings.instance(user, ref)
            notes = dict(base.notes)
            notes.update(changes.notes.get(ref, {}))
            return {
                "instance_id": base.instance_id,
                "release_id": base.release_id,
                "folder_id": changes.moved.get(ref, base.folder_id),
                "rating": changes.ratings.get(ref, base.rating),
                "date_added": base.date_added,
                "notes": notes,
            }

    def find_instance(self, user: UserSeed, instance_id: int) -> int | None:
        """The reference of an instance by its id, if it is (still) in the collection."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            index = instance_id - user.instance_base
            if 0 <= index < self.config.collection_size:
                return None if index in changes.removed else index
            for k, record in enumerate(changes.added):
                if record["instance_id"] == instance_id and not record.get("deleted"):
                    return -(k + 1)
            return None

    def instances_of_release(self, user: UserSeed, release_id: int) -> list[int]:
        """References of every instance of a release in the collection (newest first)."""
        with self.lock:
            view = self.collection_view(user, 0)
            changes = self.collections[user.username.lower()]
            found = [
                ref for ref in view.head if int(changes.added[-ref - 1]["release_id"]) == release_id
            ]
            size = self.config.collection_size
            # Invert position -> release (one-to-one) instead of scanning a huge collection.
            index = self.holdings.collection_index(user, release_id)
            if index is not None and index < size and index not in changes.removed:
                found.append(index)
            return found

    def add_instance(self, user: UserSeed, folder_id: int, release_id: int) -> int:
        """Add a copy of a release to a folder; returns the new instance id."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            instance_id = self.next_id()
            changes.added.append(
                {
                    "instance_id": instance_id,
                    "release_id": release_id,
                    "folder_id": folder_id,
                    "rating": 0,
                    "date_added": self.now(),
                    "notes": {},
                }
            )
            changes.changed()
            return instance_id

    def edit_instance(
        self, user: UserSeed, ref: int, *, rating: int | None, folder_id: int | None
    ) -> None:
        """Re-rate an instance and/or move it to another folder."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            if ref < 0:
                record = changes.added[-ref - 1]
                if rating is not None:
                    record["rating"] = rating
                if folder_id is not None:
                    record["folder_id"] = folder_id
            else:
                if rating is not None:
                    changes.ratings[ref] = rating
                if folder_id is not None:
                    changes.moved[ref] = folder_id
            changes.changed()

    def remove_instance(self, user: UserSeed, ref: int) -> None:
        """Remove an instance from the collection."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            if ref < 0:
                changes.added[-ref - 1]["deleted"] = True
            else:
                changes.removed.add(ref)
            changes.changed()

    def set_instance_note(self, user: UserSeed, ref: int, field_id: int, value: str) -> None:
        """Set the value of a notes field on an instance."""
        with self.lock:
            changes = self.collections[user.username.lower()]
            if ref < 0:
                changes.added[-ref - 1]["notes"][field_id] = value
            else:
                changes.notes.setdefault(ref, {})[field_id] = value

    def folder_name(self, user: UserSeed, folder_id: int) -> str | None:
        """The name of a folder (``All`` for 0), or None when it does not exist."""
        if folder_id == 0:
            return "All"
        return self.collections[user.username.lower()].folders.get(folder_id)

    def folder_ids(self, user: UserSeed) -> list[int]:
        """Folder ids of a user, 0 ("All") first."""
        return [0, *self.collections[user.username.lower()].folders]

    def create_folder(self, user: UserSeed, name: str) -> int:
        """Create a folder; returns its id."""
        with self.lock:
            folder_id = self.next_id()
            self.collections[user.username.lower()].folders[folder_id] = name
            return folder_id

    def rename_folder(self, user: UserSeed, folder_id: int, name: str) -> None:
        """Rename a folder (not 0 or 1)."""
        with self.lock:
            if folder_id in (0, 1):
                raise StateError(403, "You cannot rename the All or Uncategorized folders.")
            self.collections[user.username.lower()].folders[folder_id] = name

    def delete_folder(self, user: UserSeed, folder_id: int) -> None:
        """Delete an empty folder (not 0 or 1)."""
        with self.lock:
            if folder_id in (0, 1):
                raise StateError(403, "You cannot delete the All or Uncategorized folders.")
            if self.collection_count(user, folder_id):
                raise StateError(403, "Folder must be empty before it can be deleted.")
            changes = self.collections[user.username.lower()]
            del changes.folders[folder_id]
            changes.changed()

    # --- wantlist -------------------------------------------------------------------------------

    def want_view(self, user: UserSeed) -> ItemsView:
        """The wantlist: wants added through the API (newest first), then generated ones."""
        with self.lock:
            changes = self.wantlists[user.username.lower()]
            if changes.view is None:
                head = [-release_id for release_id in reversed(changes.added)]
                size = self.config.effective_wantlist_size
                if changes.removed:
                    tail = array("q", (i for i in range(size) if i not in changes.removed))
                    changes.view = ItemsView(head, 0, tail)
                else:
                    changes.view = ItemsView(head, size)
            return changes.view

    def want(self, user: UserSeed, ref: int) -> dict[str, Any]:
        """A want: release_id, rating, notes, date_added."""
        with self.lock:
            changes = self.wantlists[user.username.lower()]
            if ref < 0:
                return dict(changes.added[-ref])
            rating, notes, added = self.holdings.want_extras(user, ref)
            rating, notes = changes.edits.get(ref, (rating, notes))
            return {
                "release_id": self.holdings.want_release(user, ref),
                "rating": rating,
                "notes": notes,
                "date_added": added,
            }

    def find_want(self, user: UserSeed, release_id: int) -> int | None:
        """The reference of a release in the wantlist, if it is there."""
        with self.lock:
            changes = self.wantlists[user.username.lower()]
            if release_id in changes.added:
                return -release_id
            index = self.holdings.want_index(user, release_id)
            if index is None or index in changes.removed:
                return None
            return index

    def put_want(
        self, user: UserSeed, release_id: int, notes: str | None, rating: int | None
    ) -> int:
        """Add a release to the wantlist (or update it when already there)."""
        with self.lock:
            changes = self.wantlists[user.username.lower()]
            ref = self.find_want(user, release_id)
            if ref is not None:
                self.edit_want(user, ref, notes, rating)
                return ref
            changes.added[release_id] = {
                "release_id": release_id,
                "rating": rating or 0,
                "notes": notes or "",
                "date_added": self.now(),
            }
            changes.view = None
            return -release_id

    def edit_want(self, user: UserSeed, ref: int, notes: str | None, rating: int | None) -> None:
        """Change the notes and/or rating of a want."""
        with self.lock:
            changes = self.wantlists[user.username.lower()]
            if ref < 0:
                record = changes.added[-ref]
                if notes is not None:
                    record["notes"] = notes
                if rating is not None:
                    record["rating"] = rating
                return
            current = self.want(user, ref)
            changes.edits[ref] = (
                current["rating"] if rating is None else rating,
                current["notes"] if notes is None else notes,
            )

    def remove_want(self, user: UserSeed, ref: int) -> None:
        """Remove a release from the wantlist."""
        with self.lock:
            changes = self.wantlists[user.username.lower()]
            if ref < 0:
                del changes.added[-ref]
            else:
                changes.removed.add(ref)
            changes.view = None

    # --- marketplace ------------------------------------------------------------------------------

    def inventory(self, user: UserSeed) -> list[dict[str, Any]]:
        """The user's listings, newest first."""
        with self.lock:
            ids = self.inventory_ids[user.username.lower()]
            return [self.listings[i] for i in reversed(ids) if i in self.listings]

    def create_listing(self, user: UserSeed, fields: dict[str, Any]) -> int:
        """Create a listing in the user's inventory; returns its id."""
        with self.lock:
            listing_id = self.next_id()
            record = {
                "id": listing_id,
                "owner": user.username.lower(),
                "currency": user.curr_abbr,
                "shipping": 0.0,
                "posted": self.now(),
                "audio": False,
                "sleeve_condition": None,
                "comments": "",
                "allow_offers": False,
                "status": "For Sale",
                "external_id": None,
                "location": None,
                "weight": None,
                "format_quantity": None,
            }
            record.update({k: v for k, v in fields.items() if v is not None})
            self.listings[listing_id] = record
            self.inventory_ids[user.username.lower()].append(listing_id)
            return listing_id

    def user_orders(self, user: UserSeed) -> list[dict[str, Any]]:
        """Orders where the user is the seller."""
        with self.lock:
            return [self.orders[i] for i in self.order_ids[user.username.lower()]]

    def user_lists(self, user: UserSeed) -> list[dict[str, Any]]:
        """The user's lists."""
        with self.lock:
            return [self.lists[i] for i in self.list_ids[user.username.lower()]]

    def user_exports(self, user: UserSeed) -> list[dict[str, Any]]:
        """The user's inventory exports, newest first."""
        with self.lock:
            owned = [e for e in self.exports.values() if e["owner"] == user.username.lower()]
            return sorted(owned, key=lambda e: -e["id"])

    def user_uploads(self, user: UserSeed) -> list[dict[str, Any]]:
        """The user's inventory uploads, newest first."""
        with self.lock:
            owned = [u for u in self.uploads.values() if u["owner"] == user.username.lower()]
            return sorted(owned, key=lambda u: -u["id"])

    # --- OAuth ------------------------------------------------------------------------------------

    def issue_request_token(self, consumer_key: str, callback: str) -> RequestTokenRecord:
        """A new OAuth request token."""
        with self.lock:
            record = RequestTokenRecord(
                token=secrets.token_urlsafe(16),
                secret=secrets.token_urlsafe(24),
                consumer_key=consumer_key,
                callback=callback,
                issued=self.clock(),
            )
            self.request_tokens[record.token] = record
            return record

    def authorize_request_token(self, token: str, username: str) -> RequestTokenRecord | None:
        """The user approves a request token: it gets a verifier. None for unknown tokens."""
        with self.lock:
            record = self.request_tokens.get(token)
            if record is None:
                return None
            if record.verifier is None:
                record.verifier = secrets.token_hex(5)
            record.username = username
            return record

    def exchange_request_token(self, token: str) -> AccessTokenRecord:
        """Trade an authorised request token for an access token (the request token is used up)."""
        with self.lock:
            record = self.request_tokens.pop(token)
            assert record.username is not None
            access = AccessTokenRecord(
                token=secrets.token_urlsafe(16),
                secret=secrets.token_urlsafe(24),
                consumer_key=record.consumer_key,
                username=record.username,
            )
            self.access_tokens[access.token] = access
            return access

    def remember_nonce(self, consumer_key: str, timestamp_: str, nonce: str) -> bool:
        """Record an OAuth nonce; False when it was used before (a replayed request)."""
        with self.lock:
            key = (consumer_key, timestamp_, nonce)
            if key in self.nonces:
                return False
            self.nonces.add(key)
            return True

    def past(self, seconds: float) -> str:
        """A timestamp some seconds before the dataset's reference time."""
        return timestamp(past(seconds))
