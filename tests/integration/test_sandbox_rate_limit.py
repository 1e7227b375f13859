"""The moving-window rate limit: headers, 429s, and a paced crawl that never sees one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent.errors import RateLimitError
from musicagent.ratelimit import RateLimiter
from musicagent.retry import RetryPolicy

pytestmark = pytest.mark.integration

UA = {"User-Agent": "musicagent-tests/1.0"}


@pytest.mark.discogs_sandbox(collection_size=400, rate_limit=10, rate_window=1.0)
def test_paced_crawl_from_four_threads_gets_no_429(discogs_sandbox: Sandbox) -> None:
    # A one-second window makes scheduler lag between a grant and the sandbox counting the
    # request (threads and the in-process sandbox share two cores) count sixty times more than
    # under the real rule: a margin of a whole second covers a loaded machine.
    limiter = RateLimiter(10, 1.0, margin=1.0)
    with discogs_sandbox.client(rate_limiter=limiter) as client:

        def page(number: int) -> list[int]:
            items = client.collection.get_collection_items_by_folder(
                "sandbox", 0, page=number, per_page=10
            )
            return [item.instance_id for item in items.releases]

        with ThreadPoolExecutor(4) as pool:
            pages = list(pool.map(page, range(1, 41)))
    instance_ids = [i for p in pages for i in p]
    stats = discogs_sandbox.stats()
    assert len(instance_ids) == len(set(instance_ids)) == 400
    assert stats["requests"] == 40, stats
    assert stats["status_429"] == 0 and stats["rate_limited"] == 0
    assert stats["rate_limit"]["max_used"]["ip:127.0.0.1"] == 10


@pytest.mark.discogs_sandbox(rate_limit=5, rate_window=30.0)
def test_headers_count_every_request_in_the_window(discogs_sandbox: Sandbox) -> None:
    with httpx.Client(base_url=discogs_sandbox.base_url, headers=UA) as http:
        seen = [http.get("/releases/1", params={"token": SANDBOX_TOKEN}).headers for _ in range(5)]
        refused = http.get("/releases/1", params={"token": SANDBOX_TOKEN})
    assert [h["X-Discogs-Ratelimit-Used"] for h in seen] == ["1", "2", "3", "4", "5"]
    assert [h["X-Discogs-Ratelimit-Remaining"] for h in seen] == ["4", "3", "2", "1", "0"]
    assert all(h["X-Discogs-Ratelimit"] == "5" for h in seen)
    assert refused.status_code == 429
    assert refused.json() == {"message": "You are making requests too quickly."}
    assert refused.headers["X-Discogs-Ratelimit-Remaining"] == "0"
    assert "Retry-After" not in refused.headers
    assert discogs_sandbox.stats()["rate_limited"] == 1


@pytest.mark.discogs_sandbox(rate_limit=2, rate_window=30.0, retry_after=7)
def test_retry_after_is_sent_on_429_when_configured(discogs_sandbox: Sandbox) -> None:
    with httpx.Client(base_url=discogs_sandbox.base_url, headers=UA) as http:
        statuses = [http.get("/releases/1", params={"token": SANDBOX_TOKEN}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[-1].headers["Retry-After"] == "7"


@pytest.mark.discogs_sandbox(rate_limit=50, anonymous_rate_limit=2, rate_window=30.0)
def test_credentials_and_anonymous_callers_have_separate_budgets(discogs_sandbox: Sandbox) -> None:
    with httpx.Client(base_url=discogs_sandbox.base_url, headers=UA) as http:
        anonymous = [http.get("/releases/1").status_code for _ in range(3)]
        authed = http.get("/releases/1", params={"token": SANDBOX_TOKEN})
    assert anonymous == [200, 200, 429]
    assert authed.status_code == 200
    assert authed.headers["X-Discogs-Ratelimit"] == "50"


@pytest.mark.discogs_sandbox(rate_limit=10, rate_window=1.0, preset_used=7, collection_size=150)
def test_budget_spent_by_another_program_is_respected_without_429(
    discogs_sandbox: Sandbox,
) -> None:
    with discogs_sandbox.client() as client:
        items = list(client.collection.iter_collection_items_by_folder("sandbox", 0))
        first = client.database.get_release(1)
    stats = discogs_sandbox.stats()
    assert len(items) == 150 and first.id == 1
    assert stats["requests"] == 3
    assert stats["status_429"] == 0


@pytest.mark.discogs_sandbox(rate_limit=3, rate_window=30.0)
def test_unpaced_client_gets_429_errors_from_the_sandbox(discogs_sandbox: Sandbox) -> None:
    policy = RetryPolicy(max_attempts=1)
    with discogs_sandbox.client(rate_limiter=False, retry_policy=policy) as client:
        for release_id in (1, 2, 3):
            client.database.get_release(release_id)
        with pytest.raises(RateLimitError):
            client.database.get_release(4)


def test_rate_limit_can_be_changed_at_runtime(discogs_sandbox: Sandbox) -> None:
    response = httpx.post(
        f"{discogs_sandbox.base_url}/__sandbox/rate-limit", json={"limit": 1, "window": 30}
    )
    assert response.json()["limit"] == 1
    with httpx.Client(base_url=discogs_sandbox.base_url, headers=UA) as http:
        codes = [http.get("/releases/1", params={"token": SANDBOX_TOKEN}).status_code for _ in "ab"]
    assert codes == [200, 429]
    discogs_sandbox.reset()
    assert discogs_sandbox.stats()["rate_limit"]["limit"] == discogs_sandbox.config.rate_limit
