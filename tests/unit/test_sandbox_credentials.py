"""Who is calling: personal tokens, key/secret and OAuth 1.0a signatures verified server-side."""

from __future__ import annotations

import time

import pytest
from oauthlib.oauth1 import Client as OAuthClient  # type: ignore[import-untyped, unused-ignore]

from discogs_sandbox import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SandboxConfig,
)
from discogs_sandbox.credentials import Principal, resolve_principal
from discogs_sandbox.rules import ApiError
from discogs_sandbox.state import SandboxState

URL = "http://127.0.0.1:8765/oauth/identity"


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(SandboxConfig(collection_size=1))


def _resolve(
    state: SandboxState,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    **options: object,
) -> Principal:
    return resolve_principal(
        state,
        method=str(options.get("method", "GET")),
        url=str(options.get("url", URL)),
        headers={k.lower(): v for k, v in headers.items()},
        query=query or {},
        body=b"",
        client="127.0.0.1",
    )


def _signed(method: str, **client_options: object) -> dict[str, str]:
    client = OAuthClient(
        SANDBOX_CONSUMER_KEY,
        client_secret=client_options.pop("secret", SANDBOX_CONSUMER_SECRET),
        resource_owner_key=SANDBOX_OAUTH_TOKEN,
        resource_owner_secret=SANDBOX_OAUTH_TOKEN_SECRET,
        signature_method=method,
        **client_options,
    )
    _, headers, _ = client.sign(URL)
    return {"Authorization": headers["Authorization"]}


def test_personal_token_header_and_query_name_the_user(state: SandboxState) -> None:
    header = _resolve(state, {"Authorization": "Discogs token=crate_digger-token"})
    query = _resolve(state, {}, {"token": "sandbox-token"})
    assert (header.kind, header.username) == ("token", "crate_digger")
    assert (query.kind, query.username) == ("token", "sandbox")
    assert header.rate_key == "token:crate_digger"


def test_key_and_secret_identify_the_application_only(state: SandboxState) -> None:
    principal = _resolve(state, {"Authorization": "Discogs key=sandbox-key, secret=sandbox-secret"})
    assert (principal.kind, principal.username) == ("app", None)
    assert principal.authenticated


def test_no_credentials_is_anonymous_and_counted_per_ip(state: SandboxState) -> None:
    principal = _resolve(state, {})
    assert not principal.authenticated
    assert principal.rate_key == "ip:127.0.0.1"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Discogs token="},
        {"Authorization": "Discogs key=sandbox-key, secret=wrong"},
        {"Authorization": "Bearer abc"},
    ],
)
def test_bad_credentials_are_a_401(state: SandboxState, headers: dict[str, str]) -> None:
    with pytest.raises(ApiError) as caught:
        _resolve(state, headers)
    assert caught.value.status == 401


@pytest.mark.parametrize("method", ["PLAINTEXT", "HMAC-SHA1"])
def test_oauth_signature_is_verified_and_names_the_token_owner(
    state: SandboxState, method: str
) -> None:
    principal = _resolve(state, _signed(method))
    assert (principal.kind, principal.username) == ("oauth", "sandbox")


@pytest.mark.parametrize("method", ["PLAINTEXT", "HMAC-SHA1"])
def test_oauth_signature_made_with_the_wrong_secret_is_refused(
    state: SandboxState, method: str
) -> None:
    with pytest.raises(ApiError) as caught:
        _resolve(state, _signed(method, secret="wrong"))
    assert "signature" in caught.value.headers["X-Sandbox-Reason"]


def test_hmac_signature_covers_the_url(state: SandboxState) -> None:
    with pytest.raises(ApiError):
        _resolve(state, _signed("HMAC-SHA1"), url="http://127.0.0.1:8765/oauth/identity?x=1")


def test_stale_oauth_timestamp_is_refused(state: SandboxState) -> None:
    headers = _signed("HMAC-SHA1", timestamp=str(int(time.time()) - 3600))
    with pytest.raises(ApiError) as caught:
        _resolve(state, headers)
    assert "timestamp" in caught.value.headers["X-Sandbox-Reason"]


def test_unknown_token_is_not_a_credential_discogs_knows(state: SandboxState) -> None:
    # Fidelity: a bogus token used to get the authenticated tier and image URLs.
    principal = _resolve(state, {"Authorization": "Discogs token=made-up"})
    assert not principal.authenticated
    assert principal.username is None


def _request_token_step(**client_options: object) -> dict[str, str]:
    client = OAuthClient(
        SANDBOX_CONSUMER_KEY,
        client_secret=SANDBOX_CONSUMER_SECRET,
        signature_method="PLAINTEXT",
        callback_uri="oob",
        **client_options,
    )
    _, headers, _ = client.sign("http://127.0.0.1:8765/oauth/request_token")
    return {"Authorization": headers["Authorization"]}


def test_the_token_step_takes_milliseconds_and_a_long_nonce(state: SandboxState) -> None:
    # Fidelity: a millisecond timestamp was refused, so a client's whole OAuth flow failed.
    headers = _request_token_step(timestamp=str(int(time.time() * 1000)), nonce="n" * 128)
    principal = _resolve(state, headers, url="http://127.0.0.1:8765/oauth/request_token")
    assert principal.kind == "oauth-consumer"


def test_a_signed_api_request_in_milliseconds_is_refused_with_a_reason(
    state: SandboxState,
) -> None:
    headers = _signed("HMAC-SHA1", timestamp=str(int(time.time() * 1000)))
    with pytest.raises(ApiError) as caught:
        _resolve(state, headers)
    assert "milliseconds" in caught.value.headers["X-Sandbox-Reason"]


def test_a_nonce_over_64_characters_is_refused(state: SandboxState) -> None:
    # Fidelity: any length used to pass.
    with pytest.raises(ApiError) as caught:
        _resolve(state, _signed("HMAC-SHA1", nonce="n" * 65))
    assert "oauth_nonce" in caught.value.headers["X-Sandbox-Reason"]
    assert _resolve(state, _signed("HMAC-SHA1", nonce="n" * 64)).username == "sandbox"
