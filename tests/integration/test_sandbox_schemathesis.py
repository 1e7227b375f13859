"""Property-based conformance: schemathesis sends spec-valid requests, bodies must match the spec.

Skipped when schemathesis is not installed (it belongs in the ``dev`` extra).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from discogs_spec import load_spec

from discogs_sandbox import SANDBOX_TOKEN, Sandbox

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration

schema = schemathesis.openapi.from_dict(load_spec())
# Spec-valid requests only: what the sandbox does with invalid input is checked elsewhere.
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE], deterministic=True, database="none"
)


@pytest.fixture(scope="module")
def conformance_sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=10**6, anonymous_rate_limit=10**6, collection_size=50) as sandbox:
        yield sandbox


def _past_the_last_page(case: Any, response: Any) -> bool:
    # Discogs answers a page past the end with 404 on every list; the spec documents that
    # 404 only where the operation has one for another reason (reported as a spec gap).
    page = (case.query or {}).get("page")
    return response.status_code == 404 and page is not None and int(page) > 1


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_sandbox_answers_conform_to_the_spec(case: Any, conformance_sandbox: Sandbox) -> None:
    response = case.call(
        base_url=conformance_sandbox.base_url,
        headers={"Authorization": f"Discogs token={SANDBOX_TOKEN}"},
    )
    checks = [not_a_server_error, content_type_conformance]
    if not _past_the_last_page(case, response):
        checks += [status_code_conformance, response_schema_conformance]
    case.validate_response(response, checks=checks)
