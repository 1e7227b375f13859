"""Mapping of HTTP error responses to typed exceptions, and what those exceptions show."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import httpx
import pytest

from musicagent.errors import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    DiscogsAPIError,
    ForbiddenError,
    InvalidParameterError,
    NetworkCircuitOpenError,
    NetworkError,
    RateLimitError,
    ResourceNotFoundError,
    ResponseValidationError,
    ServerError,
    error_from_response,
)
from musicagent.ratelimit import RateLimitStatus

TOKEN = "s3cr3t-personal-token-value"
URL_WITH_TOKEN = f"https://api.discogs.com/releases/1?token={TOKEN}&curr_abbr=EUR"


def response(status: int, *, json: object = None, text: str | None = None) -> httpx.Response:
    request = httpx.Request("GET", URL_WITH_TOKEN)
    if text is not None:
        return httpx.Response(status, text=text, request=request)
    return httpx.Response(status, json=json, request=request)


@pytest.mark.parametrize(
    ("status", "error_class", "message"),
    [
        (400, BadRequestError, "Invalid OAuth request."),
        (401, AuthenticationError, "You must authenticate to access this resource."),
        (403, ForbiddenError, "You don't have permission to access this resource."),
        (404, ResourceNotFoundError, "Release not found."),
        (422, BadRequestError, "Invalid status: expected one of All, Deleted, Draft."),
        (429, RateLimitError, "You are making requests too quickly."),
        (500, ServerError, "An internal server error occurred. (Malformed query?)"),
        (502, ServerError, "Bad gateway."),
        (503, ServerError, "Service temporarily unavailable."),
    ],
)
def test_each_error_status_maps_to_its_exception_with_the_server_message(
    status: int, error_class: type[DiscogsAPIError], message: str
) -> None:
    err = error_from_response(response(status, json={"message": message}))

    assert type(err) is error_class
    assert err.status == status
    assert err.message == message
    assert err.method == "GET"
    assert err.url == "https://api.discogs.com/releases/1?token=***&curr_abbr=EUR"


def test_str_is_one_line_with_status_reason_message_method_and_masked_url() -> None:
    err = error_from_response(response(404, json={"message": "Release not found."}))

    assert str(err) == (
        "404 Not Found: Release not found. "
        "(GET https://api.discogs.com/releases/1?token=***&curr_abbr=EUR)"
    )
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err)


@pytest.mark.parametrize(
    "body", ["<html><body>502 Bad Gateway</body></html>", "", '["not", "an", "object"]']
)
def test_body_without_a_message_falls_back_to_the_reason_phrase(body: str) -> None:
    err = error_from_response(response(502, text=body))

    assert isinstance(err, ServerError)
    assert err.message == "Bad Gateway"
    assert str(err).startswith("502 Bad Gateway (GET https://api.discogs.com/releases/1?")


def test_unlisted_client_errors_map_to_the_base_class() -> None:
    err = error_from_response(response(409, json={"message": "Export already running."}))

    assert type(err) is DiscogsAPIError
    assert str(err).startswith("409 Conflict: Export already running.")


def test_error_carries_the_rate_limit_state_and_the_raw_response() -> None:
    status = RateLimitStatus(limit=60, used=60, remaining=0, window=60.0, next_free_in=12.5)
    raw = response(429, json={"message": "You are making requests too quickly."})

    err = error_from_response(raw, rate_limit=status)

    assert err.rate_limit == status
    assert err.response is raw


def test_a_secret_quoted_in_the_server_message_is_masked() -> None:
    err = error_from_response(response(400, json={"message": f"bad value token={TOKEN}"}))

    assert TOKEN not in str(err)
    assert "token=***" in err.message


def test_network_error_wraps_a_transport_error_with_masked_url() -> None:
    request = httpx.Request("GET", URL_WITH_TOKEN)
    cause = httpx.ConnectError("[Errno 111] Connection refused", request=request)

    err = NetworkError.from_transport_error(cause)

    assert err.status is None
    assert str(err) == (
        "ConnectError: [Errno 111] Connection refused "
        "(GET https://api.discogs.com/releases/1?token=***&curr_abbr=EUR)"
    )


def test_response_validation_error_names_operation_and_pointer() -> None:
    err = ResponseValidationError(
        "'title' is a required property",
        operation_id="get_release",
        pointer="/tracklist/0",
        status=200,
        method="GET",
        url=URL_WITH_TOKEN,
    )

    assert (err.operation_id, err.pointer) == ("get_release", "/tracklist/0")
    assert str(err).startswith(
        "Invalid response of get_release at /tracklist/0: 'title' is a required property (GET "
    )
    assert TOKEN not in str(err)


def test_invalid_parameter_error_is_a_value_error_naming_what_is_allowed() -> None:
    err = InvalidParameterError(parameter="per_page", allowed="1..100", value=500)

    assert isinstance(err, ValueError)
    assert isinstance(err, DiscogsAPIError)
    assert (err.parameter, err.allowed, err.value) == ("per_page", "1..100", 500)
    assert str(err) == "invalid per_page=500; allowed: 1..100"


def test_invalid_parameter_error_lists_allowed_choices() -> None:
    err = InvalidParameterError(parameter="curr_abbr", allowed=["USD", "EUR"], value="XYZ")

    assert str(err) == "invalid curr_abbr='XYZ'; allowed: USD, EUR"


def test_network_circuit_open_error_is_caught_as_network_and_server_error() -> None:
    err = NetworkCircuitOpenError(
        "Circuit open", retry_at=datetime.now(UTC), retry_in=3.0, method="GET", url=URL_WITH_TOKEN
    )

    assert isinstance(err, NetworkError)
    assert isinstance(err, CircuitOpenError)
    assert isinstance(err, ServerError)
    assert err.retry_in == 3.0
    assert TOKEN not in str(err)


def test_errors_without_request_context_still_render() -> None:
    err = error_from_response(httpx.Response(503))

    assert str(err) == "503 Service Unavailable"
    assert err.method is None and err.url is None


def test_repr_shows_fields_but_no_secret() -> None:
    err = error_from_response(response(401, json={"message": "nope"}))

    assert repr(err).startswith("AuthenticationError(status=401, message='nope', method='GET'")
    assert TOKEN not in repr(err)
    assert "token=***" in repr(err)


def test_errors_survive_pickling_without_the_secret_or_the_response() -> None:
    errors: list[DiscogsAPIError] = [
        error_from_response(response(500, json={"message": "boom"})),
        InvalidParameterError(parameter="page", allowed=">= 1", value=0),
        CircuitOpenError("Circuit open", retry_at=datetime.now(UTC), retry_in=2.0),
    ]
    for err in errors:
        data = pickle.dumps(err)
        restored = pickle.loads(data)

        assert TOKEN.encode() not in data
        assert type(restored) is type(err)
        assert str(restored) == str(err)
        assert restored.response is None
