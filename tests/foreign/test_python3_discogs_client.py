"""python3-discogs-client 2.10 against the sandbox: its calls, its OAuth flow, its 429 backoff.

It reaches the API through ``Client._base_url`` (and the OAuth URLs, class attributes too),
which its docs point to for other hosts. Its objects are lazy: reading a field sends the GET.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from discogs_sandbox import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_TOKEN,
    Sandbox,
)
from tests.foreign.conftest import USER_AGENT, approve

discogs_client = pytest.importorskip(
    "discogs_client", reason="python3-discogs-client is not installed"
)

pytestmark = pytest.mark.integration


def _point(client: Any, sandbox: Sandbox) -> Any:
    client._base_url = sandbox.base_url
    client._request_token_url = f"{sandbox.base_url}/oauth/request_token"
    client._access_token_url = f"{sandbox.base_url}/oauth/access_token"
    client._authorize_url = f"{sandbox.base_url}/oauth/authorize"
    return client


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Any]:
    sandbox.reset()
    yield _point(discogs_client.Client(USER_AGENT, user_token=SANDBOX_TOKEN), sandbox)
    assert sandbox.stats()["invalid_bodies"] == []


def test_database_calls(client: Any) -> None:
    release = client.release(1)
    assert release.title and release.artists[0].name
    assert release.tracklist[0].title
    stats = release.marketplace_stats
    assert stats.blocked_from_sale in (True, False)
    assert stats.num_for_sale is None or stats.num_for_sale >= 0
    mint = release.price_suggestions.mint
    assert mint is None or mint.value > 0
    master = client.master(3)
    assert master.title and master.main_release.id
    assert len(master.versions) > 0 and master.versions[0].id
    artist = client.artist(4)
    assert artist.name and artist.aliases is not None
    assert len(artist.releases) > 0
    label = client.label(5)
    assert label.name and label.releases.page(1)
    results = client.search(release.title, type="release")
    assert results.count > 0
    assert results[0].title == f"{release.artists[0].name} - {release.title}"
    assert client.search("zzzzzzzznothing").count == 0
    assert client.fee_for(10.0, currency="EUR").value == 0.8


def test_user_and_collection_calls(client: Any) -> None:
    me = client.identity()
    assert me.username == "sandbox"
    user = client.user("sandbox")
    assert user.num_collection is not None
    user.location = "Reykjavík"
    user.save()
    assert client.user("sandbox").location == "Reykjavík"
    folders = user.collection_folders
    assert folders[0].id == 0 and len(folders[0].releases) > 0
    uncategorized = next(f for f in folders if f.id == 1)
    uncategorized.add_release(8)
    [instance] = user.collection_items(8)
    assert instance.release.id == 8
    target = next(f for f in folders if f.id > 1)
    uncategorized.move_release(instance, target.id)
    [moved] = user.collection_items(8)
    assert moved.folder_id == target.id
    target.remove_release(moved)
    assert user.collection_value.median
    user.wantlist.add(9, notes="later", rating=3)
    # (WantlistItem.save() re-reads /users/{u}/wants/{id}, which Discogs documents no GET for.)
    assert any(w.id == 9 for w in client.user("sandbox").wantlist)
    user.wantlist.remove(9)
    assert all(w.id != 9 for w in client.user("sandbox").wantlist)
    lists = user.lists
    assert len(lists) > 0 and client.list(lists[0].id).name


def test_marketplace_calls(client: Any) -> None:
    user = client.user("sandbox")
    assert len(user.inventory) > 0
    user.inventory.add_listing(10, "Mint (M)", 12.5, "For Sale", comments="new")
    listing = next(item for item in client.user("sandbox").inventory if item.comments == "new")
    listing = client.listing(listing.id)
    assert listing.price.value and listing.release.id == 10
    listing.comments = "edited"
    listing.save()
    assert client.listing(listing.id).comments == "edited"
    listing.delete()
    orders = user.orders
    assert len(orders) > 0
    order = client.order(orders[0].id)
    assert order.status in order.next_status
    order.messages.add(message="Thanks!")
    assert any("Thanks!" in (m.message or "") for m in client.order(order.id).messages)
    fresh = next(o for o in user.orders if o.status == "New Order")
    fresh.status = "Buyer Contacted"
    fresh.save()
    assert client.order(fresh.id).status == "Buyer Contacted"


def test_oauth_flow(sandbox: Sandbox) -> None:
    # Its request-token step is a POST, which Discogs accepts.
    oauth = _point(
        discogs_client.Client(
            USER_AGENT, consumer_key=SANDBOX_CONSUMER_KEY, consumer_secret=SANDBOX_CONSUMER_SECRET
        ),
        sandbox,
    )
    _token, _secret, url = oauth.get_authorize_url()
    assert url.startswith(f"{sandbox.base_url}/oauth/authorize?oauth_token=")
    access_token, access_secret = oauth.get_access_token(approve(url, sandbox))
    assert oauth.identity().username == "sandbox"
    again = _point(
        discogs_client.Client(
            USER_AGENT,
            consumer_key=SANDBOX_CONSUMER_KEY,
            consumer_secret=SANDBOX_CONSUMER_SECRET,
            token=access_token,
            secret=access_secret,
        ),
        sandbox,
    )
    assert again.user("sandbox").collection_value.median


def test_a_429_is_an_http_error_without_backoff_and_waited_out_with_it() -> None:
    with Sandbox(rate_limit=2, rate_window=1.0) as sandbox:
        client = _point(discogs_client.Client(USER_AGENT, user_token=SANDBOX_TOKEN), sandbox)
        client.backoff_enabled = False
        assert client.release(1).title and client.release(2).title
        with pytest.raises(discogs_client.exceptions.HTTPError) as caught:
            _ = client.release(3).title
        assert caught.value.status_code == 429
        assert "too quickly" in str(caught.value)
        client.backoff_enabled = True
        assert client.release(4).title  # its exponential backoff waits the window out
        assert sandbox.stats()["status_429"] >= 1
