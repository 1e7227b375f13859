"""The Discogs / AsyncDiscogs clients end to end over a mocked wire (pytest-httpx).

pytest-httpx replaces the innermost HTTP transport, so the real auth, rate-limit, retry and
logging transports run in every test here.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from discogs_models import CollectionItem, Release
from pytest_httpx import HTTPXMock

from musicagent import (
    AsyncDiscogs,
    AuthenticationError,
    Discogs,
    DiscogsSettings,
    ForbiddenError,
    InvalidParameterError,
    NetworkError,
    RateLimiter,
    ResourceNotFoundError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
)
from tests.conftest import ROOT, read_tsv

BASE = "https://api.discogs.com"
EXAMPLES = ROOT / "spec" / "examples"
RATE = {
    "X-Discogs-Ratelimit": "60",
    "X-Discogs-Ratelimit-Used": "1",
    "X-Discogs-Ratelimit-Remaining": "59",
}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def client(**kwargs: Any) -> Discogs:
    kwargs.setdefault("retry_policy", RetryPolicy(max_attempts=3, backoff_factor=0))
    kwargs.setdefault("rate_limiter", RateLimiter(60, 60))
    return Discogs(**kwargs)


def page(items: list[dict[str, Any]], number: int, pages: int, next_url: str | None) -> Any:
    urls = {"next": next_url} if next_url else {}
    return {
        "pagination": {"page": number, "pages": pages, "per_page": 100, "items": 5, "urls": urls},
        "releases": items,
    }


def collection_item(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "instance_id": 1000 + n,
        "rating": 0,
        "basic_information": {"id": n, "title": f"Record {n}", "year": 0},
    }


# --- building requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base", ["https://api.discogs.com", "http://127.0.0.1:8080/", "https://proxy.example/api"]
)
@pytest.mark.parametrize(
    ("operation_id", "arguments"),
    [
        ("get_release", {"release_id": 5}),
        ("get_release", {"release_id": 5, "curr_abbr": "EUR"}),
        ("get_profile", {"username": "a b/c?d#e%41 é+~"}),
        ("get_user_lists", {"username": "//x", "page": 2}),
        ("search", {"q": "Daft Punk & co", "type": "release"}),
    ],
)
def test_requests_go_to_the_url_httpx_merges_from_the_base(
    base: str, operation_id: str, arguments: dict[str, Any]
) -> None:
    # build_request hands httpx the URL already merged with its base (one parse, not two):
    # it must be the URL httpx's own merge of the relative path gives.
    from discogs_facade import OPERATIONS

    from musicagent._executor import build_request, builder_kwargs

    op = OPERATIONS[operation_id]
    with httpx.Client(base_url=base) as http:
        kwargs = op.build(**builder_kwargs(op, arguments))
        kwargs.pop("method", None)
        expected = http.build_request(op.method, **kwargs)
        built = build_request(http, op, arguments)
    assert str(built.url) == str(expected.url)
    assert built.url.raw_path == expected.url.raw_path
    assert built.headers == expected.headers


# --- typed calls ------------------------------------------------------------------------------


def test_get_release_returns_the_release_model(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/releases/249504", json=example("releases_get_200.json"), headers=RATE
    )
    with client(token="personal-token-123") as c:
        release = c.database.get_release(249504)
    assert isinstance(release, Release)
    assert release.title == "Never Gonna Give You Up"
    assert release.tracklist is not None and release.tracklist[0].title


def test_unknown_fields_are_kept_on_the_model(httpx_mock: HTTPXMock) -> None:
    body = example("releases_get_200.json")
    body["brand_new_field"] = {"nested": [1, 2]}
    httpx_mock.add_response(url=f"{BASE}/releases/1", json=body)
    with client(token="personal-token-123") as c:
        release = c.database.get_release(1)
    assert release.to_dict()["brand_new_field"] == {"nested": [1, 2]}


def test_enum_query_value_and_user_agent_are_sent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=example("releases_get_200.json"))
    with client(token="personal-token-123", user_agent="MyApp/2.0 +https://example.org") as c:
        c.database.get_release(249504, curr_abbr="EUR")
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.params["curr_abbr"] == "EUR"
    assert request.headers["User-Agent"] == "MyApp/2.0 +https://example.org"
    assert request.headers["Accept"] == "application/vnd.discogs.v2.discogs+json"


def test_default_user_agent_names_musicagent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=example("releases_get_200.json"))
    with client() as c:
        c.database.get_release(1)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["User-Agent"].startswith("musicagent/")


def test_204_operation_returns_none(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="DELETE", status_code=204)
    with client(token="personal-token-123") as c:
        assert c.wantlist.delete_from_wantlist("someone", 130076) is None


def test_json_body_fields_are_sent_as_keyword_arguments(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST", status_code=201, json={"listing_id": 41578241, "resource_url": "x"}
    )
    with client(token="personal-token-123") as c:
        created = c.marketplace.create_listing(
            release_id=1, condition="Mint (M)", price=10.5, status="For Sale", weight="auto"
        )
    assert created.listing_id == 41578241
    request = httpx_mock.get_request()
    assert request is not None
    assert json.loads(request.content) == {
        "release_id": 1,
        "condition": "Mint (M)",
        "price": 10.5,
        "status": "For Sale",
        "weight": "auto",
    }


def test_body_field_renamed_where_it_clashes_with_a_path_parameter(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", status_code=204)
    with client(token="personal-token-123") as c:
        c.collection.edit_collection_instance("me", 1, 2, 3, to_folder_id=7, rating=4)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.path == "/users/me/collection/folders/1/releases/2/instances/3"
    assert json.loads(request.content) == {"folder_id": 7, "rating": 4}


def test_inventory_upload_sends_the_csv_as_multipart(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", headers={"Location": f"{BASE}/inventory/upload/599632"})
    with client(token="personal-token-123") as c:
        location = c.inventory.upload_inventory_add(upload=b"release_id,price,media_condition\n")
    assert location == f"{BASE}/inventory/upload/599632"
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="upload"' in request.content
    assert b"release_id,price,media_condition" in request.content


def test_export_download_returns_the_csv_bytes(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        content=b"listing_id,price\n1,2.00\n", headers={"Content-Type": "text/csv"}
    )
    with client(token="personal-token-123") as c:
        assert c.inventory.download_inventory_export(599632) == b"listing_id,price\n1,2.00\n"


def test_conditional_get_answered_304_returns_none(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=304)
    with client(token="personal-token-123") as c:
        result = c.inventory.get_inventory_export(
            5, if_modified_since="Wed, 21 Oct 2015 07:28:00 GMT"
        )
    assert result is None
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["If-Modified-Since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_oauth_token_endpoint_parses_the_form_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        content=b"oauth_token=req-token&oauth_token_secret=req-secret&oauth_callback_confirmed=true",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with client(consumer_key="app-key", consumer_secret="app-secret-value") as c:
        token = c.oauth.get_request_token()
    assert token.oauth_token == "req-token"
    assert token.oauth_token_secret == "req-secret"


# --- credentials on the wire ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"token": "personal-token-123"}, "Discogs token=personal-token-123"),
        (
            {"consumer_key": "app-key-1", "consumer_secret": "app-secret-1"},
            "Discogs key=app-key-1, secret=app-secret-1",
        ),
    ],
)
def test_each_discogs_credential_is_sent_as_its_header(
    httpx_mock: HTTPXMock, kwargs: dict[str, str], expected: str
) -> None:
    httpx_mock.add_response(
        json={"id": 1, "username": "u", "resource_url": "r", "consumer_name": "c"}
    )
    with client(**kwargs) as c:
        c.users.get_identity()
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == expected


def test_credentials_come_from_settings_when_not_given(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOGS_TOKEN", "token-from-environment")
    httpx_mock.add_response(
        json={"id": 1, "username": "u", "resource_url": "r", "consumer_name": "c"}
    )
    with client() as c:
        c.users.get_identity()
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == "Discogs token=token-from-environment"


def test_token_can_be_replaced_on_a_live_client(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        json={"id": 1, "username": "u", "resource_url": "r", "consumer_name": "c"}, is_reusable=True
    )
    with client(token="first-token-value") as c:
        c.users.get_identity()
        c.token = "second-token-value"
        c.users.get_identity()
    first, second = httpx_mock.get_requests()
    assert first.headers["Authorization"] == "Discogs token=first-token-value"
    assert second.headers["Authorization"] == "Discogs token=second-token-value"


def test_oauth_request_is_signed_afresh_on_each_retry(httpx_mock: HTTPXMock) -> None:
    from musicagent import OAuth1Auth

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        # The retry resends the same Request object: record the header as it was on the wire.
        seen.append(request.headers["Authorization"])
        if len(seen) == 1:
            return httpx.Response(503)
        return httpx.Response(
            200, json={"id": 1, "username": "u", "resource_url": "r", "consumer_name": "c"}
        )

    httpx_mock.add_callback(answer, is_reusable=True)
    auth = OAuth1Auth("app-key", "app-secret-value", "user-token", "user-token-secret")
    with client(oauth=auth) as c:
        c.users.get_identity()
    assert len(seen) == 2
    assert all(header.startswith("OAuth ") for header in seen)
    nonces = [h.split('oauth_nonce="')[1].split('"')[0] for h in seen]
    assert nonces[0] != nonces[1]


def test_repr_never_shows_the_token() -> None:
    with client(token="super-secret-token-value") as c:
        assert "super-secret-token-value" not in repr(c)
        assert "token:" in repr(c)


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(InvalidParameterError) as info:
        Discogs(base_url="http://api.discogs.com")
    assert info.value.parameter == "base_url"


def test_plain_http_to_loopback_is_allowed() -> None:
    with Discogs(base_url="http://127.0.0.1:8765") as c:
        assert c.base_url == "http://127.0.0.1:8765"


# --- bad arguments never reach the wire --------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "parameter", "allowed"),
    [
        (lambda c: c.database.search(q="x", per_page=500), "per_page", "from 1 to 100"),
        (lambda c: c.database.search(q="x", page=0), "page", "at least 1"),
        (lambda c: c.users.get_profile(""), "username", "non-empty"),
        (lambda c: c.database.get_release(1, curr_abbr="XYZ"), "curr_abbr", "USD"),
        (lambda c: c.database.get_release("abc"), "release_id", "integer"),
        (
            lambda c: c.marketplace.create_listing(release_id=1, condition="Great", price=1.0),
            "condition",
            "Mint (M)",
        ),
        (lambda c: c.database.search(type="song"), "type", "release"),
        (lambda c: c.users.get_profile(".."), "username", "'..'"),
    ],
)
def test_bad_argument_is_rejected_before_sending(
    httpx_mock: HTTPXMock, call: Any, parameter: str, allowed: str
) -> None:
    with client(token="personal-token-123") as c, pytest.raises(InvalidParameterError) as info:
        call(c)
    assert info.value.parameter == parameter
    assert allowed in str(info.value)
    assert isinstance(info.value, ValueError)
    assert httpx_mock.get_requests() == []


def test_body_needing_one_of_several_fields_is_rejected_when_empty(httpx_mock: HTTPXMock) -> None:
    with client(token="personal-token-123") as c, pytest.raises(InvalidParameterError) as info:
        c.marketplace.edit_order("1-1")
    assert "shipping" in str(info.value) and "status" in str(info.value)
    assert httpx_mock.get_requests() == []


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (403, ForbiddenError), (404, ResourceNotFoundError)],
)
def test_error_status_raises_typed_error_with_server_message(
    httpx_mock: HTTPXMock, status: int, error: type[Exception]
) -> None:
    httpx_mock.add_response(status_code=status, json={"message": "Release not found."})
    with client(token="personal-token-123") as c, pytest.raises(error) as info:
        c.database.get_release(1)
    err = info.value
    assert err.status == status  # type: ignore[attr-defined]
    assert err.message == "Release not found."  # type: ignore[attr-defined]
    assert err.method == "GET"  # type: ignore[attr-defined]
    assert "personal-token-123" not in str(err)


def test_server_error_after_retries_raises_server_error(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(status_code=500, json={"message": "An internal server error."})
    with client(token="personal-token-123") as c, pytest.raises(ServerError):
        c.database.get_release(1)
    assert len(httpx_mock.get_requests()) == 3


def test_connection_failure_raises_network_error(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("refused"))
    with client(token="personal-token-123") as c, pytest.raises(NetworkError):
        c.database.get_release(1)


def test_wrong_type_in_body_raises_response_validation_error(httpx_mock: HTTPXMock) -> None:
    body = example("releases_get_200.json")
    body["tracklist"] = "not a list"
    httpx_mock.add_response(json=body)
    with client(token="personal-token-123") as c, pytest.raises(ResponseValidationError) as info:
        c.database.get_release(1)
    assert info.value.operation_id == "get_release"
    assert info.value.pointer == "/tracklist"


def test_non_json_body_raises_response_validation_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(content=b"<html>maintenance</html>")
    with client(token="personal-token-123") as c, pytest.raises(ResponseValidationError) as info:
        c.database.get_release(1)
    assert "not valid JSON" in str(info.value)
    assert not isinstance(info.value, KeyError | TypeError)


def test_strict_mode_checks_the_body_against_the_spec(httpx_mock: HTTPXMock) -> None:
    body = example("releases_get_200.json")
    body["artists"][0]["id"] = {"oops": 1}
    httpx_mock.add_response(json=body, is_reusable=True)
    with (
        client(token="personal-token-123", strict=True) as c,
        pytest.raises(ResponseValidationError) as info,
    ):
        c.database.get_release(1)
    assert info.value.pointer.startswith("/artists/0/id")


def test_strict_mode_from_settings(httpx_mock: HTTPXMock) -> None:
    with client(settings=DiscogsSettings(strict_validation=True)) as c:
        assert c._executor.strict is True


# --- pagination -------------------------------------------------------------------------------


def test_iterator_walks_every_page_with_per_page_100(httpx_mock: HTTPXMock) -> None:
    url = f"{BASE}/users/me/collection/folders/0/releases"
    httpx_mock.add_response(
        url=f"{url}?page=1&per_page=100",
        json=page([collection_item(1), collection_item(2)], 1, 3, f"{url}?page=2&per_page=100"),
    )
    httpx_mock.add_response(
        url=f"{url}?page=2&per_page=100",
        json=page([collection_item(3)], 2, 3, f"{url}?page=3&per_page=100"),
    )
    httpx_mock.add_response(
        url=f"{url}?page=3&per_page=100", json=page([collection_item(4)], 3, 3, None)
    )
    with client(token="personal-token-123") as c:
        items = list(c.collection.iter_collection_items_by_folder("me", 0))
    assert [i.id for i in items] == [1, 2, 3, 4]
    assert all(isinstance(i, CollectionItem) for i in items)
    assert len(httpx_mock.get_requests()) == 3


def test_iterator_is_lazy(httpx_mock: HTTPXMock) -> None:
    url = f"{BASE}/users/me/collection/folders/0/releases"
    httpx_mock.add_response(
        json=page([collection_item(1)], 1, 2, f"{url}?page=2&per_page=100"),
    )
    with client(token="personal-token-123") as c:
        walker = c.collection.iter_collection_items_by_folder("me", 0)
        assert httpx_mock.get_requests() == []
        assert next(walker).id == 1
    assert len(httpx_mock.get_requests()) == 1


def test_next_link_to_another_host_is_followed_on_the_configured_host(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(
        url="http://127.0.0.1:9/users/me/wants?page=1&per_page=100",
        json={
            "pagination": {
                "page": 1,
                "pages": 2,
                "per_page": 100,
                "items": 2,
                "urls": {"next": "https://elsewhere.example/users/me/wants?page=2&per_page=100"},
            },
            "wants": [{"id": 1, "rating": 0, "basic_information": {"id": 1}}],
        },
    )
    httpx_mock.add_response(
        url="http://127.0.0.1:9/users/me/wants?page=2&per_page=100",
        json={
            "pagination": {"page": 2, "pages": 2, "per_page": 100, "items": 2, "urls": {}},
            "wants": [{"id": 2, "rating": 0, "basic_information": {"id": 2}}],
        },
    )
    with client(token="personal-token-123", base_url="http://127.0.0.1:9") as c:
        assert [w.id for w in c.wantlist.iter_wantlist("me")] == [1, 2]


def test_iterator_falls_back_to_page_numbers_without_next_links(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/users/me/wants?page=1&per_page=100",
        json={
            "pagination": {"page": 1, "pages": 2, "per_page": 100, "items": 2},
            "wants": [{"id": 1, "basic_information": {"id": 1}}],
        },
    )
    httpx_mock.add_response(
        url=f"{BASE}/users/me/wants?page=2&per_page=100",
        json={
            "pagination": {"page": 2, "pages": 2, "per_page": 100, "items": 2},
            "wants": [{"id": 2, "basic_information": {"id": 2}}],
        },
    )
    with client(token="personal-token-123") as c:
        assert [w.id for w in c.wantlist.iter_wantlist("me")] == [1, 2]


# --- rate budget ------------------------------------------------------------------------------


def test_rate_limit_reports_the_budget_after_a_response(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        json=example("releases_get_200.json"),
        headers={
            "X-Discogs-Ratelimit": "60",
            "X-Discogs-Ratelimit-Used": "12",
            "X-Discogs-Ratelimit-Remaining": "48",
        },
    )
    with Discogs(token="personal-token-123") as c:
        c.database.get_release(1)
        status = c.rate_limit
    assert status is not None
    assert (status.limit, status.remaining) == (60, 48)


def test_clients_with_one_credential_share_one_limiter() -> None:
    with Discogs(token="same-token-value") as a, Discogs(token="same-token-value") as b:
        assert a.limiter is b.limiter
    with Discogs(token="other-token-value") as c, Discogs(token="same-token-value") as d:
        assert c.limiter is not d.limiter


def test_anonymous_clients_get_the_lower_limit() -> None:
    with Discogs() as anonymous, Discogs(token="some-token-value") as authed:
        assert anonymous.limiter is not None and anonymous.limiter.max_requests == 25
        assert authed.limiter is not None and authed.limiter.max_requests == 60


# --- async twin -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_returns_the_same_models(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json=example("releases_get_200.json"))
    async with AsyncDiscogs(token="personal-token-123", rate_limiter=RateLimiter(60, 60)) as c:
        release = await c.database.get_release(249504)
    assert isinstance(release, Release)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == "Discogs token=personal-token-123"


@pytest.mark.anyio
async def test_async_iterator_walks_every_page(httpx_mock: HTTPXMock) -> None:
    url = f"{BASE}/users/me/collection/folders/0/releases"
    httpx_mock.add_response(
        json=page([collection_item(1)], 1, 2, f"{url}?page=2&per_page=100"),
    )
    httpx_mock.add_response(json=page([collection_item(2)], 2, 2, None))
    async with AsyncDiscogs(token="personal-token-123", rate_limiter=RateLimiter(60, 60)) as c:
        ids = [item.id async for item in c.collection.iter_collection_items_by_folder("me", 0)]
    assert ids == [1, 2]


@pytest.mark.anyio
async def test_async_bad_argument_is_rejected_before_sending(httpx_mock: HTTPXMock) -> None:
    async with AsyncDiscogs(token="personal-token-123") as c:
        with pytest.raises(InvalidParameterError):
            await c.database.search(per_page=101)
    assert httpx_mock.get_requests() == []


# --- surface ----------------------------------------------------------------------------------


def test_every_operation_and_iterator_is_a_method_on_its_group() -> None:
    rows = read_tsv(ROOT / "spec" / "endpoints.tsv")
    with Discogs() as sync_client:
        async_client = AsyncDiscogs()
        for row in rows:
            for c in (sync_client, async_client):
                group = getattr(c, row["tag"])
                assert callable(getattr(group, row["operation_id"])), row["operation_id"]
                if row["iterator"]:
                    assert callable(getattr(group, row["iterator"])), row["iterator"]
                assert getattr(group, row["operation_id"]).__doc__


def test_method_docstrings_come_from_the_spec() -> None:
    doc = Discogs.__init__ and Discogs().database.get_release.__doc__
    assert doc is not None
    assert "GET /releases/{release_id}" in doc
    assert "curr_abbr" in doc


def test_stats_count_every_attempt_on_the_wire(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=429, json={"message": "You are making requests too quickly."}
    )
    httpx_mock.add_response(json=example("releases_get_200.json"))
    # No limiter here: after a 429 it would (rightly) wait for the window to free.
    policy = RetryPolicy(max_attempts=3, throttled_wait=0)
    with client(token="personal-token-123", retry_policy=policy, rate_limiter=False) as c:
        c.database.get_release(1)
        snapshot = c.stats.snapshot()
    assert snapshot["requests"] == 2
    assert snapshot["throttled"] == 1
    assert snapshot["statuses"] == {429: 1, 200: 1}
