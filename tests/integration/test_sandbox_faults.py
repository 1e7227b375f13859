"""Injected faults: crawls that still return every item exactly once, stalls, control endpoints."""

from __future__ import annotations

import httpx
import pytest

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent.errors import NetworkError
from musicagent.retry import RetryPolicy

pytestmark = pytest.mark.integration

UA = {"User-Agent": "musicagent-tests/1.0"}
FAST_RETRIES = RetryPolicy(max_attempts=8, backoff_factor=0.01, max_backoff=0.05)


def _crawl(sandbox: Sandbox) -> list[int]:
    with sandbox.client(retry_policy=FAST_RETRIES) as client:
        return [
            item.instance_id
            for item in client.collection.iter_collection_items_by_folder("sandbox", 0)
        ]


@pytest.mark.discogs_sandbox(collection_size=1500, rate_limit=10_000, p5xx=0.3, max_consecutive=3)
def test_crawl_under_server_errors_returns_every_item_once(discogs_sandbox: Sandbox) -> None:
    instance_ids = _crawl(discogs_sandbox)
    stats = discogs_sandbox.stats()
    assert len(instance_ids) == len(set(instance_ids)) == 1500
    assert stats["faults"]["5xx"] >= 1
    assert stats["statuses"]["200"] == 15
    assert sum(stats["statuses"].get(str(s), 0) for s in (500, 502, 503)) == stats["faults"]["5xx"]


@pytest.mark.discogs_sandbox(
    collection_size=1500,
    rate_limit=10_000,
    p5xx=0.2,
    p_reset=0.15,
    p_truncate=0.15,
    max_consecutive=3,
)
def test_crawl_under_resets_and_truncation_returns_every_item_once(
    discogs_sandbox: Sandbox,
) -> None:
    instance_ids = _crawl(discogs_sandbox)
    stats = discogs_sandbox.stats()
    assert len(instance_ids) == len(set(instance_ids)) == 1500
    assert stats["faults"]["reset"] >= 1 and stats["faults"]["truncate"] >= 1


@pytest.mark.discogs_sandbox(p_reset=1.0)
def test_reset_fault_breaks_the_connection_mid_body(discogs_sandbox: Sandbox) -> None:
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(f"{discogs_sandbox.base_url}/releases/1", headers=UA)
    assert discogs_sandbox.stats()["faults"] == {"reset": 1}


@pytest.mark.discogs_sandbox(p_truncate=1.0)
def test_truncate_fault_sends_half_the_promised_body(discogs_sandbox: Sandbox) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|without sending complete"):
        httpx.get(f"{discogs_sandbox.base_url}/releases/1", headers=UA)
    assert discogs_sandbox.stats()["faults"] == {"truncate": 1}


@pytest.mark.discogs_sandbox(p_stall=1.0, stall_seconds=20)
def test_stall_outlasts_the_client_timeout(discogs_sandbox: Sandbox) -> None:
    with (
        discogs_sandbox.client(timeout=0.3, retry_policy=RetryPolicy(max_attempts=2)) as client,
        pytest.raises(NetworkError),
    ):
        client.database.get_release(1)
    assert discogs_sandbox.stats()["faults"]["stall"] == 2


@pytest.mark.discogs_sandbox(rate_limit=10, rate_window=0.3, p429=0.5, burst_429=2, retry_after=0)
def test_injected_429_bursts_are_survived_by_a_retrying_client(discogs_sandbox: Sandbox) -> None:
    with discogs_sandbox.client(retry_policy=FAST_RETRIES) as client:
        titles = [client.database.get_release(n).title for n in range(1, 6)]
    stats = discogs_sandbox.stats()
    assert len(titles) == 5
    assert stats["faults"]["429"] >= 1
    assert stats["statuses"]["200"] == 5


def test_same_seed_gives_the_same_faults() -> None:
    def statuses() -> list[int]:
        with (
            Sandbox(p5xx=0.5, rate_limit=1000, seed=7) as sandbox,
            httpx.Client(base_url=sandbox.base_url, headers=UA) as http,
        ):
            return [http.get(f"/releases/{n}").status_code for n in range(1, 21)]

    first, second = statuses(), statuses()
    assert first == second
    assert 200 in first and any(code >= 500 for code in first)


def test_faults_change_at_runtime_through_the_control_endpoint(discogs_sandbox: Sandbox) -> None:
    base = discogs_sandbox.base_url
    params = {"token": SANDBOX_TOKEN}
    with httpx.Client(base_url=base, headers=UA) as http:
        assert (
            http.post("/__sandbox/faults", json={"p5xx": 1.0, "statuses_5xx": [502]}).json()["p5xx"]
            == 1.0
        )
        failing = http.get("/releases/1", params=params)
        http.delete("/__sandbox/faults")
        healthy = http.get("/releases/1", params=params)
        stats = http.get("/__sandbox/stats").json()
        refused = http.post("/__sandbox/faults", json={"p5xx": 3})
        unknown = http.post("/__sandbox/faults", json={"explode": True})
        http.post("/__sandbox/reset")
        after_reset = http.get("/__sandbox/stats").json()
    assert failing.status_code == 502
    assert failing.json()["message"]
    assert healthy.status_code == 200
    assert stats["faults"] == {"5xx": 1} and stats["requests"] == 2
    assert refused.status_code == 422 and unknown.status_code == 422
    assert after_reset["requests"] == 0


def test_python_api_applies_faults_for_a_block(discogs_sandbox: Sandbox) -> None:
    with httpx.Client(base_url=discogs_sandbox.base_url, headers=UA) as http:
        with discogs_sandbox.injecting(p5xx=1.0, statuses_5xx=(503,)):
            during = http.get("/releases/1").status_code
        after = http.get("/releases/1").status_code
    assert (during, after) == (503, 200)
