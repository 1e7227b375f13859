"""Other projects' Discogs clients driven against the sandbox, each the way its docs show.

Each client module is skipped with its reason when it is not installed (the ``foreign`` extra,
which ``dev`` pulls in). A test fails when the sandbox answers something that client cannot
use; the musicagent client is not involved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from discogs_sandbox import Sandbox

USER_AGENT = "foreign-client-tests/1.0 +https://example.invalid"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with room for every call of a client (the 429 tests build their own)."""
    with Sandbox(
        self_check=True,
        collection_size=40,
        rate_limit=10**6,
        anonymous_rate_limit=10**6,
        export_delay=0,
    ) as running:
        yield running


def approve(authorize_url: str, sandbox: Sandbox) -> str:
    """Approve a request token on the sandbox's authorize page; the verifier it shows."""
    token = re.search(r"oauth_token=([^&]+)", authorize_url)
    assert token is not None, authorize_url
    page = httpx.get(f"{sandbox.base_url}/oauth/authorize", params={"oauth_token": token.group(1)})
    found = re.search(r"oauth_verifier=(\w+)", page.text)
    assert page.status_code == 200 and found is not None, page.text
    return found.group(1)
