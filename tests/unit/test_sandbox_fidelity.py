"""Fidelity: the sandbox answers as Discogs does where it used to mislead (one test per gap).

Each test names the gap it closes; before the change each of them failed.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import pytest
from discogs_spec import load_spec

from discogs_sandbox import SANDBOX_TOKEN, SandboxApp, SandboxConfig, token_for
from discogs_sandbox.endpoints import HANDLERS

UA = {"User-Agent": "fidelity-tests/1.0"}
AUTH = {**UA, "Authorization": f"Discogs token={SANDBOX_TOKEN}"}
OTHER = {**UA, "Authorization": f"Discogs token={token_for('crate_digger')}"}


class InProcess:
    """Requests straight into the ASGI app, from one source address."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://sandbox.test"
            ) as client:
                return await client.request(method, path, **options)

        return asyncio.run(send())

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return self.request("GET", path, headers=AUTH if headers is None else headers, **kw)


def _sandbox(**options: Any) -> InProcess:
    config = SandboxConfig.build(**{"collection_size": 30, "self_check": True, **options})
    return InProcess(SandboxApp(config))


@pytest.fixture(scope="module")
def http() -> InProcess:
    return _sandbox(rate_limit=10**6, anonymous_rate_limit=10**6)


# --- search -------------------------------------------------------------------------------------


def test_search_for_nonsense_finds_nothing(http: InProcess) -> None:
    body = http.get("/database/search", params={"q": "zzzzzzzznothing"}).json()
    assert body["pagination"]["items"] == 0 and body["results"] == []


def test_search_by_year_returns_only_that_year(http: InProcess) -> None:
    body = http.get("/database/search", params={"year": "2003", "type": "release"}).json()
    assert body["pagination"]["items"] > 0
    assert {r["year"] for r in body["results"]} == {"2003"}


def test_a_hit_resolves_to_the_release_it_names(http: InProcess) -> None:
    hit = http.get("/database/search", params={"q": "vinyl", "type": "release"}).json()
    first = hit["results"][0]
    release = http.get(f"/releases/{first['id']}").json()
    assert first["title"] == f"{release['artists'][0]['name']} - {release['title']}"
    assert first["year"] == (str(release["year"]) if release["year"] else "")


def test_searching_release_1s_barcode_finds_release_1(http: InProcess) -> None:
    release = http.get("/releases/1").json()
    barcode = next(i["value"] for i in release["identifiers"] if i["type"] == "Barcode")
    body = http.get("/database/search", params={"barcode": barcode}).json()
    assert [r["id"] for r in body["results"]] == [1]


def test_every_documented_filter_narrows_the_results(http: InProcess) -> None:
    release = http.get("/releases/7").json()
    everything = http.get("/database/search").json()["pagination"]["items"]
    values = {
        "artist": release["artists"][0]["name"],
        "label": release["labels"][0]["name"],
        "release_title": release["title"],
        "genre": release["genres"][0],
        "country": release["country"] or "UK",
        "format": release["formats"][0]["name"],
        "track": release["tracklist"][-1]["title"],
        "credit": release["extraartists"][0]["name"],
        "submitter": release["community"]["submitter"]["username"],
    }
    for name, value in values.items():
        found = http.get("/database/search", params={name: value, "type": "release"}).json()
        assert 0 < found["pagination"]["items"] < everything, name
    narrowed = http.get(
        "/database/search", params={"artist": values["artist"], "release_title": release["title"]}
    ).json()
    assert 7 in [r["id"] for r in narrowed["results"]]


def test_search_reports_every_match_but_pages_only_through_10000(http: InProcess) -> None:
    body = http.get("/database/search", params={"per_page": 50}).json()
    assert body["pagination"]["items"] > 10_000
    assert body["pagination"]["pages"] == 200
    assert http.get("/database/search", params={"page": 200}).status_code == 200
    assert http.get("/database/search", params={"page": 201}).status_code == 404


def test_the_last_page_of_a_search_is_shorter_than_per_page(http: InProcess) -> None:
    artist = http.get("/artists/3").json()["name"]
    first = http.get("/database/search", params={"artist": artist, "per_page": 100}).json()
    pages = first["pagination"]["pages"]
    last = http.get(
        "/database/search", params={"artist": artist, "per_page": 100, "page": pages}
    ).json()
    assert 0 < len(last["results"]) <= 100
    assert len(last["results"]) == first["pagination"]["items"] - (pages - 1) * 100


# --- rate limit ---------------------------------------------------------------------------------


def test_rate_limit_is_per_source_address_shared_by_all_credentials() -> None:
    http = _sandbox(rate_limit=3, anonymous_rate_limit=3, rate_window=60)
    assert [http.get("/releases/1").status_code for _ in range(3)] == [200] * 3
    assert http.get("/releases/1", headers=OTHER).status_code == 429
    assert http.get("/releases/1", headers=UA).status_code == 429
    key = {**UA, "Authorization": "Discogs key=sandbox-key, secret=sandbox-secret"}
    assert http.get("/releases/1", headers=key).status_code == 429


def test_per_credential_windows_can_be_asked_for() -> None:
    http = _sandbox(rate_limit=2, rate_window=60, rate_limit_scope="credential")
    assert [http.get("/releases/1").status_code for _ in range(3)] == [200, 200, 429]
    assert http.get("/releases/1", headers=OTHER).status_code == 200


def test_a_bogus_token_gets_the_anonymous_tier(http: InProcess) -> None:
    bogus = {**UA, "Authorization": "Discogs token=made-up"}
    response = http.get("/releases/1", headers=bogus)
    assert response.status_code == 200
    assert response.headers["X-Discogs-Ratelimit"] == str(10**6)  # the anonymous limit here
    limited = _sandbox(rate_limit=60, anonymous_rate_limit=25).get("/releases/1", headers=bogus)
    assert limited.headers["X-Discogs-Ratelimit"] == "25"


# --- HTTP methods, CORS, the root, JSONP, trailing slash ----------------------------------------


def test_head_is_get_without_a_body(http: InProcess) -> None:
    head = http.request("HEAD", "/releases/1", headers=AUTH)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("application/json")
    assert "X-Discogs-Ratelimit" in head.headers


def test_options_is_a_cors_preflight_and_every_answer_allows_any_origin(http: InProcess) -> None:
    preflight = http.request("OPTIONS", "/releases/1", headers={"Origin": "https://app.test"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert http.get("/releases/1").headers["Access-Control-Allow-Origin"] == "*"
    assert http.get("/releases/0").headers["Access-Control-Allow-Origin"] == "*"


def test_the_root_greets_like_discogs(http: InProcess) -> None:
    body = http.get("/").json()
    assert body["hello"] == "Welcome to the Discogs API." and body["api_version"] == "v2"


def test_callback_wraps_the_answer_as_jsonp(http: InProcess) -> None:
    response = http.get("/artists/1", params={"callback": "callbackname"})
    assert response.headers["content-type"].startswith("text/javascript")
    text = response.text
    assert text.startswith("callbackname(") and text.endswith(")")
    import json

    wrapped = json.loads(text[len("callbackname(") : -1])
    assert wrapped["meta"]["status"] == 200 and wrapped["data"]["id"] == 1
    missing = http.get("/releases/0", params={"callback": "cb"})
    assert missing.status_code == 200
    assert json.loads(missing.text[3:-1])["meta"]["status"] == 404


def test_a_trailing_slash_is_the_same_resource_counted_once() -> None:
    http = _sandbox()
    response = http.get("/releases/1/")
    assert response.status_code == 200 and response.json()["id"] == 1
    assert response.headers["X-Discogs-Ratelimit-Used"] == "1"


# --- strict where Discogs is lenient ------------------------------------------------------------


def test_a_page_past_the_end_is_404(http: InProcess) -> None:
    assert http.get("/users/sandbox/wants", params={"page": 999}).status_code == 404


def test_status_and_currency_are_matched_case_insensitively(http: InProcess) -> None:
    listings = http.get("/users/sandbox/inventory", params={"status": "for sale"})
    assert listings.status_code == 200
    assert {item["status"] for item in listings.json()["listings"]} == {"For Sale"}
    release = http.get("/releases/2", params={"curr_abbr": "eur"})
    assert release.status_code == 200
    stats = http.get("/marketplace/stats/2", params={"curr_abbr": "eur"}).json()
    assert stats["lowest_price"] is None or stats["lowest_price"]["currency"] == "EUR"


# --- the spec drives the core -------------------------------------------------------------------


def test_a_read_operation_added_to_the_spec_is_answered_without_a_handler() -> None:
    spec = copy.deepcopy(load_spec())
    spec["paths"]["/releases/{release_id}/twin"] = {
        "get": {
            "operationId": "get_release_twin",
            "security": [{}],
            "parameters": [
                {
                    "name": "release_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {
                "200": {
                    "description": "x",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ReleaseStats"}
                        }
                    },
                }
            },
        }
    }
    assert "get_release_twin" not in HANDLERS
    http = InProcess(SandboxApp(SandboxConfig(self_check=True), spec=spec))
    response = http.get("/releases/5/twin")
    assert response.status_code == 200
    assert isinstance(response.json(), dict)
    assert http.get("/__sandbox/stats").json()["invalid_bodies"] == []
    assert http.get("/releases/abc/twin").status_code == 404


def test_security_of_the_spec_decides_401_and_403(http: InProcess) -> None:
    # The spec's security: search needs any credential, the collection value is the owner's.
    assert http.get("/database/search", headers=UA).status_code == 401
    assert http.get("/users/sandbox/collection/value", headers=OTHER).status_code == 403
    assert http.get("/users/sandbox/collection/value", headers=AUTH).status_code == 200
