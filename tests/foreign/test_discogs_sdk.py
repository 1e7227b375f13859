"""discogs-sdk 0.8.1 against the sandbox: every operation it has, its OAuth flow, a 429.

Between them the tests below send all 62 operations of the spec through the SDK's own calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from discogs_sandbox import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_TOKEN,
    Sandbox,
)
from tests.foreign.conftest import USER_AGENT, approve

discogs_sdk = pytest.importorskip("discogs_sdk", reason="discogs-sdk is not installed")

pytestmark = pytest.mark.integration


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Any]:
    sandbox.reset()
    with discogs_sdk.Discogs(
        token=SANDBOX_TOKEN, base_url=sandbox.base_url, user_agent=USER_AGENT
    ) as client:
        yield client


def test_database_calls(client: Any, sandbox: Sandbox) -> None:
    release = client.releases.get(1)
    assert release.id == 1 and release.title
    assert client.releases.get(2, curr_abbr="EUR").id == 2
    assert client.releases.get(1).rating.get().release_id == 1
    assert client.releases.get(1).rating.get("sandbox").username == "sandbox"
    assert client.releases.get(1).rating.update("sandbox", 4).rating == 4
    client.releases.get(1).rating.delete("sandbox")
    assert client.releases.get(1).stats.get().num_have is not None
    master = client.masters.get(3)
    assert master.title
    versions = list(master.versions.list(sort="released", sort_order="desc"))
    assert versions and all(v.id for v in versions)
    artist = client.artists.get(4)
    assert artist.name
    assert list(artist.releases.list(sort="year"))
    label = client.labels.get(5)
    assert label.name and list(label.releases.list(per_page=10))
    hits = client.search(query=release.title, type="release", per_page=5)
    first = next(iter(hits))
    assert first.title == f"{release.artists[0].name} - {release.title}"
    assert sandbox.stats()["invalid_bodies"] == []


def test_user_and_collection_calls(client: Any) -> None:
    assert client.user.identity().username == "sandbox"
    user = client.users.get("sandbox")
    assert user.username == "sandbox"
    assert user.update(location="Reykjavík").location == "Reykjavík"
    assert list(user.submissions.list())
    assert list(user.submissions.artists.list()) is not None
    assert list(user.submissions.labels.list()) is not None
    assert list(user.contributions.list(sort="title"))
    collection = user.collection
    folders = collection.folders.list()
    assert folders[0].id == 0
    created = collection.folders.create(name="Keepers")
    assert collection.folders.get(created.id).name == "Keepers"
    assert collection.folders.update(created.id, name="Best").name == "Best"
    items = list(collection.folders.get(0).releases.list(sort="artist"))
    assert items
    added = collection.folders.get(1).releases.create(release_id=8)
    instances = collection.folders.get(1).releases.get(8).instances
    instances.update(added.instance_id, rating=5)
    instances.get(added.instance_id).fields.update(3, value="signed copy")
    assert list(collection.releases.get(8).list())
    instances.delete(added.instance_id)
    collection.folders.delete(created.id)
    assert collection.fields.list()
    assert collection.value.get().median
    wantlist = user.wantlist
    assert wantlist.create(release_id=9).id == 9
    assert wantlist.update(9, notes="later", rating=3).rating == 3
    assert any(w.id == 9 for w in wantlist.list())
    wantlist.delete(9)
    lists = list(user.lists.list())
    assert lists and client.lists.get(lists[0].id).name


def test_marketplace_calls(client: Any) -> None:
    user = client.users.get("sandbox")
    assert list(user.inventory.list(sort="price", status="For Sale"))
    created = client.marketplace.listings.create(
        release_id=10, condition="Mint (M)", price=12.5, comments="new"
    )
    listing = client.marketplace.listings.get(created.listing_id, curr_abbr="GBP")
    assert listing.price.currency == "GBP"
    client.marketplace.listings.update(created.listing_id, comments="edited")
    assert client.marketplace.listings.get(created.listing_id).comments == "edited"
    client.marketplace.listings.delete(created.listing_id)
    orders = list(client.marketplace.orders.list(status="All", sort="created"))
    order = client.marketplace.orders.get(orders[0].id)
    assert order.id == orders[0].id
    assert list(order.messages.list()) is not None
    assert order.messages.create(message="Thanks!").message.endswith("Thanks!")
    new = next(o for o in orders if "Shipped" in o.next_status)
    assert client.marketplace.orders.update(new.id, status="Shipped").status == "Shipped"
    assert client.marketplace.fee.get(price=10.0).value == 0.8
    assert client.marketplace.fee.get(price=10.0, currency="EUR").currency == "EUR"
    release = client.releases.get(11)
    suggestions = release.price_suggestions.get().conditions
    assert not suggestions or suggestions["Mint (M)"].currency
    stats = release.marketplace_stats.get(curr_abbr="EUR")
    assert stats.num_for_sale is None or stats.num_for_sale >= 0


def test_inventory_export_and_upload_calls(client: Any, tmp_path: Path) -> None:
    export_id = client.exports.request()
    assert client.exports.get(export_id).status == "success"
    assert any(e.id == export_id for e in client.exports.list())
    assert client.exports.download(export_id).startswith(b"listing_id,")
    add = tmp_path / "add.csv"
    add.write_text("release_id,price,media_condition\n123,1.50,Mint (M)\n")
    change = tmp_path / "change.csv"
    change.write_text("release_id,price\n123,2.50\n")
    delete = tmp_path / "delete.csv"
    delete.write_text("listing_id\n1\n")
    ids = [
        client.uploads.create(file=add),
        client.uploads.change(file=change),
        client.uploads.delete(file=delete),
    ]
    statuses = [client.uploads.get(upload_id).status for upload_id in ids]
    assert statuses == ["success", "success", "failure"]
    assert {u.id for u in client.uploads.list()} >= set(ids)


def test_oauth_flow(sandbox: Sandbox) -> None:
    from discogs_sdk.oauth import get_access_token, get_request_token

    request = get_request_token(
        SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET, base_url=sandbox.base_url
    )
    verifier = approve(request.authorize_url, sandbox)
    access = get_access_token(
        SANDBOX_CONSUMER_KEY,
        SANDBOX_CONSUMER_SECRET,
        request.oauth_token,
        request.oauth_token_secret,
        verifier,
        base_url=sandbox.base_url,
    )
    with discogs_sdk.Discogs(
        consumer_key=SANDBOX_CONSUMER_KEY,
        consumer_secret=SANDBOX_CONSUMER_SECRET,
        access_token=access.oauth_token,
        access_token_secret=access.oauth_token_secret,
        base_url=sandbox.base_url,
        user_agent=USER_AGENT,
    ) as client:
        assert client.user.identity().username == "sandbox"
        assert client.users.get("sandbox").collection.value.get().median


def test_key_and_secret_read_public_data_and_search() -> None:
    with (
        Sandbox(rate_limit=10**6) as sandbox,
        discogs_sdk.Discogs(
            consumer_key=SANDBOX_CONSUMER_KEY,
            consumer_secret=SANDBOX_CONSUMER_SECRET,
            base_url=sandbox.base_url,
            user_agent=USER_AGENT,
        ) as client,
    ):
        assert client.releases.get(1).id == 1
        assert next(iter(client.search(type="artist"))).type == "artist"


def test_a_429_is_raised_without_retries_and_retried_after_retry_after() -> None:
    with Sandbox(rate_limit=2, rate_window=1.0, retry_after=1) as sandbox:
        options = {"token": SANDBOX_TOKEN, "base_url": sandbox.base_url, "user_agent": USER_AGENT}
        with discogs_sdk.Discogs(max_retries=0, **options) as impatient:
            assert impatient.releases.get(1).title
            assert impatient.releases.get(2).title
            with pytest.raises(discogs_sdk.RateLimitError) as caught:
                assert impatient.releases.get(3).title
            assert caught.value.status_code == 429
        with discogs_sdk.Discogs(max_retries=3, **options) as patient:
            assert patient.releases.get(4).title
        assert sandbox.stats()["status_429"] >= 1
