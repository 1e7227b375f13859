"""The lists a mirror syncs: where each comes from, what identifies an item, how it is stored.

One `ListKind` per list (collection, wantlist, inventory, orders, lists). The sync algorithm
(`musicagent.mirror.listsync`) knows nothing of any of them beyond this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from musicagent.mirror.store import Store, as_float, as_int, dumps, epoch

Item = Mapping[str, Any]


@dataclass(frozen=True)
class ListKind:
    """One list of an account, as the mirror syncs it.

    Attributes:
        name: the name `--only` takes.
        operation_id: the paginated operation that lists it.
        arguments: the operation's arguments for a user (`username` filled in).
        items_key: where a page keeps its items.
        table: the table its items go to; `key` the columns that identify a row.
        key_of: the key of an item.
        date_field: the field that orders the list newest first, when the API lists it so;
            None for lists that can only be walked whole.
        write: stores one item (and what hangs off it); True when a row changed.
        children: join tables whose rows go with an item's row (deleted with it).
    """

    name: str
    operation_id: str
    arguments: Callable[[str], dict[str, Any]]
    items_key: str
    table: str
    key: tuple[str, ...]
    key_of: Callable[[str, Item], tuple[Any, ...]]
    date_field: str | None
    write: Callable[[Store, str, Item, int | None, int], bool]
    children: tuple[str, ...] = ()

    def key_dict(self, key: tuple[Any, ...]) -> dict[str, Any]:
        """A row key as column → value."""
        return dict(zip(self.key, key, strict=True))


def _write_collection_item(
    store: Store, username: str, item: Item, walk_id: int | None, run_id: int
) -> bool:
    basic = item.get("basic_information") or {}
    release_id = store.basic_release(basic) if isinstance(basic, Mapping) else None
    instance_id = as_int(item.get("instance_id"))
    changed = store.upsert(
        "collection_items",
        {"instance_id": instance_id},
        {
            "username": username,
            "release_id": release_id if release_id is not None else as_int(item.get("id")),
            "folder_id": as_int(item.get("folder_id")),
            "rating": as_int(item.get("rating")),
            "date_added": item.get("date_added"),
            "added_ts": epoch(item.get("date_added")),
            "raw": dumps(item),
        },
        walk_id=walk_id,
        run_id=run_id,
    )
    if changed:
        notes = [
            {"field_id": as_int(n.get("field_id")), "value": n.get("value")}
            for n in item.get("notes") or []
            if isinstance(n, Mapping) and as_int(n.get("field_id")) is not None
        ]
        store.replace_children("collection_notes", {"instance_id": instance_id}, notes)
    return changed


def _write_want(store: Store, username: str, item: Item, walk_id: int | None, run_id: int) -> bool:
    basic = item.get("basic_information") or {}
    if isinstance(basic, Mapping):
        store.basic_release(basic)
    return store.upsert(
        "wants",
        {"username": username, "release_id": as_int(item.get("id"))},
        {
            "rating": as_int(item.get("rating")),
            "notes": item.get("notes"),
            "date_added": item.get("date_added"),
            "added_ts": epoch(item.get("date_added")),
            "raw": dumps(item),
        },
        walk_id=walk_id,
        run_id=run_id,
    )


def _price(value: object) -> tuple[float | None, str | None]:
    if not isinstance(value, Mapping):
        return None, None
    return as_float(value.get("value")), value.get("currency")


def _write_listing(
    store: Store, username: str, item: Item, walk_id: int | None, run_id: int
) -> bool:
    release = item.get("release") or {}
    price, currency = _price(item.get("price"))
    return store.upsert(
        "listings",
        {"listing_id": as_int(item.get("id"))},
        {
            "username": username,
            "release_id": as_int(release.get("id")) if isinstance(release, Mapping) else None,
            "status": item.get("status"),
            "condition": item.get("condition"),
            "sleeve_condition": item.get("sleeve_condition"),
            "price": price,
            "currency": currency,
            "posted": item.get("posted"),
            "added_ts": epoch(item.get("posted")),
            "raw": dumps(item),
        },
        walk_id=walk_id,
        run_id=run_id,
    )


def _write_order(store: Store, username: str, item: Item, walk_id: int | None, run_id: int) -> bool:
    order_id = str(item.get("id"))
    total, currency = _price(item.get("total"))
    buyer = item.get("buyer") or {}
    changed = store.upsert(
        "orders",
        {"order_id": order_id},
        {
            "username": username,
            "status": item.get("status"),
            "created": item.get("created"),
            "added_ts": epoch(item.get("created")),
            "total": total,
            "currency": currency,
            "buyer": buyer.get("username") if isinstance(buyer, Mapping) else None,
            "raw": dumps(item),
        },
        walk_id=walk_id,
        run_id=run_id,
    )
    if changed:
        rows = []
        for n, sold in enumerate(item.get("items") or []):
            if not isinstance(sold, Mapping):
                continue
            release = sold.get("release") or {}
            price, cur = _price(sold.get("price"))
            rows.append(
                {
                    "position": n,
                    "item_id": as_int(sold.get("id")),
                    "release_id": as_int(release.get("id"))
                    if isinstance(release, Mapping)
                    else None,
                    "price": price,
                    "currency": cur,
                    "raw": dumps(sold),
                }
            )
        store.replace_children("order_items", {"order_id": order_id}, rows)
    return changed


def _write_list(store: Store, username: str, item: Item, walk_id: int | None, run_id: int) -> bool:
    # A list's items come from `GET /lists/{id}` (see `Mirror`), fetched when date_changed moves.
    return store.upsert(
        "lists",
        {"list_id": as_int(item.get("id"))},
        {
            "username": username,
            "name": item.get("name"),
            "public": int(bool(item.get("public"))),
            "date_changed": item.get("date_changed"),
            "added_ts": epoch(item.get("date_added")),
            "raw": dumps(item),
        },
        walk_id=walk_id,
        run_id=run_id,
    )


COLLECTION = ListKind(
    name="collection",
    operation_id="get_collection_items_by_folder",
    # Newest first: a second sync reads only the head of the list (see listsync).
    arguments=lambda user: {
        "username": user,
        "folder_id": 0,
        "sort": "added",
        "sort_order": "desc",
    },
    items_key="releases",
    table="collection_items",
    key=("instance_id",),
    key_of=lambda user, item: (as_int(item.get("instance_id")),),
    date_field="date_added",
    write=_write_collection_item,
    children=("collection_notes",),
)
WANTLIST = ListKind(
    name="wantlist",
    operation_id="get_wantlist",
    # The API takes no sort for wants; it lists them newest first, which listsync checks on
    # every page before relying on it (a page out of order means a whole walk).
    arguments=lambda user: {"username": user},
    items_key="wants",
    table="wants",
    key=("username", "release_id"),
    key_of=lambda user, item: (user, as_int(item.get("id"))),
    date_field="date_added",
    write=_write_want,
)
INVENTORY = ListKind(
    name="inventory",
    operation_id="get_inventory",
    arguments=lambda user: {"username": user},
    items_key="listings",
    table="listings",
    key=("listing_id",),
    key_of=lambda user, item: (as_int(item.get("id")),),
    # A repriced listing keeps its place: only a whole walk sees it.
    date_field=None,
    write=_write_listing,
)
ORDERS = ListKind(
    name="orders",
    operation_id="list_orders",
    arguments=lambda user: {},
    items_key="orders",
    table="orders",
    key=("order_id",),
    key_of=lambda user, item: (str(item.get("id")),),
    date_field=None,  # an order's status changes in place
    write=_write_order,
    children=("order_items",),
)
LISTS = ListKind(
    name="lists",
    operation_id="get_user_lists",
    arguments=lambda user: {"username": user},
    items_key="lists",
    table="lists",
    key=("list_id",),
    key_of=lambda user, item: (as_int(item.get("id")),),
    date_field=None,
    write=_write_list,
    children=("list_items",),
)

KINDS: dict[str, ListKind] = {k.name: k for k in (COLLECTION, WANTLIST, INVENTORY, ORDERS, LISTS)}
"""Every list a mirror can sync, by the name `--only` takes, in sync order."""

__all__ = ["COLLECTION", "INVENTORY", "KINDS", "LISTS", "ORDERS", "WANTLIST", "ListKind"]
