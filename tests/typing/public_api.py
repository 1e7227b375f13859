"""Checked by mypy (make lint), never run: users' type checkers see the models each call returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, assert_type

from discogs_models import CollectionItem, Listing, Release, SearchResult, UserProfile

from musicagent import AsyncDiscogs, Discogs


def sync_calls(client: Discogs) -> None:
    assert_type(client.database.get_release(249504), Release)
    assert_type(client.users.get_profile("someone"), UserProfile)
    assert_type(client.marketplace.get_listing(1), Listing)
    assert_type(client.wantlist.delete_from_wantlist("someone", 1), None)
    assert_type(client.inventory.download_inventory_export(1), bytes)
    assert_type(client.database.iter_search(q="nirvana"), Iterator[SearchResult])
    assert_type(
        client.collection.iter_collection_items_by_folder("someone", 0), Iterator[CollectionItem]
    )
    # The README's own example: every real collection item has basic_information.
    for item in client.collection.iter_collection_items_by_folder("someone", 0):
        print(item.basic_information.title)
    client.lists.get_list("373143")  # list ids as the docs type them, and as numbers
    client.lists.get_list(373143)
    client.database.search(year=1999)
    client.marketplace.get_inventory("someone", status="for sale")
    assert_type(client.marketplace.get_price_suggestions(1).to_dict(), dict[str, Any])


async def async_calls(client: AsyncDiscogs) -> None:
    assert_type(await client.database.get_release(249504), Release)
    assert_type(client.database.iter_search(q="nirvana"), AsyncIterator[SearchResult])


def constructor_arguments_are_typed() -> None:
    # Each ignore below must be needed (warn_unused_ignores): mypy rejects these arguments.
    Discogs(timeout="slow")  # type: ignore[arg-type]
    Discogs(text_format="markdown")  # type: ignore[arg-type]
    AsyncDiscogs(no_such_option=True)  # type: ignore[call-arg]
