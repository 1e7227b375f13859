"""The table of plain reads: each operation that only looks data up (and pages it) is one row.

:func:`discogs_sandbox.reading.answer` reads a row: it looks up the path's parameters with
:data:`FINDERS`, answers documentation examples, sorts and pages as the spec says. What a row
holds is only where its data comes from; operations that change state or follow a documented
rule that needs logic (filters with facets, inventory limits, order filters, job timing,
If-Modified-Since) keep a handler in :data:`~discogs_sandbox.endpoints.registry.HANDLERS`.
"""

from __future__ import annotations

from discogs_sandbox.endpoints import collection, database, inventory, marketplace, users, wantlist
from discogs_sandbox.endpoints.database import EXAMPLE_LABEL, EXAMPLE_MASTER, EXAMPLE_RELEASE
from discogs_sandbox.endpoints.registry import HANDLERS
from discogs_sandbox.reading import Finder, Read
from discogs_sandbox.search import REACHABLE_RESULTS

__all__ = ["FINDERS", "READS"]

FINDERS: dict[str, Finder] = {
    "release_id": database.release_id_of,
    "master_id": database.master_id_of,
    "artist_id": database.artist_id_of,
    "label_id": database.label_id_of,
    "username": database.user_of,
    "folder_id": collection.folder_id_of,
    "list_id": wantlist.list_of,
    "listing_id": marketplace.listing_of,
    "order_id": marketplace.order_of,
}
"""Path parameter → what it names (a 404 when it names nothing), in the order of the path."""

READS: dict[str, Read] = {
    # database
    "get_release": Read(database.release_body, examples={EXAMPLE_RELEASE: "releases_get_200.json"}),
    "get_release_rating_by_user": Read(database.user_rating_body),
    "get_community_release_rating": Read(
        database.community_rating_body,
        examples={EXAMPLE_RELEASE: "releases_rating_get_200.json"},
    ),
    "get_release_stats": Read(
        database.release_stats_body, examples={EXAMPLE_RELEASE: "releases_stats_get_200.json"}
    ),
    "get_master": Read(
        lambda call, f: call.state.catalogue.master(f["master_id"], signed=call.signed),
        examples={EXAMPLE_MASTER: "masters_get_200.json"},
    ),
    "get_artist": Read(database.artist_body),
    "get_artist_releases": Read(
        lambda call, f: call.state.catalogue.artist_release_entries(
            f["artist_id"], signed=call.signed
        ),
        examples={database.EXAMPLE_ARTIST: "artists_releases_get_200.json"},
        sort_by_field=True,
    ),
    "get_label": Read(
        lambda call, f: call.state.catalogue.label(f["label_id"], signed=call.signed),
        examples={EXAMPLE_LABEL: "labels_get_200.json"},
    ),
    "get_label_releases": Read(
        lambda call, f: call.state.catalogue.label_release_entries(
            f["label_id"], signed=call.signed
        )
    ),
    "search": Read(
        lambda call, f: call.state.search.search(call.query, call.query.get("type") or None),
        entry=lambda call, f, hit: call.state.search.result(hit, signed=call.signed),
        reachable=REACHABLE_RESULTS,
    ),
    # users
    "get_identity": Read(users.identity_body),
    "get_profile": Read(lambda call, f: users.profile_body(call, f["username"])),
    "get_user_contributions": Read(
        lambda call, f: call.state.holdings.contribution_ids(f["username"]),
        entry=users.release_record,
        sorts=users.contribution_sorts,
    ),
    "get_user_submissions": Read(users.submissions),
    # collection
    "list_collection_folders": Read(collection.folders_body, check=collection.readable),
    "get_collection_folder": Read(collection.folder_body, check=collection.readable),
    "get_collection_items_by_folder": Read(
        collection.folder_items, entry=collection.folder_item, check=collection.readable
    ),
    "list_collection_fields": Read(collection.fields_body, check=collection.readable),
    "get_collection_value": Read(
        collection.value_body, check=lambda call, f: call.require_owner(f["username"])
    ),
    # wantlist and lists
    "get_wantlist": Read(wantlist.wants, entry=wantlist.want_entry, check=wantlist.visible),
    "get_user_lists": Read(wantlist.user_lists, entry=wantlist.list_entry),
    "get_list": Read(wantlist.list_body),
    # marketplace
    "get_listing": Read(
        marketplace.listing_shown,
        examples={marketplace.EXAMPLE_LISTING: "marketplace_listing_get_200.json"},
    ),
    "get_order": Read(lambda call, f: marketplace.order_body(call, f["order_id"])),
    "list_order_messages": Read(
        lambda call, f: f["order_id"]["messages"],
        entry=lambda call, f, message: marketplace.message_body(message),
    ),
    "get_fee": Read(marketplace.fee_body),
    "get_fee_with_currency": Read(marketplace.fee_body),
    "get_price_suggestions": Read(marketplace.price_suggestions_body),
    "get_release_marketplace_stats": Read(marketplace.marketplace_stats_body),
    # inventory jobs
    "list_inventory_exports": Read(
        inventory.own_exports, entry=lambda call, f, job: inventory.export_body(call, job)
    ),
    "list_inventory_uploads": Read(
        inventory.own_uploads, entry=lambda call, f, job: inventory.upload_body(call, job)
    ),
}
"""Every plain read by operationId."""

_BOTH = READS.keys() & HANDLERS.keys()
if _BOTH:  # one answer per operation: a row or a handler, never both
    raise RuntimeError(f"operations with both a read and a handler: {', '.join(sorted(_BOTH))}")
