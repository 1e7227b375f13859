"""Reading final responses: no None from a method typed to return a model, undocumented success
statuses in strict mode, and the observers the pytest option hangs on (pytest-httpx)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from discogs_facade import OPERATIONS
from discogs_models import Release
from pytest_httpx import HTTPXMock

from musicagent import Discogs, RateLimiter, ResponseValidationError, RetryPolicy
from musicagent.responses import ResponseOutcome, observe_responses, read_response
from tests.conftest import EXAMPLES

BASE = "https://api.discogs.com"
RELEASE = json.loads((EXAMPLES / "releases_get_200.json").read_text(encoding="utf-8"))


def client(**kwargs: Any) -> Discogs:
    return Discogs(
        retry_policy=RetryPolicy(max_attempts=1, backoff_factor=0),
        rate_limiter=RateLimiter(60, 60),
        cache=False,
        **kwargs,
    )


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_for_a_method_typed_to_return_a_model_is_an_error(
    httpx_mock: HTTPXMock, status: int
) -> None:
    httpx_mock.add_response(url=f"{BASE}/releases/1", status_code=status)
    with client() as c, pytest.raises(ResponseValidationError) as caught:
        c.database.get_release(1)
    assert caught.value.operation_id == "get_release"
    assert f"answered {status} without a body" in str(caught.value)


def test_a_documented_no_content_answer_is_none(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="DELETE", url=f"{BASE}/marketplace/listings/7", status_code=204)
    with client(token="responses-token-1") as c:
        assert c.marketplace.delete_listing(7) is None


def test_an_undocumented_success_status_in_strict_mode_is_a_validation_error(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_response(url=f"{BASE}/releases/1", status_code=202, json=RELEASE)
    with client(strict=True) as c, pytest.raises(ResponseValidationError) as caught:
        c.database.get_release(1)
    assert not isinstance(caught.value, LookupError)
    assert "documents no response for status 202" in str(caught.value)


def test_an_undocumented_success_status_parses_when_not_strict(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE}/releases/1", status_code=202, json=RELEASE)
    with client() as c:
        assert isinstance(c.database.get_release(1), Release)


def test_strict_reading_refuses_a_body_the_schema_refuses(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE}/releases/1", json={**RELEASE, "tracklist": "A1"})
    with client(strict=True) as c, pytest.raises(ResponseValidationError) as caught:
        c.database.get_release(1)
    assert caught.value.pointer == "/tracklist"


def _response(body: Any, status: int = 200) -> httpx.Response:
    request = httpx.Request("GET", f"{BASE}/releases/1")
    return httpx.Response(status, content=json.dumps(body).encode(), request=request)


def test_observers_see_every_outcome_even_when_the_error_is_caught() -> None:
    seen: list[ResponseOutcome] = []
    op = OPERATIONS["get_release"]
    with observe_responses(seen.append):
        read_response(op, _response(RELEASE))
        # The code under test swallows the error; the observer still knows.
        with contextlib.suppress(ResponseValidationError):
            read_response(op, _response({**RELEASE, "id": True}))
    read_response(op, _response(RELEASE))  # after the block: not observed
    assert [o.error is None for o in seen] == [True, False]
    assert seen[1].operation_id == "get_release"
    assert seen[1].status == 200


def test_observing_makes_every_read_strict() -> None:
    op = OPERATIONS["get_release"]
    undocumented = _response(RELEASE, status=202)
    read_response(op, undocumented)  # lenient about statuses when not strict
    with observe_responses(lambda outcome: None), pytest.raises(ResponseValidationError):
        read_response(op, undocumented)
    with observe_responses(lambda outcome: None, strict=False):
        read_response(op, undocumented)
