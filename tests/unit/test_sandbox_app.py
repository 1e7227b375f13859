"""The sandbox ASGI app in-process: routes from the spec, control endpoints, counters."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from discogs_spec import load_spec

from discogs_sandbox import SANDBOX_TOKEN, SandboxApp, SandboxConfig
from discogs_sandbox.app import spec_routes
from discogs_sandbox.endpoints import HANDLERS, READS

AUTH = {"Authorization": f"Discogs token={SANDBOX_TOKEN}"}


@pytest.fixture
def app() -> SandboxApp:
    return SandboxApp(SandboxConfig(collection_size=20, self_check=True))


class InProcess:
    """Requests straight into the ASGI app (no sockets), one event loop per request."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app),
                base_url="http://sandbox.test",
                headers={"User-Agent": "musicagent-unit-tests"},
            ) as client:
                return await client.request(method, path, **options)

        return asyncio.run(send())

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> httpx.Response:
        return self.request("PUT", path, **options)


@pytest.fixture
def http(app: SandboxApp) -> InProcess:
    return InProcess(app)


def test_routes_and_handlers_cover_every_operation_of_the_spec() -> None:
    spec_paths = load_spec()["paths"]
    routes = dict(spec_routes())
    assert set(routes) == set(spec_paths)
    operation_ids = {op for methods in routes.values() for op in methods.values()}
    # Each operation is answered by exactly one of: a row of the reads table, a handler.
    assert operation_ids == set(HANDLERS) | set(READS)
    assert not set(HANDLERS) & set(READS)
    # Derived from the spec: adding an operation there needs no count edited here.
    assert operation_ids == {
        op["operationId"]
        for item in spec_paths.values()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    }


def test_literal_paths_are_routed_before_templated_ones() -> None:
    order = [template for template, _ in spec_routes()]
    assert order.index("/inventory/upload/add") < order.index("/inventory/upload/{id}")


def test_urls_in_bodies_point_at_the_sandbox_that_served_them(http: InProcess) -> None:
    body = http.get("/releases/3").json()
    assert body["resource_url"] == "http://sandbox.test/releases/3"
    assert body["uri"].startswith("https://www.discogs.com/")


def test_unknown_paths_and_methods_answer_with_discogs_style_json(http: InProcess) -> None:
    missing = http.get("/no/such/thing")
    wrong_method = http.put("/artists/1")
    assert missing.status_code == 404
    assert missing.json() == {"message": "The requested resource was not found."}
    assert wrong_method.status_code == 405 and "message" in wrong_method.json()


def test_stats_count_requests_by_status_and_operation(app: SandboxApp, http: InProcess) -> None:
    http.get("/releases/1")
    http.get("/releases/99999999")
    http.get("/users/sandbox/collection/value", headers=AUTH)
    stats = http.get("/__sandbox/stats").json()
    assert stats["requests"] == 3
    assert stats["statuses"] == {"200": 2, "404": 1}
    assert stats["operations"] == {"get_release": 2, "get_collection_value": 1}
    assert stats == {**app.stats_snapshot(), "rate_limit": stats["rate_limit"]}


def test_control_endpoints_are_not_rate_limited(http: InProcess) -> None:
    http.post("/__sandbox/rate-limit", json={"limit": 1, "anonymous_limit": 1})
    assert all(http.get("/__sandbox/stats").status_code == 200 for _ in range(5))
    assert http.get("/releases/1").status_code == 200
    assert http.get("/releases/1").status_code == 429


def test_control_endpoints_refuse_bad_input(http: InProcess) -> None:
    assert http.post("/__sandbox/faults", json={"p5xx": "often"}).status_code == 422
    assert http.post("/__sandbox/rate-limit", json={"limit": 0}).status_code == 422
    assert http.post("/__sandbox/rate-limit", json={"speed": 1}).status_code == 422
    assert http.get("/__sandbox/nothing").status_code == 404
    credentials = http.get("/__sandbox").json()
    assert credentials["token"] == SANDBOX_TOKEN and credentials["consumer_key"] == "sandbox-key"


def test_self_check_records_bodies_the_spec_does_not_describe() -> None:
    import copy

    # A spec in which this operation documents no 404, so the sandbox's 404 is undescribed.
    spec = copy.deepcopy(load_spec())
    del spec["paths"]["/marketplace/fee/{price}/{currency}"]["get"]["responses"]["404"]
    http = InProcess(SandboxApp(SandboxConfig(collection_size=20, self_check=True), spec=spec))
    http.get("/marketplace/fee/10/XYZ")
    invalid = http.get("/__sandbox/stats").json()["invalid_bodies"]
    assert len(invalid) == 1
    assert invalid[0]["path"] == "/marketplace/fee/10/XYZ" and invalid[0]["status"] == 404


def test_every_body_of_a_normal_session_matches_the_spec(http: InProcess) -> None:
    for path in (
        "/releases/5",
        "/masters/3/versions?per_page=2",
        "/artists/4/releases?sort=title",
        "/labels/6/releases",
        "/users/sandbox",
        "/users/sandbox/wants?per_page=3",
        "/users/sandbox/inventory",
        "/users/sandbox/lists",
        "/marketplace/orders",
        "/users/sandbox/collection/folders/0/releases?sort=artist&sort_order=desc",
    ):
        assert http.get(path, headers=AUTH).status_code == 200, path
    assert http.get("/__sandbox/stats").json()["invalid_bodies"] == []
