"""Writes persist for the life of the server, and reads reflect them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent import Discogs
from musicagent.errors import ForbiddenError, ResourceNotFoundError

pytestmark = pytest.mark.integration

ME = "sandbox"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        self_check=True, collection_size=300, rate_limit=100_000, export_delay=0
    ) as sandbox:
        yield sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Discogs]:
    sandbox.reset()
    with sandbox.client() as client:
        yield client
    assert sandbox.stats()["invalid_bodies"] == []


def test_folders_are_created_renamed_and_deleted(client: Discogs) -> None:
    created = client.collection.create_collection_folder(ME, name="Ström")
    client.collection.edit_collection_folder(ME, created.id, name="Drang")
    names = {f.id: f.name for f in client.collection.list_collection_folders(ME).folders}
    assert names[created.id] == "Drang" and names[0] == "All" and names[1] == "Uncategorized"
    client.collection.delete_collection_folder(ME, created.id)
    remaining = [f.id for f in client.collection.list_collection_folders(ME).folders]
    assert created.id not in remaining
    with pytest.raises(ResourceNotFoundError):
        client.collection.get_collection_folder(ME, created.id)


def test_all_and_uncategorized_cannot_be_renamed_and_full_folders_not_deleted(
    client: Discogs,
) -> None:
    with pytest.raises(ForbiddenError):
        client.collection.edit_collection_folder(ME, 1, name="Mine")
    with pytest.raises(ForbiddenError):
        client.collection.delete_collection_folder(ME, 1)


def test_collection_items_are_added_moved_rated_annotated_and_removed(client: Discogs) -> None:
    before = client.collection.get_collection_folder(ME, 0).count
    folder = client.collection.create_collection_folder(ME, name="New arrivals")
    added = client.collection.add_to_collection_folder(ME, folder.id, 4242)
    newest = client.collection.get_collection_items_by_folder(ME, 0, per_page=1).releases[0]
    assert newest.instance_id == added.instance_id and newest.id == 4242
    assert client.collection.get_collection_folder(ME, 0).count == before + 1
    assert client.collection.get_collection_folder(ME, folder.id).count == 1

    client.collection.edit_collection_instance(
        ME, folder.id, 4242, added.instance_id, rating=4, to_folder_id=1
    )
    client.collection.edit_collection_instance_field(
        ME, 1, 4242, added.instance_id, 3, value="Signed — «rare»"
    )
    [item] = client.collection.get_collection_items_by_release(ME, 4242).releases
    assert item.folder_id == 1 and item.rating == 4
    assert item.notes and {n.field_id: n.value for n in item.notes}[3] == "Signed — «rare»"
    assert client.collection.get_collection_folder(ME, folder.id).count == 0

    client.collection.delete_collection_instance(ME, 1, 4242, added.instance_id)
    assert client.collection.get_collection_items_by_release(ME, 4242).releases == []
    assert client.collection.get_collection_folder(ME, 0).count == before


def test_generated_items_can_be_removed_and_counts_follow(client: Discogs) -> None:
    first = client.collection.get_collection_items_by_folder(ME, 0, per_page=2).releases
    target = first[1]
    client.collection.delete_collection_instance(
        ME, target.folder_id, target.id, target.instance_id
    )
    remaining = client.collection.iter_collection_items_by_folder(ME, 0)
    instance_ids = [item.instance_id for item in remaining]
    assert target.instance_id not in instance_ids
    assert len(instance_ids) == len(set(instance_ids)) == 299


def test_dropdown_field_refuses_values_outside_its_options(client: Discogs) -> None:
    item = client.collection.get_collection_items_by_folder(ME, 1, per_page=1).releases[0]
    response = client.http.post(
        f"/users/{ME}/collection/folders/1/releases/{item.id}/instances/{item.instance_id}"
        "/fields/1",
        json={"value": "Shiny"},
    )
    assert response.status_code == 422


def test_wantlist_add_edit_and_delete_are_visible(client: Discogs) -> None:
    added = client.wantlist.add_to_wantlist(ME, 31337, notes="first press", rating=2)
    assert added.notes == "first press"
    client.wantlist.edit_wantlist_release(ME, 31337, rating=5)
    top = client.wantlist.get_wantlist(ME, per_page=1).wants[0]
    assert (top.id, top.rating, top.notes) == (31337, 5, "first press")
    client.wantlist.delete_from_wantlist(ME, 31337)
    ids = [want.id for want in client.wantlist.iter_wantlist(ME)]
    assert 31337 not in ids
    assert len(ids) == len(set(ids)) == client.users.get_profile(ME).num_wantlist


def test_release_rating_written_is_read_back(client: Discogs) -> None:
    client.database.update_release_rating_by_user(77, ME, rating=2)
    assert client.database.get_release_rating_by_user(77, ME).rating == 2
    client.database.delete_release_rating_by_user(77, ME)
    assert client.database.get_release_rating_by_user(77, ME).rating == 0


def test_profile_edits_are_visible(client: Discogs) -> None:
    client.users.edit_profile(ME, name="Zoë", curr_abbr="SEK")
    profile = client.users.get_profile(ME)
    assert (profile.name, profile.curr_abbr) == ("Zoë", "SEK")


def test_listings_are_created_edited_and_deleted(client: Discogs) -> None:
    created = client.marketplace.create_listing(
        release_id=99, condition="Very Good (VG)", price=12.5, status="Draft", location="B7"
    )
    listing = client.marketplace.get_listing(created.listing_id)
    assert listing.status == "Draft" and listing.location == "B7"
    client.marketplace.edit_listing(
        created.listing_id, release_id=99, condition="Mint (M)", price=20, status="For Sale"
    )
    edited = client.marketplace.get_listing(created.listing_id)
    assert edited.condition == "Mint (M)" and edited.status == "For Sale"
    newest = client.marketplace.get_inventory(ME, sort="listed", sort_order="desc", per_page=1)
    assert newest.listings[0].id == created.listing_id
    client.marketplace.delete_listing(created.listing_id)
    with pytest.raises(ResourceNotFoundError):
        client.marketplace.get_listing(created.listing_id)


def test_order_status_changes_and_messages_are_logged(client: Discogs) -> None:
    order = client.marketplace.list_orders(status="New Order").orders[0]
    client.marketplace.add_order_message(order.id, message="Packed with care")
    client.marketplace.edit_order(order.id, status="Shipped")
    assert client.marketplace.get_order(order.id).status == "Shipped"
    messages = client.marketplace.list_order_messages(order.id).messages
    assert messages[0].message == "Seller changed status from New Order to Shipped"
    assert messages[1].message == "Packed with care"


def test_inventory_export_lists_and_downloads_the_current_inventory(client: Discogs) -> None:
    created = client.marketplace.create_listing(release_id=5, condition="Good (G)", price=3)
    location = client.inventory.export_inventory()
    export_id = int(str(location).rsplit("/", 1)[1])
    exports = client.inventory.list_inventory_exports().items
    assert [e.id for e in exports] == [export_id]
    detail = client.inventory.get_inventory_export(export_id)
    assert detail.status == "success" and detail.download_url
    rows = list(
        csv.DictReader(io.StringIO(client.inventory.download_inventory_export(export_id).decode()))
    )
    assert str(created.listing_id) in {row["listing_id"] for row in rows}
    assert len(rows) == len(list(client.marketplace.iter_inventory(ME)))


def test_inventory_uploads_change_the_inventory_and_are_recorded(client: Discogs) -> None:
    before = client.marketplace.get_inventory(ME, per_page=1).pagination.items
    client.inventory.upload_inventory_add(
        upload="release_id,price,media_condition,comments\n123,1.50,Mint (M),Très bien\n".encode()
    )
    assert client.marketplace.get_inventory(ME, per_page=1).pagination.items == before + 1
    [upload] = client.inventory.list_inventory_uploads().items
    assert upload.type == "add" and upload.status == "success"
    assert client.inventory.get_inventory_upload(upload.id).results.startswith(
        "CSV file contains 1 records"
    )


def test_upload_with_missing_required_column_is_refused(client: Discogs) -> None:
    response = client.http.post(
        "/inventory/upload/add", files={"upload": ("add.csv", b"release_id\n1\n", "text/csv")}
    )
    assert response.status_code == 422
    not_multipart = client.http.post("/inventory/upload/add", content=b"release_id\n1\n")
    assert not_multipart.status_code == 415


def test_writes_persist_across_clients_until_reset(sandbox: Sandbox, client: Discogs) -> None:
    folder = client.collection.create_collection_folder(ME, name="Kept")
    with httpx.Client(base_url=sandbox.base_url, headers={"User-Agent": "other/1.0"}) as other:
        seen = other.get(f"/users/{ME}/collection/folders", params={"token": SANDBOX_TOKEN})
    assert folder.id in [f["id"] for f in seen.json()["folders"]]
    sandbox.reset()
    assert folder.id not in sandbox.state.folder_ids(sandbox.state.users[ME])


def test_concurrent_writes_from_threads_are_all_kept(sandbox: Sandbox, client: Discogs) -> None:
    before = client.collection.get_collection_folder(ME, 0).count

    def add(n: int) -> int:
        return client.collection.add_to_collection_folder(ME, 1, 1000 + n).instance_id

    with ThreadPoolExecutor(4) as pool:
        instance_ids = list(pool.map(add, range(40)))
    assert len(set(instance_ids)) == 40
    assert client.collection.get_collection_folder(ME, 0).count == before + 40


@pytest.mark.discogs_sandbox(collection_size=100_000, rate_limit=100_000)
def test_a_collection_of_100000_items_pages_like_any_other(discogs_sandbox: Sandbox) -> None:
    with discogs_sandbox.client() as client:
        first = client.collection.get_collection_items_by_folder(ME, 0, per_page=100)
        last = client.collection.get_collection_items_by_folder(ME, 0, per_page=100, page=1000)
        uncategorized = client.collection.get_collection_folder(ME, 1)
    assert first.pagination.items == 100_000 and first.pagination.pages == 1000
    assert len(last.releases) == 100
    assert last.releases[-1].instance_id - first.releases[0].instance_id == 99_999
    assert 40_000 < uncategorized.count < 70_000
