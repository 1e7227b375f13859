"""Every place the spec deviates from the Discogs documentation, each with its evidence.

Looser than the docs where real data or the docs' own examples are; stricter where a body that
the docs allow would hide a failure (`{}` as a rating). One test per deviation: each fails on
the spec before the deviation was made.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from discogs_facade import OPERATIONS
from discogs_models import (
    OriginalPrice,
    PriceSuggestions,
    ReleaseRatingByUser,
    UserSubmissionArtist,
    UserSubmissionRelease,
    Want,
)
from pytest_httpx import HTTPXMock

from musicagent import Discogs, InvalidParameterError, RateLimiter, RetryPolicy
from musicagent.validation import bundled_validator
from tests.conftest import EXAMPLES
from tests.contract.real_bodies import client_accepts

BASE = "https://api.discogs.com"


def client(**kwargs: Any) -> Discogs:
    return Discogs(
        token="contract-token-1",
        retry_policy=RetryPolicy(max_attempts=1, backoff_factor=0),
        rate_limiter=RateLimiter(60, 60),
        cache=False,
        **kwargs,
    )


def _valid(operation_id: str, body: Any, status: int = 200) -> bool:
    validator = bundled_validator()
    pointer = validator.response_schema_pointer(validator.operation_by_id(operation_id), status)
    assert pointer is not None
    by_schema = validator.is_valid(pointer, body)
    by_client = client_accepts(OPERATIONS[operation_id], json.dumps(body).encode(), status)
    assert by_schema == by_client, (operation_id, body)
    return by_schema


def _example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


# --- looser than the docs: what real bodies carry -------------------------------------------


def test_submission_members_are_names_as_in_real_bodies() -> None:
    artist = {"id": 1, "name": "Group", "resource_url": "/artists/1", "members": ["A", "B"]}
    assert UserSubmissionArtist.model_validate(artist).members == ["A", "B"]
    page = {
        "pagination": {"page": 1, "pages": 1, "per_page": 50, "items": 1, "urls": {}},
        "submissions": {"artists": [artist], "labels": [], "releases": []},
    }
    assert _valid("get_user_submissions", page)


def test_submission_relations_without_evidence_are_left_untyped() -> None:
    artist = {
        "id": 1,
        "name": "A",
        "resource_url": "/artists/1",
        "groups": ["G"],
        "aliases": [{"id": 2}],
    }
    label = {
        "id": 1,
        "name": "L",
        "resource_url": "/labels/1",
        "parent_label": "P",
        "sublabels": [],
    }
    page = {
        "pagination": {"page": 1, "pages": 1, "per_page": 50, "items": 2, "urls": {}},
        "submissions": {"artists": [artist], "labels": [label], "releases": []},
    }
    assert _valid("get_user_submissions", page)


def test_real_fields_are_described_not_left_as_extras() -> None:
    price = OriginalPrice.model_validate(
        {"curr_abbr": "EUR", "value": 10, "converted": {"curr_abbr": "USD", "value": 11.2}}
    )
    assert isinstance(price.converted, OriginalPrice)
    release = UserSubmissionRelease.model_validate(
        {
            "id": 1,
            "title": "T",
            "resource_url": "/releases/1",
            "artists_sort": "A",
            "lowest_price": 2.5,
            "num_for_sale": 3,
        }
    )
    assert (release.artists_sort, release.lowest_price, release.num_for_sale) == ("A", 2.5, 3)
    want = Want.model_validate({"id": 1, "basic_information": {"id": 1}, "notes_public": False})
    assert want.notes_public is False
    assert not (price.model_extra or release.model_extra or want.model_extra)


def test_rating_put_answering_201_is_a_rating(httpx_mock: HTTPXMock) -> None:
    body = {"username": "memory", "release_id": 249504, "rating": 5}
    httpx_mock.add_response(
        method="PUT", url=f"{BASE}/releases/249504/rating/memory", status_code=201, json=body
    )
    with client(strict=True) as c:
        rating = c.database.update_release_rating_by_user(249504, "memory", rating=5)
    assert isinstance(rating, ReleaseRatingByUser)
    assert rating.rating == 5


def test_inventory_status_takes_the_docs_example_in_any_case(httpx_mock: HTTPXMock) -> None:
    body = {"pagination": {"page": 1, "pages": 1, "per_page": 50, "items": 0}, "listings": []}
    httpx_mock.add_response(json=body)
    with client() as c:
        c.marketplace.get_inventory("360vinyl", status="for sale")  # the docs' example (L2376)
    assert httpx_mock.get_requests()[0].url.params["status"] == "for sale"
    with client() as c, pytest.raises(InvalidParameterError, match="status"):
        c.marketplace.get_inventory("360vinyl", status="on sale")


def test_list_id_is_a_number_or_a_string_of_digits(httpx_mock: HTTPXMock) -> None:
    body = {"name": "L", "items": [], "resource_url": f"{BASE}/lists/373143"}
    httpx_mock.add_response(url=f"{BASE}/lists/373143", json=body, is_reusable=True)
    with client() as c:
        assert c.lists.get_list("373143").name == "L"  # a string in the docs (L6613)
        assert c.lists.get_list(373143).name == "L"
        with pytest.raises(InvalidParameterError, match="list_id"):
            c.lists.get_list("37x")


def test_search_year_takes_an_integer(httpx_mock: HTTPXMock) -> None:
    empty = {"pagination": {"page": 1, "pages": 1, "per_page": 50, "items": 0}, "results": []}
    httpx_mock.add_response(json=empty, is_reusable=True)
    with client() as c:
        c.database.search(q="nirvana", year=1991)
        c.database.search(q="nirvana", year="1991")  # the docs' string (L2084)
    assert [r.url.params["year"] for r in httpx_mock.get_requests()] == ["1991", "1991"]


# --- stricter than the docs: `{}` and another resource's body are not answers ----------------


@pytest.mark.parametrize(
    "operation_id",
    [
        "get_release_rating_by_user",
        "get_community_release_rating",
        "get_release_stats",
        "get_release_marketplace_stats",
        "get_release",
        "get_artist",
        "get_label",
        "get_master",
        "get_identity",
    ],
)
def test_an_empty_object_is_not_a_whole_body(operation_id: str) -> None:
    assert not _valid(operation_id, {})


def test_release_stats_take_either_real_shape() -> None:
    assert _valid("get_release_stats", _example("releases_stats_get_200.json"))
    assert _valid("get_release_stats", {"is_offensive": False})  # what the live API answers
    assert not _valid("get_release_stats", {"num_have": 3})


def test_price_suggestions_may_be_empty_and_dump_like_every_model() -> None:
    assert _valid("get_price_suggestions", {})  # the docs allow `{}` here (L3875-3877)
    body = _example("marketplace_price_suggestions_get_200.json")
    suggestions = PriceSuggestions.from_api_response(json.dumps(body))
    assert suggestions.to_dict() == body
    assert json.loads(suggestions.to_json()) == body


def test_resource_urls_tell_kinds_apart() -> None:
    artist = _example("artists_get_200.json")
    assert _valid("get_artist", artist)
    artist.setdefault("name", "Nickelback")
    assert not _valid("get_label", artist)  # it has every member a label needs, but is an artist
    assert not _valid("get_artist", {**artist, "resource_url": f"{BASE}/labels/1"})


def test_an_error_body_needs_its_message() -> None:
    validator = bundled_validator()
    op = validator.match("GET", "/releases/1")
    assert (
        validator.validate_response("GET", "/releases/1", 404, {"message": "Not found."})[1] == []
    )
    assert validator.validate_response("GET", "/releases/1", 404, {})[1] != []
    assert op.operation_id == "get_release"


def test_null_where_the_spec_says_non_null_is_refused_like_a_wrong_type() -> None:
    body = _example("releases_get_200.json")
    assert not _valid("get_release", {**body, "country": None})
    assert _valid("get_release", {**body, "notes": None})  # nullable in the spec
    assert not _valid("get_release", {**body, "id": True})
    assert not _valid("get_release", {**body, "year": "1987"})


def test_ids_stay_a_number_or_string_union_where_the_spec_says_so() -> None:
    body = _example("releases_get_200.json")
    artists = [{**body["artists"][0], "id": str(body["artists"][0]["id"])}]
    assert _valid("get_release", {**body, "artists": artists})
    assert not _valid("get_release", {**body, "id": str(body["id"])})
