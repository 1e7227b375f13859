"""Credentials on the wire, OAuth 1.0a signing and flow, token storage, base URL rule."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oauthlib.common import Request as OAuthRequest  # type: ignore[import-untyped, unused-ignore]
from oauthlib.oauth1.rfc5849 import signature  # type: ignore[import-untyped, unused-ignore]
from pytest_httpx import HTTPXMock

from musicagent.auth import (
    AccessToken,
    AsyncOAuthFlow,
    KeySecretAuth,
    OAuth1Auth,
    OAuthFlow,
    OriginBoundAuth,
    RequestToken,
    TokenAuth,
    TokenStore,
    auth_from_credentials,
    check_base_url,
    credential_identity,
    default_credentials_path,
    default_user_agent,
    sign_request,
)
from musicagent.errors import BadRequestError, DiscogsAPIError, InvalidParameterError

TOKEN = "personal-token-0123456789abcdefghij"
CONSUMER_KEY = "consumer-key-abcdefgh"
CONSUMER_SECRET = "consumer-secret-0123456789"
ACCESS_TOKEN = "access-token-0123456789"
ACCESS_SECRET = "access-token-secret-0123456789"
API = "https://api.discogs.com"

# A recorded OAuth exchange: what Discogs answered to each step (bodies are form-encoded).
REQUEST_TOKEN_BODY = (
    "oauth_token=rqtokenABCDEF123&oauth_token_secret=rqsecret0123456789"
    "&oauth_callback_confirmed=true"
)
ACCESS_TOKEN_BODY = f"oauth_token={ACCESS_TOKEN}&oauth_token_secret={ACCESS_SECRET}"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
VERIFIER = "verif1234"


def oauth_params(request: httpx.Request) -> dict[str, str]:
    """The oauth_* parameters of a request's Authorization header, decoded as a server does."""
    headers = {"Authorization": request.headers["Authorization"]}
    return dict(signature.collect_parameters(headers=headers, exclude_oauth_signature=False))


def signature_is_valid(
    request: httpx.Request, consumer_secret: str, token_secret: str | None, *, sign_body: bool
) -> bool:
    """Check a signature the way an OAuth server does, with oauthlib's server-side helpers."""
    body = request.content.decode() if sign_body else None
    headers = {"Authorization": request.headers["Authorization"]}
    server_request = OAuthRequest(str(request.url), request.method, body, headers)
    server_request.params = signature.collect_parameters(
        uri_query=urlsplit(str(request.url)).query,
        body=body,
        headers=headers,
        exclude_oauth_signature=True,
    )
    params = oauth_params(request)
    server_request.signature = params["oauth_signature"]
    if params["oauth_signature_method"] == "PLAINTEXT":
        return bool(signature.verify_plaintext(server_request, consumer_secret, token_secret))
    return bool(signature.verify_hmac_sha1(server_request, consumer_secret, token_secret))


# --- credentials on the wire ------------------------------------------------------------------


def test_token_auth_sends_the_discogs_token_header(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(match_headers={"Authorization": f"Discogs token={TOKEN}"})
    with httpx.Client(auth=TokenAuth(TOKEN)) as client:
        assert client.get(f"{API}/oauth/identity").status_code == 200


def test_key_secret_auth_sends_key_and_secret_header(httpx_mock: HTTPXMock) -> None:
    expected = f"Discogs key={CONSUMER_KEY}, secret={CONSUMER_SECRET}"
    httpx_mock.add_response(match_headers={"Authorization": expected})
    with httpx.Client(auth=KeySecretAuth(CONSUMER_KEY, CONSUMER_SECRET)) as client:
        assert client.get(f"{API}/releases/1").status_code == 200


def test_replaced_token_is_used_by_the_next_request(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(match_headers={"Authorization": f"Discogs token={TOKEN}"})
    httpx_mock.add_response(match_headers={"Authorization": "Discogs token=rotated-token-987654"})
    auth = TokenAuth(TOKEN)
    with httpx.Client(auth=auth) as client:
        client.get(f"{API}/oauth/identity")
        auth.token = "rotated-token-987654"
        client.get(f"{API}/oauth/identity")
    assert len(httpx_mock.get_requests()) == 2


def test_oauth_plaintext_signature_verifies_on_the_wire(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response()
    auth = OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)
    with httpx.Client(auth=auth) as client:
        client.get(f"{API}/oauth/identity")
    request = httpx_mock.get_request()
    assert request is not None
    params = oauth_params(request)
    assert params["oauth_signature_method"] == "PLAINTEXT"
    assert params["oauth_consumer_key"] == CONSUMER_KEY
    assert params["oauth_token"] == ACCESS_TOKEN
    assert signature_is_valid(request, CONSUMER_SECRET, ACCESS_SECRET, sign_body=False)
    assert not signature_is_valid(request, CONSUMER_SECRET, "wrong-secret", sign_body=False)


def test_oauth_hmac_sha1_signature_covers_query_and_form_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response()
    auth = OAuth1Auth(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, signature_method="HMAC-SHA1"
    )
    with httpx.Client(auth=auth) as client:
        client.post(
            f"{API}/marketplace/listings", params={"page": "2"}, data={"notes": "near mint & co"}
        )
    request = httpx_mock.get_request()
    assert request is not None
    assert oauth_params(request)["oauth_signature_method"] == "HMAC-SHA1"
    assert signature_is_valid(request, CONSUMER_SECRET, ACCESS_SECRET, sign_body=True)
    # Leaving the body out of the check breaks it: the form parameters were signed.
    assert not signature_is_valid(request, CONSUMER_SECRET, ACCESS_SECRET, sign_body=False)


def test_oauth_json_body_is_not_part_of_the_signature(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response()
    auth = OAuth1Auth(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, signature_method="HMAC-SHA1"
    )
    with httpx.Client(auth=auth) as client:
        client.post(f"{API}/marketplace/listings", json={"release_id": 1})
    request = httpx_mock.get_request()
    assert request is not None
    assert request.content == b'{"release_id":1}'
    assert signature_is_valid(request, CONSUMER_SECRET, ACCESS_SECRET, sign_body=False)


def test_each_send_of_the_same_request_gets_a_fresh_nonce() -> None:
    seen: list[dict[str, str]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(oauth_params(request))
        return httpx.Response(503 if len(seen) == 1 else 200)

    auth = OAuth1Auth(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, signature_method="HMAC-SHA1"
    )
    with httpx.Client(transport=httpx.MockTransport(record), auth=auth) as client:
        request = client.build_request("GET", f"{API}/oauth/identity")
        # The request loop sends the same request object again for each attempt.
        assert client.send(request).status_code == 503
        assert client.send(request).status_code == 200
    assert len(seen) == 2
    assert seen[0]["oauth_nonce"] != seen[1]["oauth_nonce"]
    assert seen[0]["oauth_signature"] != seen[1]["oauth_signature"]


@pytest.mark.anyio
async def test_each_async_send_gets_a_fresh_nonce_and_signs_the_form_body() -> None:
    nonces: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        nonces.append(oauth_params(request)["oauth_nonce"])
        return httpx.Response(200)

    auth = OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)
    async with httpx.AsyncClient(transport=httpx.MockTransport(record), auth=auth) as client:
        request = client.build_request("POST", f"{API}/oauth/identity", data={"a": "b"})
        await client.send(request)
        await client.send(request)
    assert len(nonces) == 2
    assert nonces[0] != nonces[1]


def test_a_replaced_token_is_used_on_the_next_send() -> None:
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(200)

    auth = TokenAuth(TOKEN)
    with httpx.Client(transport=httpx.MockTransport(record), auth=auth) as client:
        request = client.build_request("GET", f"{API}/oauth/identity")
        client.send(request)
        auth.token = "rotated-token-987654"
        client.send(request)
    assert sent == [f"Discogs token={TOKEN}", "Discogs token=rotated-token-987654"]


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/releases/1",
        "http://api.discogs.com/releases/1",
        "https://api.discogs.com:8443/releases/1",
        "https://api.discogs.com.evil.example/releases/1",
    ],
)
def test_origin_bound_auth_signs_nothing_for_another_origin(url: str) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    auth = OriginBoundAuth(TokenAuth(TOKEN), API)
    with httpx.Client(transport=httpx.MockTransport(record), auth=auth) as client:
        client.get(url)
        client.get(f"{API}/releases/1")
    assert "authorization" not in seen[0].headers
    assert seen[1].headers["Authorization"] == f"Discogs token={TOKEN}"


def test_origin_bound_auth_treats_the_default_port_as_the_same_origin() -> None:
    auth = OriginBoundAuth(TokenAuth(TOKEN), "https://api.discogs.com:443")
    request = sign_request(auth, httpx.Request("GET", "https://API.discogs.com/releases/1"))
    assert request.headers["Authorization"] == f"Discogs token={TOKEN}"


# --- safety of credential objects -----------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [
        TokenAuth(TOKEN),
        KeySecretAuth(CONSUMER_KEY, CONSUMER_SECRET),
        OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET),
        AccessToken(ACCESS_TOKEN, ACCESS_SECRET),
    ],
    ids=["token", "key-secret", "oauth", "access-token"],
)
def test_repr_and_identity_never_show_a_secret(credential: Any) -> None:
    shown = f"{credential!r} {credential} {credential.identity}"
    for secret in (TOKEN, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET):
        assert secret not in shown


def test_request_token_repr_hides_the_token_secret() -> None:
    assert "rqsecret" not in repr(RequestToken("rqtoken", "rqsecret0123"))


def test_identity_is_a_stable_short_fingerprint_per_credential() -> None:
    first = TokenAuth(TOKEN)
    assert re.fullmatch(r"token:[0-9a-f]{12}", first.identity)
    assert first.identity == TokenAuth(TOKEN).identity
    assert first.identity != TokenAuth("another-token-0123456").identity
    assert credential_identity(first) == first.identity
    assert credential_identity(None) == "anonymous"


def test_identity_follows_a_replaced_token() -> None:
    auth = TokenAuth(TOKEN)
    before = auth.identity
    auth.token = "rotated-token-987654"
    assert auth.identity != before


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda: TokenAuth("abc\r\nX-Injected: 1"), "token"),
        (lambda: TokenAuth(""), "token"),
        (lambda: KeySecretAuth(CONSUMER_KEY, "secret\n"), "consumer_secret"),
        (lambda: KeySecretAuth("key\x00", CONSUMER_SECRET), "consumer_key"),
        (lambda: OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, "s\tx"), "token_secret"),
        (lambda: OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN), "token_secret"),
        (
            lambda: OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, signature_method="RSA-SHA1"),  # type: ignore[arg-type]
            "signature_method",
        ),
    ],
)
def test_bad_credentials_are_refused_naming_the_parameter(build: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        build()
    assert caught.value.parameter == parameter
    assert parameter in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_replacing_a_token_with_a_line_break_is_refused_without_echoing_it() -> None:
    auth = TokenAuth(TOKEN)
    with pytest.raises(InvalidParameterError) as caught:
        auth.token = "evil-token-value\r\nX-Injected: 1"
    assert "evil-token-value" not in str(caught.value)
    assert auth.token == TOKEN


def test_auth_from_credentials_prefers_oauth_then_token_then_key_secret() -> None:
    everything: dict[str, Any] = {
        "token": TOKEN,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "oauth_token": ACCESS_TOKEN,
        "oauth_token_secret": ACCESS_SECRET,
    }
    assert isinstance(auth_from_credentials(**everything), OAuth1Auth)
    no_oauth: dict[str, Any] = {**everything, "oauth_token": None, "oauth_token_secret": None}
    assert isinstance(auth_from_credentials(**no_oauth), TokenAuth)
    assert isinstance(auth_from_credentials(**{**no_oauth, "token": None}), KeySecretAuth)
    assert auth_from_credentials() is None


# --- base URL and User-Agent ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.discogs.com",
        "https://api.discogs.com/",
        "http://localhost:8080",
        "http://127.0.0.5:9000",
        "http://[::1]:8000",
    ],
)
def test_https_or_loopback_base_urls_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://api.discogs.com", "http://10.0.0.1", "ftp://api.discogs.com", "api.discogs.com"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_base_url(url)
    assert caught.value.parameter == "base_url"
    assert "base_url" in str(caught.value)


def test_oauth_flow_refuses_a_plain_http_base_url() -> None:
    with pytest.raises(InvalidParameterError, match="plain http"):
        OAuthFlow(CONSUMER_KEY, CONSUMER_SECRET, base_url="http://api.discogs.com")


def test_default_user_agent_names_the_package_version_and_project() -> None:
    assert re.fullmatch(
        r"musicagent/\S+ \+https://github\.com/musicagent/musicagent", default_user_agent()
    )


def test_default_user_agent_carries_the_package_version_constant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The version comes from musicagent._version, never from installed metadata (which may
    # be missing or stale in a source tree).
    monkeypatch.setattr("musicagent._version.__version__", "9.8.7")
    assert default_user_agent() == "musicagent/9.8.7 +https://github.com/musicagent/musicagent"


# --- OAuth three-legged flow ----------------------------------------------------------------


def register_recorded_exchange(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="GET",
        url=f"{API}/oauth/request_token",
        text=REQUEST_TOKEN_BODY,
        headers=FORM_HEADERS,
    )
    httpx_mock.add_response(
        method="POST",
        url=f"{API}/oauth/access_token",
        text=ACCESS_TOKEN_BODY,
        headers=FORM_HEADERS,
    )


def check_recorded_exchange(httpx_mock: HTTPXMock, access: AccessToken) -> None:
    assert access == AccessToken(ACCESS_TOKEN, ACCESS_SECRET)
    token_request, access_request = httpx_mock.get_requests()
    first = oauth_params(token_request)
    assert first["oauth_callback"] == "oob"
    assert first["oauth_signature"] == f"{CONSUMER_SECRET}&"
    assert "oauth_token" not in first
    assert token_request.headers["User-Agent"] == default_user_agent()
    second = oauth_params(access_request)
    assert second["oauth_token"] == "rqtokenABCDEF123"
    assert second["oauth_verifier"] == VERIFIER
    assert signature_is_valid(
        access_request, CONSUMER_SECRET, "rqsecret0123456789", sign_body=False
    )


def test_oauth_flow_walks_request_token_authorize_and_access_token(httpx_mock: HTTPXMock) -> None:
    register_recorded_exchange(httpx_mock)
    with OAuthFlow(CONSUMER_KEY, CONSUMER_SECRET) as flow:
        request_token = flow.fetch_request_token()
        assert request_token == RequestToken("rqtokenABCDEF123", "rqsecret0123456789", True)
        assert flow.authorization_url(request_token) == (
            "https://www.discogs.com/oauth/authorize?oauth_token=rqtokenABCDEF123"
        )
        access = flow.fetch_access_token(request_token, f" {VERIFIER}\n")
    check_recorded_exchange(httpx_mock, access)


@pytest.mark.anyio
async def test_async_oauth_flow_walks_the_same_exchange(httpx_mock: HTTPXMock) -> None:
    register_recorded_exchange(httpx_mock)
    async with AsyncOAuthFlow(CONSUMER_KEY, CONSUMER_SECRET) as flow:
        request_token = await flow.fetch_request_token()
        access = await flow.fetch_access_token(request_token, VERIFIER)
    check_recorded_exchange(httpx_mock, access)


def test_oauth_flow_reads_tokens_sent_as_response_headers(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        headers={"oauth_token": "abc123", "oauth_token_secret": "xyz789"}, text=""
    )
    with OAuthFlow(CONSUMER_KEY, CONSUMER_SECRET) as flow:
        request_token = flow.fetch_request_token()
    assert (request_token.token, request_token.token_secret) == ("abc123", "xyz789")


def test_expired_verifier_raises_bad_request_with_the_reason(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=400, text="Invalid verifier.")
    request_token = RequestToken("rqtokenABCDEF123", "rqsecret0123456789")
    with OAuthFlow(CONSUMER_KEY, CONSUMER_SECRET) as flow, pytest.raises(BadRequestError) as caught:
        flow.fetch_access_token(request_token, VERIFIER)
    message = str(caught.value)
    assert caught.value.status == 400
    assert "Invalid verifier." in message
    assert "15 minutes" in message
    assert CONSUMER_SECRET not in message


def test_answer_without_tokens_raises_a_clear_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(text="something else")
    with OAuthFlow(CONSUMER_KEY, CONSUMER_SECRET) as flow, pytest.raises(DiscogsAPIError) as caught:
        flow.fetch_request_token()
    assert "oauth_token" in str(caught.value)


def test_access_token_builds_the_oauth_credential() -> None:
    auth = AccessToken(ACCESS_TOKEN, ACCESS_SECRET).auth(CONSUMER_KEY, CONSUMER_SECRET)
    assert (
        auth.identity
        == OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET).identity
    )


# --- token storage --------------------------------------------------------------------------


def test_token_store_round_trips_access_tokens_in_a_private_file(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "conf" / "credentials.json")
    path = store.save(AccessToken(ACCESS_TOKEN, ACCESS_SECRET))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "oauth_token": ACCESS_TOKEN,
        "oauth_token_secret": ACCESS_SECRET,
    }
    assert store.load() == AccessToken(ACCESS_TOKEN, ACCESS_SECRET)


def test_token_store_save_replaces_atomically_and_leaves_no_temp_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "credentials.json")
    store.save(AccessToken("old-token-1234", "old-secret-1234"))

    def failing_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save(AccessToken(ACCESS_TOKEN, ACCESS_SECRET))
    assert store.load() == AccessToken("old-token-1234", "old-secret-1234")
    assert [entry.name for entry in tmp_path.iterdir()] == ["credentials.json"]


def test_token_store_load_and_delete_when_nothing_is_saved(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "credentials.json")
    assert store.load() is None
    assert store.delete() is False
    store.save(AccessToken(ACCESS_TOKEN, ACCESS_SECRET))
    assert store.delete() is True
    assert store.load() is None


def test_token_store_reports_a_corrupt_file_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(f'{{"oauth_token": "{ACCESS_SECRET}"')
    with pytest.raises(ValueError, match="not valid JSON") as caught:
        TokenStore(path).load()
    assert ACCESS_SECRET not in str(caught.value)


def test_default_credentials_path_follows_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_credentials_path() == tmp_path / "musicagent" / "credentials.json"
    assert TokenStore().path == tmp_path / "musicagent" / "credentials.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_credentials_path() == tmp_path / "home" / ".config" / "musicagent" / (
        "credentials.json"
    )
