"""Paging and error rules of the sandbox: page/per_page, pagination object, Link header."""

from __future__ import annotations

import pytest

from discogs_sandbox.rules import ApiError, Page, paginate, parse_page, unauthorized

BASE = "http://127.0.0.1:8765"


def test_default_page_is_the_first_with_50_items() -> None:
    assert parse_page({}) == Page(1, 50)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
    ],
)
def test_out_of_range_paging_is_a_422_naming_the_parameter(
    query: dict[str, str], named: str
) -> None:
    with pytest.raises(ApiError) as caught:
        parse_page(query)
    assert caught.value.status == 422
    assert named in caught.value.message


def test_middle_page_links_to_all_four_neighbours_with_absolute_urls() -> None:
    query = [("sort", "year"), ("page", "2"), ("per_page", "75"), ("token", "secret-value")]
    pagination, link = paginate(BASE, "/artists/1/releases", query, Page(2, 75), 2250)
    assert pagination["pages"] == 30 and pagination["items"] == 2250
    assert pagination["urls"] == {
        "first": f"{BASE}/artists/1/releases?sort=year&page=1&per_page=75",
        "prev": f"{BASE}/artists/1/releases?sort=year&page=1&per_page=75",
        "next": f"{BASE}/artists/1/releases?sort=year&page=3&per_page=75",
        "last": f"{BASE}/artists/1/releases?sort=year&page=30&per_page=75",
    }
    assert link is not None and "secret-value" not in link
    assert (
        link.split(", ")[2]
        == f'<{BASE}/artists/1/releases?sort=year&page=3&per_page=75>; rel="next"'
    )


def test_single_page_has_empty_urls_and_no_link_header() -> None:
    pagination, link = paginate(BASE, "/x", [], Page(1, 50), 3)
    assert pagination["urls"] == {} and pagination["pages"] == 1
    assert link is None


def test_empty_list_still_has_page_one() -> None:
    pagination, _ = paginate(BASE, "/x", [], Page(1, 50), 0)
    assert (pagination["page"], pagination["pages"], pagination["items"]) == (1, 1, 0)


def test_page_past_the_end_is_a_404_as_on_discogs() -> None:
    # Fidelity: it was a 422; clients read Discogs' 404 as "no more items".
    with pytest.raises(ApiError) as caught:
        paginate(BASE, "/x", [], Page(4, 10), 30)
    assert caught.value.status == 404


def test_a_reachable_cap_bounds_the_pages_but_not_the_item_count() -> None:
    pagination, _ = paginate(BASE, "/x", [], Page(200, 50), 45_000, reachable=10_000)
    assert (pagination["items"], pagination["pages"]) == (45_000, 200)
    with pytest.raises(ApiError):
        paginate(BASE, "/x", [], Page(201, 50), 45_000, reachable=10_000)


def test_401_carries_the_oauth_challenge_and_discogs_message() -> None:
    error = unauthorized("why")
    assert error.headers["WWW-Authenticate"] == 'OAuth realm="https://api.discogs.com"'
    assert error.body() == {"message": "You must authenticate to access this resource."}
