"""Every operation of the spec, called through the real client, answers with a valid body."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from discogs_spec import load_spec

from discogs_sandbox import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET, Sandbox
from musicagent import Discogs
from musicagent.auth import OAuthFlow
from musicagent.validation import bundled_validator
from tests.integration.conftest import RecordingTransport

pytestmark = pytest.mark.integration

ALL_OPERATIONS = {
    op["operationId"]
    for item in load_spec()["paths"].values()
    for method, op in item.items()
    if method in ("get", "put", "post", "delete")
}


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def client(checked_sandbox: Sandbox, recorder: RecordingTransport) -> Iterator[Discogs]:
    checked_sandbox.reset()
    with checked_sandbox.client(transport=recorder) as client:
        yield client


def _call_every_operation(client: Discogs, sandbox: Sandbox, recorder: RecordingTransport) -> None:
    me = "sandbox"
    db, coll, wants = client.database, client.collection, client.wantlist
    market, inv, users = client.marketplace, client.inventory, client.users

    db.get_release(1)
    db.get_release(249504, curr_abbr="EUR")
    db.get_release_rating_by_user(1, me)
    db.update_release_rating_by_user(1, me, rating=4)
    db.delete_release_rating_by_user(1, me)
    db.get_community_release_rating(1)
    db.get_release_stats(1)
    db.get_master(1000)
    db.get_master(2)
    db.get_master_versions(2, per_page=2)
    db.get_artist(3)
    db.get_artist_releases(3, sort="year", sort_order="desc", per_page=5, page=2)
    db.get_label(2)
    db.get_label_releases(2, per_page=10)
    db.search(q="nirvana", type="release", per_page=3)

    users.get_identity()
    users.get_profile(me)
    users.edit_profile(me, location="Malmö")
    users.get_user_submissions(me, per_page=5)
    users.get_user_contributions(me, per_page=5, sort="title")

    folders = coll.list_collection_folders(me)
    created = coll.create_collection_folder(me, name="Ström & Drang")
    coll.get_collection_folder(me, created.id)
    coll.edit_collection_folder(me, created.id, name="Renamed")
    added = coll.add_to_collection_folder(me, created.id, 7)
    coll.get_collection_items_by_release(me, 7)
    coll.get_collection_items_by_folder(me, 0, per_page=5)
    coll.edit_collection_instance_field(me, created.id, 7, added.instance_id, 3, value="Nice")
    coll.edit_collection_instance(me, created.id, 7, added.instance_id, rating=5)
    coll.delete_collection_instance(me, created.id, 7, added.instance_id)
    coll.delete_collection_folder(me, created.id)
    coll.list_collection_fields(me)
    coll.get_collection_value(me)
    assert folders.folders[0].id == 0

    wants.get_wantlist(me, per_page=3)
    wants.add_to_wantlist(me, 11, notes="first pressing", rating=3)
    wants.edit_wantlist_release(me, 11, notes="any pressing")
    wants.delete_from_wantlist(me, 11)

    lists = client.lists.get_user_lists(me)
    client.lists.get_list(lists.lists[0].id)

    market.get_inventory(me, per_page=5)
    listing = market.create_listing(release_id=12, condition="Mint (M)", price=9.5)
    market.get_listing(listing.listing_id, curr_abbr="GBP")
    market.edit_listing(listing.listing_id, release_id=12, condition="Good (G)", price=8.0)
    market.delete_listing(listing.listing_id)
    orders = market.list_orders(per_page=5)
    order_id = orders.orders[0].id
    market.get_order(order_id)
    market.list_order_messages(order_id, per_page=2)
    market.add_order_message(order_id, message="Thanks — merci!")
    order = market.get_order(order_id)
    market.edit_order(order_id, status=order.next_status[0])
    market.get_fee(10.0)
    market.get_fee_with_currency(10.0, "EUR")
    market.get_price_suggestions(1)
    market.get_release_marketplace_stats(1, curr_abbr="EUR")

    location = inv.export_inventory()
    export_id = int(str(location).rstrip("/").rsplit("/", 1)[1])
    inv.list_inventory_exports()
    inv.get_inventory_export(export_id)
    csv = inv.download_inventory_export(export_id)
    assert csv.startswith(b"listing_id,")
    upload = b"release_id,price,media_condition\n123,1.50,Mint (M)\n"
    inv.upload_inventory_add(upload=upload)
    inv.upload_inventory_change(upload=b"release_id,price\n123,2.50\n")
    inv.upload_inventory_delete(upload=b"listing_id\n1\n")
    uploads = inv.list_inventory_uploads()
    inv.get_inventory_upload(uploads.items[0].id)

    with OAuthFlow(
        SANDBOX_CONSUMER_KEY,
        SANDBOX_CONSUMER_SECRET,
        base_url=sandbox.base_url,
        authorize_url=f"{sandbox.base_url}/oauth/authorize",
        client=httpx.Client(transport=recorder),
    ) as flow:
        request_token = flow.fetch_request_token()
        page = httpx.get(flow.authorization_url(request_token))
        verifier = re.search(r"oauth_verifier=(\w+)", page.text)
        assert verifier is not None
        flow.fetch_access_token(request_token, verifier.group(1))


def test_every_operation_answers_through_the_client(
    client: Discogs, checked_sandbox: Sandbox, recorder: RecordingTransport
) -> None:
    _call_every_operation(client, checked_sandbox, recorder)

    validator = bundled_validator()
    seen = set()
    problems = []
    for exchange in recorder.exchanges:
        op = validator.match(exchange.method, exchange.url.path)
        seen.add(op.operation_id)
        assert exchange.status < 400, (exchange.method, exchange.url, exchange.body[:200])
        if exchange.content_type.startswith("application/json"):
            _, found = validator.validate_response(
                exchange.method, exchange.url.path, exchange.status, exchange.json()
            )
            problems += [(op.operation_id, str(p)) for p in found]
    assert problems == []
    assert seen == ALL_OPERATIONS  # every operation of the spec, however many it has
    assert checked_sandbox.stats()["invalid_bodies"] == []
