"""Each kind of credential against the sandbox, and the documented refusals."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from discogs_sandbox import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_TOKEN,
    Sandbox,
    token_for,
)
from musicagent.auth import OAuth1Auth
from musicagent.errors import AuthenticationError, ForbiddenError, ResourceNotFoundError

pytestmark = pytest.mark.integration

UA = {"User-Agent": "musicagent-tests/1.0"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(self_check=True, rate_limit=10_000, anonymous_rate_limit=10_000) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _every_body_matches_the_spec(sandbox: Sandbox) -> Iterator[None]:
    sandbox.reset()
    yield
    assert sandbox.stats()["invalid_bodies"] == []


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    # The first search builds the sandbox's 30,000-release corpus (about a second alone, several
    # under coverage on a loaded machine): give it more than httpx's default five seconds.
    with httpx.Client(base_url=sandbox.base_url, headers=UA, timeout=60) as client:
        yield client


def _image_release(sandbox: Sandbox) -> int:
    core = sandbox.state.catalogue.release_core
    return next(r for r in range(2, 200) if core(r).has_image)


def test_personal_token_in_header_acts_as_its_user(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        identity = client.users.get_identity()
    assert identity.username == "sandbox"


def test_personal_token_in_query_string_acts_as_its_user(http: httpx.Client) -> None:
    response = http.get("/oauth/identity", params={"token": SANDBOX_TOKEN})
    assert response.status_code == 200
    assert response.json()["username"] == "sandbox"


def test_other_users_tokens_act_as_them(sandbox: Sandbox) -> None:
    with sandbox.client(token=token_for("crate_digger")) as client:
        assert client.users.get_identity().username == "crate_digger"


def test_key_and_secret_fill_image_urls_but_act_as_nobody(sandbox: Sandbox) -> None:
    release_id = _image_release(sandbox)
    with sandbox.client(
        consumer_key=SANDBOX_CONSUMER_KEY, consumer_secret=SANDBOX_CONSUMER_SECRET
    ) as client:
        release = client.database.get_release(release_id)
        assert release.images and release.images[0].uri
        with pytest.raises(AuthenticationError):
            client.users.get_identity()


def test_key_and_secret_in_query_string_are_accepted(http: httpx.Client) -> None:
    response = http.get(
        "/releases/2", params={"key": SANDBOX_CONSUMER_KEY, "secret": SANDBOX_CONSUMER_SECRET}
    )
    assert response.status_code == 200
    assert response.headers["X-Discogs-Ratelimit"] == "10000"


def test_anonymous_requests_get_empty_image_urls_and_the_low_tier(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    release_id = _image_release(sandbox)
    response = http.get(f"/releases/{release_id}")
    assert response.json()["images"][0]["uri"] == ""
    assert response.headers["X-Discogs-Ratelimit"] == str(sandbox.config.anonymous_rate_limit)


@pytest.mark.parametrize("method", ["PLAINTEXT", "HMAC-SHA1"])
def test_oauth_signed_requests_act_as_the_token_owner(sandbox: Sandbox, method: str) -> None:
    auth = OAuth1Auth(
        SANDBOX_CONSUMER_KEY,
        SANDBOX_CONSUMER_SECRET,
        SANDBOX_OAUTH_TOKEN,
        SANDBOX_OAUTH_TOKEN_SECRET,
        signature_method=method,  # type: ignore[arg-type]
    )
    with sandbox.client(oauth=auth) as client:
        identity = client.users.get_identity()
        folder = client.collection.create_collection_folder("sandbox", name="OAuth ✓")
    assert identity.username == "sandbox"
    assert identity.consumer_name == "MusicAgent Sandbox"
    assert folder.name == "OAuth ✓"


def test_oauth_signature_with_the_wrong_secret_is_refused(sandbox: Sandbox) -> None:
    auth = OAuth1Auth(
        SANDBOX_CONSUMER_KEY, "not-the-secret", SANDBOX_OAUTH_TOKEN, SANDBOX_OAUTH_TOKEN_SECRET
    )
    with sandbox.client(oauth=auth) as client, pytest.raises(AuthenticationError):
        client.users.get_identity()


def test_replayed_oauth_nonce_is_refused(sandbox: Sandbox, http: httpx.Client) -> None:
    auth = OAuth1Auth(
        SANDBOX_CONSUMER_KEY,
        SANDBOX_CONSUMER_SECRET,
        SANDBOX_OAUTH_TOKEN,
        SANDBOX_OAUTH_TOKEN_SECRET,
        signature_method="HMAC-SHA1",
    )
    url = f"{sandbox.base_url}/oauth/identity"
    header = {"Authorization": auth.authorization_header("GET", url)}
    assert http.get(url, headers=header).status_code == 200
    replay = http.get(url, headers=header)
    assert replay.status_code == 401
    assert "nonce" in replay.headers["X-Sandbox-Reason"]


def test_unknown_token_reads_public_data(http: httpx.Client) -> None:
    response = http.get("/releases/1", headers={"Authorization": "Discogs token=nope"})
    assert response.status_code == 200
    assert response.json()["id"] == 1


def test_unknown_token_gets_401_with_the_oauth_challenge(http: httpx.Client) -> None:
    response = http.get("/oauth/identity", headers={"Authorization": "Discogs token=nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'OAuth realm="https://api.discogs.com"'
    assert response.json() == {"message": "You must authenticate to access this resource."}


def test_owner_only_resource_refuses_anonymous_callers_with_401(http: httpx.Client) -> None:
    response = http.get("/users/sandbox/collection/value")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'OAuth realm="https://api.discogs.com"'
    assert response.json() == {"message": "You must authenticate to access this resource."}


def test_owner_only_resource_refuses_other_users_with_403(sandbox: Sandbox) -> None:
    with sandbox.client(token=token_for("vinyl.collector")) as client:
        with pytest.raises(ForbiddenError) as caught:
            client.collection.get_collection_value("sandbox")
        with pytest.raises(ForbiddenError):
            client.users.edit_profile("sandbox", name="Mallory")
    assert caught.value.message == "You don't have permission to access this resource."


def test_private_collection_is_hidden_from_others_but_not_from_its_owner(sandbox: Sandbox) -> None:
    with sandbox.client() as client, pytest.raises(ForbiddenError):
        client.collection.get_collection_items_by_folder("crate_digger", 0)
    with sandbox.client(token=token_for("crate_digger")) as owner:
        page = owner.collection.get_collection_items_by_folder("crate_digger", 0, per_page=1)
    assert page.pagination.items == sandbox.config.collection_size


def test_others_see_only_folder_0_of_a_public_collection(sandbox: Sandbox) -> None:
    with sandbox.client(token=token_for("vinyl.collector")) as client:
        folders = client.collection.list_collection_folders("sandbox")
    assert [f.id for f in folders.folders] == [0]


def test_search_needs_a_credential(http: httpx.Client) -> None:
    assert http.get("/database/search", params={"q": "x"}).status_code == 401
    authed = http.get("/database/search", params={"q": "x", "token": SANDBOX_TOKEN})
    assert authed.status_code == 200


def test_unknown_user_gets_discogs_404_message(sandbox: Sandbox) -> None:
    with sandbox.client() as client, pytest.raises(ResourceNotFoundError) as caught:
        client.users.get_profile("nobody-here")
    assert caught.value.message == "User does not exist or may have been deleted."


def test_request_without_user_agent_gets_an_empty_200(sandbox: Sandbox, http: httpx.Client) -> None:
    request = http.build_request("GET", "/releases/1")
    del request.headers["User-Agent"]
    response = http.send(request)
    assert response.status_code == 200
    assert response.content == b""
    assert sandbox.stats()["empty_user_agent"] == 1
    assert sandbox.stats()["requests"] == 0


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/releases/99999999", "Release not found."),
        ("/masters/9999999", "Master Release not found."),
        ("/artists/99999999", "Artist not found."),
        ("/labels/99999999", "Label not found."),
        ("/marketplace/listings/1", "The request resource was not found."),
    ],
)
def test_missing_items_get_discogs_404_bodies(http: httpx.Client, path: str, message: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.json() == {"message": message}


def test_accept_media_type_chooses_the_text_markup(http: httpx.Client) -> None:
    path = "/labels/1"  # the documentation's label, whose profile has [b] and [a=…] markup
    discogs = http.get(path).json()["profile"]
    plain = http.get(path, headers={"Accept": "application/vnd.discogs.v2.plaintext+json"})
    html = http.get(path, headers={"Accept": "application/vnd.discogs.v2.html+json"})
    assert "[b]" in discogs
    assert "[b]" not in plain.json()["profile"] and "Carl Craig" in plain.json()["profile"]
    assert "<b>" in html.json()["profile"] and "<a href=" in html.json()["profile"]
