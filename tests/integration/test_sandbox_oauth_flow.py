"""The OAuth 1.0a three-legged flow end to end: OAuthFlow, authorize page, verifier, identity."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from discogs_sandbox import SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET, Sandbox
from musicagent.auth import OAuthFlow
from musicagent.errors import BadRequestError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(self_check=True) as sandbox:
        yield sandbox


def _flow(sandbox: Sandbox, **options: str) -> OAuthFlow:
    return OAuthFlow(
        SANDBOX_CONSUMER_KEY,
        SANDBOX_CONSUMER_SECRET,
        base_url=sandbox.base_url,
        authorize_url=f"{sandbox.base_url}/oauth/authorize",
        **options,  # type: ignore[arg-type]
    )


def _verifier(page: httpx.Response) -> str:
    found = re.search(r"oauth_verifier=(\w+)", page.text)
    assert found is not None, page.text
    return found.group(1)


@pytest.mark.parametrize("method", ["PLAINTEXT", "HMAC-SHA1"])
def test_out_of_band_flow_ends_with_a_working_access_token(sandbox: Sandbox, method: str) -> None:
    with _flow(sandbox, signature_method=method) as flow:
        request_token = flow.fetch_request_token()
        page = httpx.get(flow.authorization_url(request_token))
        assert page.status_code == 200
        access = flow.fetch_access_token(request_token, f"  {_verifier(page)}\n")
    assert request_token.callback_confirmed
    with sandbox.client(oauth=access.auth(SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET)) as client:
        identity = client.users.get_identity()
    assert identity.username == "sandbox"
    assert sandbox.stats()["invalid_bodies"] == []


def test_authorize_page_redirects_to_the_callback_with_the_verifier(sandbox: Sandbox) -> None:
    callback = "http://127.0.0.1:9/callback?state=xyz"
    with _flow(sandbox, callback_uri=callback) as flow:
        request_token = flow.fetch_request_token()
        page = httpx.get(flow.authorization_url(request_token) + "&user=vinyl.collector")
        assert page.status_code == 302
        target = urlsplit(page.headers["Location"])
        query = parse_qs(target.query)
        assert target.path == "/callback" and query["state"] == ["xyz"]
        assert query["oauth_token"] == [request_token.token]
        access = flow.fetch_access_token(request_token, query["oauth_verifier"][0])
    with sandbox.client(oauth=access.auth(SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET)) as client:
        assert client.users.get_identity().username == "vinyl.collector"


def test_wrong_verifier_is_refused_with_400(sandbox: Sandbox) -> None:
    with _flow(sandbox) as flow:
        request_token = flow.fetch_request_token()
        httpx.get(flow.authorization_url(request_token))
        with pytest.raises(BadRequestError):
            flow.fetch_access_token(request_token, "not-the-verifier")


def test_request_token_expires_after_15_minutes(sandbox: Sandbox) -> None:
    with _flow(sandbox) as flow:
        request_token = flow.fetch_request_token()
        verifier = _verifier(httpx.get(flow.authorization_url(request_token)))
        with sandbox.state.lock:
            sandbox.state.request_tokens[request_token.token].issued -= 16 * 60
        with pytest.raises(BadRequestError) as caught:
            flow.fetch_access_token(request_token, verifier)
    assert "expired" in caught.value.message


def test_access_token_step_needs_an_approved_request_token(sandbox: Sandbox) -> None:
    with _flow(sandbox) as flow:
        request_token = flow.fetch_request_token()
        with pytest.raises(BadRequestError):
            flow.fetch_access_token(request_token, "0000000000")


def test_authorize_page_refuses_unknown_request_tokens(sandbox: Sandbox) -> None:
    page = httpx.get(f"{sandbox.base_url}/oauth/authorize", params={"oauth_token": "forged"})
    assert page.status_code == 400


def test_request_token_may_be_asked_for_with_post(sandbox: Sandbox) -> None:
    # Fidelity: POST /oauth/request_token was a 405; Discogs accepts it (and some clients use it).
    from oauthlib.oauth1 import Client as OAuthClient  # type: ignore[import-untyped, unused-ignore]

    url = f"{sandbox.base_url}/oauth/request_token"
    signer = OAuthClient(
        SANDBOX_CONSUMER_KEY, client_secret=SANDBOX_CONSUMER_SECRET, callback_uri="oob"
    )
    _, headers, _ = signer.sign(url, http_method="POST")
    response = httpx.post(url, headers={**headers, "User-Agent": "tests/1.0"})
    assert response.status_code == 200
    assert "oauth_token=" in response.text and "oauth_token_secret=" in response.text
